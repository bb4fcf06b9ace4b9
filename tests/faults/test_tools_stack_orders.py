"""Hypothesis: the seven executor layers in any order, around hostile tools, with concurrent
calls (third adversarial review). Whatever the order and whatever the tool does — raise any
exception, raise ``CancelledError`` by itself, hang past the time limit, return something
that is not JSON — every call gets exactly one ``ToolResult`` answering its id, with text
output a vendor accepts; nothing escapes; cost stays finite and non-negative; every audit
record is JSON."""

from __future__ import annotations

import asyncio
import json
import math
import os
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from oneringai import ToolExecutionContext, ToolResult, tool
from oneringai.application.tools import DirectToolExecutor
from oneringai.application.tools.registry import execute_safely
from oneringai.domain.tools import ToolCall, ToolCallFunction
from oneringai.infrastructure.tool_executors.audit import AuditingToolExecutor
from oneringai.infrastructure.tool_executors.cache import CachingToolExecutor
from oneringai.infrastructure.tool_executors.cost import CostTrackingToolExecutor
from oneringai.infrastructure.tool_executors.permissions import PermissionToolExecutor
from oneringai.infrastructure.tool_executors.rate_limit import RateLimitingToolExecutor
from oneringai.infrastructure.tool_executors.retry import RetryingToolExecutor
from oneringai.infrastructure.tool_executors.timeout import TimeoutToolExecutor
from oneringai.infrastructure.tool_executors.wrapper import WrapperToolExecutor


class _SelfRef:
    def __init__(self) -> None:
        self.me = [self]

    def __str__(self) -> str:
        raise RuntimeError("no str")

    def __repr__(self) -> str:
        raise RuntimeError("no repr")


class _Odd(BaseException):
    """Neither Exception nor a process exit."""


BEHAVIOURS: dict[str, Any] = {
    "ok": lambda: {"fine": True},
    "value_error": lambda: (_ for _ in ()).throw(ValueError("bad")),
    "odd_base_exception": lambda: (_ for _ in ()).throw(_Odd("odd")),
    "own_cancel": lambda: (_ for _ in ()).throw(asyncio.CancelledError()),
    "stop_iteration": lambda: (_ for _ in ()).throw(StopIteration()),
    "connection_error": lambda: (_ for _ in ()).throw(ConnectionError("down")),
    "set": lambda: {1, 2, 3},
    "bytes": lambda: b"\xff\xfe",
    "unprintable": _SelfRef,
    "surrogate": lambda: "\ud800 text",
    "huge": lambda: "x" * 300_000,
    "nan": lambda: float("nan"),
}


def _make_tool(kind: str) -> Any:
    produce = BEHAVIOURS.get(kind)

    if kind == "hang":

        async def hang(n: int = 0) -> str:
            """Sleeps past the time limit."""
            await asyncio.sleep(30)
            return "late"

        return tool(name="hang")(hang)

    async def run(n: int = 0) -> Any:
        """A hostile behaviour."""
        assert produce is not None
        return produce()

    return tool(name=kind, cost=0.5)(run)


TOOLS = [_make_tool(kind) for kind in [*BEHAVIOURS, "hang"]]
LAYERS = ["audit", "permissions", "rate_limit", "cache", "cost", "timeout", "retry"]


def _stack(order: list[str], records: list[dict[str, Any]]) -> WrapperToolExecutor | DirectToolExecutor:
    executor: Any = DirectToolExecutor()
    for kind in reversed(order):
        if kind == "audit":
            executor = AuditingToolExecutor(executor, on_record=records.append)
        elif kind == "permissions":
            executor = PermissionToolExecutor(executor, deny=["VALUE_ERROR"])
        elif kind == "rate_limit":
            executor = RateLimitingToolExecutor(executor, per_minute=20, scope="user_tool")
        elif kind == "cache":
            executor = CachingToolExecutor(executor, ttl=60)
        elif kind == "cost":
            executor = CostTrackingToolExecutor(executor, budget_per_user=3.0)
        elif kind == "timeout":
            executor = TimeoutToolExecutor(executor, default=0.05)
        else:
            executor = RetryingToolExecutor(executor, attempts=2, initial_delay=0, max_delay=0)
    return executor


@settings(
    max_examples=int(os.environ.get("ONERINGAI_FUZZ_EXAMPLES", "60")), deadline=None,
    suppress_health_check=list(HealthCheck),
)
@given(
    order=st.permutations(LAYERS).flatmap(lambda p: st.integers(0, len(p)).map(lambda k: list(p[:k]))),
    calls=st.lists(
        st.tuples(st.sampled_from([*BEHAVIOURS, "hang", "nope", "Ok"]), st.sampled_from(["{}", '{"n": 1}', '{"n": "x"}', "[", "null"])),
        min_size=1, max_size=8,
    ),
)
def test_any_layer_order_answers_every_call(order: list[str], calls: list[tuple[str, str]]) -> None:
    async def scenario() -> None:
        if "timeout" not in order:  # without a time limit a hanging tool hangs: not this test's subject
            calls[:] = [(name, arguments) for name, arguments in calls if name != "hang"] or [("ok", "{}")]
        records: list[dict[str, Any]] = []
        executor = _stack(order, records)
        context = ToolExecutionContext(tools=TOOLS, user_id="u")
        tool_calls = [
            ToolCall(id=f"call_{i}", function=ToolCallFunction(name=name, arguments=arguments))
            for i, (name, arguments) in enumerate(calls)
        ]
        results = await asyncio.wait_for(
            asyncio.gather(*(execute_safely(executor, call, context) for call in tool_calls)), 30
        )
        for call, result in zip(tool_calls, results, strict=True):
            assert isinstance(result, ToolResult)
            assert result.tool_call_id == call.id
            result.output.encode("utf-8")
            assert len(result.output) <= 100_000 + 100
            if result.is_error:
                assert isinstance(result.metadata.get("code"), str), result
                assert result.metadata["code"] != "executor_error", result
        cost = executor.find(CostTrackingToolExecutor) if isinstance(executor, WrapperToolExecutor) else None
        if cost is not None:
            spent = cost.usage()["total_cost"]
            assert math.isfinite(spent) and spent >= -1e-9, spent
            assert spent <= 3.0 + 1e-9, "the budget holds under concurrency"
        for record in records:
            json.dumps(record)
        if isinstance(executor, WrapperToolExecutor):
            await executor.aclose()

    asyncio.run(scenario())
