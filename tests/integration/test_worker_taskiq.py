"""Agent runs on a real task queue: taskiq workers (two processes) consuming from RabbitMQ,
results in Redis, one OneRingAI client per worker built from examples/taskiq_worker/worker.yaml.

Shown here, with real servers only (RabbitMQ, Redis, Postgres, the vendor-shaped model server,
the Authlib OAuth server):

* 50 runs enqueued through the example API are all answered, by more than one worker;
* the Redis rate limit holds across workers: the Postgres audit log (a shared record of every
  call, with its time) never shows more than the limit in any window, and calls over it were refused;
* the Postgres token store gives all workers one token: one token request per expiry;
* a worker killed (SIGKILL) in the middle of a token refresh loses neither the job (RabbitMQ
  redelivers it, acks are late) nor the stored token (never half-written).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from oneringai import OneRingAI, StoredToken
from oneringai.infrastructure.token_storage.encryption import generate_key
from tests.conftest import POSTGRES_DSN, REDIS_URL, require_port, require_postgres, require_redis
from tests.oauth_server import OAuthTestServer
from tests.taskiq_api import example_api
from tests.vendor_server import TEXT, VendorServer

pytest.importorskip("taskiq_aio_pika")

ROOT = Path(__file__).resolve().parents[2]
AMQP_URL = os.environ.get("ONERINGAI_TEST_AMQP_URL", "amqp://guest:guest@127.0.0.1:5672/")
PER_MINUTE = 60  # get_weather budget shared by all workers
WORKERS = 2
TOKEN_KEY = "partner:svc"


class ThreadedVendorServer:
    """The vendor-shaped model server on its own event loop thread (the workers call it)."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.server = VendorServer()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)

    def __enter__(self) -> ThreadedVendorServer:
        self.thread.start()
        asyncio.run_coroutine_threadsafe(self.server.start(), self.loop).result(30)
        return self

    def __exit__(self, *exc: object) -> None:
        asyncio.run_coroutine_threadsafe(self.server.stop(), self.loop).result(30)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)


class TokenEndpointGate:
    """Holds the next token request until released — so a worker can be killed mid-refresh."""

    def __init__(self) -> None:
        self.armed = threading.Event()
        self.holding = threading.Event()
        self.release = threading.Event()

    def before_request(self) -> None:
        from flask import request

        if request.path == "/token" and self.armed.is_set():
            self.armed.clear()
            self.holding.set()
            self.release.wait(60)


class Stack:
    """Everything the workers share, isolated by a uuid: queue, Redis prefixes, tables."""

    def __init__(self, vendor_url: str, oauth: OAuthTestServer) -> None:
        tag = uuid.uuid4().hex[:8]
        self.queue = f"oneringai-test-{tag}"
        self.rate_prefix = f"oneringai-test:{tag}:rate:"
        self.results_prefix = f"oneringai-test:{tag}:runs"
        self.token_table = f"tokens_{tag}"
        self.audit_table = f"audit_{tag}"
        self.env = {
            "WORKER_AMQP_URL": AMQP_URL,
            "WORKER_QUEUE": self.queue,
            "WORKER_RESULTS_URL": REDIS_URL,
            "WORKER_RESULTS_PREFIX": self.results_prefix,
            "WORKER_PREFETCH": "4",
            "LLM_BASE_URL": f"{vendor_url}/v1",
            "LLM_MODEL": "tools",
            "DATABASE_URL": POSTGRES_DSN,
            "TOKEN_TABLE": self.token_table,
            "AUDIT_TABLE": self.audit_table,
            "REDIS_URL": REDIS_URL,
            "RATE_LIMIT_PREFIX": self.rate_prefix,
            "WEATHER_PER_MINUTE": str(PER_MINUTE),
            "ONERINGAI_TOKEN_KEY": generate_key(),
            "PARTNER_CLIENT_SECRET": "svc-secret",
            "PARTNER_TOKEN_URL": f"{oauth.url}/token",
            "PARTNER_API_URL": f"{oauth.url}/api/me",
        }


async def create_audit_table(stack: Stack) -> None:
    """The audit layer creates its table on first write; workers racing on that CREATE TABLE can
    lose a record (a known race in the audit sink), so the table exists before they start — as
    a migration would do in production."""
    from oneringai import ToolExecutionContext
    from oneringai.application.tools import DirectToolExecutor, tool
    from oneringai.infrastructure.tool_executors.audit import AuditingToolExecutor
    from oneringai.testing import tool_call

    @tool
    def warmup() -> str:
        return "ok"

    executor = AuditingToolExecutor(DirectToolExecutor(), sink="postgres", dsn=POSTGRES_DSN, table=stack.audit_table)
    try:
        await executor.execute_tool(tool_call("warmup"), ToolExecutionContext(tools=[warmup]))
    finally:
        await executor.aclose()


