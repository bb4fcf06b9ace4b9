"""Entry-point discovery for custom implementations (never class paths typed in YAML).

A package registers, in its ``pyproject.toml``::

    [project.entry-points."oneringai.text_providers"]
    myai = "myai_pkg.provider:MyAIProvider"

and ``kind: myai`` then selects it. Groups are scanned lazily, once, and only
when a kind is not built in, so start-up pays nothing for them.
"""

from __future__ import annotations

from functools import cache
from importlib.metadata import EntryPoint, entry_points
from typing import Any

from oneringai.domain.errors import ConfigError

__all__ = ["GROUPS", "build_layer", "load_plugin", "plugin_names"]

GROUPS = {
    "text": "oneringai.text_providers",
    "image": "oneringai.image_providers",
    "storage": "oneringai.token_storages",
    "executor": "oneringai.tool_executors",
}


@cache
def _entry_points(group: str) -> dict[str, EntryPoint]:
    return {ep.name: ep for ep in entry_points(group=group)}


def plugin_names(group: str) -> list[str]:
    return sorted(_entry_points(group))


def load_plugin(group: str, name: str, *, path: str | None = None) -> Any:
    """The object entry point ``name`` of ``group`` names, or None when there is none.

    A plugin that cannot be imported (a missing dependency, a syntax error, a wrong object
    path) is a ``ConfigError`` naming the entry point and ``path`` — not the import's own
    exception escaping from client construction.
    """
    ep = _entry_points(group).get(name)
    if ep is None:
        return None
    try:
        return ep.load()
    except Exception as exc:
        raise ConfigError(
            f"kind {name!r}: entry point {ep.value!r} (group {group}) cannot be loaded: "
            f"{type(exc).__name__}: {str(exc)[:300]}",
            path=path,
        ) from None


def clear_cache() -> None:
    _entry_points.cache_clear()


def build_layer(layer: Any, inner: Any, where: str) -> Any:
    """A ``tools.executor`` layer of a plugin kind around ``inner``; a kind nobody provides, or a
    plugin that refuses its settings (``TypeError``, ``ValueError``, ...), is a ``ConfigError``
    naming ``where`` (``tools.executor[i]``)."""
    factory = load_plugin(GROUPS["executor"], layer.kind, path=f"{where}.kind")
    if factory is None or not callable(factory):
        raise ConfigError(f"unknown kind {layer.kind!r}", path=f"{where}.kind")
    try:
        return factory(inner, layer)
    except ConfigError:
        raise
    except Exception as exc:
        raise ConfigError(
            f"executor kind {layer.kind!r} cannot be built: {type(exc).__name__}: {str(exc)[:300]}", path=where
        ) from None
