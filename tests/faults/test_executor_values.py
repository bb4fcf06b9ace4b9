"""Executor layer values that were accepted and then misbehaved (third adversarial review).

* ``rate_limit`` with ``per_minute`` below 1 (one call every two minutes): the memory bucket
  held 0.5 calls and Redis' limit was ``int(0.5) == 0``, so the tool never ran.
* ``per_tool: {x: 0}`` (or negative) in ``rate_limit`` / ``timeout`` and a negative price in
  ``cost.prices`` loaded fine; now ``ConfigError``s naming the YAML path.
* a tool whose ``cost_per_call`` is NaN made ``spent`` NaN: every later budget check was false,
  so the user's budget was gone for good. A negative price lowered ``spent``.
* a call an inner layer refused before the tool ran (rate limited, not approved) was charged;
  so was an answer of an inner ``cache`` layer (a second black-box judge).
"""

from __future__ import annotations

import math
import uuid
from pathlib import Path

import pytest

from oneringai import ToolExecutionContext
from oneringai.application.tools import DirectToolExecutor, FunctionTool, tool
from oneringai.config import load_settings
from oneringai.domain.errors import ConfigError
from oneringai.infrastructure.tool_executors.cost import CostTrackingToolExecutor
from oneringai.infrastructure.tool_executors.permissions import PermissionToolExecutor
from oneringai.infrastructure.tool_executors.rate_limit import RateLimitingToolExecutor
from oneringai.testing import tool_call
from tests.conftest import REDIS_URL, service_unavailable


@tool(cost=0.6)
def paid() -> str:
    """Costs 0.6 a call."""
    return "ok"


@pytest.mark.parametrize("backend", ["memory", "redis"])
async def test_a_rate_below_one_per_minute_lets_one_call_through(backend: str) -> None:
    executor = RateLimitingToolExecutor(
        DirectToolExecutor(), per_minute=0.5, backend=backend, redis_url=REDIS_URL,
        prefix=f"test:{uuid.uuid4().hex}:",
    )
    context = ToolExecutionContext(tools=[paid])
    try:
        first = await executor.execute_tool(tool_call("paid"), context)
        if backend == "redis" and first.metadata.get("code") == "rate_limiter_unavailable":
            service_unavailable("Redis", first.error or "")
        second = await executor.execute_tool(tool_call("paid"), context)
    finally:
        await executor.aclose()
    assert first.error is None and first.output == "ok", first
    assert second.metadata["code"] == "rate_limited"
    assert second.metadata["retry_after"] > 60, "one call per two minutes"


@pytest.mark.parametrize(
    ("layer", "path"),
    [
        ("{kind: rate_limit, per_tool: {search: 0}}", r"tools\.executor\[0\]\.per_tool\.search"),
        ("{kind: rate_limit, per_tool: {search: -3}}", r"tools\.executor\[0\]\.per_tool\.search"),
        ("{kind: timeout, per_tool: {search: 0}}", r"tools\.executor\[0\]\.per_tool\.search"),
        ("{kind: timeout, per_tool: {search: -1}}", r"tools\.executor\[0\]\.per_tool\.search"),
        ("{kind: cost, prices: {search: -1}}", r"tools\.executor\[0\]\.prices\.search"),
        ("{kind: cost, prices: {search: .nan}}", r"tools\.executor\[0\]\.prices\.search"),
    ],
)
def test_unusable_per_tool_values_are_config_errors(tmp_path: Path, layer: str, path: str) -> None:
    file = tmp_path / "c.yaml"
    file.write_text(f"tools:\n  executor:\n    - {layer}\n")
    with pytest.raises(ConfigError, match=path):
        load_settings(file, env={}, dotenv=None)


@pytest.mark.parametrize("price", [math.nan, math.inf, -1.0])
def test_a_tool_price_must_be_finite_and_not_negative(price: float) -> None:
    with pytest.raises(ValueError, match="cost"):
        tool(cost=price)(lambda: "x")


async def test_a_nan_price_does_not_disable_the_budget() -> None:
    poisoned = FunctionTool(lambda: "free?", name="poisoned")
    poisoned.cost_per_call = math.nan  # a hand-written Tool may declare anything
    executor = CostTrackingToolExecutor(DirectToolExecutor(), budget_per_user=1.0)
    context = ToolExecutionContext(tools=[paid, poisoned], user_id="u")
    refused = await executor.execute_tool(tool_call("poisoned"), context)
    assert refused.metadata["code"] == "invalid_price"
    outcomes = [await executor.execute_tool(tool_call("paid"), context) for _ in range(3)]
    assert [r.metadata.get("code") for r in outcomes] == [None, "budget_exhausted", "budget_exhausted"]
    assert executor.spent["u"] == pytest.approx(0.6)


