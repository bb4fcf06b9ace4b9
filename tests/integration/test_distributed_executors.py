"""Redis-backed limiter and cache shared across processes; Postgres audit sink."""

from __future__ import annotations

import json
import subprocess
import sys
import uuid

import pytest

from oneringai import ToolExecutionContext
from oneringai.application.tools import DirectToolExecutor, tool
from oneringai.infrastructure.tool_executors.audit import AuditingToolExecutor
from oneringai.infrastructure.tool_executors.cache import CachingToolExecutor
from oneringai.infrastructure.tool_executors.rate_limit import RateLimitingToolExecutor
from oneringai.testing import tool_call
from tests.conftest import POSTGRES_DSN, REDIS_URL, require_redis, service_unavailable


@tool
def echo(text: str, api_key: str = "") -> str:
    return text


CTX = ToolExecutionContext(tools=[echo], user_id="u1")



WORKER = """
import asyncio, json, sys
from oneringai import ToolExecutionContext
from oneringai.application.tools import tool
from oneringai.application.tools import DirectToolExecutor
from oneringai.infrastructure.tool_executors.rate_limit import RateLimitingToolExecutor
from oneringai.testing import tool_call

@tool
def echo(text: str) -> str:
    return text

async def main():
    executor = RateLimitingToolExecutor(DirectToolExecutor(), per_minute=10, backend="redis",
                                        redis_url=sys.argv[1], prefix=sys.argv[2])
    ok = 0
    for _ in range(10):
        result = await executor.execute_tool(tool_call("echo", text="x"), ToolExecutionContext(tools=[echo]))
        ok += not result.is_error
    await executor.aclose()
    print(ok)

asyncio.run(main())
"""


async def test_two_processes_share_one_limit():
    require_redis()
    prefix = f"oneringai-test:{uuid.uuid4().hex[:8]}:"
    procs = [
        subprocess.Popen([sys.executable, "-c", WORKER, REDIS_URL, prefix], stdout=subprocess.PIPE, text=True)
        for _ in range(2)
    ]
    allowed = [int(p.communicate(timeout=60)[0].strip()) for p in procs]
    assert sum(allowed) == 10, allowed  # 20 attempts, one shared limit of 10/minute


async def test_redis_cache_shared_between_executors():
    require_redis()
    prefix = f"oneringai-test:{uuid.uuid4().hex[:8]}:"
    counter = {"n": 0}

    @tool
    def counted(text: str) -> str:
        counter["n"] += 1
        return text.upper()

    context = ToolExecutionContext(tools=[counted], user_id="u")
    one = CachingToolExecutor(DirectToolExecutor(), backend="redis", redis_url=REDIS_URL, prefix=prefix, ttl=30)
    two = CachingToolExecutor(DirectToolExecutor(), backend="redis", redis_url=REDIS_URL, prefix=prefix, ttl=30)
    assert (await one.execute_tool(tool_call("counted", text="a"), context)).output == "A"
    hit = await two.execute_tool(tool_call("counted", text="a"), context)
    assert hit.output == "A" and hit.metadata["cache"] == "hit" and counter["n"] == 1
    await one.aclose()
    await two.aclose()


async def test_postgres_audit_sink():
    import asyncpg

    table = f"audit_{uuid.uuid4().hex[:8]}"
    try:
        conn = await asyncpg.connect(POSTGRES_DSN)
    except Exception as exc:
        service_unavailable("PostgreSQL", str(exc))
    executor = AuditingToolExecutor(DirectToolExecutor(), sink="postgres", dsn=POSTGRES_DSN, table=table)
    try:
        await executor.execute_tool(tool_call("echo", text="hello", api_key="sk-should-not-appear"), CTX)
        await executor.execute_tool(tool_call("missing"), CTX)
        rows = await conn.fetch(f"SELECT tool, outcome, error_code, arguments, user_id FROM {table} ORDER BY id")
        assert [(r["tool"], r["outcome"], r["error_code"]) for r in rows] == [
            ("echo", "ok", None), ("missing", "error", "unknown_tool"),
        ]
        arguments = json.loads(rows[0]["arguments"])
        assert arguments["api_key"] == "[REDACTED]" and rows[0]["user_id"] == "u1"
    finally:
        await executor.aclose()
        await conn.execute(f"DROP TABLE IF EXISTS {table}")
        await conn.close()


