"""The agent loop end to end against vendor-shaped servers returning hostile model output.

Each case drives ``Agent.run`` / ``Agent.stream`` through the real OpenAI, Anthropic and
Ollama providers on both HTTP transports, and checks every request body the server received
by that vendor's rules (every tool call answered exactly once, right after it; Anthropic's
alternating roles) — so a follow-up run is one the vendor would accept.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import random
from collections.abc import AsyncIterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from oneringai import tool
from oneringai.application.agents import Agent, AgentBusyError, AgentInputError
from oneringai.application.tools import DirectToolExecutor
from oneringai.domain.errors import OneRingAIError, ProviderError, ProviderUnavailableError
from oneringai.domain.redaction import register_secret
from tests.faults.agent_vendors import Call, ScriptedVendor, answered, check_request, turn
from tests.faults.providers_fixtures import KINDS, TRANSPORTS, VENDORS

STREAMING = [False, True]


@tool
def get_weather(city: str) -> str:
    """Weather for a city."""
    return f"sunny in {city}"


@tool
async def work(n: int) -> str:
    """Sleeps n ms; n == 3 fails, n == 4 never ends within a run."""
    if n == 3:
        raise RuntimeError("tool 3 failed")
    await asyncio.sleep(3600 if n == 4 else n / 1000)
    return f"done {n}"


async def drive(agent: Agent, prompt: Any, streaming: bool) -> Any:
    if not streaming:
        return await agent.run(prompt)
    final = None
    async for event in agent.stream(prompt):
        if event.type == "response.complete":
            final = event.response
    return final


class Session:
    def __init__(self, kind: str, transport: str, vendor: ScriptedVendor, **agent: Any) -> None:
        self.kind, self.vendor = kind, vendor
        self.provider = VENDORS[kind].provider(vendor.url, transport=transport)
        self.agent = Agent(provider=self.provider, model="m", executor=DirectToolExecutor(),
                           tools=agent.pop("tools", [get_weather, work]), **agent)

    def check(self) -> None:
        for number, body in enumerate(self.vendor.bodies):
            try:
                check_request(self.kind, body)
            except AssertionError as exc:
                raise AssertionError(f"request {number} invalid for {self.kind}: {exc}") from None

    def results(self) -> list[str]:
        return [str(part.content) for m in self.agent.messages for part in m.content if part.type == "tool_result"]


async def session(kind: str, transport: str, script: Any, pause: float = 0.0, **agent: Any) -> AsyncIterator[Session]:
    vendor = ScriptedVendor(kind, script, pause=pause)
    await vendor.server.start()
    opened = Session(kind, transport, vendor, **agent)
    try:
        yield opened
    finally:
        await opened.provider.aclose()  # type: ignore[attr-defined]
        await vendor.server.stop()


def calls_then_text(kind: str, calls: tuple[Call, ...], text: str | None = None) -> Any:
    """Tool calls on the first request, a final answer once results come back."""

    def script(number: int, body: dict[str, Any]) -> Any:
        if not calls or (number > 0 and answered(kind, body)) or number > 1:
            return turn(kind, stream=bool(body.get("stream")), text="final answer")
        return turn(kind, stream=bool(body.get("stream")), calls=calls, text=text)

    return script


HOSTILE: dict[str, tuple[tuple[Call, ...], str]] = {
    "unknown tool": ((("c1", "get_wether", '{"city": "Oslo"}'),), "unknown_tool"),
    "invalid JSON": ((("c1", "get_weather", '{"city": '),), "invalid_arguments"),
    "JSON array": ((("c1", "get_weather", '["Oslo"]'),), "invalid_arguments"),
    "nested 5000 deep": ((("c1", "get_weather", "[" * 5000 + "]" * 5000),), "invalid_arguments"),
    "same id twice": ((("dup", "get_weather", '{"city": "A"}'), ("dup", "get_weather", '{"city": "B"}')), ""),
    "empty ids": ((("", "get_weather", '{"city": "A"}'), ("", "get_weather", '{"city": "B"}')), ""),
    "some tools fail": ((("a", "work", '{"n": 1}'), ("b", "work", '{"n": 3}'), ("c", "nope", "{}")), "tool_error"),
}


@pytest.mark.parametrize("name", sorted(HOSTILE))
@pytest.mark.parametrize("streaming", STREAMING, ids=["run", "stream"])
@pytest.mark.parametrize("transport", TRANSPORTS)
@pytest.mark.parametrize("kind", KINDS)
async def test_hostile_tool_calls_are_answered_and_the_next_request_is_valid(kind, transport, streaming, name):
    calls, code = HOSTILE[name]
    async for s in session(kind, transport, calls_then_text(kind, calls, text="let me look")):
        response = await drive(s.agent, "weather?", streaming)
        assert response.output_text == "final answer"
        results = s.results()
        assert len(results) == len(calls)
        if code:
            assert any(f'"code": "{code}"' in result for result in results), results
        await drive(s.agent, "and tomorrow?", streaming)  # the whole history once more
        s.check()
        assert len(s.vendor.bodies) == 3


@pytest.mark.parametrize("streaming", STREAMING, ids=["run", "stream"])
@pytest.mark.parametrize("transport", TRANSPORTS)
@pytest.mark.parametrize("kind", KINDS)
async def test_a_model_calling_tools_forever_is_stopped_by_max_iterations(kind, transport, streaming):
    def script(number: int, body: dict[str, Any]) -> Any:
        return turn(kind, stream=bool(body.get("stream")), calls=((f"c{number}", "get_weather", '{"city": "x"}'),))

    async for s in session(kind, transport, script, max_iterations=3):
        response = await drive(s.agent, "loop", streaming)
        assert (response.status, response.stop_reason) == ("incomplete", "max_iterations")
        assert len(s.vendor.bodies) == 3 and len(s.results()) == 3
        await drive(s.agent, "again", streaming)
        s.check()


@pytest.mark.parametrize("streaming", STREAMING, ids=["run", "stream"])
@pytest.mark.parametrize("kind", ["openai", "anthropic"])
async def test_a_server_numbering_calls_per_response_gets_ids_unique_in_the_conversation(kind, streaming):
    """Local OpenAI-compatible servers send ``call_0`` in every turn. Before, only ids within
    one response were made unique: the conversation held ``call_0`` three times, which
    Anthropic refuses (a fallback to it, or a history moved to it)."""

    def script(number: int, body: dict[str, Any]) -> Any:
        calls = (("call_0", "get_weather", '{"city": "x"}'),) if number < 3 else ()
        return turn(kind, stream=bool(body.get("stream")), calls=calls, text=None if calls else "final answer")

    async for s in session(kind, "aiohttp", script):
        assert (await drive(s.agent, "go", streaming)).output_text == "final answer"
        assert (await drive(s.agent, "more", streaming)).output_text == "final answer"
        assert len(s.results()) == 3
        s.check()


@pytest.mark.parametrize("transport", TRANSPORTS)
@pytest.mark.parametrize("kind", ["openai", "anthropic"])
async def test_a_stream_cut_between_tool_call_deltas_leaves_a_valid_history(kind, transport):
    """The connection closes after the first half of the second call's arguments: a typed
    error, no tool runs on half a call, and the next run's request is valid."""

    def script(number: int, body: dict[str, Any]) -> Any:
        if number == 0:
            _what, events = turn(kind, stream=True, finished=False, calls=(
                ("c1", "get_weather", '{"city": "Oslo"}'), ("c2", "get_weather", '{"city": "Bergen"}')))
            return ("cut", events[:-1])
        return turn(kind, stream=True, text="final answer")

    async for s in session(kind, transport, script):
        with pytest.raises(ProviderUnavailableError):
            await drive(s.agent, "weather?", True)
        assert s.results() == []
        assert (await drive(s.agent, "again", True)).output_text == "final answer"
        s.check()


