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
from oneringai.application.agents.support import MAX_ITERATIONS, MAX_TOOL_OUTPUT_LIMIT, AgentLimitError
from oneringai.application.tools import DirectToolExecutor
from oneringai.config import load_settings
from oneringai.domain.errors import ConfigError, OneRingAIError
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


@pytest.mark.parametrize(
    "options",
    [
        {"max_iterations": MAX_ITERATIONS + 1}, {"max_iterations": 10**9}, {"max_iterations": True},
        {"max_parallel_tools": True}, {"max_tool_output_chars": MAX_TOOL_OUTPUT_LIMIT + 1},
        {"max_tool_output_chars": 10**12}, {"timeout": True}, {"tool_timeout": False},
    ],
    ids=repr,
)
def test_limits_above_their_bound_or_booleans_are_typed_errors(options: dict[str, float]) -> None:
    """``max_iterations=10**9`` let one run call (and bill) the model for ever; ``True`` was 1."""
    (name,) = options
    with pytest.raises(AgentLimitError, match=name) as info:
        Agent(provider=ScriptedTextProvider(["x"]), model="m", executor=DirectToolExecutor(), **options)  # type: ignore[arg-type]
    assert isinstance(info.value, ConfigError | ValueError) and isinstance(info.value, OneRingAIError)


def test_the_bounds_themselves_are_accepted() -> None:
    agent = Agent(
        provider=ScriptedTextProvider(["x"]), model="m", executor=DirectToolExecutor(),
        max_iterations=MAX_ITERATIONS, max_tool_output_chars=MAX_TOOL_OUTPUT_LIMIT,
    )
    assert agent.max_iterations == 1000


def test_the_manager_refuses_an_unbounded_max_iterations() -> None:
    class _Text:
        def _model_for(self, provider: object, model: object) -> str:
            return "m"

    manager = AgentManager(_Text(), DirectToolExecutor())  # type: ignore[arg-type]
    with pytest.raises(AgentLimitError, match="at most 1000"):
        manager.create(max_iterations=MAX_ITERATIONS + 1)
    with pytest.raises(ValueError, match="max_iterations"):
        manager.create(max_iterations=True)


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("max_iterations", 1001), ("max_iterations", 10**9), ("max_tool_output_chars", 10**12),
        ("tool_threads", 10**6),
    ],
)
def test_yaml_agent_limits_above_their_bound_name_the_path(key: str, value: int) -> None:
    with pytest.raises(ConfigError, match=rf"overrides: agents\.{key}: must be less than or equal to"):
        load_settings(overrides={"agents": {key: value}}, env={}, dotenv=None)
