"""An agent's ``provider_options``: vendor knobs sent with every model request of its runs
(Anthropic's ``thinking``, OpenAI's ``seed`` or ``reasoning_effort``, Ollama's ``num_ctx``…).

Given in code (``Agent(provider_options=...)``, ``client.agents.create(provider_options=...)``,
never in YAML: they are one vendor's spelling), so checked here: a mapping with string keys of
JSON values (finite numbers, no sets or bytes), at most ``MAX_PROVIDER_OPTIONS_DEPTH`` levels
deep and ``MAX_PROVIDER_OPTIONS_CHARS`` characters as JSON. Anything else is an
``AgentLimitError`` naming where it is, never quoting a value. The agent keeps its own copy
and each request gets a fresh one, so a caller or a hook changing a nested value in place
changes neither the agent nor its next request.
"""

from __future__ import annotations

import copy
import json
import math
from collections.abc import Iterable, Mapping
from typing import Any

from oneringai.application.agents.support import AgentLimitError

__all__ = [
    "MAX_PROVIDER_OPTIONS_CHARS",
    "MAX_PROVIDER_OPTIONS_DEPTH",
    "ProviderOptionsSetting",
    "checked_provider_options",
]

#: The options of one agent as JSON, at most (a few hundred bytes in practice; a raw tool list
#: or JSON schema in them stays far below).
MAX_PROVIDER_OPTIONS_CHARS = 1_000_000
#: Nesting, at most (a deeper structure was a ``RecursionError`` when the body was encoded).
MAX_PROVIDER_OPTIONS_DEPTH = 64
#: Integers beyond this magnitude are no vendor's (seeds are 64-bit); larger ones cost time to print.
_MAX_INT = 2**64

_WHERE = "Agent(provider_options=...)"


def checked_provider_options(value: object) -> dict[str, Any]:
    """A copy of ``value`` as plain JSON data (dicts and lists), or an ``AgentLimitError``."""
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise AgentLimitError(f"{_WHERE} must be a mapping of option names to JSON values, not {type(value).__name__}")
    root: dict[str, Any] = {}
    size = 0
    # Iterative: (source, target, path, depth); a deep structure is refused, never recursed into.
    pending: list[tuple[Any, Any, str, int]] = [(value, root, "provider_options", 1)]
    while pending:
        source, target, path, depth = pending.pop()
        if depth > MAX_PROVIDER_OPTIONS_DEPTH:
            raise AgentLimitError(f"{_WHERE}: {_short(path)} is nested deeper than {MAX_PROVIDER_OPTIONS_DEPTH} levels")
        items: Iterable[tuple[Any, Any]] = source.items() if isinstance(source, Mapping) else enumerate(source)
        for key, item in items:
            if isinstance(key, str):
                size += len(key) + 4
            elif isinstance(target, dict):
                raise AgentLimitError(f"{_WHERE}: {_short(path)} has a key that is not a string ({type(key).__name__})")
            size += 2
            if size > MAX_PROVIDER_OPTIONS_CHARS:  # checked as it grows: a huge value is not walked whole
                raise AgentLimitError(f"{_WHERE} is longer than {MAX_PROVIDER_OPTIONS_CHARS} characters as JSON")
            converted = _converted(item, path, key)
            if isinstance(converted, str):
                size += len(converted)
            elif isinstance(converted, dict | list):
                pending.append((item, converted, _sub_path(path, key), depth + 1))
            if isinstance(target, dict):
                target[key] = converted
            else:
                target.append(converted)
        if size > MAX_PROVIDER_OPTIONS_CHARS:
            raise AgentLimitError(f"{_WHERE} is longer than {MAX_PROVIDER_OPTIONS_CHARS} characters as JSON")
    if len(json.dumps(root, ensure_ascii=False)) > MAX_PROVIDER_OPTIONS_CHARS:  # the exact size (escapes)
        raise AgentLimitError(f"{_WHERE} is longer than {MAX_PROVIDER_OPTIONS_CHARS} characters as JSON")
    return root


def _converted(item: Any, path: str, key: Any) -> Any:
    """``item`` as JSON data: a scalar copied, an empty container its children are walked into."""
    if item is None or isinstance(item, bool):
        return item
    if isinstance(item, int):
        if not -_MAX_INT <= item <= _MAX_INT:
            raise AgentLimitError(f"{_WHERE}: {_short(_sub_path(path, key))} is an integer beyond ±2**64")
        return int(item)
    if isinstance(item, float):
        if not math.isfinite(item):
            raise AgentLimitError(
                f"{_WHERE}: {_short(_sub_path(path, key))} is not a finite number (JSON has no NaN or infinity)"
            )
        return float(item)
    if isinstance(item, str):
        return str(item)
    if isinstance(item, Mapping):
        return {}
    if isinstance(item, list | tuple):
        return []
    raise AgentLimitError(f"{_WHERE}: {_short(_sub_path(path, key))} is a {type(item).__name__}, not a JSON value")


def _sub_path(path: str, key: Any) -> str:
    return f"{path}[{key[:40]!r}]" if isinstance(key, str) else f"{path}[{key}]"


def _short(path: str) -> str:
    """A path for a message: a deep one keeps its start and its end."""
    return path if len(path) <= 120 else f"{path[:60]}...{path[-50:]}"


class ProviderOptionsSetting:
    """``agent.provider_options``: checked when assigned (in ``__init__`` or later), read as a
    fresh copy (the next request's, free to change)."""

    def __set_name__(self, owner: type, name: str) -> None:
        self._attribute = f"_{name}"

    def __get__(self, instance: object, owner: type | None = None) -> dict[str, Any]:
        if instance is None:
            return {}
        stored: dict[str, Any] = getattr(instance, self._attribute, {})
        return copy.deepcopy(stored)

    def __set__(self, instance: object, value: Mapping[str, Any] | None) -> None:
        setattr(instance, self._attribute, checked_provider_options(value))
