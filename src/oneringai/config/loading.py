"""Reading, interpolating, merging and validating configuration files (see ``schema.py``).

Kept apart from the schema: this module changes when the *sources* change (files,
profiles, ``.env``, environment), the schema when the *keys* do.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Union, get_args, get_origin
from urllib.parse import urlsplit

import yaml
from pydantic import BaseModel, SecretStr, ValidationError

from oneringai.config.env import ENV_PREFIX, reading_environment
from oneringai.config.schema import _EXECUTOR_MODELS, EXECUTOR_KINDS, Settings
from oneringai.domain.errors import ConfigError
from oneringai.domain.redaction import register_secret
from oneringai.infrastructure.providers.config import (
    AnthropicProviderConfig,
    LlamaCppProviderConfig,
    OllamaProviderConfig,
    OpenAIProviderConfig,
)

__all__ = ["DEFAULT_CONFIG_PATHS", "ENV_PREFIX", "load_settings", "resolve_config_paths"]

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
        packaged = Path(__file__).parent / "profiles" / f"{profile}.yaml"
        if not profile_path.is_file() and packaged.is_file():
            profile_path = packaged  # built-in profiles (local) work outside a checkout too
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
        fields = Settings.model_fields
        if key not in fields:
            raise ConfigError(
                f"unknown section {key!r} (allowed: {', '.join(fields)})",
                path=str(key),
                source=source,
            )


def _env_key_to_path(key: str) -> str:
    return ".".join(part.lower() for part in key[len(ENV_PREFIX) :].split("__"))


def _validate(merged: dict[str, Any], env_values: Mapping[str, str], origins: dict[str, str]) -> Settings:
    with reading_environment(env_values):
        try:
            settings = Settings(**merged)
            _register_secrets(settings)
            return settings
        except ValidationError as exc:
            raise _config_error(exc, merged, origins) from None
        except ValueError as exc:  # env JSON that does not parse, for one
            raise ConfigError(str(exc)) from None


def _register_secrets(value: Any, depth: int = 0) -> None:
    """Every ``SecretStr`` in the settings, and URL passwords, join the scrubbing registry."""
    if depth > 12:
        return
    if isinstance(value, SecretStr):
        register_secret(value)
        password = urlsplit(value.get_secret_value()).password if "://" in value.get_secret_value() else None
        register_secret(password)
    elif isinstance(value, BaseModel):
        for name in type(value).model_fields:
            _register_secrets(getattr(value, name, None), depth + 1)
        for extra in (value.__pydantic_extra__ or {}).values():
            _register_secrets(extra, depth + 1)
    elif isinstance(value, Mapping):
        for item in value.values():
            _register_secrets(item, depth + 1)
    elif isinstance(value, list | tuple):
        for item in value:
            _register_secrets(item, depth + 1)


def _tags() -> set[str]:
    """Discriminator tags pydantic puts in error locations (provider and executor kinds)."""
    return {"openai", "ollama", "anthropic", "llamacpp", "custom", *EXECUTOR_KINDS}


def _loc_to_path(loc: tuple[int | str, ...]) -> str:
    parts: list[str] = []
    items = list(loc)
    tags = _tags()
    for i, part in enumerate(items):
        # drop discriminator tags pydantic inserts after a union member's key
        if (
            isinstance(part, str)
            and part in tags
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
