"""The configuration schema: YAML file < profile file < ``.env`` < ``ONERINGAI_*`` environment.

One pydantic-settings model validates everything. YAML strings may reference the
environment as ``${VAR}`` or ``${VAR:-default}``; secrets are ``SecretStr`` and
never printed. Every problem becomes a ``ConfigError`` naming the file, the YAML
path and what is allowed.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from contextvars import ContextVar
from pathlib import Path
from typing import Annotated, Any, Literal, Union, get_args, get_origin

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    SecretStr,
    Tag,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_settings import (
    BaseSettings,
    EnvSettingsSource,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)
from pydantic_settings.sources.utils import parse_env_vars

from oneringai import _plugins
from oneringai.domain.errors import ConfigError
from oneringai.infrastructure.providers.config import (
    AnthropicProviderConfig,
    LlamaCppProviderConfig,
    OllamaProviderConfig,
    OpenAIProviderConfig,
    ProviderConfig,
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
    "HttpSettings",
    "ImagesSettings",
    "OAuthConnectionSettings",
    "OAuthSettings",
    "Settings",
    "TextSettings",
    "TokenStorageSettings",
    "ToolsSettings",
    "load_settings",
]

ENV_PREFIX = "ONERINGAI_"
TEXT_KINDS = ("anthropic", "llamacpp", "ollama", "openai", "openai_compatible")
IMAGE_KINDS = ("openai",)
STORAGE_KINDS = ("aws_secrets_manager", "file", "memory", "postgres", "redis")
EXECUTOR_KINDS = ("audit", "cache", "cost", "permissions", "rate_limit", "retry", "timeout")


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid")


# --- http -------------------------------------------------------------------------------------
class HttpSettings(_Section):
    transport: Literal["aiohttp", "httpx"] = "aiohttp"
    timeout: float = Field(default=60.0, gt=0, description="seconds; per request")
    connect_timeout: float = Field(default=10.0, gt=0)
    max_connections: int = Field(default=100, ge=1)
    max_keepalive_connections: int = Field(default=100, ge=0)
    keepalive_expiry: float = Field(default=30.0, ge=0)
    trust_env: bool = True
    user_agent: str = "oneringai/0.1"


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
        Annotated[OpenAIProviderConfig, Tag("openai")],
        Annotated[OllamaProviderConfig, Tag("ollama")],
        Annotated[AnthropicProviderConfig, Tag("anthropic")],
        Annotated[LlamaCppProviderConfig, Tag("llamacpp")],
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
                    f"or an entry point in group {_plugins.GROUPS['text' if section == 'text' else 'image']})"
                )
            entry = {**entry, "kind": name}
        providers[name] = entry
    return {**data, "providers": providers}


def _check_kinds(
    section: str, group_key: str, builtin: tuple[str, ...], providers: Mapping[str, ProviderConfig]
) -> None:
    for name, provider in providers.items():
        _require_kind(f"@{name}.kind@", provider.kind, builtin, group_key)


class TextSettings(_Section):
    default: str | None = "ollama"
    providers: dict[str, TextProviderSettings] = Field(
        default_factory=lambda: {"ollama": OllamaProviderConfig()}  # type: ignore[arg-type]
    )

    @model_validator(mode="before")
    @classmethod
    def _kinds_from_names(cls, data: Any) -> Any:
        return _infer_kinds("text", TEXT_KINDS, data)

    @field_validator("providers")
    @classmethod
    def _known_kinds(cls, providers: dict[str, ProviderConfig]) -> dict[str, ProviderConfig]:
        _check_kinds("text", "text", TEXT_KINDS, providers)
        return providers

    @model_validator(mode="after")
    def _default_exists(self) -> TextSettings:
        _check_named("text", self.default, self.providers)
        return self


class ImagesSettings(_Section):
    default: str | None = None
    providers: dict[str, ImageProviderSettings] = Field(default_factory=dict)

    @model_validator(mode="before")
    @classmethod
    def _kinds_from_names(cls, data: Any) -> Any:
        return _infer_kinds("images", IMAGE_KINDS, data)

    @field_validator("providers")
    @classmethod
    def _known_kinds(cls, providers: dict[str, ProviderConfig]) -> dict[str, ProviderConfig]:
        _check_kinds("images", "image", IMAGE_KINDS, providers)
        return providers

    @model_validator(mode="after")
    def _default_exists(self) -> ImagesSettings:
        _check_named("images", self.default, self.providers)
        return self


# --- oauth ------------------------------------------------------------------------------------
class FileStorageSettings(_Section):
    directory: str = "~/.local/share/oneringai/tokens"


class PostgresStorageSettings(_Section):
    dsn: SecretStr | None = None
    table: str = Field(default="oauth_tokens", pattern=r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")
    schema_name: str = Field(default="public", alias="schema", pattern=r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")
    min_size: int = Field(default=1, ge=0)
    max_size: int = Field(default=10, ge=1)
    command_timeout: float = Field(default=10.0, gt=0)

    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class AwsSecretsManagerStorageSettings(_Section):
    region: str = "us-east-1"
    prefix: str = "oneringai/"
    endpoint_url: str | None = None
    profile_name: str | None = None
    aws_access_key_id: SecretStr | None = None
    aws_secret_access_key: SecretStr | None = None
    kms_key_id: str | None = None
    tags: dict[str, str] = Field(default_factory=dict)
    max_attempts: int = Field(default=5, ge=1)


class RedisStorageSettings(_Section):
    url: SecretStr = SecretStr("redis://localhost:6379/0")
    prefix: str = "oneringai:tokens:"


class TokenStorageSettings(_Section):
    kind: str = "file"
    memory: dict[str, Any] = Field(default_factory=dict)
    file: FileStorageSettings = Field(default_factory=FileStorageSettings)
    postgres: PostgresStorageSettings = Field(default_factory=PostgresStorageSettings)
    aws_secrets_manager: AwsSecretsManagerStorageSettings = Field(
        default_factory=AwsSecretsManagerStorageSettings
    )
    redis: RedisStorageSettings = Field(default_factory=RedisStorageSettings)
    options: dict[str, Any] = Field(default_factory=dict, description="for custom kinds")

    @field_validator("kind")
    @classmethod
    def _known_kind(cls, kind: str) -> str:
        if kind not in STORAGE_KINDS and kind not in _plugins.plugin_names(_plugins.GROUPS["storage"]):
            raise ValueError(
                f"unknown kind {kind!r} (allowed: {', '.join(STORAGE_KINDS)}, or an entry point "
                f"in group {_plugins.GROUPS['storage']})"
            )
        return kind


class OAuthConnectionSettings(_Section):
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


class OAuthSettings(_Section):
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
    connections: dict[str, OAuthConnectionSettings] = Field(default_factory=dict)
    refresh_skew: float = Field(default=300.0, ge=0, description="refresh this early (s)")
    state_ttl: float = Field(default=600.0, gt=0)

    @field_validator("encryption_keys", mode="before")
    @classmethod
    def _split_keys(cls, value: Any) -> Any:
        if isinstance(value, str):
            if value.strip().startswith("["):  # a JSON list, e.g. from ${KEYS}
                import json

                try:
                    return json.loads(value)
                except ValueError:
                    raise ValueError("is not a valid JSON list of keys") from None
            return [part.strip() for part in value.split(",") if part.strip()]
        if isinstance(value, list):
            return [v for v in value if not (isinstance(v, str) and not v.strip())]
        return value


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


class ToolsSettings(_Section):
    executor: list[ExecutorLayerSettings] = Field(
        default_factory=list, description="decorators around the direct executor, outermost first"
    )

    @field_validator("executor")
    @classmethod
    def _known_kinds(cls, layers: list[ExecutorLayerConfig]) -> list[ExecutorLayerConfig]:
        for index, layer in enumerate(layers):
            _require_kind(f"@[{index}].kind@", layer.kind, EXECUTOR_KINDS, "executor")
        return layers


class AgentSettings(_Section):
    max_iterations: int = Field(default=10, ge=1)
    tool_timeout: float = Field(default=30.0, gt=0)
    max_parallel_tools: int = Field(default=4, ge=1)
    timeout: float | None = Field(default=None, gt=0, description="total seconds per run")


# --- the root ---------------------------------------------------------------------------------
_ENVIRONMENT: ContextVar[Mapping[str, str] | None] = ContextVar("oneringai_settings_env", default=None)


class _MappingEnvSource(EnvSettingsSource):
    """The environment source, reading the mapping ``load_settings`` was given (``.env`` merged
    under the process environment) instead of ``os.environ`` — no global state is touched."""

    def _load_env_vars(self) -> Mapping[str, str | None]:
        environ = _ENVIRONMENT.get()
        if environ is None:
            return super()._load_env_vars()
        return parse_env_vars(environ, self.case_sensitive, self.env_ignore_empty, self.env_parse_none_str)

class Settings(BaseSettings):
    """The whole configuration. Build it with ``load_settings()``."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX,
        env_nested_delimiter="__",
        extra="ignore",  # top-level unknown YAML keys are rejected by load_settings
        case_sensitive=False,
        env_ignore_empty=True,
    )

    http: HttpSettings = Field(default_factory=HttpSettings)
    text: TextSettings = Field(default_factory=TextSettings)
    images: ImagesSettings = Field(default_factory=ImagesSettings)
    oauth: OAuthSettings = Field(default_factory=OAuthSettings)
    tools: ToolsSettings = Field(default_factory=ToolsSettings)
    agents: AgentSettings = Field(default_factory=AgentSettings)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # Highest priority first: the environment (with .env under it), then the merged YAML.
        return (_MappingEnvSource(settings_cls), init_settings)


