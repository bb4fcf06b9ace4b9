"""Per-tool time limits: a call that hangs becomes an error result (retryable) — also one that
ignores cancellation, which is abandoned after a short grace (``application.tools.bounded``)."""

from __future__ import annotations

from oneringai.application.tools.bounded import bounded
from oneringai.domain.telemetry import span_event
from oneringai.domain.tools import ToolCall, ToolExecutionContext, ToolResult
from oneringai.infrastructure.tool_executors.config import TimeoutExecutorConfig
from oneringai.infrastructure.tool_executors.wrapper import WrapperToolExecutor

__all__ = ["TimeoutToolExecutor"]


class TimeoutToolExecutor(WrapperToolExecutor):
    config: TimeoutExecutorConfig
    config_model = TimeoutExecutorConfig


    async def execute_tool(self, tool_call: ToolCall, context: ToolExecutionContext) -> ToolResult:
        limit = self.config.per_tool.get(tool_call.function.name, self.config.default)
        try:
            return await bounded(self.call_wrapped(tool_call, context), limit)
        except TimeoutError:
            span_event("oneringai.tool.timeout", {"oneringai.timeout.limit": limit})
            return ToolResult.failure(
                tool_call, f"tool timed out after {limit:g}s", code="timeout", retryable=True
            )
