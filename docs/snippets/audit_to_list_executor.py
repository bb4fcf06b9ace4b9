"""A custom decorator executor: extend WrapperToolExecutor, call ``self.wrapped`` to go inward."""

from __future__ import annotations

import time
from typing import Any

from oneringai import ToolCall, ToolExecutionContext, ToolResult, WrapperToolExecutor


class UsageAnalyticsExecutor(WrapperToolExecutor):
    """Counts calls and time per tool. Plugs in from YAML through the entry point group
    ``oneringai.tool_executors`` (constructor: ``(wrapped, config)``) or by override."""

    def __init__(self, wrapped: Any, config: Any = None) -> None:
        super().__init__(wrapped, config)
        self.stats: dict[str, list[float]] = {}

    async def execute_tool(self, tool_call: ToolCall, context: ToolExecutionContext) -> ToolResult:
        started = time.perf_counter()
        result = await self.wrapped.execute_tool(tool_call, context)
        self.stats.setdefault(tool_call.function.name, []).append(time.perf_counter() - started)
        return result


async def demo() -> dict[str, int]:
    from oneringai import DirectToolExecutor, tool
    from oneringai.testing import tool_call

    @tool
    def double(x: int) -> int:
        return 2 * x

    executor = UsageAnalyticsExecutor(DirectToolExecutor())
    for value in range(3):
        await executor.execute_tool(tool_call("double", x=value), ToolExecutionContext(tools=[double]))
    return {name: len(times) for name, times in executor.stats.items()}
