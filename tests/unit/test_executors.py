"""Each decorator alone and stacked; every failure is an error ToolResult."""

import asyncio
import json
import logging
import time

import pytest

from oneringai import ToolExecutionContext, ToolExecutionError
from oneringai.application.tools import DirectToolExecutor, tool
from oneringai.domain.errors import OneRingAIError
from oneringai.infrastructure.tool_executors.audit import AuditingToolExecutor
from oneringai.infrastructure.tool_executors.cache import CachingToolExecutor
from oneringai.infrastructure.tool_executors.cost import CostTrackingToolExecutor
from oneringai.infrastructure.tool_executors.permissions import PermissionToolExecutor
from oneringai.infrastructure.tool_executors.rate_limit import RateLimitingToolExecutor
from oneringai.infrastructure.tool_executors.retry import RetryingToolExecutor
from oneringai.infrastructure.tool_executors.timeout import TimeoutToolExecutor
from oneringai.testing import tool_call

calls: list[str] = []


@tool
def add(a: int, b: int = 1) -> int:
    """Add two numbers.

    More text that is not part of the description."""
    calls.append("add")
    return a + b


@tool(cacheable=False, cost=0.5)
async def now() -> float:
    """Current time."""
    return time.time()


@tool
async def hang() -> None:
    await asyncio.sleep(60)


@tool
def boom() -> None:
    raise RuntimeError("kaboom")


flaky_state = {"n": 0}


@tool
def flaky() -> str:
    flaky_state["n"] += 1
    if flaky_state["n"] < 3:
        raise ToolExecutionError("try again", is_retryable=True)
    return "ok"


CTX = ToolExecutionContext(tools=[add, now, hang, boom, flaky], user_id="alice")


def test_schema_from_type_hints():
    spec = add.definition.function
    assert spec.name == "add" and spec.description == "Add two numbers."
    assert spec.parameters["properties"]["a"] == {"type": "integer"}
    assert spec.parameters["required"] == ["a"]


@pytest.mark.parametrize(
    ("call", "code"),
    [
        (tool_call("nope"), "unknown_tool"),
        (tool_call("add", b=2), "invalid_arguments"),
        (tool_call("add", a="x"), "invalid_arguments"),
        (tool_call("add", a=1, c=3), "invalid_arguments"),
        (tool_call("boom"), "tool_error"),
    ],
)
async def test_direct_executor_turns_failures_into_results(call, code):
    result = await DirectToolExecutor().execute_tool(call, CTX)
    assert result.is_error and result.metadata["code"] == code
    assert result.tool_call_id == call.id


async def test_direct_executor_invalid_json():
    call = tool_call("add")
    call.function.arguments = "{not json"
    result = await DirectToolExecutor().execute_tool(call, CTX)
    assert result.metadata["code"] == "invalid_arguments" and "not valid JSON" in result.error


async def test_direct_executor_runs_sync_and_async():
    result = await DirectToolExecutor().execute_tool(tool_call("add", a=2, b=3), CTX)
    assert result.output == "5" and not result.is_error


async def test_retry_only_retryable():
    flaky_state["n"] = 0
    executor = RetryingToolExecutor(DirectToolExecutor(), attempts=3, initial_delay=0.001)
    result = await executor.execute_tool(tool_call("flaky"), CTX)
    assert result.output == "ok" and result.metadata["attempts"] == 3
    boom_result = await executor.execute_tool(tool_call("boom"), CTX)
    assert boom_result.is_error and "attempts" not in boom_result.metadata


async def test_timeout():
    executor = TimeoutToolExecutor(DirectToolExecutor(), default=0.05)
    started = time.monotonic()
    result = await executor.execute_tool(tool_call("hang"), CTX)
    assert result.metadata["code"] == "timeout" and time.monotonic() - started < 5


async def test_memory_rate_limit_per_tool():
    executor = RateLimitingToolExecutor(DirectToolExecutor(), per_minute=2, scope="tool")
    results = [await executor.execute_tool(tool_call("add", a=1), CTX) for _ in range(3)]
    assert [r.is_error for r in results] == [False, False, True]
    assert results[2].metadata["code"] == "rate_limited" and results[2].metadata["retry_after"] > 0
    other = await executor.execute_tool(tool_call("now"), CTX)
    assert not other.is_error


