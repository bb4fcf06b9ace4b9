"""The guide's Redis token store, with expiry done right.

The guide stores each token with ``SETEX key expires_in``. That TTL is the *access* token's
lifetime, so when it runs out Redis deletes the record — refresh token included — and a user
who could have been refreshed silently is sent to log in again; and since the TTL counts from
the write rather than from ``obtained_at``, a token stored late outlives its expiry. Here:

* a token with a refresh token gets **no TTL** (it stays usable until refreshed or deleted);
* one without expires at **its own expiry instant** (``PXAT``), and one already expired is
  deleted instead of written;
* every record is sealed with the kit's ``KeyRing`` (AES-256-GCM, the storage key bound in, a
  key id for rotation), so a tampered value raises ``TokenDecryptionError``;
* keys live under a prefix, so the store can list them and share a Redis with other data.

Run: .venv/bin/python examples/redis_token_storage.py   (needs Redis; REDIS_URL, default
redis://127.0.0.1:6379/15)
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import time
import uuid
from collections.abc import AsyncIterator

from redis.asyncio import BlockingConnectionPool, Redis
from redis.exceptions import RedisError

from oneringai import IOAuthTokenStorage, KeyRing, StoredToken, TokenStorageError


class RedisOAuthStorage(IOAuthTokenStorage):
    def __init__(self, redis: Redis, key_ring: KeyRing, *, prefix: str = "oauth:tokens:") -> None:
        self.redis = redis
        self.key_ring = key_ring
        self.prefix = prefix

    @contextlib.asynccontextmanager
    async def _errors(self) -> AsyncIterator[None]:
        try:
            yield
        except RedisError as exc:  # Redis down or refusing: our typed error, not redis-py's
            raise TokenStorageError(f"{type(exc).__name__}: {exc}", backend="redis") from exc

    async def store_token(self, key: str, token: StoredToken) -> None:
        envelope = self.key_ring.seal(key, token)
        async with self._errors():
            if token.refresh_token is not None or token.expires_at is None:
                await self.redis.set(self.prefix + key, envelope)  # no TTL: it can be refreshed
            elif token.expires_at > time.time():
                await self.redis.set(self.prefix + key, envelope, pxat=int(token.expires_at * 1000))
            else:
                await self.redis.delete(self.prefix + key)  # expired and not refreshable

    async def get_token(self, key: str) -> StoredToken | None:
        async with self._errors():
            envelope = await self.redis.get(self.prefix + key)
        return None if envelope is None else self.key_ring.open(key, envelope)

    async def delete_token(self, key: str) -> None:
        async with self._errors():
            await self.redis.delete(self.prefix + key)

    async def has_token(self, key: str) -> bool:
        async with self._errors():
            return bool(await self.redis.exists(self.prefix + key))

    async def list_keys(self, prefix: str = "") -> list[str]:
        pattern = "".join("\\" + c if c in "*?[]\\" else c for c in self.prefix + prefix) + "*"
        async with self._errors():
            names = [name async for name in self.redis.scan_iter(match=pattern, count=500)]
        return sorted(name.decode()[len(self.prefix):] for name in names)


async def main() -> None:
    # A blocking pool: a burst of calls waits for a connection instead of failing with "Too many connections".
    pool = BlockingConnectionPool.from_url(os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/15"), max_connections=32)
    redis = Redis(connection_pool=pool)
    # In production the ring comes from configuration: KeyRing.from_strings([os.environ["ONERINGAI_TOKEN_KEY"]])
    storage = RedisOAuthStorage(redis, KeyRing.generate(), prefix=f"example:{uuid.uuid4().hex[:8]}:")
    try:
        long_ago = time.time() - 7200  # both access tokens expired an hour ago
        await storage.store_token("github:client:user123", StoredToken(
            access_token="gho_old", refresh_token="ghr_refresh", expires_in=3600, obtained_at=long_ago))
        await storage.store_token("github:client:user456", StoredToken(
            access_token="gho_gone", expires_in=3600, obtained_at=long_ago))
        kept = await storage.get_token("github:client:user123")
        print("expired but refreshable, kept:", kept is not None and kept.is_expired())
        print("expired, nothing to refresh with, gone:", await storage.get_token("github:client:user456") is None)
        raw = await redis.get(storage.prefix + "github:client:user123")
        print("plaintext in Redis?", b"ghr_refresh" in raw)
        print("keys:", await storage.list_keys("github:"))
    finally:
        for key in await storage.list_keys():
            await storage.delete_token(key)
        await redis.aclose()


if __name__ == "__main__":
    asyncio.run(main())
