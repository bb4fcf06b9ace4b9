"""Cost per call (tool-declared or configured price), per-user budgets, usage counters."""

from __future__ import annotations

import asyncio
from collections import Counter, defaultdict
from typing import Any

from oneringai.domain.interfaces import IToolExecutor
from oneringai.domain.telemetry import span_event
from oneringai.domain.tools import ToolCall, ToolExecutionContext, ToolResult
from oneringai.infrastructure.tool_executors.config import CostExecutorConfig
from oneringai.infrastructure.tool_executors.wrapper import WrapperToolExecutor

__all__ = ["CostTrackingToolExecutor"]


class CostTrackingToolExecutor(WrapperToolExecutor):
    config: CostExecutorConfig
    config_model = CostExecutorConfig

    def __init__(
        self, wrapped: IToolExecutor, config: CostExecutorConfig | None = None, **kwargs: Any
    ) -> None:
        super().__init__(wrapped, config, **kwargs)
        self.spent: defaultdict[str, float] = defaultdict(float)
        self.calls: Counter[str] = Counter()
        self.errors: Counter[str] = Counter()
        self.calls_by_user: Counter[str] = Counter()
        self._lock = asyncio.Lock()

    def price_of(self, tool_call: ToolCall, context: ToolExecutionContext) -> float:
        name = tool_call.function.name
        if name in self.config.prices:
            return self.config.prices[name]
        tool = context.find_tool(name)
        return tool.cost_per_call if tool is not None else 0.0

    async def execute_tool(self, tool_call: ToolCall, context: ToolExecutionContext) -> ToolResult:
        user = context.user_id or "anonymous"
        price = self.price_of(tool_call, context)
        budget = self.config.budget_per_user
        async with self._lock:  # reserve before running so concurrent calls cannot overspend
            if budget is not None and self.spent[user] + price > budget + 1e-12:
                span_event("oneringai.tool.budget_exhausted", {"oneringai.cost.price": price})
                return ToolResult.failure(
                    tool_call,
                    f"budget exhausted for user {user!r}: spent {self.spent[user]:.4f} of {budget:.4f}, "
                    f"call costs {price:.4f}",
                    code="budget_exhausted",
                )
            self.spent[user] += price
        result = await self.wrapped.execute_tool(tool_call, context)
        name = tool_call.function.name
        self.calls[name] += 1
        self.calls_by_user[user] += 1
        if result.is_error:
            self.errors[name] += 1
            if result.metadata.get("code") in ("unknown_tool", "invalid_arguments", "permission_denied"):
                async with self._lock:  # nothing ran: refund
                    self.spent[user] -= price
                    price = 0.0
        result.metadata["cost"] = price
        return result

    def usage(self) -> dict[str, Any]:
        """Counters for analytics: calls and errors per tool, calls and spend per user."""
        return {
            "calls": dict(self.calls),
            "errors": dict(self.errors),
            "calls_by_user": dict(self.calls_by_user),
            "spent_by_user": dict(self.spent),
            "total_cost": sum(self.spent.values()),
        }
