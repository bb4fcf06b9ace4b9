"""The configuration schema: YAML file < profile file < ``.env`` < ``ONERINGAI_*`` environment.

One pydantic-settings model validates everything. It composes the settings models
that each adapter owns beside its code (``infrastructure/*/config.py``,
``application/*/config.py``) and adds only the ``kind`` selection between them.
YAML strings may reference the environment as ``${VAR}`` or ``${VAR:-default}``;
secrets are ``SecretStr`` and never printed. Every problem becomes a ``ConfigError`` naming the file, the YAML
path and what is allowed.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any, ClassVar, Self, Union

from pydantic import (
    BaseModel,
    Discriminator,
    Field,
    SecretStr,
    Tag,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from oneringai import plugins
from oneringai.application.agents.config import AgentSettings
from oneringai.application.fallback.config import FallbackProviderConfig, fallback_problems
from oneringai.application.oauth.config import OAuthConnectionSettings, OAuthFlowSettings
from oneringai.config.env import ENV_PREFIX, EnvironmentSource
from oneringai.domain._base import SettingsSection
from oneringai.infrastructure.http.config import HttpSettings
from oneringai.infrastructure.mcp.config import McpServerSettings
from oneringai.infrastructure.observability.config import ObservabilitySettings
from oneringai.infrastructure.providers.config import (
    AnthropicProviderConfig,
    LlamaCppProviderConfig,
    OllamaProviderConfig,
    OpenAIProviderConfig,
    OpenAITextProviderConfig,
    ProviderConfig,
)
from oneringai.infrastructure.token_storage.config import (
    AwsSecretsManagerStorageSettings,
    FileStorageSettings,
    PostgresStorageSettings,
    RedisStorageSettings,
)
from oneringai.infrastructure.tool_executors.config import (
    AuditExecutorConfig,
    CacheExecutorConfig,
    CostExecutorConfig,
    ExecutorLayerConfig,
    PermissionsExecutorConfig,
    RateLimitExecutorConfig,
    RetryExecutorConfig,
    TimeoutExecutorConfig,
)

__all__ = [
    "AgentSettings",
    "AwsSecretsManagerStorageSettings",
    "FileStorageSettings",
    "HttpSettings",
    "ImagesSettings",
    "OAuthConnectionSettings",
    "OAuthSettings",
    "ObservabilitySettings",
    "PostgresStorageSettings",
    "RedisStorageSettings",
    "Settings",
    "TextSettings",
    "TokenStorageSettings",
    "ToolsSettings",
]

TEXT_KINDS = ("anthropic", "fallback", "llamacpp", "ollama", "openai", "openai_compatible")
IMAGE_KINDS = ("openai", "openai_compatible")
STORAGE_KINDS = ("aws_secrets_manager", "file", "memory", "postgres", "redis")
EXECUTOR_KINDS = ("audit", "cache", "cost", "permissions", "rate_limit", "retry", "timeout")


# --- text and images --------------------------------------------------------------------------
def _kind_tag(builtin: tuple[str, ...]) -> Any:
    def tag(value: Any) -> str:
        kind = value.get("kind") if isinstance(value, Mapping) else getattr(value, "kind", None)
        if kind == "openai_compatible":
            return "openai"
        return kind if kind in builtin else "custom"

    return tag


TextProviderSettings = Annotated[
    Union[  # noqa: UP007 - tagged members
        Annotated[OpenAITextProviderConfig, Tag("openai")],
        Annotated[OllamaProviderConfig, Tag("ollama")],
        Annotated[AnthropicProviderConfig, Tag("anthropic")],
        Annotated[LlamaCppProviderConfig, Tag("llamacpp")],
        Annotated[FallbackProviderConfig, Tag("fallback")],
        Annotated[ProviderConfig, Tag("custom")],
    ],
    Discriminator(_kind_tag(TEXT_KINDS)),
]

ImageProviderSettings = Annotated[
    Union[  # noqa: UP007
        Annotated[OpenAIProviderConfig, Tag("openai")],
        Annotated[ProviderConfig, Tag("custom")],
    ],
    Discriminator(_kind_tag(IMAGE_KINDS)),
]


def _check_named(section: str, default: str | None, providers: Mapping[str, Any]) -> None:
    if default is not None and providers and default not in providers:
        raise ValueError(
            f"@default@default {default!r} is not a configured provider "
            f"(configured under {section}.providers: {', '.join(sorted(providers))})"
        )


def _infer_kinds(section: str, builtin: tuple[str, ...], data: Any) -> Any:
    """A provider entry without ``kind`` takes its name as kind when that is a built-in kind."""
    if not isinstance(data, Mapping) or not isinstance(data.get("providers"), Mapping):
        return data
    providers = {}
    for name, entry in data["providers"].items():
        if isinstance(entry, Mapping) and "kind" not in entry:
            if name not in builtin:
                raise ValueError(
                    f"@providers.{name}.kind@kind is required (allowed: {', '.join(builtin)}, "
                    f"or an entry point in group {plugins.GROUPS['text' if section == 'text' else 'image']})"
                )
            entry = {**entry, "kind": name}
        if isinstance(entry, Mapping) and entry.get("kind") == "ollama":
            entry = _ollama_url(entry)
        providers[name] = entry
    return {**data, "providers": providers}


def _ollama_url(entry: Mapping[str, Any]) -> Mapping[str, Any]:
    """``OLLAMA_HOST`` forms Ollama's own client accepts (``host:port``, ``host``, ``:port``)
    become the URL the provider will use, so ``config show`` and doctor show it too."""
    base_url = entry.get("base_url")
    if not isinstance(base_url, str) or not base_url.strip() or "://" in base_url:
        return entry
    from oneringai.infrastructure.providers.ollama import normalize_ollama_host

    host = base_url.strip()
    return {**entry, "base_url": normalize_ollama_host(f"127.0.0.1{host}" if host.startswith(":") else host)}


def _check_kinds(group_key: str, builtin: tuple[str, ...], providers: Mapping[str, ProviderConfig]) -> None:
    for name, provider in providers.items():
        _require_kind(f"@{name}.kind@", provider.kind, builtin, group_key)


class _ProviderSection(SettingsSection):
    """``text:`` and ``images:`` share one shape: a default name and named providers by kind."""

    _section: ClassVar[str]
    _group: ClassVar[str]
    _kinds: ClassVar[tuple[str, ...]]

    default: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _kinds_from_names(cls, data: Any) -> Any:
        return _infer_kinds(cls._section, cls._kinds, data)

    @field_validator("providers", check_fields=False)
    @classmethod
    def _known_kinds(cls, providers: dict[str, ProviderConfig]) -> dict[str, ProviderConfig]:
        _check_kinds(cls._group, cls._kinds, providers)
        return providers

    @model_validator(mode="after")
    def _default_exists(self) -> Self:
        _check_named(self._section, self.default, getattr(self, "providers", {}))
        return self


class TextSettings(_ProviderSection):
    _section, _group, _kinds = "text", "text", TEXT_KINDS

    default: str | None = "ollama"
    providers: dict[str, TextProviderSettings] = Field(
        default_factory=lambda: {"ollama": OllamaProviderConfig()}  # type: ignore[arg-type]
    )

    @model_validator(mode="after")
    def _fallbacks_resolve(self) -> TextSettings:
        """Unknown members, self-reference and cycles fail at load time, naming the YAML path."""
        problems = fallback_problems(self.providers)
        if problems:
            path, message = problems[0]
            raise ValueError(f"@{path}@{message}")
        return self


class ImagesSettings(_ProviderSection):
    _section, _group, _kinds = "images", "image", IMAGE_KINDS

    providers: dict[str, ImageProviderSettings] = Field(default_factory=dict)


# --- oauth ------------------------------------------------------------------------------------
class TokenStorageSettings(SettingsSection):
    kind: str = "file"
    memory: dict[str, Any] = Field(default_factory=dict)
    file: FileStorageSettings = Field(default_factory=FileStorageSettings)
    postgres: PostgresStorageSettings = Field(default_factory=PostgresStorageSettings)
    aws_secrets_manager: AwsSecretsManagerStorageSettings = Field(
        default_factory=AwsSecretsManagerStorageSettings
    )
    redis: RedisStorageSettings = Field(default_factory=RedisStorageSettings)
    options: dict[str, Any] = Field(default_factory=dict, description="for custom kinds")

    @model_validator(mode="before")
    @classmethod
    def _empty_dsn_is_unset(cls, data: Any) -> Any:
        """``dsn: "${DATABASE_URL:-}"`` with the variable unset means no DSN, not an empty one
        (asyncpg would read an empty DSN as "the local socket as the current user")."""
        postgres = data.get("postgres") if isinstance(data, Mapping) else None
        if isinstance(postgres, Mapping) and isinstance(postgres.get("dsn"), str) and not postgres["dsn"].strip():
            return {**data, "postgres": {k: v for k, v in postgres.items() if k != "dsn"}}
        return data

    @field_validator("kind")
    @classmethod
    def _known_kind(cls, kind: str) -> str:
        if kind not in STORAGE_KINDS and kind not in plugins.plugin_names(plugins.GROUPS["storage"]):
            raise ValueError(
                f"unknown kind {kind!r} (allowed: {', '.join(STORAGE_KINDS)}, or an entry point "
                f"in group {plugins.GROUPS['storage']})"
            )
        return kind


class OAuthSettings(OAuthFlowSettings):
    """``oauth:``: the connections (application) plus the store and its keys (infrastructure)."""

    encryption_keys: list[SecretStr] = Field(
        default_factory=list, description="key ring, newest first (base64/hex 32-byte keys)"
    )
    passphrase: SecretStr | None = Field(
        default=None, description="derive the key with scrypt instead (needs passphrase_salt, or the file store)"
    )
    passphrase_salt: str | None = Field(
        default=None, description="base64, >= 16 bytes; the file store keeps its own .salt file when unset"
    )
    storage: TokenStorageSettings = Field(default_factory=TokenStorageSettings)

    @field_validator("encryption_keys", mode="before")
    @classmethod
    def _split_keys(cls, value: Any) -> Any:
        if isinstance(value, str):
            if value.strip().startswith("["):  # a JSON list, e.g. from ${KEYS}
                import json

                try:
                    return json.loads(value)
                except RecursionError:  # raw, it would escape pydantic and the loader
                    raise ValueError("is a JSON list nested too deeply") from None
                except ValueError:
                    raise ValueError("is not a valid JSON list of keys") from None
            return [part.strip() for part in value.split(",") if part.strip()]
        if isinstance(value, list):
            return [v for v in value if not (isinstance(v, str) and not v.strip())]
        return value

    @field_validator("encryption_keys")
    @classmethod
    def _keys_are_aes256(cls, keys: list[SecretStr]) -> list[SecretStr]:
        """Checked at load time (``config validate``), not at the first token written."""
        from oneringai.domain.errors import ConfigError
        from oneringai.infrastructure.token_storage.encryption import parse_key

        for index, key in enumerate(keys):
            try:
                parse_key(key.get_secret_value(), index=index)
            except ConfigError as exc:  # its message names the key by number, never its value
                detail = str(exc).split(") ", 1)[-1]
                raise ValueError(f"@[{index}]@{detail}") from None
        return keys

    @field_validator("passphrase", mode="before")
    @classmethod
    def _empty_passphrase_is_unset(cls, value: Any) -> Any:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("passphrase")
    @classmethod
    def _passphrase_is_long_enough(cls, passphrase: SecretStr | None) -> SecretStr | None:
        if passphrase is not None and len(passphrase.get_secret_value()) < 12:
            raise ValueError("must be at least 12 characters (or use encryption_keys)")
        return passphrase

    @field_validator("passphrase_salt")
    @classmethod
    def _salt_is_base64(cls, salt: str | None) -> str | None:
        import base64
        import binascii

        if salt is None:
            return None
        try:
            raw = base64.b64decode(salt, validate=True)
        except (binascii.Error, ValueError):
            raise ValueError("is not valid base64 (make one with: oneringai tokens generate-key)") from None
        if len(raw) < 16:
            raise ValueError(f"is {len(raw)} bytes; use at least 16 random bytes")
        return salt


# --- tools and agents -------------------------------------------------------------------------
_EXECUTOR_MODELS: dict[str, type[BaseModel]] = {
    "audit": AuditExecutorConfig,
    "cache": CacheExecutorConfig,
    "cost": CostExecutorConfig,
    "permissions": PermissionsExecutorConfig,
    "rate_limit": RateLimitExecutorConfig,
    "retry": RetryExecutorConfig,
    "timeout": TimeoutExecutorConfig,
}

ExecutorLayerSettings = Annotated[
    Union[  # noqa: UP007
        Annotated[AuditExecutorConfig, Tag("audit")],
        Annotated[CacheExecutorConfig, Tag("cache")],
        Annotated[CostExecutorConfig, Tag("cost")],
        Annotated[PermissionsExecutorConfig, Tag("permissions")],
        Annotated[RateLimitExecutorConfig, Tag("rate_limit")],
        Annotated[RetryExecutorConfig, Tag("retry")],
        Annotated[TimeoutExecutorConfig, Tag("timeout")],
        Annotated[ExecutorLayerConfig, Tag("custom")],
    ],
    Discriminator(_kind_tag(EXECUTOR_KINDS)),
]


class ToolsSettings(SettingsSection):
    executor: list[ExecutorLayerSettings] = Field(
        default_factory=list, description="decorators around the direct executor, outermost first"
    )
    mcp_servers: dict[str, McpServerSettings] = Field(
        default_factory=dict, description="MCP servers whose tools client.tools.from_mcp(name) returns"
    )

    @field_validator("executor")
    @classmethod
    def _known_kinds(cls, layers: list[ExecutorLayerConfig]) -> list[ExecutorLayerConfig]:
        for index, layer in enumerate(layers):
            _require_kind(f"@[{index}].kind@", layer.kind, EXECUTOR_KINDS, "executor")
        return layers


# --- the root ---------------------------------------------------------------------------------
class Settings(BaseSettings):
    """The whole configuration. Build it with ``load_settings()``."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX,
        env_nested_delimiter="__",
        extra="ignore",  # top-level unknown YAML keys are rejected by load_settings
        case_sensitive=False,
        env_ignore_empty=True,
        allow_inf_nan=False,
    )

    http: HttpSettings = Field(default_factory=HttpSettings)
    text: TextSettings = Field(default_factory=TextSettings)
    images: ImagesSettings = Field(default_factory=ImagesSettings)
    oauth: OAuthSettings = Field(default_factory=OAuthSettings)
    tools: ToolsSettings = Field(default_factory=ToolsSettings)
    agents: AgentSettings = Field(default_factory=AgentSettings)
    observability: ObservabilitySettings = Field(default_factory=ObservabilitySettings)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # Highest priority first: the environment, then the values passed in. load_settings
        # applies the environment itself and validates with model_validate (no source).
        return (EnvironmentSource(settings_cls), init_settings)


def _require_kind(path: str, kind: str, builtin: tuple[str, ...], group_key: str) -> None:
    group = plugins.GROUPS[group_key]
    if kind in builtin or kind in plugins.plugin_names(group):
        return
    raise ValueError(
        f"{path}unknown kind {kind!r} (allowed: {', '.join(builtin)}, or an entry point in group {group})"
    )
