"""A response with thousands of tool calls (a hostile or looping server): at most
``MAX_TOOL_CALLS_PER_RESPONSE`` run, every other call is answered with an error result, the
history stays valid and the run goes on (found by the adversarial review, issue #10 class 4)."""

from __future__ import annotations

import json

import pytest

from oneringai import tool
from oneringai.application.agents import Agent
from oneringai.application.agents.history import MAX_TOOL_CALLS_PER_RESPONSE
from oneringai.application.tools import DirectToolExecutor
from oneringai.testing import ScriptedTextProvider
from tests.faults.test_agents_history import validate_history, validate_requests
from tests.faults.test_agents_model_output import calls_response, fed_back

RUNS: list[str] = []


@tool
def record(n: int) -> str:
    """Counts its calls."""
    RUNS.append(str(n))
    return "ok"


@pytest.mark.parametrize("count", [MAX_TOOL_CALLS_PER_RESPONSE, MAX_TOOL_CALLS_PER_RESPONSE + 1, 5000])
@pytest.mark.parametrize("streaming", [False, True], ids=["run", "stream"])
async def test_only_a_bounded_number_of_calls_run_and_all_are_answered(count: int, streaming: bool) -> None:
    RUNS.clear()
    calls = [(f"c{i}", "record", json.dumps({"n": i})) for i in range(count)]
    provider = ScriptedTextProvider([calls_response(*calls), "done"])
    agent = Agent(provider=provider, model="m", executor=DirectToolExecutor(), tools=[record], max_parallel_tools=8)
    if streaming:
        response = [e async for e in agent.stream("go")][-1].response
    else:
        response = await agent.run("go")
    assert response.output_text == "done"
    assert len(RUNS) == min(count, MAX_TOOL_CALLS_PER_RESPONSE)
    results = fed_back(agent)
    assert [r.tool_use_id for r in results] == [c[0] for c in calls], "every call answered, in order"
    refused = [r for r in results if r.error and json.loads(r.content)["code"] == "too_many_tool_calls"]
    assert len(refused) == max(0, count - MAX_TOOL_CALLS_PER_RESPONSE)
    validate_history(agent.messages)
    validate_requests(provider.requests)


def test_an_agent_built_in_code_bounds_its_tools_like_yaml_does() -> None:
    """``Agent(...)`` without ``tool_timeout`` let a hung tool hang the run forever; it now has
    the ``agents.tool_timeout`` default (an explicit None still means no bound)."""
    from oneringai.application.agents.config import AgentSettings

    agent = Agent(provider=ScriptedTextProvider(["x"]), model="m", executor=DirectToolExecutor(), tools=[record])
    assert agent.tool_timeout == AgentSettings().tool_timeout
    unbounded = Agent(provider=ScriptedTextProvider(["x"]), model="m", executor=DirectToolExecutor(), tool_timeout=None)
    assert unbounded.tool_timeout is None