@pytest.mark.parametrize("transport", TRANSPORTS)
@pytest.mark.parametrize("kind", ["openai", "anthropic"])
async def test_parallel_calls_where_one_hangs_are_bounded_by_tool_timeout(kind, transport):
    calls = (("a", "work", '{"n": 1}'), ("b", "work", '{"n": 4}'), ("c", "work", '{"n": 3}'))
    async for s in session(kind, transport, calls_then_text(kind, calls), tool_timeout=0.2):
        assert (await s.agent.run("go")).output_text == "final answer"
        codes = [json.loads(r)["code"] if r.startswith("{") else "ok" for r in s.results()]
        assert codes == ["ok", "timeout", "tool_error"]
        s.check()


def parallel_script(kind: str) -> Any:
    def script(number: int, body: dict[str, Any]) -> Any:
        stream = bool(body.get("stream"))
        if answered(kind, body):
            return turn(kind, stream=stream, text="final answer")
        calls = tuple((f"c{number}_{n}", "work", json.dumps({"n": n})) for n in (1, 2, 3, 5))
        return turn(kind, stream=stream, calls=calls, text="working")

    return script


@settings(max_examples=int(os.environ.get("ONERINGAI_FUZZ_EXAMPLES", "25")), deadline=None,
          suppress_health_check=list(HealthCheck))
