"""Limits of an ``Agent`` built in code (third adversarial review): the YAML ``agents:``
section is validated by its schema, but ``Agent(max_iterations=0)`` ended every run in a bare
``AssertionError``, ``max_parallel_tools=0`` made a response with two tool calls wait forever,
and ``client.agents.create(max_iterations=0)`` silently used the default instead."""

from __future__ import annotations

import asyncio
import math

import pytest

from oneringai import tool
from oneringai.application.agents import Agent
from oneringai.application.agents.manager import AgentManager
from oneringai.application.tools import DirectToolExecutor
from oneringai.testing import ScriptedTextProvider
from tests.faults.test_agents_model_output import calls_response


@tool
def double(n: int) -> int:
    """Twice n."""
    return 2 * n


@pytest.mark.parametrize(
    "options",
    [
        {"max_iterations": 0}, {"max_iterations": -1}, {"max_iterations": 2.5}, {"max_parallel_tools": 0},
        {"timeout": 0}, {"timeout": -1.0}, {"timeout": math.nan}, {"tool_timeout": math.inf},
        {"tool_timeout": math.nan}, {"max_tool_output_chars": 0},
    ],
    ids=repr,
)
def test_unusable_limits_are_refused_when_the_agent_is_built(options: dict[str, float]) -> None:
    (name,) = options
    with pytest.raises(ValueError, match=name):
        Agent(provider=ScriptedTextProvider(["x"]), model="m", executor=DirectToolExecutor(), **options)  # type: ignore[arg-type]


async def test_one_parallel_tool_at_a_time_still_answers_every_call() -> None:
    calls = [(f"c{i}", "double", f'{{"n": {i}}}') for i in range(3)]
    agent = Agent(
        provider=ScriptedTextProvider([calls_response(*calls), "done"]), model="m",
        executor=DirectToolExecutor(), tools=[double], max_parallel_tools=1,
    )
    assert (await asyncio.wait_for(agent.run("go"), 20)).output_text == "done"


def test_the_manager_does_not_replace_an_explicit_zero_by_the_default() -> None:
    class _Text:
        def _model_for(self, provider: object, model: object) -> str:
            return "m"

    manager = AgentManager(_Text(), DirectToolExecutor())  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="max_iterations"):
        manager.create(max_iterations=0)
    assert manager.create().max_iterations == 10
