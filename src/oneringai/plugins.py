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

__all__ = ["GROUPS", "load_plugin", "plugin_names"]

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


def load_plugin(group: str, name: str) -> Any:
    ep = _entry_points(group).get(name)
    return None if ep is None else ep.load()


def clear_cache() -> None:
    _entry_points.cache_clear()
