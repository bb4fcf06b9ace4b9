"""Shared logic of the built-in stores: encryption, key validation and record expiry.

A subclass only moves envelopes (text) in and out of its backend. A record
expires when its token can no longer be used: an access token past its expiry
*and* no refresh token to renew it.
"""

from __future__ import annotations

import contextlib
import time
from abc import abstractmethod
from collections.abc import AsyncIterator

from oneringai.domain.errors import TokenStorageError
from oneringai.domain.interfaces import IOAuthTokenStorage
from oneringai.domain.tokens import StoredToken
from oneringai.infrastructure.token_storage.encryption import KeyRing

__all__ = ["EncryptedTokenStorage", "Record", "record_expires_at"]

Record = tuple[str, float | None]  # envelope, expires_at (epoch seconds) or None


def record_expires_at(token: StoredToken) -> float | None:
    if token.refresh_token is not None:
        return None
    return token.expires_at


def check_key(key: str) -> str:
    if not isinstance(key, str) or not key:
        raise TokenStorageError("token key must be a non-empty string")
    if len(key.encode()) > 1024:
        raise TokenStorageError("token key is longer than 1024 bytes")
    return key


class EncryptedTokenStorage(IOAuthTokenStorage):
    backend = "token"

    def __init__(self, key_ring: KeyRing) -> None:
        self.key_ring = key_ring

    @contextlib.asynccontextmanager
    async def _errors(self) -> AsyncIterator[None]:
        """Backend exceptions become ``TokenStorageError`` naming the backend."""
        try:
            yield
        except TokenStorageError:
            raise
        except Exception as exc:
            code = None
            response = getattr(exc, "response", None)
            if isinstance(response, dict):  # botocore ClientError
                code = response.get("Error", {}).get("Code")
            raise TokenStorageError(f"{code or type(exc).__name__}: {exc}", backend=self.backend) from exc

    # --- what a backend implements --------------------------------------------------------
    @abstractmethod
    async def _put(self, key: str, envelope: str, expires_at: float | None) -> None: ...

    @abstractmethod
    async def _get(self, key: str) -> Record | None: ...

    @abstractmethod
    async def _delete(self, key: str) -> None: ...

    @abstractmethod
    async def _list(self, prefix: str) -> list[str]: ...

    # --- the interface ---------------------------------------------------------------------
    async def store_token(self, key: str, token: StoredToken) -> None:
        check_key(key)
        await self._put(key, self.key_ring.seal_token(key, token), record_expires_at(token))

    async def get_token(self, key: str) -> StoredToken | None:
        check_key(key)
        record = await self._get(key)
        if record is None:
            return None
        envelope, expires_at = record
        if expires_at is not None and expires_at <= time.time():
            return None
        return self.key_ring.open_token(key, envelope)

    async def delete_token(self, key: str) -> None:
        check_key(key)
        await self._delete(key)

    async def has_token(self, key: str) -> bool:
        check_key(key)
        record = await self._get(key)
        return record is not None and (record[1] is None or record[1] > time.time())

    async def list_keys(self, prefix: str = "") -> list[str]:
        return sorted(await self._list(prefix))

    # --- admin -------------------------------------------------------------------------------
    async def get_envelope(self, key: str) -> str | None:
        record = await self._get(key)
        return None if record is None else record[0]

    async def rotate_key(self, key: str) -> bool:
        """Re-encrypt one record with the newest key; False when it already uses it."""
        record = await self._get(key)
        if record is None:
            return False
        envelope, expires_at = record
        if KeyRing.key_id_of(envelope) == self.key_ring.current_key_id:
            return False
        token = self.key_ring.open_token(key, envelope)
        await self._put(key, self.key_ring.seal_token(key, token), expires_at)
        return True

    async def cleanup_expired(self) -> int:
        """Remove expired records; returns how many. Backends with native TTL may do nothing."""
        removed = 0
        now = time.time()
        for key in await self._list(""):
            record = await self._get(key)
            if record is not None and record[1] is not None and record[1] <= now:
                await self._delete(key)
                removed += 1
        return removed

    def __repr__(self) -> str:
        return f"{type(self).__name__}(key_ids={self.key_ring.key_ids})"