def start_workers(stack: Stack, log: Path) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ONERINGAI_")}
    env.update(stack.env, PYTHONPATH=str(ROOT))
    command = [sys.executable, "-m", "taskiq", "worker", "examples.taskiq_worker.tasks:broker",
               "--workers", str(WORKERS), "--ack-type", "when_saved", "--max-async-tasks", "10",
               "--shutdown-timeout", "15"]
    with log.open("wb") as out:
        return subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
                                start_new_session=True)


async def consumers(queue: str) -> int:
    import aio_pika

    connection = await aio_pika.connect(AMQP_URL)
    try:
        channel = await connection.channel()
        declared = await channel.declare_queue(queue, passive=True)
        return int(declared.declaration_result.consumer_count)
    except Exception:
        return 0
    finally:
        with contextlib.suppress(Exception):
            await connection.close()


def wait_for_consumers(stack: Stack, process: subprocess.Popen[bytes], log: Path, count: int) -> None:
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"workers exited: {log.read_text()[-3000:]}")
        if asyncio.run(consumers(stack.queue)) >= count:
            return
        time.sleep(0.3)
    raise RuntimeError(f"workers did not start consuming: {log.read_text()[-3000:]}")


async def clean_up(stack: Stack) -> None:
    import aio_pika
    import asyncpg
    import redis.asyncio as aioredis

    connection = await aio_pika.connect(AMQP_URL)
    async with connection:
        channel = await connection.channel()
        for name in (stack.queue, f"{stack.queue}.dead_letter"):
            with contextlib.suppress(Exception):
                await channel.queue_delete(name, if_unused=False, if_empty=False)
        with contextlib.suppress(Exception):
            await channel.exchange_delete(stack.queue)
    conn = await asyncpg.connect(POSTGRES_DSN)
    try:
        for table in (stack.token_table, stack.audit_table):
            await conn.execute(f"DROP TABLE IF EXISTS {table}")
    finally:
        await conn.close()
    redis = aioredis.from_url(REDIS_URL)
    try:
        for prefix in (stack.rate_prefix, stack.results_prefix):
            keys = [key async for key in redis.scan_iter(match=f"{prefix}*")]
            if keys:
                await redis.delete(*keys)
    finally:
        await redis.aclose()


@pytest.fixture(scope="module")
def gate() -> TokenEndpointGate:
    return TokenEndpointGate()


@pytest.fixture(scope="module")
def oauth_server(gate: TokenEndpointGate) -> Iterator[OAuthTestServer]:
    server = OAuthTestServer()
    server.app.before_request(gate.before_request)  # before the first request, as Flask requires
    server.start()
    yield server
    gate.release.set()
    server.stop()


@pytest.fixture(scope="module")
def workers(oauth_server: OAuthTestServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Stack, subprocess.Popen[bytes], Path]]:
    require_redis()
    require_postgres()
    require_port("RabbitMQ", 5672)
    with ThreadedVendorServer() as vendor:
        stack = Stack(vendor.server.url, oauth_server)
        log = tmp_path_factory.mktemp("workers") / "workers.log"
        asyncio.run(create_audit_table(stack))
        process = start_workers(stack, log)
        try:
            wait_for_consumers(stack, process, log, WORKERS)
            yield stack, process, log
        finally:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGTERM)  # the manager stops its workers gracefully
            try:
                process.wait(10)  # a loaded machine can stretch a graceful stop; the test needs none
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(10)
            asyncio.run(clean_up(stack))


@pytest.fixture
async def api(workers: tuple[Stack, Any, Path]) -> AsyncIterator[httpx.AsyncClient]:
    """The example API, built against this module's queue and result prefix."""
    stack = workers[0]
    async with example_api({k: v for k, v in stack.env.items() if k.startswith("WORKER_")}) as client:
        yield client


@pytest.fixture
async def ai(workers: tuple[Stack, Any, Path]) -> AsyncIterator[OneRingAI]:
    """A client on the workers' YAML: the test's own view of the shared token store."""
    stack = workers[0]
    async with OneRingAI.from_config(ROOT / "examples/taskiq_worker/worker.yaml", env=stack.env) as client:
        yield client


async def run_all(api: httpx.AsyncClient, prompts: list[str], timeout: float = 120) -> list[dict[str, Any]]:
    ids = []
    for index, prompt in enumerate(prompts):
        response = await api.post("/runs", json={"prompt": prompt, "user_id": f"user-{index % 5}"})
        assert response.status_code == 202, response.text
        ids.append(response.json()["run_id"])
    return [await wait_done(api, run_id, timeout) for run_id in ids]


async def wait_done(api: httpx.AsyncClient, run_id: str, timeout: float) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        body = (await api.get(f"/runs/{run_id}")).json()
        if body["status"] in ("done", "failed"):
            return body  # type: ignore[no-any-return]
        await asyncio.sleep(0.1)
    raise AssertionError(f"run {run_id} not done within {timeout}s")


