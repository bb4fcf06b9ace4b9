"""Where configuration comes from, and in which order: files, profile, ``.env``, environment.

Layers, lowest first: the base file (``--config``, ``$ONERINGAI_CONFIG``, ``./config/default.yaml``
or ``./oneringai.yaml``, else the packaged ``default.yaml`` — the same file a checkout holds),
the profile file, ``${VAR}`` interpolation, ``overrides``, then ``ONERINGAI_*`` variables.
A profile merges into what it inherits; ``name: null`` under ``text.providers``,
``images.providers`` or ``oauth.connections`` drops an inherited entry, and ``!replace`` on a
mapping replaces it whole. ``load_configuration`` also says which files it read, so ``config
show`` and ``doctor`` can name them. Reading files safely is ``files.py``; the keys are
``schema.py``.
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from pydantic import BaseModel, SecretStr, ValidationError

from oneringai.config.display import SECRET_KEY
from oneringai.config.env import ENV_PREFIX, apply_setting, environment_settings, reading_environment
from oneringai.config.files import MAX_DEPTH, MAX_NODES, Replace, read_dotenv, read_yaml
from oneringai.config.interpolation import interpolate_tree, resolve_deferred
from oneringai.config.messages import config_error, origin_of
from oneringai.config.paths import join_path
from oneringai.config.schema import STORAGE_KINDS, Settings, TokenStorageSettings
from oneringai.domain.errors import ConfigError, brief_repr
from oneringai.domain.redaction import register_secret

__all__ = [
    "DEFAULT_CONFIG_PATHS",
    "ENV_PREFIX",
    "PACKAGED_DEFAULT",
    "LoadedConfiguration",
    "load_configuration",
    "load_settings",
    "resolve_config_paths",
]

DEFAULT_CONFIG_PATHS = (Path("config/default.yaml"), Path("oneringai.yaml"))
_PACKAGED_DIR = Path(__file__).parent / "profiles"
PACKAGED_DEFAULT = _PACKAGED_DIR / "default.yaml"
#: Maps of named entries: a ``null`` entry in a later layer removes the inherited one.
_NAMED_MAPS = ("text.providers", "images.providers", "oauth.connections")


@dataclass(frozen=True)
class LoadedConfiguration:
    """The settings and where they came from."""

    settings: Settings
    base: Path | None
    base_reason: str
    profile: str | None = None
    profile_path: Path | None = None
    dotenv: Path | None = None
    variables: tuple[str, ...] = field(default_factory=tuple)

    def describe(self) -> list[str]:
        """Lines naming the files, profile and variables read (no values)."""
        lines = [f"config: {self.base or 'built-in defaults'} ({self.base_reason})"]
        lines.append(f"profile: {self.profile} ({self.profile_path})" if self.profile else "profile: none")
        if self.dotenv is not None:
            lines.append(f".env: {self.dotenv}")
        if self.variables:
            lines.append("environment: " + ", ".join(self.variables))
        return lines


def _available_profiles(directory: Path | None, base: Path | None) -> list[str]:
    names: set[str] = set()
    for folder in (directory, _PACKAGED_DIR):
        if folder is not None and folder.is_dir():
            names.update(p.stem for p in folder.glob("*.yaml") if p.is_file())
    excluded = {"default"} | ({base.stem} if base is not None else set())
    return sorted(names - excluded)


def _resolve(
    path: str | os.PathLike[str] | None, profile: str | None, env: Mapping[str, str]
) -> tuple[Path | None, str, str | None, Path | None]:
    base: Path | None
    if path is not None and not str(path).strip():  # Path("") is "." (a directory): say what is wrong
        raise ConfigError("the config file name is empty (--config '' / load_settings(''))")
    if path is not None or env.get("ONERINGAI_CONFIG"):
        named = "" if path is not None else " named by ONERINGAI_CONFIG"
        base = Path(path if path is not None else env["ONERINGAI_CONFIG"]).expanduser()
        reason = "given" if path is not None else "named by ONERINGAI_CONFIG"
        if base.is_dir():
            raise ConfigError(f"config file{named} is a directory, not a file", source=str(base))
        if base.exists() and not base.is_file():
            raise ConfigError(f"config file{named} is not a regular file", source=str(base))
        if not base.is_file():
            where = "" if base.is_absolute() else f" in {Path.cwd()}"
            hint = ""
            if path is not None and not base.is_absolute() and base.parts[:1] == ("config",):
                # the README's from_config("config/default.yaml") copied out of the checkout
                hint = "; without a path, from_config() (and the CLI without --config) reads ./config/default.yaml, else the packaged defaults"
            raise ConfigError(f"config file{named} not found{where}{hint}", source=str(base))
    else:
        base = next((p for p in DEFAULT_CONFIG_PATHS if p.is_file()), None)
        reason = f"found in {Path.cwd()}"
        if base is None:
            base = PACKAGED_DEFAULT if PACKAGED_DEFAULT.is_file() else None
            reason = (
                f"packaged defaults: no {' or '.join(map(str, DEFAULT_CONFIG_PATHS))} in {Path.cwd()}"
            )
    name = profile or env.get("ONERINGAI_PROFILE") or None
    if not name:
        return base, reason, None, None
    directory = base.parent if base is not None else Path("config")
    if not re.fullmatch(r"[A-Za-z0-9_][A-Za-z0-9_.-]*", name) or len(name) > 64:
        available = ", ".join(_available_profiles(directory, base)) or "none"
        raise ConfigError(f"invalid profile name {name!r} (available: {available})")
    profile_path = directory / f"{name}.yaml"
    packaged = _PACKAGED_DIR / f"{name}.yaml"
    if not profile_path.is_file() and packaged.is_file():
        profile_path = packaged  # built-in profiles (local) work outside a checkout too
    if not profile_path.is_file():
        available = ", ".join(_available_profiles(directory, base)) or "none"
        looked = "" if directory == _PACKAGED_DIR else f"{directory} and "
        raise ConfigError(f"profile {name!r} not found (available: {available}; looked in {looked}the packaged profiles)")
    return base, reason, name, profile_path


def resolve_config_paths(
    path: str | os.PathLike[str] | None, profile: str | None, env: Mapping[str, str]
) -> tuple[Path | None, Path | None]:
    """Which base file and profile file to read. A path the user named must exist."""
    base, _, _, profile_path = _resolve(path, profile, env)
    return base, profile_path


def _merge(
    base: Mapping[Any, Any], override: Mapping[Any, Any], origins: dict[str, str], source: str, prefix: str = ""
) -> dict[Any, Any]:
    result = dict(base)
    for key, value in override.items():
        path = join_path(prefix, key)
        if value is None and prefix in _NAMED_MAPS:
            result.pop(key, None)  # a profile drops an inherited provider or connection
            origins[path] = source
        elif isinstance(value, Mapping) and not isinstance(value, Replace) and (
            isinstance(result.get(key), Mapping) or any(m == path or m.startswith(f"{path}.") for m in _NAMED_MAPS)
        ):
            existing = result.get(key)
            result[key] = _merge(existing if isinstance(existing, Mapping) else {}, value, origins, source, path)
        else:
            result[key] = dict(value) if isinstance(value, Replace) else value
            origins[path] = source
    return result


def _check_tree(data: Any, origins: Mapping[str, str]) -> None:
    """Bounded depth and size (aliases expanded), and finite numbers, wherever a value came from."""
    budget = [MAX_NODES]

    def visit(value: Any, path: str, depth: int) -> None:
        budget[0] -= 1
        if budget[0] < 0:
            raise ConfigError(f"the configuration holds more than {MAX_NODES} values; it should be small")
        if isinstance(value, float) and not math.isfinite(value):
            source = origin_of(path, origins)
            raise ConfigError(
                "must be a finite number (not .inf, .nan, inf or nan)", path=path or "<root>", source=source
            )
        if not isinstance(value, dict | list):
            return
        if depth >= MAX_DEPTH:
            raise ConfigError(
                f"nested deeper than {MAX_DEPTH} levels", path=path or "<root>", source=origin_of(path, origins)
            )
        if isinstance(value, dict):
            for key, item in value.items():
                visit(item, join_path(path, key), depth + 1)
        else:
            for index, item in enumerate(value):
                visit(item, f"{path}[{index}]", depth + 1)

    visit(data, "", 0)


def load_configuration(
    path: str | os.PathLike[str] | None = None,
    *,
    profile: str | None = None,
    env: Mapping[str, str] | None = None,
    dotenv: str | os.PathLike[str] | None = ".env",
    overrides: Mapping[str, Any] | None = None,
) -> LoadedConfiguration:
    """Read, interpolate, merge and validate the configuration; see the module docstring."""
    _check_arguments(path, profile, env, dotenv)  # overrides: _check_overrides below
    environ: dict[str, str] = {}
    dotenv_path = Path(dotenv) if dotenv else None
    if dotenv_path is not None and dotenv_path.is_file():
        environ.update(read_dotenv(dotenv_path))
    else:
        dotenv_path = None
    environ.update(os.environ if env is None else env)

    base, reason, profile_name, profile_path = _resolve(path, profile, environ)
    origins: dict[str, str] = {}
    merged: dict[Any, Any] = {}
    for file in (base, profile_path):
        if file is not None:
            raw = read_yaml(file)
            _reject_unknown_sections(raw, str(file))
            merged = _merge(merged, raw, origins, str(file))
    # A missing ${VAR} is judged after the layers above YAML: a value the environment or
    # `overrides` replace, or one in an oauth.storage branch the kind does not select, is unused.
    merged = interpolate_tree(merged, environ, lambda p: origin_of(p, origins), defer_missing=True)
    if overrides is not None:
        _check_overrides(overrides)
        merged = _merge(merged, overrides, origins, "overrides")
    settings_from_env = environment_settings(environ, Settings, merged)
    for setting in settings_from_env:
        merged = apply_setting(merged, setting, origins)
    merged = resolve_deferred(merged, _unselected_storage_branch(merged))
    _check_tree(merged, origins)
    return LoadedConfiguration(
        settings=_validate(merged, origins),
        base=base,
        base_reason=reason,
        profile=profile_name,
        profile_path=profile_path,
        dotenv=dotenv_path,
        variables=tuple(sorted({s.variable for s in settings_from_env})),
    )


def load_settings(
    path: str | os.PathLike[str] | None = None,
    *,
    profile: str | None = None,
    env: Mapping[str, str] | None = None,
    dotenv: str | os.PathLike[str] | None = ".env",
    overrides: Mapping[str, Any] | None = None,
) -> Settings:
    """Read, interpolate, merge and validate the configuration.

    ``path`` None means ``$ONERINGAI_CONFIG``, ``./config/default.yaml`` or ``./oneringai.yaml``
    if present, else the packaged defaults. ``overrides`` (a nested dict) wins over YAML but not
    env. Every problem is a ``ConfigError`` naming the file or variable and the YAML path.
    """
    return load_configuration(path, profile=profile, env=env, dotenv=dotenv, overrides=overrides).settings


def _unselected_storage_branch(merged: Mapping[Any, Any]) -> Callable[[str], bool]:
    """``oauth.storage.<kind>`` for every built-in kind but the selected one: alternatives the
    DESIGN's YAML lists side by side (``postgres: {dsn: "${DATABASE_URL}"}`` beside ``kind: file``)."""
    oauth = merged.get("oauth")
    storage = oauth.get("storage") if isinstance(oauth, Mapping) else None
    kind = storage.get("kind") if isinstance(storage, Mapping) else None
    if not isinstance(kind, str):
        kind = TokenStorageSettings.model_fields["kind"].default
    unused = {f"oauth.storage.{name}" for name in STORAGE_KINDS if name != kind}
    return unused.__contains__


