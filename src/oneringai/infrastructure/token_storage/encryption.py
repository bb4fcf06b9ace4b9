"""Tokens at rest: AES-256-GCM envelopes with a key ring.

Envelope (text, so every backend can store it)::

    v1:<key id>:<base64(nonce || ciphertext+tag)>

* a fresh 96-bit nonce per write;
* the storage key is the associated data, so a record copied under another key
  fails to decrypt instead of handing user B the token of user A;
* the key id (first 8 bytes of SHA-256 of the key, hex) says which key of the ring
  wrote the record: the newest key encrypts, any known key decrypts, and
  ``oneringai tokens rotate-key`` re-encrypts with the newest.

Any failure is a ``TokenDecryptionError``; nothing returns garbage — whatever the record
holds (another program's JSON, ``None``, bytes that are not UTF-8, a number).

A custom store encrypts in one line each way, and so raises our error too::

    ring = KeyRing.from_strings([os.environ["ONERINGAI_TOKEN_KEY"]])
    envelope = ring.seal(key, token)      # str, safe to store anywhere
    token = ring.open(key, envelope)      # StoredToken, or TokenDecryptionError
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
import re
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from oneringai.domain.errors import ConfigError, TokenDecryptionError, TokenStorageError
from oneringai.domain.tokens import StoredToken

__all__ = [
    "ENVELOPE_VERSION",
    "KeyRing",
    "derive_key_from_passphrase",
    "generate_key",
    "is_envelope",
    "key_id",
    "parse_key",
]

ENVELOPE_VERSION = "v1"
_AAD_PREFIX = b"oneringai-token:v1:"
_NONCE = 12
_ENVELOPE_SHAPE = re.compile(r"v1:[0-9a-f]{16}:[A-Za-z0-9+/]+={0,2}")


def is_envelope(value: object) -> bool:
    """True when ``value`` has the shape of one of our envelopes (not that it decrypts):
    how stores tell their own records from foreign entries sharing a prefix or table."""
    return isinstance(value, str) and _ENVELOPE_SHAPE.fullmatch(value) is not None


def generate_key() -> str:
    """A new random key, base64-encoded (what ``ONERINGAI_OAUTH__ENCRYPTION_KEYS`` takes)."""
    return base64.b64encode(secrets.token_bytes(32)).decode()


def parse_key(text: str, *, index: int = 0, where: str | None = None) -> bytes:
    """32 bytes from base64 (standard or URL-safe) or 64 hex characters.

    ``where`` names the key's origin in error messages (default: the configured key ring).
    """
    value = text.strip() if isinstance(text, str) else ""
    where = where or f"encryption key #{index + 1} (oauth.encryption_keys / ONERINGAI_OAUTH__ENCRYPTION_KEYS)"
    if not value:
        raise ConfigError(f"{where} is empty")
    if len(value) == 64:
        try:
            return bytes.fromhex(value)
        except ValueError:
            pass
    try:
        padded = value + "=" * (-len(value) % 4)
        raw = base64.b64decode(padded.replace("-", "+").replace("_", "/"), validate=True)
    except (binascii.Error, ValueError):
        raise ConfigError(
            f"{where} is malformed: expected 32 bytes as base64 or 64 hex characters "
            "(make one with: oneringai tokens generate-key)"
        ) from None
    if len(raw) != 32:
        raise ConfigError(
            f"{where} is {len(raw)} bytes; AES-256 needs exactly 32 "
            "(make one with: oneringai tokens generate-key)"
        )
    return raw


def derive_key_from_passphrase(passphrase: str, salt: bytes) -> bytes:
    """scrypt (N=2^15, r=8, p=1) — for setups that hold a passphrase rather than a key."""
    if len(passphrase) < 12:
        raise ConfigError("oauth.passphrase must be at least 12 characters")
    if len(salt) < 16:
        raise ConfigError("passphrase salt must be at least 16 bytes")
    return hashlib.scrypt(
        passphrase.encode(), salt=salt, n=2**15, r=8, p=1, maxmem=64 * 1024 * 1024, dklen=32
    )


def key_id(key: bytes) -> str:
    """The id a record written with ``key`` carries (not secret: a hash prefix)."""
    return _key_id(key)


def _key_id(key: bytes) -> str:
    return hashlib.sha256(key).hexdigest()[:16]


@dataclass(frozen=True)
class _Key:
    id: str
    aead: AESGCM


class KeyRing:
    """Ordered keys, newest first. Never prints key material."""

    def __init__(self, keys: Sequence[bytes]) -> None:
        keys = list(dict.fromkeys(keys))  # the same key twice is one key
        if not keys:
            raise ConfigError(
                "no encryption key configured: set oauth.encryption_keys "
                "(e.g. ONERINGAI_OAUTH__ENCRYPTION_KEYS=$(oneringai tokens generate-key))"
            )
        self._keys = [_Key(_key_id(k), AESGCM(k)) for k in keys]
        self._by_id = {k.id: k for k in reversed(self._keys)}

    @classmethod
    def from_strings(cls, values: Iterable[str]) -> KeyRing:
        return cls([parse_key(v, index=i) for i, v in enumerate(values)])

    @classmethod
    def generate(cls) -> KeyRing:
        """An ephemeral ring (memory stores in tests)."""
        return cls([os.urandom(32)])

    def with_older_keys(self, keys: Iterable[bytes]) -> KeyRing:
        """This ring plus ``keys`` as older, decrypt-only keys (the newest still encrypts)."""
        combined = KeyRing.__new__(KeyRing)
        extra = [_Key(_key_id(k), AESGCM(k)) for k in keys]
        combined._keys = self._keys + [k for k in extra if k.id not in self._by_id]
        combined._by_id = {k.id: k for k in reversed(combined._keys)}
        return combined

    def has_key_id(self, key_id: str | None) -> bool:
        return key_id in self._by_id

    @property
    def current_key_id(self) -> str:
        return self._keys[0].id

    @property
    def key_ids(self) -> list[str]:
        return [k.id for k in self._keys]

    def __repr__(self) -> str:
        return f"KeyRing(key_ids={self.key_ids})"

    def encrypt(self, storage_key: str, plaintext: bytes) -> str:
        if not isinstance(plaintext, bytes | bytearray | memoryview):
            raise TokenStorageError(f"encrypt() takes the plaintext as bytes, not {type(plaintext).__name__}")
        key = self._keys[0]
        nonce = os.urandom(_NONCE)
        sealed = key.aead.encrypt(nonce, plaintext, _aad(storage_key))
        return f"{ENVELOPE_VERSION}:{key.id}:{base64.b64encode(nonce + sealed).decode()}"

    @staticmethod
    def key_id_of(envelope: object) -> str | None:
        if not isinstance(envelope, str):
            return None
        parts = envelope.split(":", 2)
        return parts[1] if len(parts) == 3 else None

    def decrypt(self, storage_key: str, envelope: object) -> bytes:
        _aad(storage_key)  # a key no record can have is the caller's mistake, not a corrupt record
        if isinstance(envelope, bytes | bytearray | memoryview):
            try:
                envelope = bytes(envelope).decode("ascii")
            except UnicodeDecodeError:
                raise TokenDecryptionError(f"record for {storage_key!r} is not an envelope (not text)") from None
        if not isinstance(envelope, str):
            raise TokenDecryptionError(
                f"record for {storage_key!r} is not a token envelope "
                f"(found {type(envelope).__name__}: written by another program?)"
            )
        parts = envelope.strip().split(":", 2)
        if len(parts) != 3:
            raise TokenDecryptionError(f"record for {storage_key!r} is not a token envelope (truncated?)")
        version, key_id, payload = parts
        if version != ENVELOPE_VERSION:
            raise TokenDecryptionError(
                f"record for {storage_key!r} has unknown envelope version {version[:10]!r}"
            )
        key = self._by_id.get(key_id)
        if key is None:
            raise TokenDecryptionError(
                f"record for {storage_key!r} was written with key id {key_id[:16]!r}, "
                "which is not in the key ring (add the old key to oauth.encryption_keys)"
            )
        try:
            raw = base64.b64decode(payload, validate=True)
        except (binascii.Error, ValueError):
            raise TokenDecryptionError(f"record for {storage_key!r} is corrupt (bad base64)") from None
        if base64.b64encode(raw).decode() != payload:  # altered padding bits decode the same: still altered
            raise TokenDecryptionError(f"record for {storage_key!r} is corrupt (altered base64)")
        if len(raw) < _NONCE + 16:
            raise TokenDecryptionError(f"record for {storage_key!r} is truncated")
        try:
            return key.aead.decrypt(raw[:_NONCE], raw[_NONCE:], _aad(storage_key))
        except InvalidTag:
            raise TokenDecryptionError(
                f"record for {storage_key!r} failed authentication "
                "(tampered, truncated, or stored under another key)"
            ) from None

    def seal_token(self, storage_key: str, token: StoredToken) -> str:
        """The envelope (text) to store for ``token`` under ``storage_key``."""
        if not isinstance(token, StoredToken):  # a custom store's dict: an AttributeError before
            raise TokenStorageError(f"seal_token() needs a StoredToken, not {type(token).__name__}")
        return self.encrypt(storage_key, token.to_storage_json().encode())

    def open_token(self, storage_key: str, envelope: object) -> StoredToken:
        """The token in ``envelope``; ``TokenDecryptionError`` for anything else."""
        plaintext = self.decrypt(storage_key, envelope)
        try:
            return StoredToken.model_validate_json(plaintext)
        except (ValueError, RecursionError):
            raise TokenDecryptionError(f"record for {storage_key!r} decrypted to an invalid token") from None

    #: The one-line way for a custom store: ``ring.seal(key, token)`` / ``ring.open(key, envelope)``.
    seal = seal_token
    open = open_token


def _aad(storage_key: object) -> bytes:
    """The authenticated data binding an envelope to its storage key. A key that is no text
    (``5``, ``None``) or holds a lone surrogate is a ``TokenStorageError``, not the
    ``AttributeError``/``UnicodeEncodeError`` a custom store calling ``seal``/``open`` got."""
    if not isinstance(storage_key, str):
        raise TokenStorageError(f"a token's storage key must be a string, not {type(storage_key).__name__}")
    try:
        return _AAD_PREFIX + storage_key.encode()
    except UnicodeEncodeError:
        raise TokenStorageError("a token's storage key must be valid Unicode text (no lone surrogates)") from None
