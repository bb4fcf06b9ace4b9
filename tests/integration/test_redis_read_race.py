"""Regression (found by benchmarks/soak.py --path tokens, Redis store: 16 errors in 416,207
``get_token`` calls): a read of a missing token raced a writer. ``_get`` ran GETRANGE (empty:
no key yet), then EXISTS (true: another process had just stored the token), and took the empty
read for a stored record: ``TokenDecryptionError: ... is not a token envelope (truncated?)``.

The interleaving is forced with the real Redis: a client that, right after a GETRANGE that
found nothing, lets "another process" store the token before the store looks again."""

from __future__ import annotations

import uuid
from typing import Any

from oneringai import StoredToken
from oneringai.infrastructure.redis_client import make_redis_client
from oneringai.infrastructure.token_storage.encryption import KeyRing
from oneringai.infrastructure.token_storage.redis import RedisTokenStorage
from tests.conftest import REDIS_URL, require_redis


class WriterInTheGap:
    """The real client; after the first empty GETRANGE, another writer stores the token."""

    def __init__(self, client: Any, write: Any) -> None:
        self._client, self._write, self.fired = client, write, False

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)

    async def getrange(self, *args: Any) -> Any:
        value = await self._client.getrange(*args)
        if not value and not self.fired:
            self.fired = True
            await self._write()
        return value


async def test_a_token_stored_between_the_reads_is_read_not_an_error():
    require_redis()
    ring = KeyRing.generate()
    prefix = f"race:{uuid.uuid4().hex[:8]}:"
    client = make_redis_client(REDIS_URL)
    writer = RedisTokenStorage(client, ring, prefix=prefix)  # the other process
    token = StoredToken(access_token="fresh-token", expires_in=3600)
    racing = WriterInTheGap(client, lambda: writer.store_token("svc:svc", token))
    reader = RedisTokenStorage(racing, ring, prefix=prefix)
    try:
        found = await reader.get_token("svc:svc")
        assert racing.fired  # the interleaving happened
        assert found is not None and found.access_token.get_secret_value() == "fresh-token"
        assert await reader.get_token("svc:nothing") is None  # still None when truly missing
    finally:
        async for key in client.scan_iter(match=f"{prefix}*"):
            await client.delete(key)
        await client.aclose()