def _check_arguments(path: object, profile: object, env: object, dotenv: object) -> None:
    """The caller's arguments, before anything is read: each wrong type is a ``ConfigError``
    naming the argument (``env={"ONERINGAI_HTTP": 5}`` was an ``AttributeError`` from deep in
    the environment reader, ``path=5`` the ``TypeError`` of ``os.fspath``)."""
    for name, value in (("path", path), ("dotenv", dotenv)):
        if value is not None and not isinstance(value, str | os.PathLike):
            raise ConfigError(f"{name} must be a file path (str or os.PathLike) or None, not {type(value).__name__}")
    if profile is not None and not isinstance(profile, str):
        raise ConfigError(f"profile must be a profile name (str) or None, not {type(profile).__name__}")
    if env is not None:
        if not isinstance(env, Mapping):
            raise ConfigError(f"env must be a mapping of variable names to strings or None, not {type(env).__name__}")
        for key, value in env.items():
            if not isinstance(key, str) or not isinstance(value, str):
                raise ConfigError(
                    f"env must map variable names to strings, as os.environ does; {brief_repr(key)} maps to a value of type "
                    f"{type(value).__name__}" if isinstance(key, str) else "env has a variable name that is not a string"
                )


def _reject_unknown_sections(data: Mapping[Any, Any], source: str) -> None:
    fields = Settings.model_fields
    for key in data:
        if key not in fields:
            raise ConfigError(
                f"unknown section {key!r} (allowed: {', '.join(fields)})", path=join_path("", key), source=source
            )


