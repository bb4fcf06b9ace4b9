"""Free-form request values as plain JSON data, checked where they enter.

``provider_options``, a ``response_format`` JSON schema, a tool's ``parameters`` are given in
code and go into a vendor's JSON request body as they are. ``json_data`` turns such a value into
a copy made of dicts, lists, strings, finite numbers, booleans and None — or refuses it with an
error naming where it is (``provider_options['a'][1] is a set``), never quoting a value: a set,
bytes or an object, a NaN or infinity (JSON has neither; ``json.dumps`` writes ``NaN``, which
no vendor parses), a key that is not a string, an integer beyond ±2**64, nesting deeper than
``max_depth`` (a structure containing itself is that too), more than ``max_chars`` characters
as JSON. The walk is iterative and stops as soon as a bound is passed: a deep or huge value is
neither recursed into nor walked whole. Before, each of these was a raw ``TypeError`` /
``ValueError`` / ``RecursionError`` from the JSON encoder when the request was sent, or NaN sent
as invalid JSON.

Pure and dependency-free: the domain validates with it, the agents check their options with it,
and the HTTP layer uses ``json_problem`` to name what in a body could not be encoded.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from oneringai.domain._error_base import RequestOptionsError

__all__ = [
    "MAX_JSON_CHARS",
    "MAX_JSON_DEPTH",
    "MAX_SCHEMA_DEPTH",
    "json_data",
    "json_problem",
]

#: A free-form request value as JSON, at most (a few hundred bytes in practice; a raw tool list
#: or a JSON schema stays far below).
MAX_JSON_CHARS = 1_000_000
#: Nesting, at most (a deeper structure was a ``RecursionError`` when the body was encoded).
MAX_JSON_DEPTH = 64
#: Nesting of a JSON schema (a tool's ``parameters``, a ``response_format`` schema), at most: two
#: levels (``properties`` and the property) per level of the value described, whose own nesting
#: is bounded by ``MAX_ARGUMENT_DEPTH`` (64) where a model's arguments are parsed.
MAX_SCHEMA_DEPTH = 2 * MAX_JSON_DEPTH
#: Integers beyond this magnitude are no vendor's (seeds are 64-bit); larger ones cost time to print.
_MAX_INT = 2**64
#: The flat fast path: at most this many items of strings at most this long (far within the bounds).
_FLAT_ITEMS = 64
_FLAT_CHARS = 256


def json_data(
    value: object,
    *,
    name: str,
    where: str | None = None,
    error: Callable[[str], Exception] = RequestOptionsError,
    max_depth: int | None = MAX_JSON_DEPTH,
    max_chars: int | None = MAX_JSON_CHARS,
) -> dict[str, Any]:
    """A copy of the mapping ``value`` as plain JSON data, or ``error(message)``.

    ``name`` starts every path (``provider_options['a']``); ``where`` (say
    ``Agent(provider_options=...)`` or ``tool 'search'``) starts every message. None is ``{}``.
    ``max_depth`` / ``max_chars`` None: unbounded (only for naming a problem already met)."""
    if value is None:
        return {}
    if type(value) is dict and not value:  # the common case: nothing to walk
        return {}
    if type(value) is dict and len(value) <= _FLAT_ITEMS:
        flat = _flat(value)
        if flat is not None:  # a few scalars (``seed``, ``reasoning_effort``): no walk
            return flat
    head = f"{where}: " if where else ""
    whole = head + name
    if not isinstance(value, Mapping):
        raise error(f"{whole} must be a mapping of names to JSON values, not {type(value).__name__}")
    root: dict[str, Any] = {}
    size = 0  # the length as JSON, at least (every character of a string once)
    upper = 2  # the length as JSON, at most: when within the bound, no exact count is needed
    limit = math.inf if max_chars is None else max_chars
    deepest = math.inf if max_depth is None else max_depth
    too_long = f"{whole} is longer than {max_chars} characters as JSON"
    # Iterative: (source, target, path, depth); a deep structure is refused, never recursed into.
    pending: list[tuple[Any, Any, str, int]] = [(value, root, name, 1)]
    while pending:
        source, target, path, depth = pending.pop()
        if depth > deepest:
            raise error(f"{head}{_short(path)} is nested deeper than {max_depth} levels")
        items: Iterable[tuple[Any, Any]] = source.items() if isinstance(source, Mapping) else enumerate(source)
        for key, item in items:
            if isinstance(key, str):
                size += len(key) + 4
                upper += 6 * len(key) + 4
            elif isinstance(target, dict):
                raise error(f"{head}{_short(path)} has a key that is not a string ({type(key).__name__})")
            size += 2
            upper += 32  # a separator and a number (at most 2**64, or a float's repr)
            if size > limit:  # checked as it grows: a huge value is not walked whole
                raise error(too_long)
            converted = _converted(item, path, key, head, error)
            if isinstance(converted, str):
                size += len(converted)
                upper += 6 * len(converted)  # ``\u0000``: six characters each, at most
            elif isinstance(converted, dict | list):
                pending.append((item, converted, _sub_path(path, key), depth + 1))
            if isinstance(target, dict):
                target[key] = converted
            else:
                target.append(converted)
        if size > limit:
            raise error(too_long)
    if upper > limit and len(json.dumps(root, ensure_ascii=False)) > limit:  # exact (escapes, numbers)
        raise error(too_long)
    return root


def _flat(value: dict[Any, Any]) -> dict[str, Any] | None:
    """A copy of a small mapping of short strings, in-range integers, finite floats, booleans and
    None; None for anything else (walked by ``json_data``, which says what is wrong)."""
    for key, item in value.items():
        if type(key) is not str or len(key) > _FLAT_CHARS:
            return None
        kind = type(item)
        if kind is str:
            if len(item) > _FLAT_CHARS:
                return None
        elif kind is int:
            if not -_MAX_INT <= item <= _MAX_INT:
                return None
        elif kind is float:
            if not math.isfinite(item):
                return None
        elif item is not None and kind is not bool:
            return None
    return dict(value)


def json_problem(value: object, *, name: str) -> str | None:
    """What in ``value`` JSON cannot carry, as a message naming where (never quoting a value);
    None when nothing is found. For a body the encoder refused: unbounded in size, and a
    structure containing itself is reported as nested too deeply."""
    try:
        json_data(value, name=name, max_chars=None, max_depth=10_000)
    except RequestOptionsError as found:
        return str(found)
    return None


def _converted(item: Any, path: str, key: Any, head: str, error: Callable[[str], Exception]) -> Any:
    """``item`` as JSON data: a scalar copied, an empty container its children are walked into."""
    if item is None or isinstance(item, bool):
        return item
    if isinstance(item, int):
        if not -_MAX_INT <= item <= _MAX_INT:
            raise error(f"{head}{_short(_sub_path(path, key))} is an integer beyond ±2**64")
        return int(item)
    if isinstance(item, float):
        if not math.isfinite(item):
            raise error(f"{head}{_short(_sub_path(path, key))} is not a finite number (JSON has no NaN or infinity)")
        return float(item)
    if isinstance(item, str):
        return str(item)
    if isinstance(item, Mapping):
        return {}
    if isinstance(item, list | tuple):
        return []
    raise error(f"{head}{_short(_sub_path(path, key))} is a {type(item).__name__}, not a JSON value")


def _sub_path(path: str, key: Any) -> str:
    return f"{path}[{key[:40]!r}]" if isinstance(key, str) else f"{path}[{key}]"


def _short(path: str) -> str:
    """A path for a message: a deep one keeps its start and its end."""
    return path if len(path) <= 120 else f"{path[:60]}...{path[-50:]}"