@given(kind=st.sampled_from(["openai", "anthropic"]), transport=st.sampled_from(TRANSPORTS),
       streaming=st.booleans(), delay=st.floats(0, 0.05), seed=st.integers(0, 2**16))
def test_cancelling_a_run_at_any_point_keeps_every_request_valid(kind, transport, streaming, delay, seed):
    """Hypothesis: ``run``/``stream`` cancelled from outside after a random delay (mid-request,
    mid-stream, mid-tools); the next run completes and every request body is valid."""

    async def scenario() -> None:
        async for s in session(kind, transport, parallel_script(kind), pause=random.Random(seed).uniform(0, 0.003)):
            task = asyncio.create_task(drive(s.agent, "go", streaming))
            await asyncio.sleep(delay)
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
            assert (await asyncio.wait_for(drive(s.agent, "again", streaming), 30)).output_text == "final answer"
            s.check()

    asyncio.run(scenario())


@pytest.mark.parametrize("kind", KINDS)
async def test_two_concurrent_runs_one_is_refused_with_a_typed_error(kind):
    async for s in session(kind, "aiohttp", parallel_script(kind), pause=0.01):
        first = asyncio.create_task(s.agent.run("go"))
        await asyncio.sleep(0.005)
        with pytest.raises(AgentBusyError) as raised:
            await s.agent.run("me too")
        assert isinstance(raised.value, OneRingAIError)
        assert (await first).output_text == "final answer"
        s.check()


SECRET_VALUE = "vq8Lz3Tn6Rw1Ys4Kd7Hb2Mx5"


@tool
def leaky(n: int) -> str:
    """A tool whose client quotes its credentials in the error it raises."""
    raise PermissionError(f"401 from backend: sent Authorization: Bearer {SECRET_VALUE} (key={SECRET_VALUE})")


@pytest.mark.parametrize("streaming", STREAMING, ids=["run", "stream"])
@pytest.mark.parametrize("kind", KINDS)
async def test_a_secret_in_a_tool_exception_never_reaches_the_vendor_or_the_history(kind, streaming):
    """Before: the error result quoted the exception verbatim — the registered secret went
    into ``agent.messages``, the stream's events and the next request to the model vendor."""
    register_secret(SECRET_VALUE)
    calls = (("c1", "leaky", '{"n": 1}'),)
    async for s in session(kind, "httpx", calls_then_text(kind, calls), tools=[leaky]):
        events = []
        if streaming:
            events = [event async for event in s.agent.stream("go")]
        else:
            await s.agent.run("go")
        [result] = s.results()
        assert "PermissionError" in result and "[REDACTED]" in result
        everything = json.dumps(s.vendor.bodies) + repr(s.agent.messages) + repr(events)
        assert SECRET_VALUE not in everything and SECRET_VALUE[:12] not in everything
        s.check()


