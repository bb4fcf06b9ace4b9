"""The taskiq example's API when RabbitMQ closes its connection (a restart, a failover): the
API reaches RabbitMQ through a forwarder the test cuts, on a queue and exchange of its own.

Before: a POST /runs in the seconds the robust connection took to come back (aio-pika waits
5 s before reconnecting) was a 500 — taskiq's ``SendTaskError`` — though the connection
recovered by itself. Now the job is sent again for up to ``WORKER_ENQUEUE_WINDOW`` seconds
(the broker reconnects after ``WORKER_RECONNECT_INTERVAL``, 1 s), and past that the answer is
a 503 with ``Retry-After``.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest

from tests.conftest import REDIS_URL, require_port
from tests.faults.backend_support import Forwarder
from tests.taskiq_api import example_api

pytest.importorskip("taskiq_aio_pika")
pytest.importorskip("fastapi")

AMQP_PORT = 5672


async def _queued(queue: str) -> int:
    import aio_pika

    connection = await aio_pika.connect(f"amqp://guest:guest@127.0.0.1:{AMQP_PORT}/")
    async with connection:
        channel = await connection.channel()
        declared = await channel.declare_queue(queue, passive=True)
        return int(declared.declaration_result.message_count or 0)


@contextlib.asynccontextmanager
async def _api(forwarder: Forwarder, queue: str, window: float) -> AsyncIterator[Any]:

    env = {
        "WORKER_AMQP_URL": f"amqp://guest:guest@127.0.0.1:{forwarder.port}/",
        "WORKER_QUEUE": queue,
        "WORKER_RESULTS_URL": REDIS_URL,
        "WORKER_RESULTS_PREFIX": f"bf-amqp:{queue}",
        "WORKER_ENQUEUE_WINDOW": str(window),
        "WORKER_RECONNECT_INTERVAL": "0.3",
    }
    async with example_api(env) as client:
        yield client


@pytest.fixture
async def queue() -> AsyncIterator[str]:
    require_port("RabbitMQ", AMQP_PORT)
    name = f"bf.amqp.{uuid.uuid4().hex[:8]}"
    try:
        yield name
    finally:
        import aio_pika

        connection = await aio_pika.connect(f"amqp://guest:guest@127.0.0.1:{AMQP_PORT}/")
        async with connection:
            channel = await connection.channel()
            for victim in (name, f"{name}.dead_letter"):
                with contextlib.suppress(Exception):
                    await channel.queue_delete(victim, if_unused=False, if_empty=False)
            with contextlib.suppress(Exception):
                await channel.exchange_delete(name)


async def test_a_job_sent_while_the_connection_comes_back_is_queued(queue: str) -> None:
    forwarder = Forwarder(AMQP_PORT)
    await forwarder.start()
    try:
        async with _api(forwarder, queue, window=8.0) as api:
            assert (await api.post("/runs", json={"prompt": "one"})).status_code == 202
            await forwarder.stop()  # RabbitMQ closed the connection: it comes back by itself
            await forwarder.start()
            answer = await api.post("/runs", json={"prompt": "two"})  # was: SendTaskError (500)
            assert answer.status_code == 202, answer.text
    finally:
        await forwarder.stop()
    assert await _queued(queue) == 2


async def test_a_queue_down_past_the_window_is_a_503(queue: str) -> None:
    forwarder = Forwarder(AMQP_PORT)
    await forwarder.start()
    try:
        async with _api(forwarder, queue, window=0.5) as api:
            assert (await api.post("/runs", json={"prompt": "one"})).status_code == 202
            await forwarder.stop()  # and it stays down
            answer = await api.post("/runs", json={"prompt": "two"})
            assert answer.status_code == 503 and answer.headers["retry-after"] == "5"
            await forwarder.start()
    finally:
        await forwarder.stop()
