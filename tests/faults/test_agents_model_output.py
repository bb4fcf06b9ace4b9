"""Whatever the model asks for and whatever user code in the tool path does, the agent feeds
an error result back to the model and carries on — never a crash, never an invalid history.
"""

from __future__ import annotations

import asyncio
import json
import os
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from oneringai import LLMResponse, Message, MessageRole, ToolResult, ToolUseContent, Usage, tool
from oneringai.application.agents import Agent, AgentHooks
from oneringai.application.tools import DirectToolExecutor
from oneringai.domain.errors import ProviderResponseError
from oneringai.domain.events import ResponseCreatedEvent
from oneringai.domain.interfaces import IToolExecutor
from oneringai.testing import ScriptedTextProvider
from tests.faults.test_agents_history import validate_history, validate_requests


@tool
def get_weather(city: str, days: int = 1) -> dict[str, Any]:
    """Weather for a city."""
    return {"city": city, "days": days}


def calls_response(*parts: tuple[str, str, str]) -> LLMResponse:
    """A model turn with tool calls given as (id, name, raw arguments text)."""
    return LLMResponse(
        output=[Message(role=MessageRole.ASSISTANT, content=[ToolUseContent(id=i, name=n, arguments=a) for i, n, a in parts])],
        usage=Usage(input_tokens=1, output_tokens=1, total_tokens=2),
        stop_reason="tool_calls",
    )


def fed_back(agent: Agent) -> list[Any]:
    return [p for m in agent.messages for p in m.content if p.type == "tool_result"]


BAD_CALLS = {
    "unknown tool": (("c1", "get_wether", '{"city": "Oslo"}'), "unknown_tool"),
    "malformed JSON": (("c1", "get_weather", '{"city": "Oslo"'), "invalid_arguments"),
    "wrong type": (("c1", "get_weather", '{"city": "Oslo", "days": "many"}'), "invalid_arguments"),
    "missing required": (("c1", "get_weather", '{"days": 2}'), "invalid_arguments"),
    "extra property": (("c1", "get_weather", '{"city": "Oslo", "country": "NO"}'), "invalid_arguments"),
    "array instead of object": (("c1", "get_weather", '["Oslo"]'), "invalid_arguments"),
    "100k nesting": (("c1", "get_weather", "[" * 100_000 + "]" * 100_000), "invalid_arguments"),
    "empty name": (("c1", "", "{}"), "unknown_tool"),
    "binary garbage": (("c1", "get_weather", "\x00\udcff\x1b[31m"), "invalid_arguments"),
}


@pytest.mark.parametrize("name", sorted(BAD_CALLS))
@pytest.mark.parametrize("streaming", [False, True], ids=["run", "stream"])
async def test_bad_tool_calls_are_error_results_fed_back(name, streaming):
    call, code = BAD_CALLS[name]
    provider = ScriptedTextProvider([calls_response(call), "recovered"])
    agent = Agent(provider=provider, model="m", executor=DirectToolExecutor(), tools=[get_weather])
    if streaming:
        events = [e async for e in agent.stream("go")]
        response = events[-1].response
    else:
        response = await agent.run("go")
    assert response.output_text == "recovered"
    [result] = fed_back(agent)
    assert json.loads(result.content)["code"] == code and result.error
    validate_history(agent.messages)
    validate_requests(provider.requests)


async def test_duplicate_and_empty_call_ids_get_unique_ids_and_one_result_each():
    provider = ScriptedTextProvider([
        calls_response(("same", "get_weather", '{"city": "A"}'), ("same", "get_weather", '{"city": "B"}'),
                       ("", "get_weather", '{"city": "C"}'), ("", "get_weather", '{"city": "D"}')),
        "ok",
    ])
    agent = Agent(provider=provider, model="m", executor=DirectToolExecutor(), tools=[get_weather])
    await agent.run("go")
    validate_history(agent.messages)
    validate_requests(provider.requests)
    assert [json.loads(r.content)["city"] for r in fed_back(agent)] == ["A", "B", "C", "D"]
    assert agent.messages[1].content[0].id == "same"  # the first keeps the model's id


async def test_an_empty_model_turn_adds_no_empty_message():
    empty = LLMResponse(output=[Message(role=MessageRole.ASSISTANT, content=[])], stop_reason="complete")
    provider = ScriptedTextProvider([empty, "second"])
    agent = Agent(provider=provider, model="m", executor=DirectToolExecutor())
    assert (await agent.run("go")).output_text == ""
    assert (await agent.run("again")).output_text == "second"
    validate_history(agent.messages)
    validate_requests(provider.requests)


