"""Redis failing under a running kit: our connections killed (``CLIENT KILL``) between calls and
inside a lock, a Redis of our own shut down and started again, one that stops answering, out of
memory, a key of the wrong type. Each time: a typed error or the documented fallback (the cache
misses — fails open; the rate limiter refuses — fails closed), never the password, and the next
call works on a new connection without a restart of the kit.

Before: redis-py retries nothing on a pool it is given, so the first call after any of these
met the dead connection — a token read failed, a tool was refused as "rate limiter
unavailable", a cached result was recomputed — and a lock whose connection was killed inside
was never released (its release met the dead connection; the error was swallowed), so every
other process waited out its expiry (30 s by default) before it could refresh.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator, Iterator

import pytest

from oneringai import TokenStorageError, ToolExecutionContext, tool
from oneringai.application.tools import DirectToolExecutor
from oneringai.domain.tokens import StoredToken
from oneringai.infrastructure.token_storage.config import RedisStorageSettings
from oneringai.infrastructure.token_storage.encryption import KeyRing
from oneringai.infrastructure.token_storage.redis import LOCK_NAMESPACE, RedisTokenStorage, open_redis_storage
from oneringai.infrastructure.tool_executors.cache import CachingToolExecutor
from oneringai.infrastructure.tool_executors.rate_limit import RateLimitingToolExecutor
from oneringai.testing import tool_call
from tests.faults.backend_support import PASSWORD, Forwarder, OwnRedis

HANG_GUARD = 20.0
RUNS: list[str] = []


@tool
def lookup(city: str) -> str:
    """Counts its runs."""
    RUNS.append(city)
    return f"sunny in {city}"


@pytest.fixture(scope="module")
def own_redis(tmp_path_factory: pytest.TempPathFactory) -> Iterator[OwnRedis]:
    server = OwnRedis(tmp_path_factory.mktemp("redis"))
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def redis_up(own_redis: OwnRedis) -> Iterator[OwnRedis]:
    """The module's Redis, running and emptied, whatever the previous test left."""
    try:
        own_redis.admin().ping()
    except Exception:
        own_redis.start()
    with own_redis.admin() as admin:
        admin.config_set("maxmemory", 0)
        admin.flushall()
    RUNS.clear()
    yield own_redis


@pytest.fixture
async def store(redis_up: OwnRedis) -> AsyncIterator[RedisTokenStorage]:
    settings = RedisStorageSettings(url=redis_up.url, prefix=f"bf:{uuid.uuid4().hex[:6]}:")
    async with open_redis_storage(settings, KeyRing.generate()) as opened:
        yield opened


def _token(access: str = "at-1") -> StoredToken:
    return StoredToken(access_token=access, refresh_token="rt-1", expires_at=time.time() + 3600)


def _context() -> ToolExecutionContext:
    return ToolExecutionContext(tools=[lookup], user_id="u1")


def _no_password(*texts: object) -> bool:
    return not any(PASSWORD in str(text) or PASSWORD in repr(text) for text in texts)


async def test_token_store_reads_on_a_new_connection_after_client_kill(redis_up: OwnRedis, store: RedisTokenStorage) -> None:
    await store.store_token("k", _token())
    assert redis_up.kill_clients() >= 1
    token = await asyncio.wait_for(store.get_token("k"), HANG_GUARD)  # was: "Connection closed by server"
    assert token is not None and token.access_token.get_secret_value() == "at-1"


async def test_token_store_down_then_back_without_a_restart_of_the_kit(redis_up: OwnRedis, store: RedisTokenStorage) -> None:
    await store.store_token("k", _token())
    redis_up.stop()
    with pytest.raises(TokenStorageError) as info:
        await asyncio.wait_for(store.get_token("k"), HANG_GUARD)
    assert info.value.backend == "redis" and _no_password(info.value, info.value.__cause__)
    redis_up.start()  # SHUTDOWN NOSAVE: the data went with it
    await asyncio.wait_for(store.store_token("k", _token("at-2")), HANG_GUARD)  # the first call after works
    token = await store.get_token("k")
    assert token is not None and token.access_token.get_secret_value() == "at-2"


