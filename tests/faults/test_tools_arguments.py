"""Tool arguments are the model's text: anything may arrive. Through the full YAML executor
stack (audit, permissions, rate limit, cache, cost, timeout, retry around the direct
executor) every input is a ``ToolResult`` answering the call — never an exception, never a
``RecursionError`` from a layer that walks the arguments, never unbounded work.
"""

from __future__ import annotations

import asyncio
import json
import math
import os
from collections.abc import Iterator, Mapping
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from oneringai import OneRingAI, Tool, ToolCall, ToolExecutionContext, ToolResult, tool
from oneringai.application.tools import DirectToolExecutor, ToolRegistry
from oneringai.config import Settings
from oneringai.domain.tools import (
    MAX_ARGUMENT_DEPTH,
    FunctionDefinition,
    FunctionToolDefinition,
    ToolArgumentsError,
    ToolCallFunction,
)
from oneringai.infrastructure.tool_executors.audit import AuditingToolExecutor
from oneringai.infrastructure.tool_executors.cache import CachingToolExecutor
from oneringai.infrastructure.tool_executors.cost import CostTrackingToolExecutor
from oneringai.infrastructure.tool_executors.permissions import PermissionToolExecutor

FULL_STACK = [
    {"kind": "audit"},
    {"kind": "permissions", "deny": ["forbidden"]},
    {"kind": "rate_limit", "per_minute": 10**9, "scope": "user_tool", "backend": "memory"},
    {"kind": "cache", "ttl": 60, "backend": "memory"},
    {"kind": "cost", "budget_per_user": 10**9, "prices": {"add": 0.01}},
    {"kind": "timeout", "default": 5},
    {"kind": "retry", "attempts": 2, "initial_delay": 0},
]
KNOWN_CODES = {"unknown_tool", "invalid_arguments", "tool_error", "permission_denied", "timeout"}


@tool
def add(a: int, b: int) -> int:
    return a + b


@tool
async def echo(text: str) -> str:
    return text


class Anything(Tool):
    """Accepts any JSON object and returns it: stresses validation-free paths and output."""

    @property
    def definition(self) -> FunctionToolDefinition:
        return FunctionToolDefinition(function=FunctionDefinition(name="anything"))

    async def execute(self, arguments: Mapping[str, Any]) -> Any:
        return {"got": arguments}


TOOLS: list[Tool] = [add, echo, Anything()]


def _settings(**extra: Any) -> Settings:
    return Settings.model_validate({
        "text": {"default": None, "providers": {}},
        "oauth": {"storage": {"kind": "memory"}},
        "tools": {"executor": FULL_STACK},
        **extra,
    })


@pytest.fixture
def stack() -> Iterator[tuple[asyncio.AbstractEventLoop, Any]]:
    """The YAML stack on a loop of our own, so hypothesis examples can reuse it."""
    loop = asyncio.new_event_loop()
    client = OneRingAI(settings=_settings())
    executor = client.agents.executor
    try:
        yield loop, executor
    finally:
        loop.run_until_complete(client.destroy())
        loop.close()


def _check(result: Any, call: ToolCall) -> ToolResult:
    assert isinstance(result, ToolResult), type(result)
    assert result.tool_call_id == call.id
    assert isinstance(result.output, str)
    result.output.encode("utf-8")  # no lone surrogates handed to a vendor
    if result.is_error:
        assert result.metadata.get("code") in KNOWN_CODES, result.metadata
    return result


def _call(name: str, arguments: str, call_id: str = "call_1") -> ToolCall:
    return ToolCall(id=call_id, function=ToolCallFunction(name=name, arguments=arguments))


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=30,
)
names = st.sampled_from(["add", "echo", "anything", "forbidden", "nope"]) | st.text(max_size=20)


def test_arbitrary_json_arguments_through_the_yaml_stack(stack):
    loop, executor = stack
    context = ToolExecutionContext(tools=TOOLS, user_id="u")

    @settings(max_examples=int(os.environ.get("ONERINGAI_FUZZ_EXAMPLES", "300")), deadline=None, suppress_health_check=list(HealthCheck))
    @given(name=names, value=json_values)
    def one(name: str, value: Any) -> None:
        call = _call(name, json.dumps(value))
        _check(loop.run_until_complete(executor.execute_tool(call, context)), call)

    one()


def test_arbitrary_garbage_text_as_arguments_through_the_yaml_stack(stack):
    loop, executor = stack
    context = ToolExecutionContext(tools=TOOLS, user_id="u")
    registry = ToolRegistry(TOOLS, executor)

    @settings(max_examples=int(os.environ.get("ONERINGAI_FUZZ_EXAMPLES", "300")), deadline=None, suppress_health_check=list(HealthCheck))
    @given(name=names, text=st.text() | st.sampled_from(['{"a": 1', "[" * 5000, "NaN", "1" * 5000, '"\\ud800"',
                                                         '{"text": "\\udfff"}', "", "   ", "\x00"]))
    def one(name: str, text: str) -> None:
        call = _call(name, text)
        _check(loop.run_until_complete(executor.execute_tool(call, context)), call)
        _check(loop.run_until_complete(registry.execute(call, user_id="v")), call)

    one()