class Misbehaving(IToolExecutor):
    def __init__(self, behaviour: str) -> None:
        self.behaviour = behaviour

    async def execute_tool(self, tool_call, context):  # type: ignore[no-untyped-def]
        match self.behaviour:
            case "returns None":
                return None
            case "returns the guide's literal":  # {tool_call_id, output}: read as a ToolResult
                return {"tool_call_id": tool_call.id, "output": "right output"}
            case "returns another dict":
                return {"result": "x"}
            case "wrong id":
                return ToolResult(tool_call_id="someone-else", output="right output")
            case "raises":
                raise RuntimeError("executor bug")
            case "raises CancelledError":
                raise asyncio.CancelledError
            case "raises TimeoutError":
                raise TimeoutError("inner")
            case "huge output":
                return ToolResult(tool_call_id=tool_call.id, output="y" * 1_000_000)
        raise AssertionError(self.behaviour)


@pytest.mark.parametrize("behaviour", ["returns None", "returns the guide's literal", "returns another dict", "wrong id", "raises", "raises CancelledError",
                                       "raises TimeoutError", "huge output"])
async def test_custom_executors_that_misbehave(behaviour):
    provider = ScriptedTextProvider([[_call("get_weather", city="X"), _call("get_weather", city="Y")], "ok"])
    agent = Agent(provider=provider, model="m", executor=Misbehaving(behaviour), tools=[get_weather],
                  max_tool_output_chars=1000)
    assert (await agent.run("go")).output_text == "ok"
    validate_history(agent.messages)
    results = fed_back(agent)
    if behaviour in ("wrong id", "returns the guide's literal"):
        assert all(r.content == "right output" for r in results)
    elif behaviour == "huge output":
        assert all(len(r.content) < 1200 and r.content.count("truncated") == 1 for r in results)
    else:
        assert all(json.loads(r.content)["code"] == "executor_error" for r in results), results


def _call(name: str, **arguments: Any) -> Any:
    from oneringai.testing import tool_call

    return tool_call(name, **arguments)


@pytest.mark.parametrize("hook", ["before raises", "after raises", "before wrong id", "after wrong id", "after returns junk"])
async def test_hooks_that_misbehave(hook):
    def before(call, context):  # type: ignore[no-untyped-def]
        if hook == "before raises":
            raise KeyError("hook bug")
        if hook == "before wrong id":
            return ToolResult(tool_call_id="nope", output="from hook")
        return None

    async def after(call, result):  # type: ignore[no-untyped-def]
        if hook == "after raises":
            raise ValueError("hook bug")
        if hook == "after wrong id":
            return ToolResult(tool_call_id="nope", output="replaced")
        if hook == "after returns junk":
            return 42
        return None

    provider = ScriptedTextProvider([_call("get_weather", city="X"), "ok"])
    agent = Agent(provider=provider, model="m", executor=DirectToolExecutor(), tools=[get_weather],
                  hooks=AgentHooks(before_tool=before, after_tool=after))
    assert (await agent.run("go")).output_text == "ok"
    validate_history(agent.messages)
    [result] = fed_back(agent)
    expected = {"before raises": "executor_error", "after raises": "executor_error"}
    if hook in expected:
        assert json.loads(result.content)["code"] == expected[hook]
    elif hook == "after returns junk":
        assert json.loads(result.content)["city"] == "X"
    else:
        assert result.content in ("from hook", "replaced")


async def test_a_provider_failing_mid_run_leaves_a_valid_history():
    provider = ScriptedTextProvider([_call("get_weather", city="X"), ProviderResponseError("boom", provider="p"), "ok"])
    agent = Agent(provider=provider, model="m", executor=DirectToolExecutor(), tools=[get_weather])
    with pytest.raises(ProviderResponseError):
        await agent.run("go")
    validate_history(agent.messages)
    assert (await agent.run("again")).output_text == "ok"
    validate_requests(provider.requests)


async def test_a_stream_without_response_complete_is_a_typed_error():
    class Truncated(ScriptedTextProvider):
        async def stream_generate(self, options):  # type: ignore[no-untyped-def]
            yield ResponseCreatedEvent(response_id="r", model="m")

    agent = Agent(provider=Truncated([]), model="m", executor=DirectToolExecutor())
    with pytest.raises(ProviderResponseError, match=r"without response\.complete"):
        [e async for e in agent.stream("go")]
    validate_history(agent.messages)


text_or_garbage = st.text(max_size=30) | st.sampled_from(['{"city": "Oslo"}', '{"city": 1}', "{", "null", "[]"])


@settings(max_examples=int(os.environ.get("ONERINGAI_FUZZ_EXAMPLES", "150")), deadline=None, suppress_health_check=list(HealthCheck))
@given(turns=st.lists(st.lists(st.tuples(st.sampled_from(["c1", "c2", "", "c1"]),
                                         st.sampled_from(["get_weather", "nope", ""]) | st.text(max_size=8),
                                         text_or_garbage), min_size=1, max_size=4), min_size=1, max_size=3))
def test_any_sequence_of_model_tool_turns_keeps_the_history_valid(turns):
    """Hypothesis: arbitrary tool-call turns (ids, names, argument text) then a final
    answer — always completes, every request and the final history are valid."""

    async def scenario() -> None:
        script: list[Any] = [calls_response(*turn) for turn in turns] + ["final"]
        provider = ScriptedTextProvider(script)
        agent = Agent(provider=provider, model="m", executor=DirectToolExecutor(), tools=[get_weather],
                      max_iterations=len(script))
        assert (await agent.run("go")).output_text == "final"
        validate_history(agent.messages)
        validate_requests(provider.requests)
        assert len(fed_back(agent)) == sum(len(turn) for turn in turns)

    asyncio.run(scenario())