async def test_rate_limit_per_user():
    executor = RateLimitingToolExecutor(DirectToolExecutor(), per_minute=1, scope="user")
    bob = CTX.model_copy(update={"user_id": "bob"})
    assert not (await executor.execute_tool(tool_call("add", a=1), CTX)).is_error
    assert (await executor.execute_tool(tool_call("add", a=1), CTX)).is_error
    assert not (await executor.execute_tool(tool_call("add", a=1), bob)).is_error


async def test_cache_hits_skips_errors_and_opt_out():
    calls.clear()
    executor = CachingToolExecutor(DirectToolExecutor(), ttl=60)
    first = await executor.execute_tool(tool_call("add", a=1, b=2), CTX)
    second = await executor.execute_tool(tool_call("add", b=2, a=1), CTX)  # same canonical args
    assert first.output == second.output == "3" and calls == ["add"]
    assert second.metadata["cache"] == "hit"
    other_user = await executor.execute_tool(tool_call("add", a=1, b=2), CTX.model_copy(update={"user_id": "bob"}))
    assert "cache" not in other_user.metadata
    await executor.execute_tool(tool_call("boom"), CTX)
    again = await executor.execute_tool(tool_call("boom"), CTX)
    assert again.is_error and "cache" not in again.metadata
    t1 = await executor.execute_tool(tool_call("now"), CTX)
    t2 = await executor.execute_tool(tool_call("now"), CTX)
    assert "cache" not in t1.metadata and "cache" not in t2.metadata  # cacheable=False


async def test_cache_lru_bound():
    executor = CachingToolExecutor(DirectToolExecutor(), ttl=60, max_entries=2)
    for a in range(3):
        await executor.execute_tool(tool_call("add", a=a), CTX)
    assert len(executor._entries) == 2


async def test_permissions():
    executor = PermissionToolExecutor(
        DirectToolExecutor(), deny=["boom"], users={"alice": {"deny": ["now"]}}, roles={"admin": {"allow": ["*"]}}
    )
    assert (await executor.execute_tool(tool_call("boom"), CTX)).metadata["code"] == "permission_denied"
    assert (await executor.execute_tool(tool_call("now"), CTX)).metadata["code"] == "permission_denied"
    assert not (await executor.execute_tool(tool_call("add", a=1), CTX)).is_error
    only = PermissionToolExecutor(DirectToolExecutor(), allow=["add"])
    assert (await only.execute_tool(tool_call("now"), CTX)).metadata["code"] == "permission_denied"


async def test_approval_callback():
    decisions = []

    async def approve(call, context):
        decisions.append(call.function.name)
        return context.user_id == "alice"

    executor = PermissionToolExecutor(DirectToolExecutor(), require_approval=["add"], approve=approve)
    assert not (await executor.execute_tool(tool_call("add", a=1), CTX)).is_error
    bob = CTX.model_copy(update={"user_id": "bob"})
    assert (await executor.execute_tool(tool_call("add", a=1), bob)).metadata["code"] == "not_approved"
    no_approver = PermissionToolExecutor(DirectToolExecutor(), require_approval=["add"])
    assert (await no_approver.execute_tool(tool_call("add", a=1), CTX)).metadata["code"] == "approval_required"


async def test_cost_budget_and_usage():
    executor = CostTrackingToolExecutor(DirectToolExecutor(), budget_per_user=1.0, prices={"add": 0.25})
    results = [await executor.execute_tool(tool_call("now"), CTX) for _ in range(3)]  # 0.5 each
    assert [r.is_error for r in results] == [False, False, True]
    assert results[2].metadata["code"] == "budget_exhausted"
    usage = executor.usage()
    assert usage["spent_by_user"]["alice"] == pytest.approx(1.0) and usage["calls"]["now"] == 2


async def test_audit_record_redacts_secrets(caplog):
    @tool
    def login(user: str, password: str) -> str:
        return "ok"

    records = []
    executor = AuditingToolExecutor(DirectToolExecutor(), on_record=records.append)
    context = CTX.model_copy(update={"tools": [login]})
    await executor.execute_tool(tool_call("login", user="a", password="hunter2"), context)
    await executor.execute_tool(tool_call("nope"), context)
    assert records[0]["arguments"] == {"user": "a", "password": "[REDACTED]"} and records[0]["outcome"] == "ok"
    assert records[1]["outcome"] == "error" and records[1]["error_code"] == "unknown_tool"
    caplog.set_level(logging.INFO, logger="oneringai.audit")
    await AuditingToolExecutor(DirectToolExecutor()).execute_tool(tool_call("login", user="a", password="hunter2"), context)
    assert "hunter2" not in caplog.text and '"tool": "login"' in caplog.text


