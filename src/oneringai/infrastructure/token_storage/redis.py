"""Redis store (redis-py asyncio): key prefix, TTL from the token's expiry, locks with expiry."""

from __future__ import annotations

import contextlib
import time
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

from oneringai.domain.errors import TokenStorageError
from oneringai.infrastructure.redis_client import make_redis_client
from oneringai.infrastructure.token_storage.base import EncryptedTokenStorage, Record
from oneringai.infrastructure.token_storage.encryption import KeyRing

if TYPE_CHECKING:
    from oneringai.infrastructure.token_storage.config import RedisStorageSettings

__all__ = ["RedisTokenStorage", "open_redis_storage"]


def _glob_escape(text: str) -> str:
    return "".join("\\" + c if c in "*?[]\\" else c for c in text)


class RedisTokenStorage(EncryptedTokenStorage):
    backend = "redis"

    def __init__(self, client: Any, key_ring: KeyRing, *, prefix: str = "oneringai:tokens:") -> None:
        super().__init__(key_ring)
        self.client = client
        self.prefix = prefix


    async def _put(self, key: str, envelope: str, expires_at: float | None) -> None:
        async with self._errors():
            if expires_at is None:
                await self.client.set(self.prefix + key, envelope)
            elif expires_at <= time.time():
                await self.client.delete(self.prefix + key)
            else:
                await self.client.set(self.prefix + key, envelope, pxat=int(expires_at * 1000))

    async def _get(self, key: str) -> Record | None:
        async with self._errors():
            value = await self.client.get(self.prefix + key)
        if value is None:
            return None
        return (value.decode() if isinstance(value, bytes) else str(value)), None  # Redis expires it

    async def _delete(self, key: str) -> None:
        async with self._errors():
            await self.client.delete(self.prefix + key)

    async def _list(self, prefix: str) -> list[str]:
        keys: list[str] = []
        async with self._errors():
            async for raw in self.client.scan_iter(match=_glob_escape(self.prefix + prefix) + "*", count=500):
                name = raw.decode() if isinstance(raw, bytes) else str(raw)
                keys.append(name[len(self.prefix):])
        return keys

    async def cleanup_expired(self) -> int:
        return 0  # Redis removes expired keys itself

    @contextlib.asynccontextmanager
    async def lock(self, name: str, *, timeout: float = 30.0) -> AsyncIterator[None]:
        """A Redis lock with expiry: a crashed holder cannot block others for longer than ``timeout``."""
        async with self._errors():
            lock = self.client.lock(f"{self.prefix}lock:{name}", timeout=timeout, blocking_timeout=timeout * 2)
            acquired = await lock.acquire()
        if not acquired:
            raise TokenStorageError(f"could not take lock {name!r}", backend="redis")
        try:
            yield
        finally:
            with contextlib.suppress(Exception):
                await lock.release()


@contextlib.asynccontextmanager
async def open_redis_storage(settings: RedisStorageSettings, key_ring: KeyRing) -> AsyncIterator[RedisTokenStorage]:
    client = make_redis_client(settings.url.get_secret_value(), config_path="oauth.storage.kind")
    try:
        try:
            await client.ping()
        except Exception as exc:
            raise TokenStorageError(f"cannot reach Redis: {type(exc).__name__}: {exc}", backend="redis") from None
        yield RedisTokenStorage(client, key_ring, prefix=settings.prefix)
    finally:
        await client.aclose()
