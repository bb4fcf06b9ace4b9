"""The environment as the top configuration layer: ``ONERINGAI_SECTION__KEY[__SUB…]=value``.

The rules (docs/configuration.md repeats them):

- A variable is a setting when it starts with ``ONERINGAI_`` and either contains ``__`` or is
  exactly a section (``ONERINGAI_HTTP='{"timeout": 5}'``). Others — ``ONERINGAI_CONFIG``,
  ``ONERINGAI_PROFILE``, ``ONERINGAI_TOKEN_KEY`` used by ``${...}`` — are not settings.
- The first part must name a section: ``ONERINGAI_HTPP__TIMEOUT`` is an error naming the
  variable (an unknown key deeper down is an error of the validation, naming it too).
- A value is read by the type of its key: text and numbers as written; a list as JSON
  (``["a", "b"]``) or comma-separated (``a,b``); a mapping as a JSON object; a number part
  addresses a list item (``ONERINGAI_TOOLS__EXECUTOR__0__ATTEMPTS=5``). Empty values are ignored.
- Every error names the variable and the expected form, never one of our classes.

Parsing is ours rather than pydantic-settings' so that those rules hold and errors are ours.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel
from pydantic.fields import FieldInfo
from pydantic_settings import PydanticBaseSettingsSource

from oneringai.config.paths import annotation_at, join_path, shape_of
from oneringai.domain.errors import ConfigError

__all__ = [
    "ENV_PREFIX",
    "EnvSetting",
    "EnvironmentSource",
    "apply_setting",
    "environment_settings",
    "reading_environment",
]

ENV_PREFIX = "ONERINGAI_"

_ENVIRONMENT: ContextVar[Mapping[str, str] | None] = ContextVar("oneringai_settings_env", default=None)


@contextmanager
def reading_environment(environ: Mapping[str, str]) -> Iterator[None]:
    """Within the block, ``Settings`` reads ``environ`` instead of ``os.environ`` (pydantic-settings
    runs the sources in ``model_validate`` too; ``load_settings`` passes ``{}``: it applied the
    environment itself)."""
    token = _ENVIRONMENT.set(environ)
    try:
        yield
    finally:
        _ENVIRONMENT.reset(token)

_EXAMPLES = {
    "object": "a JSON object, e.g. '{\"key\": \"value\"}', or one key at a time: {var}__KEY=value",
    "list": "a JSON list, e.g. '[\"a\", \"b\"]', or comma-separated values: a,b",
    "list_of_objects": "a JSON list of objects, e.g. '[{\"kind\": \"retry\"}]', "
    "or one key of an item at a time: {var}__0__KEY=value",
}


@dataclass(frozen=True)
class EnvSetting:
    """One variable, read: the YAML path it sets and the parsed value."""

    variable: str
    parts: tuple[str, ...]
    value: Any


def _sections(root: type[BaseModel]) -> dict[str, str]:
    return {(field.alias or name).lower(): field.alias or name for name, field in root.model_fields.items()}


def environment_settings(
    environ: Mapping[str, str], root: type[BaseModel], data: Any = None
) -> list[EnvSetting]:
    """The settings among ``environ``, broadest first (``ONERINGAI_HTTP`` before
    ``ONERINGAI_HTTP__TIMEOUT``), so the more specific variable wins."""
    sections = _sections(root)
    found: list[EnvSetting] = []
    for variable, raw in environ.items():
        if not variable.upper().startswith(ENV_PREFIX) or not raw:
            continue
        rest = variable[len(ENV_PREFIX) :]
        if "__" not in rest and rest.lower() not in sections:
            continue
        parts = rest.lower().split("__")
        if not all(parts):
            raise ConfigError(
                f"environment variable {variable}: malformed name (an empty part between '__'); "
                f"expected {ENV_PREFIX}SECTION__KEY"
            )
        if parts[0] not in sections:
            raise ConfigError(
                f"environment variable {variable}: unknown section {parts[0]!r} "
                f"(allowed: {', '.join(sorted(sections.values()))})"
            )
        parts[0] = sections[parts[0]]
        shape = shape_of(annotation_at(root, parts, data))
        found.append(EnvSetting(variable, tuple(parts), _parse(variable, raw, shape)))
    found.sort(key=lambda s: (len(s.parts), s.variable))
    return found


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a finite number")


def _parse(variable: str, raw: str, shape: str) -> Any:
    text = raw.strip()
    if shape == "scalar":
        return raw
    looks_json = text[:1] in ("[", "{")
    if shape == "unknown":
        if looks_json:
            try:
                return json.loads(text, parse_constant=_reject_constant)
            except (ValueError, RecursionError):
                return raw
        return raw
    expected = _EXAMPLES[shape].replace("{var}", variable)
    if shape == "list" and not looks_json:
        return [part.strip() for part in raw.split(",") if part.strip()]
    if not looks_json:
        raise ConfigError(f"environment variable {variable}: expected {expected}")
    try:
        value = json.loads(text, parse_constant=_reject_constant)
    except RecursionError:
        raise ConfigError(f"environment variable {variable}: JSON nested too deeply") from None
    except json.JSONDecodeError as exc:
        raise ConfigError(
            f"environment variable {variable}: not valid JSON ({exc.msg} at character {exc.pos}); "
            f"expected {expected}"
        ) from None
    except ValueError as exc:
        raise ConfigError(f"environment variable {variable}: {exc}; expected {expected}") from None
    wanted = dict if shape == "object" else list
    if not isinstance(value, wanted):
        raise ConfigError(f"environment variable {variable}: expected {expected}")
    return value


def _deep_merge(base: Mapping[Any, Any], override: Mapping[Any, Any]) -> dict[Any, Any]:
    result = dict(base)
    for key, value in override.items():
        if isinstance(value, Mapping) and isinstance(result.get(key), Mapping):
            result[key] = _deep_merge(result[key], value)
        else:
            result[key] = value
    return result


def apply_setting(data: dict[str, Any], setting: EnvSetting, origins: dict[str, str]) -> dict[str, Any]:
    """``data`` with ``setting`` applied; the containers on its path are copied (never the
    caller's, never a shared YAML alias), and ``origins`` records the variable per path."""
    origin = f"environment variable {setting.variable}"

    def put(node: Any, parts: Sequence[str], path: str) -> Any:
        if not parts:
            origins[path] = origin
            if isinstance(setting.value, Mapping) and isinstance(node, Mapping):
                return _deep_merge(node, setting.value)
            return setting.value
        part, rest = parts[0], parts[1:]
        if isinstance(node, list):
            if not part.isdigit():
                raise ConfigError(
                    f"{origin}: {path} is a list; address an item by its index, e.g. …__0__{part.upper()}"
                )
            index = int(part)
            if index >= len(node):
                raise ConfigError(
                    f"{origin}: {path} has {len(node)} item(s); index {index} is out of range"
                )
            copy = list(node)
            copy[index] = put(copy[index], rest, f"{path}[{index}]")
            return copy
        mapping = dict(node) if isinstance(node, Mapping) else {}
        key = next((k for k in mapping if isinstance(k, str) and k.lower() == part.lower()), part)
        mapping[key] = put(mapping.get(key), rest, join_path(path, key))
        return mapping

    result: dict[str, Any] = put(data, setting.parts, "")
    return result


class EnvironmentSource(PydanticBaseSettingsSource):
    """``Settings()`` built directly reads ``os.environ`` by the same rules."""

    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[Any, str, bool]:
        return None, field_name, False

    def __call__(self) -> dict[str, Any]:
        data: dict[str, Any] = {}
        environ = _ENVIRONMENT.get()
        for setting in environment_settings(os.environ if environ is None else environ, self.settings_cls):
            data = apply_setting(data, setting, {})
        return data