async def expire_token(ai: OneRingAI) -> None:
    """The shared token becomes due: it expires within ``oauth.refresh_skew`` (300 s), so the
    next use refreshes it; the store still returns it until it really expires."""
    # an hour-long token with 120 s left (a token *issued* for 120 s is due only in its last
    # 60 s: half its lifetime, when that is shorter than the skew)
    stale = StoredToken(access_token=f"stale-{uuid.uuid4().hex}", expires_in=3600, obtained_at=time.time() - 3480)
    await ai.token_storage.store_token(TOKEN_KEY, stale)


async def audit_rows(stack: Stack) -> list[Any]:
    import asyncpg

    conn = await asyncpg.connect(POSTGRES_DSN)
    try:
        return list(await conn.fetch(
            f"SELECT extract(epoch FROM at) AS at, duration_ms, outcome, error_code FROM {stack.audit_table} "
            "WHERE tool = 'get_weather' ORDER BY at"
        ))
    finally:
        await conn.close()


async def test_fifty_runs_on_two_workers_share_one_rate_limit_and_one_token(workers, api, ai, oauth_server):
    stack = workers[0]
    before = oauth_server.token_requests.get("svc", 0)

    first = await run_all(api, [f"Weather in Paris and Oslo? ({i})" for i in range(25)])
    assert oauth_server.token_requests["svc"] - before == 1  # all workers, one token
    await expire_token(ai)
    second = await run_all(api, [f"Weather in Paris and Oslo? ({i})" for i in range(25, 50)])
    assert oauth_server.token_requests["svc"] - before == 2  # one refresh for the one expiry

    results = first + second
    assert [r["status"] for r in results] == ["done"] * 50
    assert all(r["text"].strip() == TEXT for r in results)
    assert len({r["worker"] for r in results}) == WORKERS  # both worker processes took runs

    rows = await audit_rows(stack)
    assert len(rows) == 100  # two get_weather calls per run, every one recorded
    ran = [row for row in rows if row["outcome"] == "ok"]
    refused = [row for row in rows if row["error_code"] == "rate_limited"]
    assert len(ran) + len(refused) == 100 and refused  # demand was over the shared budget
    # A call completes (audit time) at most `duration` after the limiter admitted it, so calls
    # admitted within one 60 s window complete within 60 s + the longest duration.
    slack = max(float(row["duration_ms"]) for row in rows) / 1000 + 1.0
    times = [float(row["at"]) for row in ran]
    for index, start in enumerate(times):
        in_window = sum(1 for t in times[index:] if t < start + 60 - slack)
        assert in_window <= PER_MINUTE, f"{in_window} calls within one minute (limit {PER_MINUTE})"
    assert len(ran) == PER_MINUTE or times[-1] - times[0] > 60 - slack  # the whole budget was used


async def test_a_worker_killed_mid_refresh_loses_neither_the_job_nor_the_token(workers, api, ai, oauth_server, gate):
    stack, manager, log = workers
    import redis.asyncio as aioredis

    redis = aioredis.from_url(REDIS_URL)
    try:
        keys = [key async for key in redis.scan_iter(match=f"{stack.rate_prefix}*")]
        if keys:
            await redis.delete(*keys)  # a fresh budget for this run
    finally:
        await redis.aclose()
    before = oauth_server.token_requests.get("svc", 0)
    await expire_token(ai)
    gate.release.clear()
    gate.armed.set()

    run_id = (await api.post("/runs", json={"prompt": "Weather in Paris and Oslo?"})).json()["run_id"]
    deadline = time.monotonic() + 60
    while not gate.holding.is_set():  # the refresh is in flight, the advisory lock held
        assert time.monotonic() < deadline, log.read_text()[-3000:]
        await asyncio.sleep(0.05)
    running = (await api.get(f"/runs/{run_id}")).json()
    assert running["status"] == "running", running
    victim = running["workers"][-1]
    pid = int(victim.rsplit(":", 1)[1])
    os.kill(pid, signal.SIGKILL)

    stored = await ai.token_storage.get_token(TOKEN_KEY)  # whole and readable: the stale record
    assert stored is not None and stored.access_token.get_secret_value().startswith("stale-")
    gate.release.set()

    done = await wait_done(api, run_id, timeout=90)
    assert done["status"] == "done" and done["text"].strip() == TEXT
    assert done["attempts"] == 2 and done["worker"] != victim  # redelivered to a live worker
    fresh = await ai.token_storage.get_token(TOKEN_KEY)
    assert fresh is not None and not fresh.is_expired(300)
    assert not fresh.access_token.get_secret_value().startswith("stale-")
    # the killed worker's request (counted once the gate lets it through; never stored) and the
    # one that completed the refresh
    deadline = time.monotonic() + 10
    while oauth_server.token_requests["svc"] - before < 2 and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    assert oauth_server.token_requests["svc"] - before == 2
    assert manager.poll() is None  # the worker manager is still up and restarts the killed worker
    deadline = time.monotonic() + 60
    while await consumers(stack.queue) < WORKERS:
        assert time.monotonic() < deadline, log.read_text()[-3000:]
        await asyncio.sleep(0.3)
