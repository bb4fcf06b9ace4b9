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

Stopping (``SIGTERM``, as Kubernetes sends): the worker stops taking jobs at once, lets running
jobs finish for ``--wait-tasks-timeout`` seconds, then releases the ones still running (not
acknowledged, no result saved: RabbitMQ redelivers them) and closes its client within
``--shutdown-timeout``. See docs/scaling.md for the command line and the time bound.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import socket
import time
from pathlib import Path
from typing import Any

import httpx
from redis.exceptions import RedisError
from taskiq import (
    Context,
    TaskiqDepends,
    TaskiqEvents,
    TaskiqMessage,
    TaskiqMiddleware,
    TaskiqResult,
    TaskiqState,
)
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


def wake_loop_on_stop_signals() -> None:
    """Make a stop signal reach the worker's event loop at once, not at its next wake-up.

    taskiq's worker process installs its ``SIGINT``/``SIGTERM``/``SIGHUP`` handlers with
    ``signal.signal``; they set an ``asyncio.Event``. A Python signal handler runs between two
    bytecodes of the main thread, and an idle event loop sits in ``epoll_wait`` without a
    wakeup fd: after the handler ran the loop went back to sleep until its next I/O or timer.
    On an idle worker that is RabbitMQ's next heartbeat, up to half the negotiated heartbeat
    (60 s) later, so a worker took up to 30 s to stop consuming, and Kubernetes' SIGKILL (30 s
    after SIGTERM) could come before any running job had a chance to finish. Each handler now
    also wakes the loop (``call_soon_threadsafe`` writes to the loop's self-pipe).
    """
    loop = asyncio.get_running_loop()

    def wake() -> None:
        return None

    for signum in (signal.SIGINT, signal.SIGTERM, getattr(signal, "SIGHUP", None)):
        if signum is None:
            continue
        handler = signal.getsignal(signum)
        if not callable(handler) or getattr(handler, "wakes_loop", False):
            continue

        def wrapped(number: int, frame: Any, handler: Any = handler) -> None:
            try:
                handler(number, frame)  # taskiq's: sets the stop event (may raise on a hard kill)
            finally:
                loop.call_soon_threadsafe(wake)

        wrapped.wakes_loop = True  # type: ignore[attr-defined]
        signal.signal(signum, wrapped)


class ReleaseUnfinished(TaskiqMiddleware):
    """At a graceful stop, jobs still running are given back to the queue, not failed.

    ``--wait-tasks-timeout`` bounds how long a stopping worker waits for its running jobs; past
    it taskiq goes on to ``WORKER_SHUTDOWN``, and a job still running would then fail on the
    closed client, its failure be saved as the run's answer, and the job be acknowledged: lost.
    ``release()`` (called first thing in ``WORKER_SHUTDOWN``) cancels those jobs instead, and
    ``post_execute`` stops them before their result is saved or the job acknowledged: the
    channel closes with the job unacknowledged and RabbitMQ delivers it to another worker
    (a delivery like any other: it counts towards ``WORKER_DELIVERY_LIMIT``).
    """

    def __init__(self) -> None:
        super().__init__()
        self.running: dict[asyncio.Task[Any], str] = {}
        self.released: set[str] = set()

    def pre_execute(self, message: TaskiqMessage) -> TaskiqMessage:
        task = asyncio.current_task()  # the receiver runs each job in a task of its own
        if task is not None:
            self.running[task] = message.task_id
            task.add_done_callback(self._forget)
        return message

    def _forget(self, task: asyncio.Task[Any]) -> None:
        self.released.discard(self.running.pop(task, ""))

    def post_execute(self, message: TaskiqMessage, result: TaskiqResult[Any]) -> None:
        if message.task_id in self.released:
            # End the job's task here: no result saved, no acknowledgement sent.
            raise asyncio.CancelledError

    async def release(self, timeout: float = 3.0) -> None:
        """Cancel the jobs still running and wait (at most ``timeout`` s) for them to end."""
        tasks = list(self.running)
        if not tasks:
            return
        for task in tasks:
            self.released.add(self.running[task])
            task.cancel()
        LOG.warning("stopping with %d job(s) still running: released unacknowledged, "
                    "RabbitMQ delivers them again", len(tasks))
        await asyncio.wait(tasks, timeout=timeout)


release_unfinished = ReleaseUnfinished()


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
    ).with_result_backend(results).with_middlewares(release_unfinished)


broker = make_broker()


@broker.on_event(TaskiqEvents.WORKER_STARTUP)
async def open_client(state: TaskiqState) -> None:
    """Build this worker's client from the same YAML as every other worker."""
    wake_loop_on_stop_signals()  # runs in the worker process's main thread, on its loop
    config = os.environ.get("WORKER_CONFIG") or Path(__file__).with_name("worker.yaml")
    client = OneRingAI.from_config(config, profile=os.environ.get("WORKER_PROFILE") or None)
    state.ai = client
    state.http = httpx.AsyncClient(timeout=10)
    state.tools = build_tools(client, state.http)
    for server in client.tools.mcp_servers:  # MCP servers start here, once per worker
        state.tools += await client.tools.from_mcp(server)


@broker.on_event(TaskiqEvents.WORKER_SHUTDOWN)
async def close_client(state: TaskiqState) -> None:
    await release_unfinished.release()  # before the client they use is closed
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
