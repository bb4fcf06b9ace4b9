"""Shared logic of the built-in stores: encryption, key validation, record shape and expiry.

A subclass only moves envelopes (text) in and out of its backend. The promises kept here
for every backend:

* a record expires when its token can no longer be used: an access token past its expiry
  *and* no refresh token to renew it;
* whatever a backend hands back — another program's JSON of any type, bytes that are not
  UTF-8, a value without our envelope — ``get_token`` returns a token or raises
  ``TokenDecryptionError`` naming the key; never ``None`` for garbage, never a raw error;
* ``list_keys`` returns only our records: foreign entries under the prefix are skipped
  and logged, and lock entries live in a namespace of their own.
"""

from __future__ import annotations

import contextlib
import json
import math
import time
from abc import abstractmethod
from collections.abc import AsyncIterator

from pydantic import BaseModel, ConfigDict, StrictFloat, StrictInt, StrictStr, ValidationError

from oneringai.domain.errors import TokenDecryptionError, TokenStorageError
from oneringai.domain.interfaces import IOAuthTokenStorage
from oneringai.domain.redaction import get_logger
from oneringai.domain.tokens import StoredToken
from oneringai.infrastructure.token_storage.encryption import KeyRing, is_envelope

__all__ = [
    "EncryptedTokenStorage",
    "Record",
    "check_key",
    "dump_record",
    "parse_record",
    "record_expires_at",
    "record_key",
]

Record = tuple[str, float | None]  # envelope, expires_at (epoch seconds) or None

logger = get_logger("oneringai.token_storage")

#: Re-reads of a record that changes while ``rotate_key`` re-encrypts it.
_ROTATE_ATTEMPTS = 5
#: A record larger than this is not ours (ours are a few KiB); reading stops there.
MAX_RECORD_BYTES = 1024 * 1024


def record_expires_at(token: StoredToken) -> float | None:
    if token.refresh_token is not None:
        return None
    return token.expires_at


def check_key(key: str) -> str:
    if not isinstance(key, str) or not key:
        raise TokenStorageError("token key must be a non-empty string")
    try:
        size = len(key.encode())
    except UnicodeEncodeError:  # lone surrogates cannot be stored by any backend
        raise TokenStorageError("token key must be valid Unicode text (no lone surrogates)") from None
    if size > 1024:
        raise TokenStorageError("token key is longer than 1024 bytes")
    if "\x00" in key:  # PostgreSQL text cannot hold it: refused alike by every store
        raise TokenStorageError("token key may not contain NUL characters")
    return key


class _RecordShape(BaseModel):
    """What the file and AWS stores keep: the key travels inside the record too. Exactly these
    fields: a bit flipped in a field name (``"expires_as"``) is a tampered record, not a record
    without an expiry."""

    model_config = ConfigDict(extra="forbid")

    key: StrictStr
    envelope: StrictStr
    expires_at: StrictFloat | StrictInt | None = None


def dump_record(key: str, envelope: str, expires_at: float | None) -> str:
    return json.dumps({"key": key, "envelope": envelope, "expires_at": expires_at})


def parse_record(raw: object, key: str | None, *, backend: str, where: str = "record") -> Record:
    """A stored ``{"key", "envelope", "expires_at"}`` document, or ``TokenDecryptionError``.

    ``raw`` is whatever the backend returned (bytes, text, or anything else). With
    ``key=None`` the key is not checked (see ``record_key`` for listing).
    """
    return _parse(raw, key, backend=backend, where=where)[1:]


def record_key(raw: object, *, backend: str, where: str = "record") -> str:
    """The key inside a stored record (for listing), or ``TokenDecryptionError``."""
    return _parse(raw, None, backend=backend, where=where)[0]


def _parse(raw: object, key: str | None, *, backend: str, where: str) -> tuple[str, str, float | None]:
    if isinstance(raw, bytes | bytearray | memoryview):
        if len(raw) > MAX_RECORD_BYTES:
            raise TokenDecryptionError(f"{where} for {key!r} is too large to be a token record", backend=backend)
        try:
            raw = bytes(raw).decode("utf-8")
        except UnicodeDecodeError:
            raise TokenDecryptionError(
                f"{where} for {key!r} is not UTF-8 text (written by another program, or corrupt)", backend=backend
            ) from None
    if not isinstance(raw, str):
        raise TokenDecryptionError(f"{where} for {key!r} is not a token record", backend=backend)
    try:
        shape = _RecordShape.model_validate_json(raw)
    except (ValidationError, ValueError, RecursionError):
        raise TokenDecryptionError(
            f"{where} for {key!r} is not a token record (corrupt, truncated or written by another program)",
            backend=backend,
        ) from None
    if key is not None and shape.key != key:
        raise TokenDecryptionError(f"{where} for {key!r} belongs to another key", backend=backend)
    expires = None if shape.expires_at is None else float(shape.expires_at)
    if expires is not None and not math.isfinite(expires):
        raise TokenDecryptionError(f"{where} for {key!r} has an invalid expiry", backend=backend)
    return shape.key, shape.envelope, expires


def _same_time(stored: float | None, expected: float | None, tolerance: float) -> bool:
    if stored is None or expected is None:
        return stored is expected
    return math.isclose(stored, expected, rel_tol=0.0, abs_tol=tolerance)