def _check_overrides(overrides: Any) -> None:
    """``overrides`` are checked like a file: a mapping of known sections, string keys all the way
    down. An unknown top-level section was silently ignored (``Settings`` ignores unknown
    top-level keys: files are checked by ``_reject_unknown_sections``); a mapping key that is not
    a string was a ``TypeError`` or an error blamed on the base file; a string or list
    ``overrides`` was an ``AttributeError``. Nested unknown keys are refused by the schema."""
    if not isinstance(overrides, Mapping):
        raise ConfigError(
            f"must be a mapping of sections to settings (like the YAML file), not {type(overrides).__name__}",
            source="overrides",
        )
    pending: list[tuple[Mapping[Any, Any], str, int]] = [(overrides, "", 0)]
    while pending:  # iterative and bounded: a deeper tree is refused later by ``_check_tree``
        mapping, path, depth = pending.pop()
        for key, value in mapping.items():
            if not isinstance(key, str):
                raise ConfigError(
                    f"has a key that is not a string ({type(key).__name__}); keys are names, as in YAML",
                    path=path or "<root>", source="overrides",
                )
            if isinstance(value, Mapping) and depth < MAX_DEPTH:
                pending.append((value, join_path(path, key), depth + 1))
            elif isinstance(value, list | tuple) and depth < MAX_DEPTH:
                pending.extend(
                    (item, f"{join_path(path, key)}[{index}]", depth + 2)
                    for index, item in enumerate(value)
                    if isinstance(item, Mapping)
                )
    _reject_unknown_sections(overrides, "overrides")


