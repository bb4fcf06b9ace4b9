"""A poison job on the real queue: a run that kills its worker every time it is delivered.

At-least-once delivery brings a job back after its worker died; a job that kills every worker it
reaches (OOM, a native crash) would come back for ever, taking a worker down each time. The
example's queue sets ``x-delivery-limit``: past it RabbitMQ dead-letters the job. Here the
"crash" is a SIGKILL sent to whichever worker is running the job (a slow model keeps it running).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import require_port, require_postgres, require_redis
from tests.integration.test_worker_taskiq import (
    AMQP_URL,
    WORKERS,
    Stack,
    ThreadedVendorServer,
    api,  # noqa: F401 - the example API, on this module's workers
    clean_up,
    consumers,
    create_audit_table,
    gate,  # noqa: F401
    oauth_server,  # noqa: F401
    start_workers,
    wait_for_consumers,
)

pytest.importorskip("taskiq_aio_pika")

LIMIT = 1  # one redelivery; the second death dead-letters the job


@pytest.fixture(scope="module")
def workers(oauth_server: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Stack, Any, Path]]:  # noqa: F811
    require_redis()
    require_postgres()
    require_port("RabbitMQ", 5672)
    with ThreadedVendorServer() as vendor:
        stack = Stack(vendor.server.url, oauth_server)
        stack.env.update(LLM_MODEL="slow", WORKER_DELIVERY_LIMIT=str(LIMIT))  # each model call takes 5 s
        log = tmp_path_factory.mktemp("workers") / "workers.log"
        asyncio.run(create_audit_table(stack))
        process = start_workers(stack, log)
        try:
            wait_for_consumers(stack, process, log, WORKERS)
            yield stack, process, log
        finally:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)  # nothing here needs a graceful stop
            process.wait(10)
            asyncio.run(clean_up(stack))


async def dead_lettered(queue: str) -> int:
    import aio_pika

    connection = await aio_pika.connect(AMQP_URL)
    async with connection:
        channel = await connection.channel()
        declared = await channel.declare_queue(f"{queue}.dead_letter", passive=True)
        return int(declared.declaration_result.message_count)


async def kill_the_worker_running(api: Any, run_id: str, attempt: int, log: Path) -> None:  # noqa: F811
    """Wait until delivery ``attempt`` of the run has started, then SIGKILL the worker running it."""
    deadline = time.monotonic() + 90
    while True:
        body = (await api.get(f"/runs/{run_id}")).json()
        assert body["status"] in ("queued", "running"), body
        if body["status"] == "running" and len(body["workers"]) == attempt:
            os.kill(int(body["workers"][-1].rsplit(":", 1)[1]), signal.SIGKILL)
            return
        assert time.monotonic() < deadline, log.read_text()[-3000:]
        await asyncio.sleep(0.05)


async def test_a_job_that_kills_every_worker_is_dead_lettered_after_the_limit(workers, api):  # noqa: F811
    stack, manager, log = workers
    run_id = (await api.post("/runs", json={"prompt": "Weather in Paris?"})).json()["run_id"]
    for attempt in range(1, LIMIT + 2):
        await kill_the_worker_running(api, run_id, attempt, log)
    deadline = time.monotonic() + 60
    while await dead_lettered(stack.queue) < 1:
        body = (await api.get(f"/runs/{run_id}")).json()
        # before: redelivered a third time, to the next worker, and so on for ever
        assert body["status"] != "done" and len(body.get("workers", [])) <= LIMIT + 1, body
        assert time.monotonic() < deadline, log.read_text()[-3000:]
        await asyncio.sleep(0.2)
    assert manager.poll() is None  # the manager restarted the killed workers
    deadline = time.monotonic() + 60
    while await consumers(stack.queue) < WORKERS:
        assert time.monotonic() < deadline, log.read_text()[-3000:]
        await asyncio.sleep(0.3)
    body = (await api.get(f"/runs/{run_id}")).json()
    assert body["status"] == "running" and len(body["workers"]) == LIMIT + 1  # never started again
