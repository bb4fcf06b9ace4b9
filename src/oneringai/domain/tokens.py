"""An OAuth token as stored at rest (encrypted by every built-in store)."""

from __future__ import annotations

import time
from typing import Any

from pydantic import ConfigDict, Field, SecretStr, field_serializer

from oneringai.domain._base import DomainModel

__all__ = ["StoredToken"]


class StoredToken(DomainModel):
    """``access_token`` and ``refresh_token`` are secrets: they never show in ``repr``."""

    model_config = ConfigDict(extra="allow")

    access_token: SecretStr
    refresh_token: SecretStr | None = None
    expires_in: float | None = None
    token_type: str = "Bearer"
    scope: str | None = None
    obtained_at: float = Field(default_factory=time.time)

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