async def test_postgres_audit_sinks_starting_together_lose_no_record():
    """Replicas starting at once race on CREATE TABLE (pg_type unique violation): none may drop a record."""
    import asyncio

    import asyncpg

    table = f"audit_{uuid.uuid4().hex[:8]}"
    try:
        conn = await asyncpg.connect(POSTGRES_DSN)
    except Exception as exc:
        service_unavailable("PostgreSQL", str(exc))
    sinks = [AuditingToolExecutor(DirectToolExecutor(), sink="postgres", dsn=POSTGRES_DSN, table=table) for _ in range(6)]
    try:
        calls = [sink.execute_tool(tool_call("echo", text=f"t{i}-{j}"), CTX) for i, sink in enumerate(sinks) for j in range(3)]
        await asyncio.gather(*calls)
        assert await conn.fetchval(f"SELECT count(*) FROM {table}") == 18
    finally:
        await asyncio.gather(*(sink.aclose() for sink in sinks))
        await conn.execute(f"DROP TABLE IF EXISTS {table}")
        await conn.close()


def test_audit_table_name_is_an_identifier():
    from pydantic import ValidationError

    from oneringai.infrastructure.tool_executors.config import AuditExecutorConfig

    for bad in ("x; DROP TABLE y", "tbl\n", "a b", "1abc", ""):
        with pytest.raises(ValidationError):
            AuditExecutorConfig(table=bad)
    assert AuditExecutorConfig(table="audit.tool_log").table == "audit.tool_log"


@pytest.mark.parametrize("backend", ["redis"])
async def test_limiter_store_down_refuses_not_runs(backend):
    executor = RateLimitingToolExecutor(DirectToolExecutor(), backend=backend, redis_url="redis://127.0.0.1:1/0")
    result = await executor.execute_tool(tool_call("echo", text="x"), CTX)
    assert result.is_error and result.metadata["code"] == "rate_limiter_unavailable"
    await executor.aclose()


async def test_redis_cache_coalesces_identical_calls_in_flight_in_process():
    """Single flight is in-process with the redis backend too: three concurrent identical
    calls in one process run the tool once (across processes each may run it; see the docs)."""
    import asyncio

    require_redis()
    prefix = f"oneringai-test:{uuid.uuid4().hex[:8]}:"
    runs = {"n": 0}
    gate = asyncio.Event()

    @tool
    async def lookup(text: str) -> str:
        runs["n"] += 1
        await gate.wait()
        return text[::-1]

    context = ToolExecutionContext(tools=[lookup], user_id="u")
    cache = CachingToolExecutor(DirectToolExecutor(), backend="redis", redis_url=REDIS_URL, prefix=prefix, ttl=30)
    try:
        calls = [asyncio.create_task(cache.execute_tool(tool_call("lookup", text="abc"), context)) for _ in range(3)]
        def joined() -> int:  # waiters on the one flight (each shield adds a callback to it)
            flights = list(cache._in_flight.values())
            return len(getattr(flights[0], "_callbacks", ())) if len(flights) == 1 else 0

        # each call first misses in Redis (a round trip each): on a loaded machine that took
        # longer than the 0.5 s this loop waited, and a late caller got a "hit" instead
        for _ in range(2000):
            if runs["n"] == 1 and joined() >= 2:
                break
            await asyncio.sleep(0.01)
        gate.set()
        results = await asyncio.gather(*calls)
    finally:
        await cache.aclose()
    assert runs["n"] == 1 and [r.output for r in results] == ["cba"] * 3
    assert sorted(r.metadata.get("cache", "miss") for r in results) == ["coalesced", "coalesced", "miss"]
    assert len({r.tool_call_id for r in results}) == 3