async def test_stack_from_yaml_outermost_first():
    from oneringai import OneRingAI
    from oneringai.config import Settings
    from oneringai.infrastructure.tool_executors.wrapper import WrapperToolExecutor

    settings = Settings.model_validate({"tools": {"executor": [
        {"kind": "audit"}, {"kind": "permissions", "deny": ["boom"]}, {"kind": "cost", "prices": {"add": 1}},
        {"kind": "rate_limit", "per_minute": 100}, {"kind": "cache"}, {"kind": "timeout", "default": 1},
        {"kind": "retry", "attempts": 2},
    ]}})
    async with OneRingAI(settings=settings) as client:
        stack = client.agents.executor
        kinds = []
        layer = stack
        while isinstance(layer, WrapperToolExecutor):
            kinds.append(type(layer).__name__)
            layer = layer.wrapped
        assert kinds == ["AuditingToolExecutor", "PermissionToolExecutor", "CostTrackingToolExecutor",
                         "RateLimitingToolExecutor", "CachingToolExecutor", "TimeoutToolExecutor", "RetryingToolExecutor"]
        assert type(layer).__name__ == "DirectToolExecutor"
        denied = await stack.execute_tool(tool_call("boom"), CTX)
        assert denied.metadata["code"] == "permission_denied"
        cost = stack.find(CostTrackingToolExecutor)
        await stack.execute_tool(tool_call("add", a=1), CTX)
        assert cost.usage()["total_cost"] == 1


async def test_rate_limit_wait_mode_waits_instead_of_failing():
    executor = RateLimitingToolExecutor(DirectToolExecutor(), per_minute=600, burst=1, on_limit="wait", max_wait=2)
    started = time.monotonic()
    results = [await executor.execute_tool(tool_call("add", a=1), CTX) for _ in range(3)]
    assert not any(r.is_error for r in results)
    assert time.monotonic() - started >= 0.15  # 600/min with burst 1: one slot per 0.1 s


async def test_tool_registry_runs_through_its_executor():
    from oneringai import ToolRegistry

    registry = ToolRegistry([add], CostTrackingToolExecutor(DirectToolExecutor(), prices={"add": 2}))
    registry.register(now)
    with pytest.raises(ValueError, match="already registered") as clash:
        registry.register(add)
    assert isinstance(clash.value, OneRingAIError) and clash.value.tool_name == "add"
    assert "add" in registry and len(registry) == 2
    assert [d.function.name for d in registry.definitions] == ["add", "now"]
    result = await registry.execute(tool_call("add", a=2, b=2), user_id="zed")
    assert result.output == "4" and result.metadata["cost"] == 2
    registry.unregister("add")
    assert (await registry.execute(tool_call("add", a=1))).metadata["code"] == "unknown_tool"


async def test_permissions_empty_allow_list_allows_nothing_and_roles_can_widen():
    nothing = PermissionToolExecutor(DirectToolExecutor(), allow=[])
    assert (await nothing.execute_tool(tool_call("add", a=1), CTX)).metadata["code"] == "permission_denied"
    widened = PermissionToolExecutor(DirectToolExecutor(), allow=[], roles={"admin": {"allow": ["add"]}})
    admin = CTX.model_copy(update={"roles": frozenset({"admin"})})
    assert not (await widened.execute_tool(tool_call("add", a=1), admin)).is_error
    assert (await widened.execute_tool(tool_call("add", a=1), CTX)).is_error


async def test_structured_results_are_json():
    import dataclasses

    from pydantic import BaseModel

    class Forecast(BaseModel):
        city: str
        temps: list[int]

    @dataclasses.dataclass
    class Point:
        x: int
        y: int

    @tool
    def forecast() -> Forecast:
        return Forecast(city="Oslo", temps=[1, 2])

    @tool
    def point() -> dict:
        return {"p": Point(1, 2), "tags": {"a"}}

    context = ToolExecutionContext(tools=[forecast, point])
    assert json.loads((await DirectToolExecutor().execute_tool(tool_call("forecast"), context)).output) == {"city": "Oslo", "temps": [1, 2]}
    assert json.loads((await DirectToolExecutor().execute_tool(tool_call("point"), context)).output) == {"p": {"x": 1, "y": 2}, "tags": ["a"]}
