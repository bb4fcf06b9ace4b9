"""Walking a settings model by a YAML path: which type a key holds, which keys are allowed.

Used to parse environment values by their target type and to list the allowed keys in error
messages. Generic over the model (it never imports the schema), so the environment source,
which the schema itself uses, can rely on it without an import cycle.
"""

from __future__ import annotations

import re
import types
from collections.abc import Mapping, Sequence
from typing import Annotated, Any, Literal, Union, get_args, get_origin

from pydantic import BaseModel

__all__ = ["annotation_at", "join_path", "keys_of", "model_at", "shape_of"]

_PLAIN_KEY = re.compile(r"[A-Za-z0-9_\-<>]+")


def join_path(prefix: str, key: object) -> str:
    """``prefix.key`` as messages show it; a key that is not plain text is quoted (a key with
    a newline must not break the one-line error)."""
    part = key if isinstance(key, str) and _PLAIN_KEY.fullmatch(key) else repr(key)
    return f"{prefix}.{part}" if prefix else str(part)


def _strip(annotation: Any) -> Any:
    """``Annotated[X, ...]`` -> X; ``X | None`` -> X."""
    while True:
        origin = get_origin(annotation)
        if origin is Annotated:
            annotation = get_args(annotation)[0]
            continue
        if origin in (Union, types.UnionType):
            members = [a for a in get_args(annotation) if a is not type(None)]
            if len(members) == 1:
                annotation = members[0]
                continue
        return annotation


def _members(annotation: Any) -> list[Any]:
    annotation = _strip(annotation)
    if get_origin(annotation) in (Union, types.UnionType):
        return [_strip(a) for a in get_args(annotation) if a is not type(None)]
    return [annotation]


def _is_model(value: Any) -> bool:
    return isinstance(value, type) and issubclass(value, BaseModel)


def _model_for(annotation: Any, data: Any) -> type[BaseModel] | None:
    """The model a value of ``annotation`` validates as; a tagged union picks by ``kind``."""
    models: list[type[BaseModel]] = [m for m in _members(annotation) if _is_model(m)]
    if not models:
        return None
    kind = data.get("kind") if isinstance(data, Mapping) else None
    if kind is not None and len(models) > 1:
        for model in models:
            field = model.model_fields.get("kind")
            if field is not None and get_origin(_strip(field.annotation)) is Literal and kind in get_args(
                _strip(field.annotation)
            ):
                return model
        return models[-1]  # the open ("custom") member comes last
    return models[0]


def _get(data: Any, key: str) -> Any:
    if not isinstance(data, Mapping):
        return None
    if key in data:
        return data[key]
    lowered = key.lower()
    return next((v for k, v in data.items() if isinstance(k, str) and k.lower() == lowered), None)


def _step(annotation: Any, part: str, data: Any) -> tuple[Any, Any]:
    stripped = _strip(annotation)
    origin = get_origin(stripped)
    if origin in (list, tuple, set, frozenset, Sequence):
        args = get_args(stripped)
        if not part.isdigit() or not args:
            return None, None
        index = int(part)
        item = data[index] if isinstance(data, list) and index < len(data) else None
        return args[0], item
    if origin in (dict, Mapping):
        args = get_args(stripped)
        return (args[1] if len(args) == 2 else None), _get(data, part)
    model = _model_for(stripped, data)
    if model is None:
        return None, None
    lowered = part.lower()
    for name, field in model.model_fields.items():
        if lowered in (name.lower(), (field.alias or name).lower()):
            child = _get(data, field.alias) if field.alias else None
            return field.annotation, child if child is not None else _get(data, name)
    return None, None


def annotation_at(root: type[BaseModel], parts: Sequence[str], data: Any = None) -> Any:
    """The annotation of the value at ``parts`` (None when the path leaves the schema)."""
    annotation: Any = root
    for part in parts:
        annotation, data = _step(annotation, part, data)
        if annotation is None:
            return None
    return annotation


def model_at(root: type[BaseModel], parts: Sequence[str], data: Any = None) -> type[BaseModel] | None:
    """The settings model that holds the keys under ``parts``, if there is one."""
    annotation: Any = root
    for part in parts:
        annotation, data = _step(annotation, part, data)
        if annotation is None:
            return None
    return _model_for(annotation, data)


def keys_of(model: type[BaseModel] | None) -> list[str]:
    if model is None:
        return []
    return sorted(field.alias or name for name, field in model.model_fields.items())


def shape_of(annotation: Any) -> str:
    """``"list"``, ``"list_of_objects"``, ``"object"``, ``"scalar"`` or ``"unknown"`` (Any)."""
    if annotation is None or annotation is Any:
        return "unknown"
    members = _members(annotation)
    if any(m is Any for m in members):
        return "unknown"
    if len(members) == 1:
        stripped = members[0]
        origin = get_origin(stripped)
        if origin in (list, tuple, set, frozenset, Sequence):
            args = get_args(stripped)
            inner = _members(args[0]) if args else []
            if inner and all(_is_model(m) or get_origin(m) in (dict, Mapping) for m in inner):
                return "list_of_objects"
            return "list"
        if origin in (dict, Mapping):
            return "object"
    if all(_is_model(m) for m in members):
        return "object"
    return "scalar"
