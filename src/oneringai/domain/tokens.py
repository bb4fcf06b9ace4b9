"""An OAuth token as stored at rest (encrypted by every built-in store)."""

from __future__ import annotations

import math
import re
import time
from typing import Any

from pydantic import ConfigDict, Field, SecretStr, field_serializer, field_validator

from oneringai.domain._base import DomainModel
from oneringai.domain.redaction import REDACTED, redact, register_secret

__all__ = ["StoredToken"]


#: Extra fields of a token response that are credentials too (``id_token``, ...): masked in repr.
_SECRET_EXTRA = re.compile(r"token|secret|password|assertion|key|code", re.IGNORECASE)
#: Larger than any time in seconds until the year 5000: such an ``obtained_at`` is milliseconds.
_MILLISECONDS_FLOOR = 1e11
#: A lifetime or time beyond this many seconds (~317 years) is no token's.
_MAX_SECONDS = 1e10


#: Extras nested deeper than this are masked whole (a repr must not recurse without bound).
_MAX_EXTRA_DEPTH = 16


def _masked(value: Any, secret: bool, depth: int) -> Any:
    """An extra as repr shows it: every value under a token-like key masked, at any depth
    (``{"openid": {"refresh_token": …}}`` hides the nested token too)."""
    if value is None:
        return None
    if secret or depth >= _MAX_EXTRA_DEPTH:
        return REDACTED
    if isinstance(value, dict):
        return {k: _masked(v, bool(_SECRET_EXTRA.search(str(k))), depth + 1) for k, v in value.items()}
    if isinstance(value, list):
        return [_masked(v, False, depth + 1) for v in value]
    return redact(value) if isinstance(value, str) else value  # e.g. an instance URL with a password


def _register_nested(value: Any, secret: bool, depth: int) -> None:
    if depth >= _MAX_EXTRA_DEPTH:
        return
    if isinstance(value, str):
        if secret:
            register_secret(value)
    elif isinstance(value, dict):
        for k, v in value.items():
            _register_nested(v, secret or bool(_SECRET_EXTRA.search(str(k))), depth + 1)
    elif isinstance(value, list):
        for v in value:
            _register_nested(v, secret, depth + 1)


class StoredToken(DomainModel):
    """``access_token``, ``refresh_token`` and token-like extras (``id_token``) are secrets:
    they never show in ``repr`` and are registered for scrubbing from every message."""

    model_config = ConfigDict(extra="allow")

    access_token: SecretStr
    refresh_token: SecretStr | None = None
    #: Seconds; a whole number is an ``int`` (``3600``), so the guide's ``SETEX key
    #: token.expires_in ...`` and other integer-only APIs take it as the TypeScript kit's did.
    expires_in: int | float | None = None
    token_type: str = "Bearer"
    scope: str | None = None
    obtained_at: float = Field(default_factory=time.time)
    #: The server rejected the refresh token (``invalid_grant``): only a new login helps, so
    #: no caller tries the dead refresh token again.
    needs_login: bool = False

    @field_validator("obtained_at", mode="after")
    @classmethod
    def _seconds(cls, value: float) -> float:
        if not math.isfinite(value) or not 0 <= value <= _MAX_SECONDS * 1000:
            raise ValueError("must be a time in seconds (or milliseconds) since the epoch")
        # The TypeScript kit stores Date.now() (milliseconds); read as seconds it never expires.
        return value / 1000.0 if value > _MILLISECONDS_FLOOR else value

    @field_validator("expires_in", mode="after")
    @classmethod
    def _lifetime(cls, value: float | None) -> float | None:
        # An infinite, NaN or 1e308 lifetime is written by one store and refused by the next
        # (JSON "Infinity", a timestamp out of range, a TTL that is no integer): never accepted.
        if value is not None and (not math.isfinite(value) or abs(value) > _MAX_SECONDS):
            raise ValueError(f"must be a finite number of seconds, at most {_MAX_SECONDS:.0e}")
        if isinstance(value, float) and value.is_integer():
            return int(value)
        return value

    def model_post_init(self, context: Any, /) -> None:
        register_secret(self.access_token)
        register_secret(self.refresh_token)
        for name, value in (self.__pydantic_extra__ or {}).items():
            _register_nested(value, bool(_SECRET_EXTRA.search(name)), 0)

    def __repr_args__(self) -> Any:
        extra = self.__pydantic_extra__ or {}
        for name, value in super().__repr_args__():
            if name in extra:
                yield name, _masked(value, bool(_SECRET_EXTRA.search(str(name))), 0)
            else:
                yield name, value

    @field_serializer("access_token", "refresh_token", when_used="json")
    def _reveal_for_storage(self, value: SecretStr | None) -> str | None:
        # JSON form is only produced for encryption at rest; repr/str stay masked.
        return value.get_secret_value() if value is not None else None

    @property
    def expires_at(self) -> float | None:
        return None if self.expires_in is None else self.obtained_at + self.expires_in

    def is_expired(self, skew: float = 0.0, *, now: float | None = None) -> bool:
        """True when the token expires within ``skew`` seconds (tokens without expiry never do)."""
        expires_at = self.expires_at
        if expires_at is None:
            return False
        return (time.time() if now is None else now) + skew >= expires_at

    def to_storage_json(self) -> str:
        """The plaintext JSON that stores encrypt."""
        return self.model_dump_json()

    @classmethod
    def from_token_response(cls, payload: dict[str, Any], *, now: float | None = None) -> StoredToken:
        """Build from an RFC 6749 token response body."""
        data = dict(payload)
        data.setdefault("obtained_at", time.time() if now is None else now)
        return cls.model_validate(data)