class EncryptedTokenStorage(IOAuthTokenStorage):
    backend = "token"
    #: The record's expiry is kept beside the envelope (and checked against the token's);
    #: False for a backend that only expires records (Redis TTL) and reads back ``None``.
    _record_keeps_expiry = True
    #: How far the stored expiry may be from the token's: 0 where it is kept as JSON (exact).
    _expiry_tolerance = 0.0

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
                error = response.get("Error")
                code = error.get("Code") if isinstance(error, dict) else None
            raise TokenStorageError(f"{code or type(exc).__name__}: {exc}", backend=self.backend) from exc

    # --- what a backend implements --------------------------------------------------------
    @abstractmethod
    async def _put(self, key: str, envelope: str, expires_at: float | None) -> None: ...

    @abstractmethod
    async def _get(self, key: str) -> Record | None: ...

    @abstractmethod
    async def _delete(self, key: str) -> None: ...

    @abstractmethod
    async def _list(self, prefix: str) -> list[str]:
        """Keys of *our* records starting with ``prefix`` (foreign entries skipped and logged)."""

    def _open(self, key: str, envelope: object) -> StoredToken:
        """Decrypt one record; a store may override to explain a missing key better."""
        return self.key_ring.open_token(key, envelope)

    # --- the interface ---------------------------------------------------------------------
    async def store_token(self, key: str, token: StoredToken) -> None:
        check_key(key)
        if not isinstance(token, StoredToken):
            raise TokenStorageError(f"store_token({key!r}) needs a StoredToken, got {type(token).__name__}")
        envelope = self.key_ring.seal_token(key, token)
        expires_at = record_expires_at(token)
        size = len(dump_record(key, envelope, expires_at))  # ASCII: characters are bytes
        if size > MAX_RECORD_BYTES:  # it could not be read back: keep the record there is
            raise TokenStorageError(
                f"store_token({key!r}): the sealed token is {size} bytes; a record holds at most "
                f"{MAX_RECORD_BYTES} (the stored token, if any, is unchanged)",
                backend=self.backend,
            )
        await self._put(key, envelope, expires_at)

    async def get_token(self, key: str) -> StoredToken | None:
        check_key(key)
        record = await self._get(key)
        if record is None:
            return None
        envelope, expires_at = record
        # Opened first, then the record's expiry checked against the token's: the expiry sits
        # beside the envelope, outside the authenticated part, and a flipped digit must not
        # pass silently (nor drop a token as expired without anyone noticing).
        token = self._open(key, envelope)
        if self._record_keeps_expiry and not _same_time(expires_at, record_expires_at(token), self._expiry_tolerance):
            raise TokenDecryptionError(
                f"record for {key!r} has an expiry that does not match its token (tampered?)", backend=self.backend
            )
        if expires_at is not None and expires_at <= time.time():
            return None
        return token

    async def delete_token(self, key: str) -> None:
        check_key(key)
        await self._delete(key)

    async def has_token(self, key: str) -> bool:
        """True when a record is stored — also one that cannot be read (``get_token`` then
        raises ``TokenDecryptionError``): an unreadable record is never reported as absent."""
        check_key(key)
        try:
            record = await self._get(key)
        except TokenDecryptionError:
            return True
        return record is not None and (record[1] is None or record[1] > time.time())

    async def list_keys(self, prefix: str = "") -> list[str]:
        if not isinstance(prefix, str):
            raise TokenStorageError("list_keys prefix must be a string")
        return sorted(await self._list(prefix))

    # --- admin -------------------------------------------------------------------------------
    async def get_envelope(self, key: str) -> str | None:
        record = await self._get(key)
        return None if record is None else record[0]

    async def rotate_key(self, key: str) -> bool:
        """Re-encrypt one record with the newest key; False when it already uses it.

        The new envelope replaces the record only if it is still the one read: a token a
        refresh wrote meanwhile is never overwritten by the re-encrypted older one."""
        for _ in range(_ROTATE_ATTEMPTS):
            record = await self._get(key)
            if record is None:
                return False
            envelope, expires_at = record
            if KeyRing.key_id_of(envelope) == self.key_ring.current_key_id:
                return False
            token = self._open(key, envelope)
            if await self._replace(key, envelope, self.key_ring.seal_token(key, token), expires_at):
                return True
        raise TokenStorageError(f"record for {key!r} kept changing while it was re-encrypted; try again")

    async def _replace(self, key: str, expected: str, envelope: str, expires_at: float | None) -> bool:
        """Write ``envelope`` only if the record still holds ``expected``; False otherwise.
        Built-in stores do this atomically; this default (for custom stores) checks first,
        which narrows the window without closing it."""
        current = await self._get(key)
        if current is None or current[0] != expected:
            return False
        await self._put(key, envelope, expires_at)
        return True

    async def cleanup_expired(self) -> int:
        """Remove expired records; returns how many. Backends with native TTL may do nothing."""
        removed = 0
        now = time.time()
        for key in await self._list(""):
            try:
                record = await self._get(key)
            except TokenDecryptionError:
                continue  # never delete what cannot be read: someone must look at it
            expired = record is not None and record[1] is not None and record[1] <= now
            # only the record read: never a token a refresh wrote since
            if expired and record is not None and await self._delete_if(key, record[0]):
                removed += 1
        return removed

    async def _delete_if(self, key: str, expected: str) -> bool:
        """Delete the record only if it still holds ``expected`` (see ``_replace``)."""
        current = await self._get(key)
        if current is None or current[0] != expected:
            return False
        await self._delete(key)
        return True

    @staticmethod
    def _skip_foreign(backend: str, name: str, why: str) -> None:
        logger.warning("%s token storage: skipping foreign entry %r (%s)", backend, name[:200], why)

    @staticmethod
    def _is_ours(envelope: object) -> bool:
        return is_envelope(envelope)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(key_ids={self.key_ring.key_ids})"