async def test_lock_killed_inside_is_released_not_left_to_expire(redis_up: OwnRedis, store: RedisTokenStorage) -> None:
    name = store.lock_prefix + "refresh"
    async with store.lock("refresh", timeout=30):
        assert redis_up.admin().exists(name) == 1
        redis_up.kill_clients()
        await store.store_token("k", _token())  # the body goes on, on a new connection
    # before: the release met the killed connection and gave up; the lock stayed for 30 s
    assert redis_up.admin().exists(name) == 0
    async with asyncio.timeout(HANG_GUARD), store.lock("refresh", timeout=30):
        pass


async def test_lock_renewal_outlives_a_short_outage(redis_up: OwnRedis) -> None:
    """The renewal met an unreachable Redis once and stopped for good: the lock expired under a
    holder still inside, after a blip shorter than its expiry."""
    forwarder = Forwarder(redis_up.port)
    await forwarder.start()
    settings = RedisStorageSettings(url=f"redis://:{PASSWORD}@127.0.0.1:{forwarder.port}/0", prefix="bf-renew:")
    try:
        async with open_redis_storage(settings, KeyRing.generate()) as through:
            name = LOCK_NAMESPACE + "bf-renew:refresh"
            # renewed every 1 s; Redis unreachable from 0.3 s to 1.3 s (the renewal at 1 s
            # fails), back for the one at 2 s; at 4 s the lock would have expired at 3 s
            async with through.lock("refresh", timeout=3.0):
                await asyncio.sleep(0.3)
                await forwarder.stop()
                await asyncio.sleep(1.0)
                await forwarder.start()
                await asyncio.sleep(2.7)
                assert redis_up.admin().exists(name) == 1, "the lock expired under its holder"
            assert redis_up.admin().exists(name) == 0
    finally:
        await forwarder.stop()


async def test_token_store_bounds_a_redis_that_never_answers(redis_up: OwnRedis) -> None:
    """``oauth.storage.redis.timeout``: redis-py before 8 waits for ever for a reply by default."""
    forwarder = Forwarder(redis_up.port)
    await forwarder.start()
    settings = RedisStorageSettings(
        url=f"redis://:{PASSWORD}@127.0.0.1:{forwarder.port}/0", prefix="bf-silent:", timeout=0.3
    )
    try:
        async with open_redis_storage(settings, KeyRing.generate()) as through:
            await through.store_token("k", _token())
            forwarder.frozen = True
            with pytest.raises(TokenStorageError, match=r"within 0\.3s \(oauth\.storage\.redis\.timeout") as info:
                # a hang guard under redis-py 8's own default of 5 s: the setting is what bounds it
                await asyncio.wait_for(through.get_token("k"), 3.0)
            assert _no_password(info.value, info.value.__cause__)
            forwarder.frozen = False
            token = await asyncio.wait_for(through.get_token("k"), HANG_GUARD)
            assert token is not None
    finally:
        await forwarder.stop()


async def test_token_store_out_of_memory_is_typed_and_passes(redis_up: OwnRedis, store: RedisTokenStorage) -> None:
    with redis_up.admin() as admin:
        admin.config_set("maxmemory-policy", "noeviction")
        admin.config_set("maxmemory", 1)
        try:
            with pytest.raises(TokenStorageError, match="OutOfMemoryError"):
                await store.store_token("k", _token())
        finally:
            admin.config_set("maxmemory", 0)
    await store.store_token("k", _token())
    assert await store.get_token("k") is not None


@pytest.fixture
async def limiter(redis_up: OwnRedis) -> AsyncIterator[RateLimitingToolExecutor]:
    executor = RateLimitingToolExecutor(
        DirectToolExecutor(), backend="redis", redis_url=redis_up.url, per_minute=600, prefix="bf-rl:"
    )
    try:
        yield executor
    finally:
        await executor.aclose()