async def test_a_negative_tool_price_is_refused_not_credited() -> None:
    refunder = FunctionTool(lambda: "x", name="refunder")
    refunder.cost_per_call = -100.0
    executor = CostTrackingToolExecutor(DirectToolExecutor(), budget_per_user=1.0)
    context = ToolExecutionContext(tools=[paid, refunder], user_id="u")
    assert (await executor.execute_tool(tool_call("refunder"), context)).metadata["code"] == "invalid_price"
    assert executor.spent["u"] == 0


@pytest.mark.parametrize("inner", ["rate_limited", "not_approved", "approval_required"])
async def test_calls_refused_inside_the_cost_layer_are_not_charged(inner: str) -> None:
    direct = DirectToolExecutor()
    if inner == "rate_limited":
        wrapped = RateLimitingToolExecutor(direct, per_minute=1)
    else:

        async def deny(call, context) -> bool:
            return False

        wrapped = PermissionToolExecutor(
            direct, require_approval=["paid"], approve=deny if inner == "not_approved" else None
        )
    executor = CostTrackingToolExecutor(wrapped, budget_per_user=10.0)
    context = ToolExecutionContext(tools=[paid], user_id="u")
    results = [await executor.execute_tool(tool_call("paid"), context) for _ in range(2)]
    codes = [r.metadata.get("code") for r in results]
    assert inner in codes
    ran = codes.count(None)
    assert executor.spent["u"] == pytest.approx(0.6 * ran), codes


async def test_rate_limit_buckets_of_different_users_cannot_collide() -> None:
    """User ``a`` calling ``b:tool:c`` (a name the model wrote) shared the bucket of user
    ``a:tool:b`` calling ``c`` (both were ``user:a:tool:b:tool:c``)."""
    executor = RateLimitingToolExecutor(DirectToolExecutor(), per_minute=1, scope="user_tool")
    # no tool list in the context (the layer used on its own): every name gets its bucket
    victim = ToolExecutionContext(user_id="a:tool:b")
    attacker = ToolExecutionContext(user_id="a")
    await executor.execute_tool(tool_call("b:tool:c"), attacker)
    result = await executor.execute_tool(tool_call("c"), victim)
    assert result.metadata.get("code") != "rate_limited", result


@pytest.mark.parametrize("scope", ["tool", "user_tool", "global"])
async def test_made_up_tool_names_take_no_bucket_and_no_counter(scope: str) -> None:
    """A model inventing a new tool name per call grew the memory limiter by one bucket and
    the cost layer by one counter per call (and, with scope global, used up the real tools'
    budget); such a call runs nothing, so it now passes by the limiter and is counted once."""
    limiter = RateLimitingToolExecutor(DirectToolExecutor(), per_minute=1, scope=scope)
    executor = CostTrackingToolExecutor(limiter)
    context = ToolExecutionContext(tools=[paid], user_id="u")
    for index in range(500):
        result = await executor.execute_tool(tool_call(f"made_up_{index}"), context)
        assert result.metadata["code"] == "unknown_tool"
    assert len(limiter._limiters) == 0
    assert executor.usage()["calls"] == {"(unknown tool)": 500}
    assert not (await executor.execute_tool(tool_call("paid"), context)).is_error, "the real tool's bucket is intact"
    assert (await executor.execute_tool(tool_call("paid"), context)).metadata["code"] == "rate_limited"


@pytest.mark.parametrize("concurrent", [False, True])
async def test_answers_of_a_cache_inside_the_cost_layer_are_not_charged(concurrent: bool) -> None:
    """A cached answer (``hit``) or one shared with an identical call in flight (``coalesced``)
    ran no tool: charging it spent the budget of the §4 stack (cost outside cache) on answers that
    cost nothing, and refused calls that a cache would have answered for free."""
    import asyncio

    from oneringai.infrastructure.tool_executors.cache import CachingToolExecutor

    runs = []

    @tool(cost=0.6)
    async def priced() -> str:
        """Costs 0.6 a run."""
        runs.append(1)
        await asyncio.sleep(0.05)
        return "ok"

    # room for one run and one reservation (a price is reserved before the call: whether a cache
    # will answer is known only after it)
    budget = 10.0 if concurrent else 1.3
    executor = CostTrackingToolExecutor(CachingToolExecutor(DirectToolExecutor()), budget_per_user=budget)
    context = ToolExecutionContext(tools=[priced], user_id="u")
    if concurrent:
        results = await asyncio.gather(*(executor.execute_tool(tool_call("priced"), context) for _ in range(5)))
    else:
        results = [await executor.execute_tool(tool_call("priced"), context) for _ in range(5)]
    assert [r.metadata.get("code") for r in results] == [None] * 5
    assert len(runs) == 1
    assert sorted(r.metadata["cost"] for r in results) == [0.0] * 4 + [0.6]
    assert executor.spent["u"] == pytest.approx(0.6)
    assert executor.usage()["calls"] == {"priced": 5}
