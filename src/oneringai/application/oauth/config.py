"""Settings of OAuth connections and of the manager registry (``oauth:`` in YAML).

The storage and encryption keys are infrastructure; the schema adds them on top of
``OAuthFlowSettings`` so this layer never sees them.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, SecretStr

from oneringai.domain._base import SettingsSection
from oneringai.domain.redaction import register_secret

__all__ = ["OAuthConnectionSettings", "OAuthFlowSettings"]


class OAuthConnectionSettings(SettingsSection):
    flow: Literal["authorization_code", "client_credentials", "jwt_bearer", "static_token"]
    client_id: str = ""
    client_secret: SecretStr | None = None
    authorization_url: str | None = None
    token_url: str | None = None
    revocation_url: str | None = None
    redirect_uri: str | None = None
    scopes: list[str] = Field(default_factory=list)
    audience: str | None = None
    use_pkce: bool = True
    access_token: SecretStr | None = Field(default=None, description="static_token flow")
    private_key: SecretStr | None = Field(default=None, description="PEM, jwt_bearer flow")
    private_key_file: str | None = None
    key_id: str | None = None
    issuer: str | None = None
    subject: str | None = None
    extra_authorize_params: dict[str, str] = Field(default_factory=dict)
    extra_token_params: dict[str, str] = Field(default_factory=dict)

    def model_post_init(self, context: Any, /) -> None:
        # Credentials of a connection never show in any message, log line or span.
        for secret in (self.client_secret, self.access_token, self.private_key):
            register_secret(secret)
        for value in self.extra_token_params.values():
            register_secret(value)


class OAuthFlowSettings(SettingsSection):
    """What the connection managers need: the connections and the timing of refresh and state."""

    connections: dict[str, OAuthConnectionSettings] = Field(default_factory=dict)
    refresh_skew: float = Field(default=300.0, ge=0, description="refresh this early (s)")
    state_ttl: float = Field(default=600.0, gt=0)
