"""A stream paused (or abandoned) while its parallel tool calls run, then superseded by a new
run or ``reset()``: the new run answers those calls as cancelled, so the tools must stop —
before, they ran on in the background and did their work after the model was told they had not.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest

from oneringai import tool
from oneringai.application.agents import Agent
from oneringai.application.tools import DirectToolExecutor
from oneringai.testing import ScriptedTextProvider, tool_call
from tests.faults.test_agents_history import validate_history, validate_requests

effects: list[int] = []


@tool
async def side_effect(n: int) -> str:
    """Waits, then does something that cannot be undone."""
    await asyncio.sleep(0.05 * n)
    effects.append(n)
    return f"did {n}"


async def paused_in_tools(agent: Agent) -> Any:
    """A stream read up to its first tool execution event, then left paused there."""
    stream = agent.stream("go")
    async for event in stream:
        if event.type == "response.tool_execution.start":
            return stream
    raise AssertionError("no tool execution started")


@pytest.mark.parametrize("how", ["new run", "reset"])
async def test_superseding_a_paused_stream_stops_its_running_tools(how):
    effects.clear()
    provider = ScriptedTextProvider([[tool_call("side_effect", n=1), tool_call("side_effect", n=2)], "second answer"])
    agent = Agent(provider=provider, model="m", executor=DirectToolExecutor(), tools=[side_effect])
    stream = await paused_in_tools(agent)
    await asyncio.sleep(0)  # the tool tasks start
    if how == "new run":
        assert (await agent.run("something else")).output_text == "second answer"
        results = [part for message in agent.messages for part in message.content if part.type == "tool_result"]
        assert [json.loads(str(r.content))["code"] for r in results] == ["cancelled", "cancelled"]
        validate_history(agent.messages)
        validate_requests(provider.requests)
    else:
        agent.reset()
    await asyncio.sleep(0.3)  # past both tools' end, had they gone on
    assert effects == [], "a tool answered as cancelled went on and did its work"
    await stream.aclose()