@pytest.fixture
async def cache(redis_up: OwnRedis) -> AsyncIterator[CachingToolExecutor]:
    executor = CachingToolExecutor(DirectToolExecutor(), backend="redis", redis_url=redis_up.url, prefix="bf-cache:")
    try:
        yield executor
    finally:
        await executor.aclose()


async def test_rate_limiter_allows_the_first_call_after_client_kill(redis_up: OwnRedis, limiter: RateLimitingToolExecutor) -> None:
    assert not (await limiter.execute_tool(tool_call("lookup", city="Oslo"), _context())).is_error
    redis_up.kill_clients()
    result = await asyncio.wait_for(limiter.execute_tool(tool_call("lookup", city="Oslo"), _context()), HANG_GUARD)
    assert not result.is_error, result.error  # was: rate_limiter_unavailable, "Connection closed by server"


async def test_rate_limiter_fails_closed_while_down_and_recovers(redis_up: OwnRedis, limiter: RateLimitingToolExecutor) -> None:
    assert not (await limiter.execute_tool(tool_call("lookup", city="Oslo"), _context())).is_error
    redis_up.stop()
    refused = await asyncio.wait_for(limiter.execute_tool(tool_call("lookup", city="Oslo"), _context()), HANG_GUARD)
    assert refused.metadata["code"] == "rate_limiter_unavailable" and refused.metadata.get("retryable") is True
    assert _no_password(refused.error) and RUNS == ["Oslo"]  # the tool did not run unlimited
    redis_up.start()
    result = await asyncio.wait_for(limiter.execute_tool(tool_call("lookup", city="Oslo"), _context()), HANG_GUARD)
    assert not result.is_error, result.error


async def test_rate_limiter_fails_closed_on_a_foreign_key(redis_up: OwnRedis, limiter: RateLimitingToolExecutor) -> None:
    """A value of another type where the window's sorted set lives (WRONGTYPE): refused, as with
    Redis down, until the key is gone — never run unlimited."""
    with redis_up.admin() as admin:
        admin.set("bf-rl:tool:lookup", "not a sorted set")
        wrong = await limiter.execute_tool(tool_call("lookup", city="Oslo"), _context())
        assert wrong.metadata["code"] == "rate_limiter_unavailable" and "WRONGTYPE" in (wrong.error or "")
        assert RUNS == []
        admin.delete("bf-rl:tool:lookup")
    assert not (await limiter.execute_tool(tool_call("lookup", city="Oslo"), _context())).is_error


async def test_cache_hits_after_client_kill(redis_up: OwnRedis, cache: CachingToolExecutor) -> None:
    first = await cache.execute_tool(tool_call("lookup", city="Rome"), _context())
    redis_up.kill_clients()
    second = await asyncio.wait_for(cache.execute_tool(tool_call("lookup", city="Rome"), _context()), HANG_GUARD)
    assert second.output == first.output and second.metadata.get("cache") == "hit"
    assert RUNS == ["Rome"]  # was: a miss on the dead connection, and the tool ran again


async def test_cache_fails_open_while_down_and_on_oom_then_recovers(redis_up: OwnRedis, cache: CachingToolExecutor) -> None:
    redis_up.stop()
    down = await asyncio.wait_for(cache.execute_tool(tool_call("lookup", city="Rome"), _context()), HANG_GUARD)
    assert down.output == "sunny in Rome" and not down.is_error  # a miss: the tool ran
    redis_up.start()
    with redis_up.admin() as admin:
        admin.set("bf-cache:lookup:x", "y")
        admin.config_set("maxmemory-policy", "noeviction")
        admin.config_set("maxmemory", 1)
        try:
            full = await cache.execute_tool(tool_call("lookup", city="Rome"), _context())
        finally:
            admin.config_set("maxmemory", 0)
    assert full.output == "sunny in Rome"  # the result could not be kept: still answered
    await cache.execute_tool(tool_call("lookup", city="Rome"), _context())
    hit = await cache.execute_tool(tool_call("lookup", city="Rome"), _context())
    assert hit.metadata.get("cache") == "hit" and RUNS == ["Rome"] * 3
