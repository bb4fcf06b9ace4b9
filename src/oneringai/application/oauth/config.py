"""Settings of OAuth connections and of the manager registry (``oauth:`` in YAML).

The storage and encryption keys are infrastructure; the schema adds them on top of
``OAuthFlowSettings`` so this layer never sees them.

A connection also accepts the guide's camelCase spellings (``clientId``, ``tokenUrl``,
``usePKCE``, ``scope: "a b"``, ...), so the TypeScript guide's standalone
``new OAuthManager({flow, clientId, ..., storage})`` reads the same in Python;
``split_manager_options`` takes the manager-level keys (``storage``, ``refreshBeforeExpiry``)
out of such a config. Unknown keys are still errors, and the message lists the known ones.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from pydantic import AliasChoices, Field, SecretStr, ValidationError, ValidationInfo, field_validator

from oneringai.application.urls import check_url
from oneringai.domain._base import SettingsSection
from oneringai.domain.errors import ConfigError
from oneringai.domain.redaction import register_secret

__all__ = ["OAuthConnectionSettings", "OAuthFlowSettings", "connection_settings", "split_manager_options"]




def _names(*names: str) -> AliasChoices:
    return AliasChoices(*names)


class OAuthConnectionSettings(SettingsSection):
    flow: Literal["authorization_code", "client_credentials", "jwt_bearer", "static_token"]
    client_id: str = Field(default="", validation_alias=_names("client_id", "clientId"))
    client_secret: SecretStr | None = Field(default=None, validation_alias=_names("client_secret", "clientSecret"))
    authorization_url: str | None = Field(
        default=None, validation_alias=_names("authorization_url", "authorizationUrl", "authUrl")
    )
    token_url: str | None = Field(default=None, validation_alias=_names("token_url", "tokenUrl"))
    revocation_url: str | None = Field(default=None, validation_alias=_names("revocation_url", "revocationUrl"))
    redirect_uri: str | None = Field(default=None, validation_alias=_names("redirect_uri", "redirectUri"))
    scopes: list[str] = Field(default_factory=list, validation_alias=_names("scopes", "scope"))
    audience: str | None = Field(
        default=None,
        description="jwt_bearer: the assertion's aud (default: token_url); client_credentials: sent as the "
        "audience parameter (Auth0 and others need it); authorization_code: use extra_authorize_params",
    )
    use_pkce: bool = Field(default=True, validation_alias=_names("use_pkce", "usePKCE", "usePkce"))
    access_token: SecretStr | None = Field(
        default=None, description="static_token flow", validation_alias=_names("access_token", "accessToken")
    )
    private_key: SecretStr | None = Field(
        default=None, description="PEM, jwt_bearer flow", validation_alias=_names("private_key", "privateKey")
    )
    private_key_file: str | None = Field(
        default=None, validation_alias=_names("private_key_file", "privateKeyFile", "privateKeyPath")
    )
    key_id: str | None = Field(default=None, validation_alias=_names("key_id", "keyId"))
    issuer: str | None = None
    subject: str | None = None
    extra_authorize_params: dict[str, str] = Field(
        default_factory=dict, validation_alias=_names("extra_authorize_params", "extraAuthorizeParams")
    )
    extra_token_params: dict[str, str] = Field(
        default_factory=dict, validation_alias=_names("extra_token_params", "extraTokenParams")
    )

    @field_validator("token_url", "authorization_url", "revocation_url", "redirect_uri", mode="after")
    @classmethod
    def _is_a_url(cls, value: str | None, info: ValidationInfo) -> str | None:
        # Checked here: httpx raises InvalidURL (no HTTPError) or, for a port out of range, an
        # ExceptionGroup from deep inside the request — neither is an OAuthError.
        if not value:
            return value
        # a redirect URI may use an app's own scheme (RFC 8252); the server's URLs are HTTP
        redirect = info.field_name == "redirect_uri"
        parts = check_url(value, None if redirect else ("http", "https"), host=not redirect)
        if not parts.scheme:
            raise ValueError("must be an absolute URL")
        return value

    @field_validator("scopes", mode="before")
    @classmethod
    def _split_scope_string(cls, value: Any) -> Any:
        # The guide (and RFC 6749) write scope as one space-separated string.
        return value.split() if isinstance(value, str) else value

    def model_post_init(self, context: Any, /) -> None:
        # Credentials of a connection never show in any message, log line or span.
        for secret in (self.client_secret, self.access_token, self.private_key):
            register_secret(secret)
        for value in self.extra_token_params.values():
            register_secret(value)


#: Keys of the guide's standalone config that configure the manager, not the connection.
_MANAGER_KEYS = {
    "storage": "storage",
    "name": "name",
    "refresh_skew": "refresh_skew",
    "refreshBeforeExpiry": "refresh_skew",
    "state_ttl": "state_ttl",
    "stateTtl": "state_ttl",
}


def split_manager_options(config: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """(connection keys, manager options) of one config mapping."""
    connection: dict[str, Any] = {}
    options: dict[str, Any] = {}
    for key, value in config.items():
        if key in _MANAGER_KEYS:
            options[_MANAGER_KEYS[key]] = value
        else:
            connection[key] = value
    return connection, options


def _spellings() -> list[list[str]]:
    """Each field's accepted spellings (``client_id``, ``clientId``), the field's name first."""
    found = []
    for name, field in OAuthConnectionSettings.model_fields.items():
        alias = field.validation_alias
        found.append(list(dict.fromkeys([str(c) for c in alias.choices] if isinstance(alias, AliasChoices) else [name])))
    return found


def _accepted() -> str:
    return ", ".join([*(" / ".join(spellings) for spellings in _spellings()), "storage", "refreshBeforeExpiry"])


def _twice(key: str, config: Mapping[str, Any]) -> str | None:
    """A key pydantic calls unknown because another spelling of the same field was given too."""
    for spellings in _spellings():
        if key in spellings:
            given = [spelling for spelling in spellings if spelling in config]
            return f"{' and '.join(repr(g) for g in given)} are one key given twice: keep one"
    return None


def connection_settings(config: Mapping[str, Any], *, name: str) -> OAuthConnectionSettings:
    """Validate one connection's mapping; a ``ConfigError`` that names each bad key (and
    never echoes a value: it may be a secret)."""
    try:
        return OAuthConnectionSettings.model_validate(dict(config))
    except ValidationError as exc:
        problems = []
        unknown = []
        for err in exc.errors(include_input=False, include_url=False):
            where = ".".join(str(p) for p in err["loc"])
            if err["type"] == "extra_forbidden":
                twice = _twice(where, config)
                if twice is None:
                    unknown.append(repr(where))
                else:
                    problems.append(twice)
            else:
                problems.append(f"{where}: {err['msg'].removeprefix('Value error, ')}")
        if unknown:
            problems.insert(0, f"unknown key(s) {', '.join(unknown)} (accepted: {_accepted()})")
        raise ConfigError("; ".join(problems), path=f"oauth.connections.{name}") from None


class OAuthFlowSettings(SettingsSection):
    """What the connection managers need: the connections and the timing of refresh and state."""

    connections: dict[str, OAuthConnectionSettings] = Field(default_factory=dict)
    refresh_skew: float = Field(default=300.0, ge=0, description="refresh this early (s); at most half the token's lifetime")
    state_ttl: float = Field(default=600.0, gt=0)
