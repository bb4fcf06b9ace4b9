"""``list_keys`` on Redis held every value under the prefix in memory at once: with many keys,
or foreign values of up to a megabyte each, the listing's memory grew with the whole prefix
(40 foreign values of 1 MiB: 40+ MiB). Now values are read a batch at a time within a byte
budget, and one longer than any record is skipped unread."""

from __future__ import annotations

import tracemalloc
import uuid
from collections.abc import AsyncIterator

import pytest

from oneringai import StoredToken
from oneringai.infrastructure.token_storage.base import MAX_RECORD_BYTES
from oneringai.infrastructure.token_storage.config import RedisStorageSettings
from oneringai.infrastructure.token_storage.encryption import KeyRing
from oneringai.infrastructure.token_storage.redis import RedisTokenStorage, open_redis_storage
from tests.conftest import REDIS_URL, service_unavailable


@pytest.fixture
async def redis_store() -> AsyncIterator[RedisTokenStorage]:
    prefix = f"oneringai-listmem:{uuid.uuid4().hex[:8]}:"
    manager = open_redis_storage(RedisStorageSettings(url=REDIS_URL, prefix=prefix), KeyRing.generate())
    try:
        store = await manager.__aenter__()
    except Exception as exc:
        service_unavailable("Redis", str(exc))
    try:
        yield store
    finally:
        names = [n async for n in store.client.scan_iter(match=f"{prefix}*")]
        if names:
            await store.client.delete(*names)
        await manager.__aexit__(None, None, None)


async def test_listing_many_large_foreign_values_stays_bounded(redis_store: RedisTokenStorage) -> None:
    store = redis_store
    for i in range(3):
        await store.store_token(f"good:{i}", StoredToken(access_token=f"good-token-{i}", refresh_token="r"))
    blob = b"x" * MAX_RECORD_BYTES
    for i in range(40):
        await store.client.set(f"{store.prefix}foreign:{i}", blob)
    await store.client.set(f"{store.prefix}foreign:too-large", blob + b"yy")
    tracemalloc.start()
    try:
        keys = await store.list_keys("")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert keys == ["good:0", "good:1", "good:2"]
    assert peak < 24 * 1024 * 1024, f"list_keys held {peak / 2**20:.0f} MiB for 41 MiB of foreign values"
