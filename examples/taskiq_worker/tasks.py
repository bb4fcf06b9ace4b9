"""The broker, the worker lifecycle and the agent task.

* One ``OneRingAI`` client per worker process, built from ``worker.yaml`` in taskiq's
  ``WORKER_STARTUP`` hook and closed in ``WORKER_SHUTDOWN`` (pools, Redis, MCP servers).
  API processes that only enqueue never build one.
* RabbitMQ (taskiq-aio-pika) carries the jobs; a job is acknowledged only after its result is
  saved (``--ack-type when_saved``), so a worker killed mid-job leaves it to be redelivered.
  Jobs are therefore at-least-once: tools with side effects must be idempotent.
* Redis (taskiq-redis) keeps results and progress (which worker runs a job, every attempt).

Environment: ``WORKER_AMQP_URL``, ``WORKER_QUEUE``, ``WORKER_RESULTS_URL``,
``WORKER_RESULTS_PREFIX``, ``WORKER_CONFIG`` (default: worker.yaml here), ``WORKER_PROFILE``,
``WORKER_PREFETCH``, ``WORKER_DELIVERY_LIMIT`` (redeliveries before a job is
dead-lettered), ``WORKER_RESULT_SAVE_WINDOW`` (seconds a result save is retried),
``WORKER_RECONNECT_INTERVAL`` (seconds between reconnections to RabbitMQ after it closed the
connection; aio-pika's own is 5); the YAML reads its own variables (see worker.yaml).
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import time
from pathlib import Path
from typing import Any

import httpx
from redis.exceptions import RedisError
from taskiq import Context, TaskiqDepends, TaskiqEvents, TaskiqState
from taskiq.depends.progress_tracker import ProgressTracker, TaskState
from taskiq.serializers import JSONSerializer
from taskiq_aio_pika import AioPikaBroker, Exchange, Queue
from taskiq_redis import RedisAsyncResultBackend

from oneringai import OneRingAI, Tool, tool

QUEUE = os.environ.get("WORKER_QUEUE", "oneringai.agent_runs")
DELIVERY_LIMIT = int(os.environ.get("WORKER_DELIVERY_LIMIT", "5"))
SAVE_WINDOW = float(os.environ.get("WORKER_RESULT_SAVE_WINDOW", "120"))
RECONNECT_INTERVAL = float(os.environ.get("WORKER_RECONNECT_INTERVAL", "1"))
LOG = logging.getLogger("examples.taskiq_worker")


class DurableResults(RedisAsyncResultBackend):  # type: ignore[type-arg]
    """Results in Redis, saved before the job is acknowledged — really.

    taskiq's ``--ack-type when_saved`` acknowledges a job after *trying* to save its result: a
    failed save is logged and the job acknowledged all the same, and the answer is gone. So a
    save that fails because Redis is unreachable is tried again (backing off) for
    ``WORKER_RESULT_SAVE_WINDOW`` seconds; if Redis is still out of reach, the worker process
    exits without acknowledging, RabbitMQ redelivers its jobs, and taskiq starts a new worker.
    """

    async def set_result(self, task_id: str, result: Any) -> None:
        from redis.exceptions import ConnectionError as RedisConnectionError
        from redis.exceptions import TimeoutError as RedisTimeoutError

        deadline = time.monotonic() + SAVE_WINDOW
        delay = 0.1
        while True:
            try:
                await super().set_result(task_id, result)
                return
            except (RedisConnectionError, RedisTimeoutError, OSError) as exc:
                if time.monotonic() + delay > deadline:
                    LOG.critical("cannot save the result of job %s for %ss (%s): exiting unacknowledged, "
                                 "so RabbitMQ redelivers it", task_id, SAVE_WINDOW, type(exc).__name__)
                    os._exit(75)  # EX_TEMPFAIL: no ack is sent; the job goes back to the queue
                LOG.warning("cannot save the result of job %s yet (%s); retrying in %.1fs",
                            task_id, type(exc).__name__, delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 5.0)


def make_broker() -> AioPikaBroker:
    """The broker every process uses (workers and the API alike)."""
    results = DurableResults(
        os.environ.get("WORKER_RESULTS_URL", "redis://127.0.0.1:6379/0"),
        prefix_str=os.environ.get("WORKER_RESULTS_PREFIX", "oneringai:runs"),
        result_ex_time=24 * 3600,
        serializer=JSONSerializer(),
    )
    return AioPikaBroker(
        os.environ.get("WORKER_AMQP_URL", "amqp://guest:guest@127.0.0.1:5672/"),
        qos=int(os.environ.get("WORKER_PREFETCH", "4")),  # unacked jobs one worker holds
        exchange=Exchange(name=QUEUE),
        # A durable quorum queue. A job whose run kills its worker (OOM, a native crash) comes
        # back after every death; after WORKER_DELIVERY_LIMIT deliveries RabbitMQ moves it to the
        # dead-letter queue instead of feeding it to the next worker (RabbitMQ 3.x sets no limit).
        task_queues=[Queue(name=QUEUE, arguments={"x-delivery-limit": DELIVERY_LIMIT})],
        dead_letter_queue=Queue(name=f"{QUEUE}.dead_letter"),
        # A connection RabbitMQ closed (a restart, a node failover, close_connection) comes back
        # on its own (aio-pika's robust connection); until it does, sending a job fails at once.
        reconnect_interval=RECONNECT_INTERVAL,
    ).with_result_backend(results)


broker = make_broker()


@broker.on_event(TaskiqEvents.WORKER_STARTUP)
async def open_client(state: TaskiqState) -> None:
    """Build this worker's client from the same YAML as every other worker."""
    config = os.environ.get("WORKER_CONFIG") or Path(__file__).with_name("worker.yaml")
    client = OneRingAI.from_config(config, profile=os.environ.get("WORKER_PROFILE") or None)
    state.ai = client
    state.http = httpx.AsyncClient(timeout=10)
    state.tools = build_tools(client, state.http)
    for server in client.tools.mcp_servers:  # MCP servers start here, once per worker
        state.tools += await client.tools.from_mcp(server)


