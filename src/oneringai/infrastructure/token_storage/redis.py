"""Redis store (redis-py asyncio): key prefix, TTL from the token's expiry, locks with expiry.

* a token lives at ``<prefix><key>``; Redis expires it only when it cannot be refreshed
  (no refresh token), never at ``expires_in`` of a refreshable token;
* locks live in their own namespace, ``oneringai:locks:<prefix><name>``, outside the
  token prefix: no token key can overwrite a held lock, and ``list_keys`` never sees
  one (with a prefix that does contain the lock namespace, such keys are refused);
* a value that is not our envelope — another type, bytes that are not UTF-8, another
  program's JSON — is a ``TokenDecryptionError`` for that key and is skipped by
  ``list_keys``.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

from oneringai.domain.errors import TokenDecryptionError, TokenStorageError
from oneringai.infrastructure.redis_client import make_redis_client
from oneringai.infrastructure.token_storage.base import MAX_RECORD_BYTES, EncryptedTokenStorage, Record
from oneringai.infrastructure.token_storage.encryption import KeyRing

if TYPE_CHECKING:
    from oneringai.infrastructure.token_storage.config import RedisStorageSettings

__all__ = ["LOCK_NAMESPACE", "RedisTokenStorage", "open_redis_storage"]

#: Compare-and-set of one record, keeping its expiry (``rotate_key`` must not overwrite a token
#: written since it read the record).
_REPLACE_IF = (
    "if redis.call('GET', KEYS[1]) == ARGV[1] then "
    "redis.call('SET', KEYS[1], ARGV[2], 'KEEPTTL') return 1 else return 0 end"
)

LOCK_NAMESPACE = "oneringai:locks:"
_BATCH = 500
#: Bytes of values ``list_keys`` holds at once.
_LIST_BYTES = 8 * 1024 * 1024


def _glob_escape(text: str) -> str:
    return "".join("\\" + c if c in "*?[]\\" else c for c in text)


def _text(value: Any) -> str | None:
    if isinstance(value, bytes):
        try:
            return value.decode("utf-8")
        except UnicodeDecodeError:
            return None
    return value if isinstance(value, str) else None


class RedisTokenStorage(EncryptedTokenStorage):
    backend = "redis"
    _record_keeps_expiry = False  # Redis expires the key itself

    def __init__(
        self, client: Any, key_ring: KeyRing, *, prefix: str = "oneringai:tokens:", timeout: float | None = None
    ) -> None:
        super().__init__(key_ring)
        self.timeout = timeout
        if not isinstance(prefix, str):
            raise TokenStorageError("prefix must be a string (oauth.storage.redis.prefix)", backend="redis")
        self.client = client
        self.prefix = prefix
        self.lock_prefix = LOCK_NAMESPACE + prefix

    def _name(self, key: str) -> str:
        name = self.prefix + key
        if name.startswith(self.lock_prefix):
            raise TokenStorageError(
                f"token key {key!r} falls in the lock namespace {self.lock_prefix!r}: "
                "choose another key or oauth.storage.redis.prefix",
                backend="redis",
            )
        return name

    @contextlib.asynccontextmanager
    async def _errors(self) -> AsyncIterator[None]:
        """As the base's, and a reply past the timeout names ``oauth.storage.redis.timeout``."""
        try:
            async with super()._errors():
                yield
        except TokenStorageError as exc:
            if type(exc.__cause__).__name__ == "TimeoutError" and "redis" in type(exc.__cause__).__module__:
                within = "" if self.timeout is None else f" within {self.timeout:g}s"
                raise TokenStorageError(
                    f"Redis did not answer{within} (oauth.storage.redis.timeout; a stalled server or network)",
                    backend="redis",
                ) from exc.__cause__
            raise

    def _is_wrong_type(self, exc: Exception) -> bool:
        return "WRONGTYPE" in str(exc)

    async def _put(self, key: str, envelope: str, expires_at: float | None) -> None:
        name = self._name(key)
        async with self._errors():
            if expires_at is None:
                await self.client.set(name, envelope)
            elif expires_at <= time.time():
                await self.client.delete(name)
            else:
                await self.client.set(name, envelope, pxat=int(expires_at * 1000))

    async def _replace(self, key: str, expected: str, envelope: str, expires_at: float | None) -> bool:
        async with self._errors():
            replaced = await self.client.eval(_REPLACE_IF, 1, self._name(key), expected, envelope)
        return bool(replaced)

    async def _get(self, key: str) -> Record | None:
        name = self._name(key)
        async with self._errors():  # lets our TokenDecryptionError through
            try:
                value = await self.client.getrange(name, 0, MAX_RECORD_BYTES)
                if not value:
                    # Empty: no key, or an empty value. Asked again atomically (MULTI), since a
                    # GETRANGE then an EXISTS raced a writer: a key written between the two read
                    # as an empty record, a TokenDecryptionError ("not a token envelope") for
                    # every caller that found a token missing while another process stored it.
                    async with self.client.pipeline(transaction=True) as pipe:
                        pipe.getrange(name, 0, MAX_RECORD_BYTES)
                        pipe.exists(name)
                        value, exists = await pipe.execute()
                    if not exists:
                        return None
            except Exception as exc:
                if self._is_wrong_type(exc):
                    raise TokenDecryptionError(
                        f"entry for {key!r} is not a string value (written by another program?)",
                        backend="redis",
                    ) from None
                raise
        text = _text(value)
        if text is None:
            raise TokenDecryptionError(f"entry for {key!r} is not UTF-8 text (written by another program?)", backend="redis")
        return text, None  # Redis expires it

    async def _delete(self, key: str) -> None:
        name = self._name(key)
        async with self._errors():
            await self.client.delete(name)

    async def _list(self, prefix: str) -> list[str]:
        """Our keys under ``prefix``. Values are read a batch at a time within a byte budget
        (all of them were held at once: many keys, or foreign values of a megabyte each,
        filled memory); a value longer than any record of ours is foreign unread."""
        names: list[bytes | str] = []
        keys: list[str] = []
        async with self._errors():
            async for raw in self.client.scan_iter(match=_glob_escape(self.prefix + prefix) + "*", count=_BATCH):
                names.append(raw)
            for start in range(0, len(names), _BATCH):
                batch = names[start : start + _BATCH]
                async with self.client.pipeline(transaction=False) as pipe:
                    for raw in batch:
                        pipe.strlen(raw)
                    sizes = await pipe.execute(raise_on_error=False)
                chunk: list[bytes | str] = []
                budget = 0
                for raw, size in zip(batch, sizes, strict=True):
                    if not isinstance(size, int) or size > MAX_RECORD_BYTES:
                        self._skip_foreign("redis", repr(raw)[:200], "not a string of a token record's size")
                        continue
                    if chunk and budget + size > _LIST_BYTES:
                        keys.extend(await self._our_keys(chunk))
                        chunk, budget = [], 0
                    chunk.append(raw)
                    budget += size
                if chunk:
                    keys.extend(await self._our_keys(chunk))
        return keys

    async def _our_keys(self, names: list[bytes | str]) -> list[str]:
        async with self.client.pipeline(transaction=False) as pipe:
            for raw in names:
                pipe.getrange(raw, 0, MAX_RECORD_BYTES)
            values = await pipe.execute(raise_on_error=False)
        keys: list[str] = []
        for raw, value in zip(names, values, strict=True):
            name = _text(raw)
            if name is None:
                self._skip_foreign("redis", repr(raw), "name is not UTF-8")
                continue
            if name.startswith(self.lock_prefix) or not name.startswith(self.prefix):
                continue  # a lock (only possible when the prefix contains the lock namespace)
            if not self._is_ours(_text(value)):
                self._skip_foreign("redis", name, "value is not a token envelope")
                continue
            keys.append(name[len(self.prefix) :])
        return keys

    async def cleanup_expired(self) -> int:
        return 0  # Redis removes expired keys itself

    @contextlib.asynccontextmanager
    async def lock(self, name: str, *, timeout: float = 30.0) -> AsyncIterator[None]:
        """A Redis lock with expiry: a crashed holder cannot block others for longer than ``timeout``.

        A live holder keeps it: its expiry is renewed every ``timeout / 3`` while the body runs.
        Before, a refresh slower than ``timeout`` (a token endpoint taking 30 s) lost the lock
        mid-way and a second process refreshed too — with rotating refresh tokens, the second
        got ``invalid_grant`` for the token the first had just used."""
        async with self._errors():
            lock = self.client.lock(self.lock_prefix + name, timeout=timeout, blocking_timeout=timeout * 2)
            acquired = await lock.acquire()
        if not acquired:
            raise TokenStorageError(f"could not take lock {name!r}", backend="redis")
        renewal = asyncio.get_running_loop().create_task(self._renew(lock, timeout / 3))
        try:
            yield
        finally:
            renewal.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await renewal
            with contextlib.suppress(Exception):
                await lock.release()

    @staticmethod
    async def _renew(lock: Any, every: float) -> None:
        """Renew until cancelled or the lock is lost. A renewal that meets an unreachable Redis
        is tried again at the next turn: stopping there (as before) let the lock expire under a
        live holder after a blip of one connection — a second process then refreshed too."""
        from redis.exceptions import LockError

        while True:
            await asyncio.sleep(every)
            try:
                await lock.reacquire()  # the full expiry again, only while the token is ours
            except LockError:  # lost: expired meanwhile (and maybe taken): nothing to keep
                return
            except Exception:  # noqa: S112 - Redis unreachable now: the expiry may outlast it
                continue


@contextlib.asynccontextmanager
async def open_redis_storage(settings: RedisStorageSettings, key_ring: KeyRing) -> AsyncIterator[RedisTokenStorage]:
    # A reply bound of our own: redis-py < 8 waits for ever on a Redis that accepts the
    # connection and never answers (one behind a dead proxy, a frozen host).
    client = make_redis_client(
        settings.url.get_secret_value(), config_path="oauth.storage.kind", socket_timeout=settings.timeout
    )
    try:
        try:
            await client.ping()
        except Exception as exc:
            raise TokenStorageError(f"cannot reach Redis: {type(exc).__name__}: {exc}", backend="redis") from None
        yield RedisTokenStorage(client, key_ring, prefix=settings.prefix, timeout=settings.timeout)
    finally:
        await client.aclose()