BAD_INPUTS = {
    "empty string": "",
    "empty list": [],
    "None": None,
    "a number": 123,
    "bytes": b"hi",
    "a list holding a number": [1],
    "a guide-style dict with string content": [{"role": "user", "content": "hi"}],
    "a message without content": [{"role": "user", "content": []}],
}


@pytest.mark.parametrize("name", sorted(BAD_INPUTS))
@pytest.mark.parametrize("kind", ["openai", "anthropic"])
async def test_a_bad_input_is_a_typed_error_and_the_agent_stays_usable(kind, name):
    """Before: the item was appended to the history unchecked — a raw pydantic
    ``ValidationError``, then every later run of the agent failed with a raw
    ``AttributeError``; an empty prompt sent ``messages: []`` and left a history opening
    with an assistant message (Anthropic refuses both)."""
    async for s in session(kind, "aiohttp", calls_then_text(kind, ())):
        with pytest.raises(AgentInputError) as raised:
            await s.agent.run(BAD_INPUTS[name])
        assert isinstance(raised.value, OneRingAIError) and isinstance(raised.value, ValueError)
        assert s.agent.messages == [] and s.vendor.bodies == []
        assert (await s.agent.run("hello")).output_text == "final answer"
        assert (await s.agent.run([{"role": "user", "content": [{"type": "input_text", "text": "more"}]}])).output_text
        s.check()


async def test_an_empty_list_continues_a_conversation_that_has_messages():
    async for s in session("openai", "aiohttp", calls_then_text("openai", ())):
        await s.agent.run("hello")
        assert (await s.agent.run([])).output_text == "final answer"
        assert len(s.vendor.bodies) == 2


@pytest.mark.parametrize("kind", ["openai", "anthropic"])
async def test_a_provider_error_mid_run_is_typed_and_the_next_run_valid(kind):
    """20 MB of arguments (two 10 MB deltas) pass ``http.max_event_bytes``: a typed error."""
    calls = (("c1", "get_weather", json.dumps({"city": "x" * 20_000_000})),)

    def script(number: int, body: dict[str, Any]) -> Any:
        return turn(kind, stream=True, calls=calls) if number == 0 else turn(kind, stream=True, text="final answer")

    async for s in session(kind, "aiohttp", script):
        with pytest.raises(ProviderError):
            await drive(s.agent, "go", True)
        assert (await drive(s.agent, "again", True)).output_text == "final answer"
        s.check()


@pytest.mark.parametrize("kind", KINDS)
async def test_a_history_saved_as_json_and_assigned_back_continues_the_conversation(kind):
    """``agent.messages`` dumped to JSON, loaded (dicts) into a new agent: before, every run of
    that agent failed with a raw ``AttributeError``; a garbage item is now an ``AgentInputError``
    and nothing is sent."""
    calls = (("c1", "get_weather", '{"city": "Oslo"}'), ("c2", "nope", "{oops"))
    async for s in session(kind, "aiohttp", calls_then_text(kind, calls)):
        await s.agent.run("weather?")
        saved = json.loads(json.dumps([message.model_dump(mode="json") for message in s.agent.messages]))
        restored = Agent(provider=s.provider, model="m", executor=DirectToolExecutor(), tools=[get_weather])
        restored.messages = [*saved, {"role": "user", "content": "not a list"}]
        with pytest.raises(AgentInputError, match=r"agent\.messages item 4"):
            await restored.run("and tomorrow?")
        assert len(s.vendor.bodies) == 2
        restored.messages = saved
        assert (await restored.run("and tomorrow?")).output_text == "final answer"
        assert restored.messages[: len(saved)] == s.agent.messages
        s.check()
        answered_request = s.vendor.bodies[1]["messages"]  # the restored agent sent the same conversation on
        assert s.vendor.bodies[-1]["messages"][: len(answered_request)] == answered_request
