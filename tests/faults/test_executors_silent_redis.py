"""A Redis that accepts connections and never answers (third adversarial review): the cache and
rate limit layers' clients had no socket timeout, so every tool call waited forever — in
``client.tools.execute`` nothing else bounded it. Now the cache is a miss and the rate limiter
"unavailable" once ``REDIS_REPLY_TIMEOUT`` passes."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from oneringai import ToolExecutionContext, tool
from oneringai.application.tools import DirectToolExecutor
from oneringai.infrastructure import redis_client
from oneringai.infrastructure.tool_executors.cache import CachingToolExecutor
from oneringai.infrastructure.tool_executors.rate_limit import RateLimitingToolExecutor
from oneringai.testing import tool_call

HANG_GUARD = 30.0


@tool
def ping() -> str:
    """Answers."""
    return "pong"


@pytest.fixture
async def silent_redis() -> AsyncIterator[str]:
    """A TCP server that accepts, reads and never writes."""
    held: list[asyncio.StreamWriter] = []

    async def accept(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        held.append(writer)
        while await reader.read(65536):
            pass

    server = await asyncio.start_server(accept, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        for writer in held:
            writer.close()
        server.close()


@pytest.fixture(autouse=True)
def _short_reply_timeout(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(redis_client, "REDIS_REPLY_TIMEOUT", 0.3, raising=False)
    import oneringai.infrastructure.tool_executors.cache as cache
    import oneringai.infrastructure.tool_executors.rate_limit as rate_limit

    monkeypatch.setattr(cache, "REDIS_REPLY_TIMEOUT", 0.3, raising=False)
    monkeypatch.setattr(rate_limit, "REDIS_REPLY_TIMEOUT", 0.3, raising=False)


async def test_a_silent_cache_redis_is_a_miss_not_a_hang(silent_redis: str) -> None:
    executor = CachingToolExecutor(DirectToolExecutor(), backend="redis", redis_url=silent_redis)
    try:
        result = await asyncio.wait_for(executor.execute_tool(tool_call("ping"), ToolExecutionContext(tools=[ping])), HANG_GUARD)
    finally:
        await executor.aclose()
    assert result.output == "pong"


async def test_a_silent_rate_limit_redis_is_unavailable_not_a_hang(silent_redis: str) -> None:
    executor = RateLimitingToolExecutor(DirectToolExecutor(), backend="redis", redis_url=silent_redis)
    try:
        result = await asyncio.wait_for(executor.execute_tool(tool_call("ping"), ToolExecutionContext(tools=[ping])), HANG_GUARD)
    finally:
        await executor.aclose()
    assert result.metadata["code"] == "rate_limiter_unavailable"
