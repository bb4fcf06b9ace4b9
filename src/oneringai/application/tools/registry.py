"""``ToolRegistry``: the guide's registry — a set of tools by name plus the executor that runs them."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from oneringai.application.tools.direct_executor import DirectToolExecutor
from oneringai.application.tools.function_tool import FunctionTool
from oneringai.domain.interfaces import IToolExecutor
from oneringai.domain.tools import FunctionToolDefinition, Tool, ToolCall, ToolExecutionContext, ToolResult

__all__ = ["ToolRegistry"]


class ToolRegistry:
    """A set of tools by name plus the executor that runs them — each agent has its own.

    ``registry.execute(tool_call)`` builds the ``ToolExecutionContext`` (tools, user) and
    goes through the executor stack, so code outside an agent can run tools the same way.
    """

    def __init__(self, tools: Sequence[Tool | Callable[..., Any]] = (), executor: IToolExecutor | None = None) -> None:
        self._tools: dict[str, Tool] = {}
        self.executor: IToolExecutor = executor or DirectToolExecutor()
        for item in tools:
            self.register(item)

    def register(self, item: Tool | Callable[..., Any]) -> Tool:
        """Add a tool (a plain function is wrapped); a duplicate name is an error."""
        added = item if isinstance(item, Tool) else FunctionTool(item)
        if added.name in self._tools:
            raise ValueError(f"a tool named {added.name!r} is already registered")
        self._tools[added.name] = added
        return added

    def unregister(self, name: str) -> None:
        self._tools.pop(name, None)

    def get(self, name: str) -> Tool | None:
        return self._tools.get(name)

    @property
    def tools(self) -> list[Tool]:
        return list(self._tools.values())

    @property
    def definitions(self) -> list[FunctionToolDefinition]:
        return [tool.definition for tool in self._tools.values()]

    def __len__(self) -> int:
        return len(self._tools)

    def __contains__(self, name: object) -> bool:
        return name in self._tools

    async def execute(
        self, tool_call: ToolCall, *, user_id: str | None = None, roles: Sequence[str] = (), **metadata: Any
    ) -> ToolResult:
        context = ToolExecutionContext(tools=self.tools, user_id=user_id, roles=frozenset(roles), metadata=metadata)
        return await self.executor.execute_tool(tool_call, context)
