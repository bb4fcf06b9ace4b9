"""Base of the domain's pydantic models.

``defer_build`` keeps ``import oneringai`` cheap: a model's validator is built the
first time it is used, not when the module is imported.
"""

import re
import types
from collections.abc import Mapping
from typing import Annotated, Any, ClassVar, Union, get_args, get_origin

from pydantic import BaseModel, ConfigDict, model_validator


class DomainModel(BaseModel):
    model_config = ConfigDict(defer_build=True)


_PLAIN_KEY = re.compile(r"[A-Za-z0-9_\-<>]+")


def _members(annotation: Any) -> list[Any]:
    """The types a value of ``annotation`` may be: ``Annotated`` and unions unwrapped."""
    origin = get_origin(annotation)
    if origin is Annotated:
        return _members(get_args(annotation)[0])
    if origin in (Union, types.UnionType):
        return [member for arg in get_args(annotation) for member in _members(arg)]
    return [annotation]


def _sub_key(key: Any) -> str:
    if isinstance(key, str) and _PLAIN_KEY.fullmatch(key):
        return f".{key}"
    return "[" + repr(key).replace("@", "?") + "]"  # "@" would end the path of the message


def bool_as_number(annotation: Any, value: Any) -> tuple[str, str] | None:
    """Where ``value`` holds a boolean that ``annotation`` would read as a number, if anywhere:
    ``(sub-path, "an integer" | "a number")``. Pydantic's lax mode reads ``true`` as 1 for an
    ``int`` or ``float``; YAML's ``yes``/``on``/``true`` is never meant as one."""
    members = _members(annotation)
    if isinstance(value, bool):
        if any(m is bool or m is Any for m in members):
            return None
        if float in members:
            return "", "a number"
        if int in members:
            return "", "an integer"
        return None
    for member in members:
        origin, args = get_origin(member), get_args(member)
        if isinstance(value, Mapping) and origin in (dict, Mapping) and len(args) == 2:
            for key, item in value.items():
                found = bool_as_number(args[1], item)
                if found is not None:
                    return _sub_key(key) + found[0], found[1]
        elif isinstance(value, list | tuple) and origin in (list, tuple) and args:
            for index, item in enumerate(value):
                found = bool_as_number(args[0], item)
                if found is not None:
                    return f"[{index}]{found[0]}", found[1]
    return None


class ConfigModel(BaseModel):
    """Base of every configuration model: a boolean is never a number.

    ``http.max_connections: true`` (or ``yes``, or JSON ``true`` in ``ONERINGAI_HTTP``) was
    read as 1. Every ``int``/``float`` field — also inside ``dict[str, float]`` and lists —
    now refuses a boolean with an error naming the key (the configuration loader turns it
    into a ``ConfigError`` naming the YAML path).

    Errors never quote their input (``hide_input_in_errors``): the check above runs on the
    whole mapping, so pydantic's text of a config built in code quoted every key beside the
    boolean — ``api_key``, a password in a URL — as ``input_value={...}``.
    """

    model_config = ConfigDict(hide_input_in_errors=True)

    @model_validator(mode="before")
    @classmethod
    def _no_bool_numbers(cls, data: Any) -> Any:
        if not isinstance(data, Mapping):
            return data
        for name, field in cls.model_fields.items():
            for key in {name, field.alias or name}:
                if key not in data:
                    continue
                found = bool_as_number(field.annotation, data[key])
                if found is not None:
                    sub, wanted = found
                    raise ValueError(f"@{key}{sub}@must be {wanted}, not a boolean (true/false)")
        return data


class SettingsSection(ConfigModel):
    """Base of every adapter's settings model: unknown keys are errors, never ignored.

    It lives in the domain so that adapters in any layer can own their settings model
    and the configuration schema can compose them without an import cycle.
    """

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    #: Mappings whose values are secrets whatever their keys say (shown masked in repr).
    _SECRET_MAPPINGS: ClassVar[frozenset[str]] = frozenset({"extra_token_params", "headers", "env"})

    def __repr_args__(self) -> Any:
        """Settings end up in logs and tracebacks: URL passwords, secret-looking query values and
        ``extra_token_params`` values never show (``SecretStr`` fields mask themselves)."""
        from oneringai.domain.redaction import REDACTED, redact

        for name, value in super().__repr_args__():
            if isinstance(value, str):
                value = redact(value)
            elif isinstance(value, list | tuple) and all(isinstance(item, str) for item in value):
                value = type(value)(redact(item) for item in value)  # an MCP server's args
            elif isinstance(value, dict) and name in self._SECRET_MAPPINGS:
                value = {k: REDACTED for k in value}
            yield name, value