def _validate(merged: dict[Any, Any], origins: dict[str, str]) -> Settings:
    try:
        with reading_environment({}):
            settings = Settings.model_validate(merged)
    except ValidationError as exc:
        raise config_error(exc, merged, origins) from None
    _register_secrets(settings)
    return settings


def _url_password(text: str) -> str | bool | None:
    """The password of a URL (None when it has none), or False when ``text`` is no URL."""
    if "://" not in text or any(c.isspace() for c in text):
        return False
    try:
        parts = urlsplit(text)
        _ = parts.port
    except ValueError:
        return False
    return parts.password if parts.scheme and parts.hostname else False


def _register_secrets(value: Any, depth: int = 0, key: str = "") -> None:
    """Every ``SecretStr``, header value and URL password joins the scrubbing registry."""
    if depth > MAX_DEPTH:
        return
    if isinstance(value, SecretStr | str):
        text = value.get_secret_value() if isinstance(value, SecretStr) else value
        password = _url_password(text)
        if password is not False:  # a URL: its secret is its password, not the server it names
            register_secret(password)
        elif isinstance(value, SecretStr) or key == "headers" or SECRET_KEY.search(key):
            register_secret(text)
    elif isinstance(value, BaseModel):
        for name in type(value).model_fields:
            _register_secrets(getattr(value, name, None), depth + 1, name)
        for name, extra in (value.__pydantic_extra__ or {}).items():
            _register_secrets(extra, depth + 1, name)
    elif isinstance(value, Mapping):
        for item in value.values():
            _register_secrets(item, depth + 1, key)
    elif isinstance(value, list | tuple):
        for item in value:
            _register_secrets(item, depth + 1, key)
