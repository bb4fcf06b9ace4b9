"""Builds the executor stack from ``tools.executor`` (outermost first)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from oneringai import _plugins
from oneringai.domain.errors import ConfigError
from oneringai.domain.interfaces import IToolExecutor

__all__ = ["build_executor_stack"]


def build_executor_stack(layers: Sequence[Any], factories: Any, inner: IToolExecutor) -> IToolExecutor:
    executor = inner
    for index in range(len(layers) - 1, -1, -1):
        layer = layers[index]
        factory = factories.providers.get(layer.kind)
        if factory is None:
            factory = _plugins.load_plugin(_plugins.GROUPS["executor"], layer.kind)
        if factory is None:
            raise ConfigError(f"unknown kind {layer.kind!r}", path=f"tools.executor[{index}].kind")
        executor = factory(executor, layer)
    return executor
