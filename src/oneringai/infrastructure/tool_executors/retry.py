"""Retry tool calls whose error result is marked retryable, with backoff and jitter."""

from __future__ import annotations

import asyncio
import random

from oneringai.domain.telemetry import span_event
from oneringai.domain.tools import ToolCall, ToolExecutionContext, ToolResult
from oneringai.infrastructure.tool_executors.config import RetryExecutorConfig
from oneringai.infrastructure.tool_executors.wrapper import WrapperToolExecutor

__all__ = ["RetryingToolExecutor"]


class RetryingToolExecutor(WrapperToolExecutor):
    config: RetryExecutorConfig
    config_model = RetryExecutorConfig


    def delay(self, attempt: int) -> float:
        """Full jitter: uniform in [0, min(max_delay, initial * 2^(attempt-1))]."""
        cap = min(self.config.max_delay, self.config.initial_delay * 2 ** (attempt - 1))
        return random.uniform(0, cap)

    async def execute_tool(self, tool_call: ToolCall, context: ToolExecutionContext) -> ToolResult:
        attempt = 1
        while True:
            result = await self.call_wrapped(tool_call, context)
            if not result.is_error or not result.metadata.get("retryable"):
                break
            if attempt >= self.config.attempts:
                break
            wait = self.delay(attempt)
            code = result.metadata.get("code")
            span_event(
                "oneringai.tool.retry",
                {"oneringai.retry.attempt": attempt + 1, "oneringai.retry.wait": wait,
                 "oneringai.retry.reason": code if isinstance(code, str) else "tool_error"},
            )
            await asyncio.sleep(wait)
            attempt += 1
        if attempt > 1:
            result.metadata["attempts"] = attempt
        return result
