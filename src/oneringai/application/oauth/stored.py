"""Reading a token back from a store the kit did not write: a custom ``IOAuthTokenStorage``.

The guide's stores are TypeScript, whose ``getToken`` returns ``JSON.parse(...)`` — a plain
object. A Python port returns a dict (or the JSON text) the same way; the built-in stores
return ``StoredToken``. Whatever comes back is a ``StoredToken``, ``None`` or a typed error
naming the key — never an ``AttributeError`` deep in the refresh logic.
"""

from __future__ import annotations

from collections.abc import Mapping

from pydantic import ValidationError

from oneringai.domain.errors import TokenDecryptionError
from oneringai.domain.interfaces import IOAuthTokenStorage
from oneringai.domain.tokens import StoredToken

__all__ = ["read_token", "refresh_due"]


async def read_token(storage: IOAuthTokenStorage, key: str) -> StoredToken | None:
    value: object = await storage.get_token(key)
    if value is None or isinstance(value, StoredToken):
        return value
    store = type(storage).__name__
    try:
        if isinstance(value, Mapping):
            return StoredToken.model_validate(dict(value))
        if isinstance(value, str | bytes | bytearray):
            return StoredToken.model_validate_json(value)
    except (ValidationError, ValueError, RecursionError):
        raise TokenDecryptionError(
            f"{store}.get_token({key!r}) returned a {type(value).__name__} that is not a token"
        ) from None
    raise TokenDecryptionError(
        f"{store}.get_token({key!r}) returned {type(value).__name__}, not a StoredToken, a mapping or None"
    )


def refresh_due(token: StoredToken, skew: float) -> bool:
    """True when ``token`` should be refreshed now: within ``skew`` seconds of its expiry — or
    of half its lifetime, when that is shorter.

    A server issuing tokens that live no longer than the skew (``expires_in: 300`` against the
    default ``refresh_skew: 300``) made every fresh token "due" at once: every call refreshed,
    and every process that waited for the refresh lock refreshed again behind the first."""
    if token.expires_in is not None:
        skew = min(skew, max(token.expires_in, 0.0) / 2)
    return token.is_expired(skew)
