"""One ``ConfigError`` line from a pydantic ``ValidationError``: where the value came from (file
or environment variable), its YAML path, and what is allowed — never pydantic's own layout,
documentation URLs or the offending input (it may be a secret)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from pydantic import ValidationError

from oneringai.config.paths import join_path, keys_of, model_at
from oneringai.config.schema import EXECUTOR_KINDS, TEXT_KINDS, Settings
from oneringai.domain.errors import ConfigError

__all__ = ["config_error", "loc_to_path", "origin_of"]

_INSTANCE_OF = re.compile(r" or instance of \w+")
_TAGS = {"openai", "ollama", "anthropic", "llamacpp", "custom", *TEXT_KINDS, *EXECUTOR_KINDS}


def _loc_parts(loc: tuple[int | str, ...]) -> list[int | str]:
    """The location without the discriminator tags pydantic inserts after a union member's key."""
    items = list(loc)
    return [
        part
        for i, part in enumerate(items)
        if not (
            isinstance(part, str)
            and part in _TAGS
            and (
                # the tag right after an entry: also when it ends the location (the entry is
                # no mapping at all: ``executor: [retry]`` is ``tools.executor[0]``, no ``.custom``)
                (i >= 3 and items[i - 2] == "providers")
                or (i >= 2 and items[i - 2] == "executor")
                or (i + 1 < len(items) and i >= 3 and items[i - 3] == "executor")
            )
        )
    ]


def loc_to_path(loc: tuple[int | str, ...]) -> str:
    """``('text', 'providers', 'o', 'ollama', 'timeout')`` -> ``text.providers.o.timeout``."""
    path = ""
    for part in _loc_parts(loc):
        path = f"{path}[{part}]" if isinstance(part, int) else join_path(path, part)
    return path


def origin_of(path: str, origins: Mapping[str, str]) -> str | None:
    """The file or variable that set ``path`` or its nearest set ancestor."""
    probe = path
    while probe:
        if probe in origins:
            return origins[probe]
        cut = max(probe.rfind("."), probe.rfind("["))
        probe = probe[:cut] if cut > 0 else ""
    return None


def config_error(exc: ValidationError, merged: Mapping[str, Any], origins: Mapping[str, str]) -> ConfigError:
    lines = []
    for error in exc.errors(include_url=False, include_input=False, include_context=False):
        path = loc_to_path(tuple(error["loc"]))
        source = origin_of(path, origins)
        message = " ".join(str(error["msg"]).split())
        kind = error["type"]
        if kind == "extra_forbidden":
            parts = [str(p) for p in _loc_parts(tuple(error["loc"]))][:-1]
            allowed = keys_of(model_at(Settings, parts, merged))
            message = "unknown key" + (f" (allowed: {', '.join(allowed)})" if allowed else "")
        elif kind == "finite_number":
            message = "must be a finite number (not .inf, .nan, inf or nan)"
        elif kind in ("value_error", "assertion_error"):
            message = message.removeprefix("Value error, ").removeprefix("Assertion failed, ")
            if message.startswith("@"):  # "@sub.path@message": a validator naming a sub-path
                sub, _, message = message[1:].partition("@")
                path = f"{path}{'' if sub.startswith('[') else '.'}{sub}"
                source = origin_of(path, origins) or source
        message = message.replace("Input should be", "must be").replace("Input should", "must")
        message = _INSTANCE_OF.sub("", message)  # "... or instance of ExecutorLayerConfig": our class, not YAML
        lines.append(f"{source + ': ' if source else ''}{path or '<root>'}: {message}")
    if len(lines) > 8:
        lines = [*lines[:8], f"and {len(lines) - 8} more"]
    return ConfigError("; ".join(lines))
