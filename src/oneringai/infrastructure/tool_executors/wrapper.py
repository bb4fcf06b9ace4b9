"""Base of every decorator executor: holds ``wrapped`` and delegates (pydantic-ai's shape)."""

from __future__ import annotations

import inspect
from typing import Any

from oneringai.domain.interfaces import IToolExecutor
from oneringai.domain.tools import ToolCall, ToolExecutionContext, ToolResult

__all__ = ["WrapperToolExecutor"]


class WrapperToolExecutor(IToolExecutor):
    """Subclass and override ``execute_tool``; call ``self.wrapped.execute_tool`` to go inward."""

    def __init__(self, wrapped: IToolExecutor, config: Any = None) -> None:
        self.wrapped = wrapped
        self.config = config

    async def execute_tool(self, tool_call: ToolCall, context: ToolExecutionContext) -> ToolResult:
        return await self.wrapped.execute_tool(tool_call, context)

    async def aclose(self) -> None:
        """Close what this layer opened, then the layers inside."""
        close = getattr(self.wrapped, "aclose", None)
        if close is not None:
            result = close()
            if inspect.isawaitable(result):
                await result

    def find(self, kind: type[IToolExecutor]) -> IToolExecutor | None:
        """The first layer of type ``kind`` in this stack (e.g. to read cost usage)."""
        layer: IToolExecutor | None = self
        while layer is not None:
            if isinstance(layer, kind):
                return layer
            layer = getattr(layer, "wrapped", None)
        return None