@broker.on_event(TaskiqEvents.WORKER_SHUTDOWN)
async def close_client(state: TaskiqState) -> None:
    await state.http.aclose()
    await state.ai.destroy()


def build_tools(client: OneRingAI, http: httpx.AsyncClient) -> list[Tool]:
    partner_api = os.environ.get("PARTNER_API_URL")

    @tool
    async def get_weather(city: str) -> dict[str, Any]:
        """Current weather for a city, from the partner API (OAuth connection ``partner``)."""
        caller = None
        if partner_api:  # the token is shared by all workers and refreshed once per expiry
            response = await http.get(partner_api, auth=client.oauth("partner").auth())
            response.raise_for_status()
            caller = response.json().get("client")
        return {"city": city, "sky": "sunny", "caller": caller}

    return [get_weather]


def worker_state(context: Context = TaskiqDepends()) -> TaskiqState:
    return context.state


@broker.task(task_name="oneringai.run_agent")
async def run_agent(
    prompt: str,
    user_id: str | None = None,
    state: TaskiqState = TaskiqDepends(worker_state),
    progress: ProgressTracker[dict[str, Any]] = TaskiqDepends(),
) -> dict[str, Any]:
    """One agent run. Progress lists every worker that started it (a redelivery adds one)."""
    me = f"{socket.gethostname()}:{os.getpid()}"
    attempts = [me]
    try:  # progress is for people watching: a Redis blip must not fail the run itself
        previous = await progress.get_progress()
        attempts = [*((previous.meta or {}).get("workers", []) if previous else []), me]
        await progress.set_progress(TaskState.STARTED, {"workers": attempts})
    except (RedisError, OSError) as exc:
        LOG.warning("progress of a run not recorded (%s); the run goes on", type(exc).__name__)
    client: OneRingAI = state.ai
    agent = await client.agents.create(tools=state.tools, user_id=user_id)
    response = await agent.run(prompt)
    return {
        "text": response.output_text,
        "iterations": agent.last_iterations,
        "worker": me,
        "attempts": len(attempts),
        "usage": response.usage.model_dump(),
    }
