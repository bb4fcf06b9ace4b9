"""Base of every decorator executor: holds ``wrapped`` and delegates (pydantic-ai's shape)."""

from __future__ import annotations

import inspect
from typing import Any, ClassVar

from pydantic import BaseModel

from oneringai.application.tools.registry import answer_of
from oneringai.domain.interfaces import IToolExecutor
from oneringai.domain.tools import ToolCall, ToolExecutionContext, ToolResult

__all__ = ["WrapperToolExecutor"]


class WrapperToolExecutor(IToolExecutor):
    """Subclass and override ``execute_tool``; call ``self.wrapped.execute_tool`` to go inward.

    With ``config_model`` set, the layer takes its settings as the YAML model or as keywords:
    ``RetryingToolExecutor(inner, attempts=5)``.
    """

    config_model: ClassVar[type[BaseModel] | None] = None

    def __init__(self, wrapped: IToolExecutor, config: Any = None, **options: Any) -> None:
        self.wrapped = wrapped
        if config is None and self.config_model is not None:
            config = self.config_model(**options)
        elif options:
            raise TypeError(f"{type(self).__name__}: pass either config or keyword options, not both")
        self.config = config

    async def execute_tool(self, tool_call: ToolCall, context: ToolExecutionContext) -> ToolResult:
        return await self.call_wrapped(tool_call, context)

    async def call_wrapped(self, tool_call: ToolCall, context: ToolExecutionContext) -> ToolResult:
        """``self.wrapped.execute_tool(...)``, its answer always a ``ToolResult`` for ``tool_call``.

        The layer inside may be user code: the guide's executors return the object literal
        ``{tool_call_id, output, error: true}`` (read as a ``ToolResult``), others return
        anything; every built-in layer reads ``is_error``/``metadata`` of what comes back."""
        return answer_of(tool_call, await self.wrapped.execute_tool(tool_call, context))

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