@pytest.mark.parametrize("error", [KeyboardInterrupt, SystemExit])
async def test_keyboard_interrupt_and_system_exit_in_a_tool_stop_the_run(error):
    @tool
    def stop() -> None:
        raise error()

    provider = ScriptedTextProvider([_call("stop"), "not reached"])
    agent = Agent(provider=provider, model="m", executor=DirectToolExecutor(), tools=[stop])
    with pytest.raises(error):
        await agent.run("go")
    validate_history(agent.messages)  # answered as aborted, so a later run would be valid


async def test_yaml_output_bound_reaches_agents_and_the_direct_executor():
    from oneringai import OneRingAI
    from oneringai.config import Settings

    @tool
    def flood() -> str:
        return "z" * 50_000

    provider = ScriptedTextProvider([_call("flood"), "ok"])
    settings = Settings.model_validate({"text": {"default": None, "providers": {}}, "oauth": {"storage": {"kind": "memory"}},
                                        "agents": {"max_tool_output_chars": 500}})
    async with OneRingAI(providers={"fake": provider}, settings=settings) as client:
        agent = client.agents.create(provider="fake", model="m", tools=[flood])
        assert agent.max_tool_output_chars == 500
        await agent.run("go")
    [result] = fed_back(agent)
    assert result.content.startswith("z" * 500) and result.content.endswith("49500 of 50000 characters omitted]")


@pytest.mark.parametrize(
    "hook",
    ["after: the guide's literal", "before: the guide's literal", "after: another dict", "before: a ToolCall literal"],
)
async def test_hooks_returning_a_mapping(hook):
    """A tool hook returning a ``ToolResult`` as the guide's object literal was ignored without a
    word: the model read the tool's own output, or the tool ran although ``before_tool`` meant to
    answer for it (a second black-box judge). Now read as a result, as an executor's literal is."""
    ran: list[str] = []

    def before(call, context):  # type: ignore[no-untyped-def]
        if hook == "before: the guide's literal":
            return {"tool_call_id": call.id, "output": "from hook"}
        if hook == "before: a ToolCall literal":
            return {"id": "x", "function": {"name": "get_weather", "arguments": '{"city": "Rome"}'}}
        return None

    def after(call, result):  # type: ignore[no-untyped-def]
        ran.append(call.function.arguments)
        if hook == "after: the guide's literal":
            return {"tool_call_id": call.id, "output": "replaced", "error": None}
        if hook == "after: another dict":
            return {"tool_call_id": call.id, "output": {"not": "text"}}
        return None

    provider = ScriptedTextProvider([_call("get_weather", city="X"), "ok"])
    agent = Agent(provider=provider, model="m", executor=DirectToolExecutor(), tools=[get_weather],
                  hooks=AgentHooks(before_tool=before, after_tool=after))
    assert (await agent.run("go")).output_text == "ok"
    validate_history(agent.messages)
    [result] = fed_back(agent)
    if hook == "after: the guide's literal":
        assert result.content == "replaced"
    elif hook == "before: the guide's literal":
        assert result.content == "from hook" and ran == []
    elif hook == "before: a ToolCall literal":
        assert json.loads(result.content)["city"] == "Rome"
    else:
        answer = json.loads(result.content)
        assert answer["code"] == "executor_error"
        assert "after_tool hook returned dict" in answer["error"] and "output" in answer["error"]


async def test_a_before_tool_call_literal_with_a_bad_field_never_quotes_it():
    """Review of the day's merges: a ``before_tool`` hook returning the guide's ``ToolCall``
    literal with a wrong field (``arguments`` as an object, holding the credential the hook
    added) raised pydantic's ``ValidationError``, whose text quotes the input — the credential
    went into the tool result, so to the model and the history. Now an ``executor_error``
    result naming the hook and the field, never a value."""
    secret = "pw-7f3a9c"

    def before(call, context):  # type: ignore[no-untyped-def]
        return {"id": "x", "function": {"name": "get_weather", "arguments": {"pw": secret}}}

    provider = ScriptedTextProvider([_call("get_weather", city="X"), "ok"])
    agent = Agent(provider=provider, model="m", executor=DirectToolExecutor(), tools=[get_weather],
                  hooks=AgentHooks(before_tool=before))
    assert (await agent.run("go")).output_text == "ok"
    validate_history(agent.messages)
    [result] = fed_back(agent)
    assert secret not in json.dumps(result.model_dump(mode="json"))
    assert secret not in repr(agent.messages)
    answer = json.loads(result.content)
    assert answer["code"] == "executor_error"
    assert "before_tool hook" in answer["error"] and "function.arguments" in answer["error"]
