"""Cost per call (tool-declared or configured price), per-user budgets, usage counters.

A call is charged when its tool ran for it: calls an inner layer refused and answers an inner
``cache`` layer served (``metadata["cache"]`` ``hit`` or ``coalesced``) are refunded. The price
is reserved before the call (concurrent calls cannot overspend), so a call the budget cannot
cover is refused even if a cache would have answered it.
"""

from __future__ import annotations

import asyncio
import math
import sys
from collections import Counter, defaultdict
from typing import Any

from oneringai.domain.interfaces import IToolExecutor
from oneringai.domain.telemetry import span_event
from oneringai.domain.tools import ToolCall, ToolExecutionContext, ToolResult
from oneringai.infrastructure.tool_executors.config import CostExecutorConfig
from oneringai.infrastructure.tool_executors.wrapper import WrapperToolExecutor

__all__ = ["CostTrackingToolExecutor"]

#: Error codes of calls that never reached the tool (inner layers refused them): refunded.
#: The counter that ``usage()`` shows for calls to tools that do not exist.
UNKNOWN_TOOL = "(unknown tool)"
_NOT_RUN = frozenset(
    {
        "unknown_tool", "invalid_arguments", "permission_denied", "approval_required", "not_approved",
        "rate_limited", "rate_limiter_unavailable", "budget_exhausted", "invalid_price",
    }
)
#: ``metadata["cache"]`` of answers a ``cache`` layer inside this one gave without running the
#: tool (a stored result, or the result of an identical call in flight): refunded too.
_FROM_CACHE = frozenset({"hit", "coalesced"})


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
        """The configured price, else the tool's ``cost_per_call``; NaN when that is no usable
        price (negative, infinite, NaN, not a number, an int no float can hold) — such a call is refused."""
        name = tool_call.function.name
        if name in self.config.prices:
            return self.config.prices[name]
        tool = context.find_tool(name)
        price = tool.cost_per_call if tool is not None else 0.0
        if isinstance(price, bool) or not isinstance(price, int | float) or not 0 <= price <= sys.float_info.max:
            return math.nan
        return float(price)

    async def execute_tool(self, tool_call: ToolCall, context: ToolExecutionContext) -> ToolResult:
        user = context.user_id or "anonymous"
        price = self.price_of(tool_call, context)
        budget = self.config.budget_per_user
        if math.isnan(price):
            # a NaN added to ``spent`` made every later budget check false: unlimited spending
            return ToolResult.failure(
                tool_call,
                f"tool {tool_call.function.name!r} has no valid price (cost_per_call must be a finite number >= 0)",
                code="invalid_price",
            )
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
        result = await self.call_wrapped(tool_call, context)
        name = tool_call.function.name
        if result.metadata.get("code") == "unknown_tool":
            name = UNKNOWN_TOOL  # one counter for every made-up name, not one per name
        self.calls[name] += 1
        self.calls_by_user[user] += 1
        if result.is_error:
            self.errors[name] += 1
        not_run = result.is_error and result.metadata.get("code") in _NOT_RUN
        if not_run or result.metadata.get("cache") in _FROM_CACHE:
            async with self._lock:  # nothing ran for this call: refund
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