DEEP = {
    "100k nested arrays": "[" * 100_000 + "]" * 100_000,
    "100k nested objects": '{"a":' * 100_000 + "1" + "}" * 100_000,
    "100k unbalanced": "[" * 100_000,
    "just past the depth limit": '{"text":' + "[" * MAX_ARGUMENT_DEPTH + "]" * MAX_ARGUMENT_DEPTH + "}",
    "900 deep, inside the recursion limit": '{"a":' + "[" * 900 + "]" * 900 + "}",
}


@pytest.mark.parametrize("name", sorted(DEEP))
async def test_deep_nesting_is_invalid_arguments_in_every_layer(name):
    text = DEEP[name]
    call = _call("anything", text)
    with pytest.raises(ToolArgumentsError, match="nested"):
        call.parsed_arguments()
    records: list[dict[str, Any]] = []
    stack = AuditingToolExecutor(
        PermissionToolExecutor(CachingToolExecutor(CostTrackingToolExecutor(DirectToolExecutor()))),
        on_record=records.append,
    )
    context = ToolExecutionContext(tools=TOOLS)
    result = _check(await stack.execute_tool(call, context), call)
    assert result.metadata["code"] == "invalid_arguments" and "nested" in result.error
    assert records[0]["arguments"].startswith("[unparseable arguments:")
    assert stack.find(CostTrackingToolExecutor).usage()["total_cost"] == 0  # type: ignore[union-attr]
    async with OneRingAI(settings=_settings()) as client:
        through_yaml = _check(await client.agents.executor.execute_tool(call, context), call)
    assert through_yaml.metadata["code"] == "invalid_arguments"


async def test_nesting_within_the_limit_still_works():
    value: Any = "leaf"
    for _ in range(MAX_ARGUMENT_DEPTH - 2):
        value = [value]
    call = _call("anything", json.dumps({"x": value}))
    result = _check(await DirectToolExecutor().execute_tool(call, ToolExecutionContext(tools=TOOLS)), call)
    assert not result.is_error and "leaf" in result.output


async def test_huge_arguments_are_bounded_and_the_bound_is_configurable():
    huge = _call("echo", json.dumps({"text": "x" * 2_000_000}))
    default = _check(await DirectToolExecutor().execute_tool(huge, ToolExecutionContext(tools=TOOLS)), huge)
    assert default.metadata["code"] == "invalid_arguments" and "limit is 1000000" in default.error
    small = _call("echo", json.dumps({"text": "x" * 500}))
    strict = DirectToolExecutor(max_argument_chars=100)
    assert (await strict.execute_tool(small, ToolExecutionContext(tools=TOOLS))).metadata["code"] == "invalid_arguments"
    # YAML: agents.max_tool_argument_chars reaches the direct executor of the stack
    async with OneRingAI(settings=_settings(agents={"max_tool_argument_chars": 100})) as client:
        result = await client.agents.executor.execute_tool(small, ToolExecutionContext(tools=TOOLS))
    assert result.metadata["code"] == "invalid_arguments" and "limit is 100" in result.error


async def test_lone_surrogates_nan_and_huge_integers_do_not_break_cache_or_audit():
    records: list[dict[str, Any]] = []
    stack = AuditingToolExecutor(CachingToolExecutor(DirectToolExecutor()), on_record=records.append)
    context = ToolExecutionContext(tools=TOOLS)
    surrogate = _call("echo", '{"text": "a\\ud800b"}')
    first = _check(await stack.execute_tool(surrogate, context), surrogate)
    second = _check(await stack.execute_tool(surrogate.model_copy(update={"id": "call_2"}), context),
                    surrogate.model_copy(update={"id": "call_2"}))
    assert not first.is_error and second.metadata.get("cache") == "hit"
    nan = _call("anything", '{"v": NaN, "w": -Infinity}')
    assert not _check(await stack.execute_tool(nan, context), nan).is_error
    digits = _call("anything", '{"v": ' + "9" * 5000 + "}")
    assert _check(await stack.execute_tool(digits, context), digits).metadata["code"] == "invalid_arguments"
    assert len(records) == 4 and math.isnan(records[2]["arguments"]["v"])


async def test_schema_violations_and_non_objects_name_the_problem():
    context = ToolExecutionContext(tools=TOOLS)
    cases = {'{"a": "one", "b": 2}': "a:", '{"a": 1}': "b:", "[1, 2]": "JSON object", '"text"': "JSON object",
             '{"a": 1, "b": 2, "c": 3}': "c:"}
    for text, mentions in cases.items():
        call = _call("add", text)
        result = _check(await DirectToolExecutor().execute_tool(call, context), call)
        assert result.metadata["code"] == "invalid_arguments" and mentions in result.error, (text, result.error)
