"""The cache executor coalesces identical calls in flight (single flight per cache key).

Waiters get the leader's result under their own call id; a leader that fails shares its
error; a leader that is cancelled hands the work to a waiter; a waiter that is cancelled
does not cancel the others; different keys (arguments, users) never coalesce.
"""

from __future__ import annotations

import asyncio

import pytest

from oneringai import ToolExecutionContext, ToolResult, tool
from oneringai.application.tools import DirectToolExecutor
from oneringai.infrastructure.tool_executors.cache import CachingToolExecutor
from oneringai.testing import tool_call


class Gate:
    """A tool whose calls wait until released, counting how many ran."""

    def __init__(self) -> None:
        self.runs = 0
        self.release = asyncio.Event()
        self.fail = False

        @tool
        async def lookup(q: str) -> str:
            self.runs += 1
            await self.release.wait()
            if self.fail:
                raise ValueError("backend down")
            return q.upper()

        self.tool = lookup


async def settle(cache: CachingToolExecutor, runs: int, gate: Gate) -> None:
    for _ in range(200):  # until the leader is inside the tool and waiters are parked
        if gate.runs == runs and cache._in_flight:
            await asyncio.sleep(0)
            return
        await asyncio.sleep(0.005)
    raise AssertionError(f"expected {runs} runs, saw {gate.runs}")


async def test_three_identical_calls_run_the_tool_once():
    gate = Gate()
    cache = CachingToolExecutor(DirectToolExecutor())
    context = ToolExecutionContext(tools=[gate.tool], user_id="u")
    calls = [tool_call("lookup", q="x") for _ in range(3)]
    tasks = [asyncio.create_task(cache.execute_tool(c, context)) for c in calls]
    await settle(cache, 1, gate)
    gate.release.set()
    results: list[ToolResult] = await asyncio.gather(*tasks)
    assert gate.runs == 1 and [r.output for r in results] == ["X"] * 3
    assert [r.tool_call_id for r in results] == [c.id for c in calls]
    assert (cache.misses, cache.coalesced, cache._in_flight) == (1, 2, {})
    after = await cache.execute_tool(tool_call("lookup", q="x"), context)
    assert after.metadata["cache"] == "hit" and gate.runs == 1


async def test_different_arguments_or_users_do_not_coalesce():
    gate = Gate()
    cache = CachingToolExecutor(DirectToolExecutor())
    tasks = [
        asyncio.create_task(cache.execute_tool(tool_call("lookup", q=q), ToolExecutionContext(tools=[gate.tool], user_id=u)))
        for q, u in [("a", "u1"), ("b", "u1"), ("a", "u2")]
    ]
    await settle(cache, 3, gate)
    gate.release.set()
    await asyncio.gather(*tasks)
    assert gate.runs == 3 and cache.coalesced == 0


async def test_a_failing_leader_shares_its_error_and_nothing_is_cached():
    gate = Gate()
    gate.fail = True
    cache = CachingToolExecutor(DirectToolExecutor())
    context = ToolExecutionContext(tools=[gate.tool])
    tasks = [asyncio.create_task(cache.execute_tool(tool_call("lookup", q="x"), context)) for _ in range(3)]
    await settle(cache, 1, gate)
    gate.release.set()
    results = await asyncio.gather(*tasks)
    assert gate.runs == 1 and all(r.is_error and "backend down" in r.error for r in results)
    gate.fail = False
    again = await cache.execute_tool(tool_call("lookup", q="x"), context)
    assert not again.is_error and gate.runs == 2


@pytest.mark.parametrize("who", ["leader", "waiter"])
async def test_cancelling_one_caller_does_not_cancel_the_others(who):
    gate = Gate()
    cache = CachingToolExecutor(DirectToolExecutor())
    context = ToolExecutionContext(tools=[gate.tool])
    leader = asyncio.create_task(cache.execute_tool(tool_call("lookup", q="x"), context))
    await settle(cache, 1, gate)
    waiters = [asyncio.create_task(cache.execute_tool(tool_call("lookup", q="x"), context)) for _ in range(2)]
    await asyncio.sleep(0.01)
    victim = leader if who == "leader" else waiters[0]
    victim.cancel()
    with pytest.raises(asyncio.CancelledError):
        await victim
    if who == "leader":
        await settle(cache, 2, gate)  # a waiter took the work over
    gate.release.set()
    survivors = [t for t in [leader, *waiters] if t is not victim]
    results = await asyncio.wait_for(asyncio.gather(*survivors), 5)
    assert [r.output for r in results] == ["X"] * len(survivors)
    assert gate.runs == (2 if who == "leader" else 1) and cache._in_flight == {}


async def test_an_inner_layer_that_raises_hands_the_work_to_a_waiter():
    class Flaky(DirectToolExecutor):
        first = True

        async def execute_tool(self, tool_call, context):  # type: ignore[no-untyped-def]
            if self.first:
                self.first = False
                await asyncio.sleep(0.02)
                raise RuntimeError("inner layer bug")
            return await super().execute_tool(tool_call, context)

    gate = Gate()
    gate.release.set()
    cache = CachingToolExecutor(Flaky())
    context = ToolExecutionContext(tools=[gate.tool])
    tasks = [asyncio.create_task(cache.execute_tool(tool_call("lookup", q="x"), context)) for _ in range(2)]
    outcomes = await asyncio.gather(*tasks, return_exceptions=True)
    assert isinstance(outcomes[0], RuntimeError) and outcomes[1].output == "X"
