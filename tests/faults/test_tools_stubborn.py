"""Tools that ignore cancellation (third adversarial review).

``asyncio.timeout`` cancels once and then waits: a tool that catches ``CancelledError`` and
keeps going held the ``timeout`` layer and ``agents.tool_timeout`` until it chose to stop —
forever for a loop. Now the call is abandoned after a short grace and answered ``timeout``;
a cancelled caller is still cancelled.
"""

from __future__ import annotations

import asyncio
import json

import pytest

from oneringai import tool
from oneringai.application.agents import Agent
from oneringai.application.tools import DirectToolExecutor
from oneringai.application.tools.bounded import bounded
from oneringai.domain.tools import ToolCall, ToolCallFunction, ToolExecutionContext
from oneringai.infrastructure.tool_executors.timeout import TimeoutToolExecutor
from oneringai.testing import ScriptedTextProvider
from tests.faults.test_agents_history import validate_history
from tests.faults.test_agents_model_output import calls_response, fed_back

#: A guard against a hang, far above limit + grace: the test fails instead of blocking CI.
HANG_GUARD = 20.0
STOP = asyncio.Event()


async def _stubborn_forever() -> str:
    """Ignores every cancellation until the test releases it."""
    while not STOP.is_set():
        try:
            await asyncio.sleep(0.05)
        except asyncio.CancelledError:
            continue
    return "finished on its own terms"


@tool
async def stubborn() -> str:
    """Never stops when asked."""
    return await _stubborn_forever()


def _call(name: str, call_id: str = "c1") -> ToolCall:
    return ToolCall(id=call_id, function=ToolCallFunction(name=name, arguments="{}"))


@pytest.fixture(autouse=True)
async def _release_stubborn_tools():
    """Abandoned tools end once the test is over (before the event loop closes: closing
    cancels every task and waits for it, which a stubborn tool would never allow)."""
    STOP.clear()
    yield
    STOP.set()
    import oneringai.application.tools.bounded as module

    while module._ABANDONED:
        await asyncio.sleep(0.05)


async def test_the_timeout_layer_answers_a_tool_that_ignores_cancellation() -> None:
    executor = TimeoutToolExecutor(DirectToolExecutor(), default=0.1)
    context = ToolExecutionContext(tools=[stubborn])
    result = await asyncio.wait_for(executor.execute_tool(_call("stubborn"), context), HANG_GUARD)
    assert result.is_error and result.metadata["code"] == "timeout", result
    assert result.metadata["retryable"] is True


@pytest.mark.parametrize("parallel", [False, True], ids=["one call", "parallel calls"])
async def test_an_agent_run_ends_although_a_tool_ignores_cancellation(parallel: bool) -> None:
    @tool
    def quick(n: int) -> str:
        """Answers at once."""
        return f"quick {n}"

    calls = [("a", "stubborn", "{}")] + ([("b", "quick", json.dumps({"n": 1}))] if parallel else [])
    provider = ScriptedTextProvider([calls_response(*calls), "done"])
    agent = Agent(
        provider=provider, model="m", executor=DirectToolExecutor(), tools=[stubborn, quick], tool_timeout=0.1
    )
    response = await asyncio.wait_for(agent.run("go"), HANG_GUARD)
    assert response.output_text == "done"
    results = {r.tool_use_id: r for r in fed_back(agent)}
    assert json.loads(results["a"].content)["code"] == "timeout"
    if parallel:
        assert results["b"].error is None and "quick 1" in results["b"].content, "nothing lost"
    validate_history(agent.messages)


async def test_a_cancelled_caller_is_cancelled_although_the_tool_ignores_it() -> None:
    started = asyncio.Event()

    async def work() -> str:
        started.set()
        return await _stubborn_forever()

    task = asyncio.create_task(bounded(work(), 60.0, grace=0.1))
    await started.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await asyncio.wait_for(task, HANG_GUARD)


async def test_a_caller_cancelled_during_the_grace_is_cancelled_not_timed_out() -> None:
    started = asyncio.Event()

    async def work() -> str:
        started.set()
        return await _stubborn_forever()

    task = asyncio.create_task(bounded(work(), 0.05, grace=60.0))
    await started.wait()
    await asyncio.sleep(0.2)  # past the limit: now in the grace
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await asyncio.wait_for(task, HANG_GUARD)


async def test_work_that_finishes_in_time_returns_its_value_and_its_errors() -> None:
    async def value() -> int:
        return 7

    async def failing() -> int:
        raise KeyError("k")

    assert await bounded(value(), 5.0) == 7
    assert await bounded(value(), None) == 7
    with pytest.raises(KeyError):
        await bounded(failing(), 5.0)


@pytest.mark.parametrize("error", [KeyboardInterrupt, SystemExit])
async def test_process_exits_raised_under_a_time_limit_reach_the_caller(error: type[BaseException]) -> None:
    """In a task of its own they would stop the event loop instead of reaching the ``await``."""

    @tool
    async def stop() -> None:
        """Stops the process."""
        raise error()

    executor = TimeoutToolExecutor(DirectToolExecutor(), default=5.0)
    with pytest.raises(error):
        await executor.execute_tool(_call("stop"), ToolExecutionContext(tools=[stop]))