def _require_kind(path: str, kind: str, builtin: tuple[str, ...], group_key: str) -> None:
    group = _plugins.GROUPS[group_key]
    if kind in builtin or kind in _plugins.plugin_names(group):
        return
    raise ValueError(
        f"{path}unknown kind {kind!r} (allowed: {', '.join(builtin)}, or an entry point in group {group})"
    )


# --- loading ----------------------------------------------------------------------------------
_VAR = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")
DEFAULT_CONFIG_PATHS = (Path("config/default.yaml"), Path("oneringai.yaml"))


def _read_yaml(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError("config file not found", source=str(path)) from None
    except OSError as exc:
        raise ConfigError(f"cannot read config file: {exc.strerror}", source=str(path)) from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise ConfigError(f"malformed YAML: {where}{problem}", source=str(path)) from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(
            f"the top level must be a mapping of sections, not {type(data).__name__}",
            source=str(path),
        )
    return data


def _interpolate(value: Any, env: Mapping[str, str], path: str, source: str) -> Any:
    if isinstance(value, str):

        def replace(match: re.Match[str]) -> str:
            name, default = match.group(1), match.group(2)
            found = env.get(name)
            if found is not None and found != "":
                return found
            if default is not None:
                return default
            raise ConfigError(
                f"environment variable {name} is not set (set it, or write ${{{name}:-default}})",
                path=path or "<root>",
                source=source,
            )

        return _VAR.sub(replace, value) if "${" in value else value
    if isinstance(value, dict):
        return {
            key: _interpolate(item, env, f"{path}.{key}" if path else str(key), source)
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [_interpolate(item, env, f"{path}[{i}]", source) for i, item in enumerate(value)]
    return value


def _merge(
    base: dict[str, Any], override: Mapping[str, Any], origins: dict[str, str], source: str, prefix: str = ""
) -> dict[str, Any]:
    result = dict(base)
    for key, value in override.items():
        path = f"{prefix}.{key}" if prefix else str(key)
        if isinstance(value, Mapping) and isinstance(result.get(key), Mapping):
            result[key] = _merge(dict(result[key]), value, origins, source, path)
        else:
            result[key] = value
            origins[path] = source
    return result


def _record_origins(data: Any, origins: dict[str, str], source: str, prefix: str = "") -> None:
    if isinstance(data, Mapping):
        for key, value in data.items():
            path = f"{prefix}.{key}" if prefix else str(key)
            origins.setdefault(path, source)
            _record_origins(value, origins, source, path)


def resolve_config_paths(
    path: str | os.PathLike[str] | None, profile: str | None, env: Mapping[str, str]
) -> tuple[Path | None, Path | None]:
    """Which base file and profile file to read. A path the user named must exist."""
    base: Path | None = None
    if path is not None:
        base = Path(path).expanduser()
        if not base.is_file():
            raise ConfigError("config file not found", source=str(base))
    elif env.get("ONERINGAI_CONFIG"):
        base = Path(env["ONERINGAI_CONFIG"]).expanduser()
        if not base.is_file():
            raise ConfigError("config file named by ONERINGAI_CONFIG not found", source=str(base))
    else:
        base = next((p for p in DEFAULT_CONFIG_PATHS if p.is_file()), None)
    profile = profile or env.get("ONERINGAI_PROFILE") or None
    profile_path: Path | None = None
    if profile:
        if not re.fullmatch(r"[A-Za-z0-9_.-]+", profile):
            raise ConfigError(f"invalid profile name {profile!r}")
        directory = base.parent if base is not None else Path("config")
        profile_path = directory / f"{profile}.yaml"
        if not profile_path.is_file():
            raise ConfigError(
                f"profile {profile!r} not found (expected {profile_path})", source=str(profile_path)
            )
    return base, profile_path


def load_settings(
    path: str | os.PathLike[str] | None = None,
    *,
    profile: str | None = None,
    env: Mapping[str, str] | None = None,
    dotenv: str | os.PathLike[str] | None = ".env",
    overrides: Mapping[str, Any] | None = None,
) -> Settings:
    """Read, interpolate, merge and validate the configuration.

    ``path`` None means ``$ONERINGAI_CONFIG`` or ``./config/default.yaml`` if present,
    else the built-in defaults. ``overrides`` (a nested dict) wins over YAML but not env.
    """
    environ: dict[str, str] = {}
    dotenv_path = Path(dotenv) if dotenv else None
    if dotenv_path is not None and dotenv_path.is_file():
        from dotenv import dotenv_values

        environ.update({k: v for k, v in dotenv_values(dotenv_path).items() if v is not None})
    environ.update(os.environ if env is None else env)

    base, profile_path = resolve_config_paths(path, profile, environ)
    origins: dict[str, str] = {}
    merged: dict[str, Any] = {}
    for file in (base, profile_path):
        if file is None:
            continue
        raw = _read_yaml(file)
        _reject_unknown_sections(raw, str(file))
        data = _interpolate(raw, environ, "", str(file))
        merged = _merge(merged, data, origins, str(file))
    if overrides:
        merged = _merge(merged, overrides, origins, "overrides")
    env_values = {k: v for k, v in environ.items() if k.upper().startswith(ENV_PREFIX)}
    for key in env_values:
        origins[_env_key_to_path(key)] = f"environment variable {key}"
    return _validate(merged, env_values, origins)


def _reject_unknown_sections(data: Mapping[str, Any], source: str) -> None:
    for key in data:
        if key not in Settings.model_fields:
            raise ConfigError(
                f"unknown section {key!r} (allowed: {', '.join(Settings.model_fields)})",
                path=str(key),
                source=source,
            )


def _env_key_to_path(key: str) -> str:
    return ".".join(part.lower() for part in key[len(ENV_PREFIX) :].split("__"))


def _validate(merged: dict[str, Any], env_values: Mapping[str, str], origins: dict[str, str]) -> Settings:
    token = _ENVIRONMENT.set(env_values)
    try:
        return Settings(**merged)
    except ValidationError as exc:
        raise _config_error(exc, merged, origins) from None
    except ValueError as exc:  # env JSON that does not parse, for one
        raise ConfigError(str(exc)) from None
    finally:
        _ENVIRONMENT.reset(token)


_TAGS = {"openai", "ollama", "anthropic", "llamacpp", "custom", *EXECUTOR_KINDS}


def _loc_to_path(loc: tuple[int | str, ...]) -> str:
    parts: list[str] = []
    items = list(loc)
    for i, part in enumerate(items):
        # drop discriminator tags pydantic inserts after a union member's key
        if (
            isinstance(part, str)
            and part in _TAGS
            and i >= 1
            and (
                (i >= 3 and items[i - 2] == "providers")
                or (i >= 2 and items[i - 2] == "executor")
                or (i >= 3 and items[i - 3] == "executor")
            )
            and i + 1 < len(items)
        ):
            continue
        if isinstance(part, int):
            parts.append(f"[{part}]")
        else:
            parts.append(("." if parts else "") + str(part))
    return "".join(parts)


def _config_error(exc: ValidationError, merged: Mapping[str, Any], origins: Mapping[str, str]) -> ConfigError:
    lines = []
    first_source: str | None = None
    for error in exc.errors(include_url=False, include_input=False):
        path = _loc_to_path(tuple(error["loc"]))
        source = _origin_of(path, origins)
        first_source = first_source or source
        message = error["msg"]
        if error["type"] == "extra_forbidden":
            allowed = _allowed_keys(path, merged)
            message = "unknown key" + (f" (allowed: {', '.join(allowed)})" if allowed else "")
        elif error["type"] == "literal_error":
            message = message.replace("Input should be", "must be")
        elif error["type"] == "value_error":
            message = message.removeprefix("Value error, ")
            if message.startswith("@"):  # "@sub.path@message": a validator naming a sub-path
                sub, _, message = message[1:].partition("@")
                path = f"{path}{'' if sub.startswith('[') else '.'}{sub}"
                source = _origin_of(path, origins) or source
        lines.append(f"{source + ': ' if source else ''}{path or '<root>'}: {message}")
    text = lines[0] if len(lines) == 1 else "; ".join(lines)
    return ConfigError(text)


def _origin_of(path: str, origins: Mapping[str, str]) -> str | None:
    probe = path.split("[")[0]
    while probe:
        if probe in origins:
            return origins[probe]
        probe = probe.rpartition(".")[0]
    return None


def _allowed_keys(path: str, merged: Mapping[str, Any]) -> list[str]:
    """Field names of the model that owns the last element of ``path``, for error messages."""
    parts = [p for p in re.split(r"\.|\[(\d+)\]", path) if p][:-1]
    model: Any = Settings
    data: Any = merged
    kind_models: dict[str, type[BaseModel]] = {
        "openai": OpenAIProviderConfig,
        "openai_compatible": OpenAIProviderConfig,
        "ollama": OllamaProviderConfig,
        "anthropic": AnthropicProviderConfig,
        "llamacpp": LlamaCppProviderConfig,
        **_EXECUTOR_MODELS,
    }
    previous = ""
    for part in parts:
        data = (
            data.get(part)
            if isinstance(data, Mapping)
            else (
                data[int(part)]
                if isinstance(data, list) and part.isdigit() and int(part) < len(data)
                else None
            )
        )
        if previous in ("providers", "executor"):
            kind = data.get("kind") if isinstance(data, Mapping) else None
            model = kind_models.get(str(kind))
            previous = part
            continue
        fields = getattr(model, "model_fields", None)
        if not fields:
            return []
        field = fields.get(part) or next((f for f in fields.values() if f.alias == part), None)
        if field is None:
            return []
        model = _unwrap(field.annotation)
        previous = part
    fields = getattr(model, "model_fields", None) or {}
    return sorted(f.alias or name for name, f in fields.items())


def _unwrap(annotation: Any) -> Any:
    while True:
        origin = get_origin(annotation)
        if origin is Annotated:
            annotation = get_args(annotation)[0]
        elif origin in (Union,) or (origin is not None and str(origin) == "types.UnionType"):
            members = [a for a in get_args(annotation) if a is not type(None)]
            annotation = members[0] if len(members) == 1 else None
        elif origin is dict:
            return get_args(annotation)[1]
        else:
            return annotation
