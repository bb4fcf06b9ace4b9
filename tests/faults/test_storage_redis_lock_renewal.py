"""The Redis refresh lock expired after ``timeout`` even while its holder was still inside: a
refresh slower than that (a token endpoint taking 30 s against the 30 s lock) let a second
process in, which refreshed again — with rotating refresh tokens, into ``invalid_grant``. Now
the holder renews the expiry while it holds the lock; a crashed holder still frees it after
``timeout``."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import pytest

from oneringai import TokenStorageError
from oneringai.infrastructure.token_storage.config import RedisStorageSettings
from oneringai.infrastructure.token_storage.encryption import KeyRing
from oneringai.infrastructure.token_storage.redis import RedisTokenStorage, open_redis_storage
from tests.conftest import REDIS_URL, service_unavailable


@pytest.fixture
async def stores() -> AsyncIterator[tuple[RedisTokenStorage, RedisTokenStorage]]:
    prefix = f"oneringai-renew:{uuid.uuid4().hex[:8]}:"
    settings = RedisStorageSettings(url=REDIS_URL, prefix=prefix)
    first, second = open_redis_storage(settings, KeyRing.generate()), open_redis_storage(settings, KeyRing.generate())
    try:
        one = await first.__aenter__()
    except Exception as exc:
        service_unavailable("Redis", str(exc))
    two = await second.__aenter__()
    try:
        yield one, two
    finally:
        await second.__aexit__(None, None, None)
        await first.__aexit__(None, None, None)


async def test_a_holder_slower_than_the_timeout_keeps_the_lock(stores: tuple[RedisTokenStorage, RedisTokenStorage]) -> None:
    first, second = stores
    inside = 0
    overlaps = 0
    outcomes: list[str] = []

    async def hold(store: RedisTokenStorage, seconds: float) -> None:
        nonlocal inside, overlaps
        try:
            async with store.lock("oauth-refresh:slow", timeout=1.0):
                inside += 1
                overlaps += inside > 1
                await asyncio.sleep(seconds)
                inside -= 1
                outcomes.append("held")
        except TokenStorageError:
            outcomes.append("refused")

    async def later() -> None:
        await asyncio.sleep(0.3)
        await hold(second, 0.0)

    await asyncio.gather(hold(first, 3.0), later())
    assert overlaps == 0, "a second holder got in while the first was still inside"
    assert sorted(outcomes) == ["held", "refused"]  # the second waited its 2 s and gave up


async def test_a_crashed_holder_still_frees_the_lock(stores: tuple[RedisTokenStorage, RedisTokenStorage]) -> None:
    first, second = stores
    lock = first.client.lock(first.lock_prefix + "oauth-refresh:crashed", timeout=0.3)
    assert await lock.acquire()  # taken and never released or renewed: a crashed process
    async with asyncio.timeout(30), second.lock("oauth-refresh:crashed", timeout=0.5):
        pass
