"""The ``thinking`` / ``redacted_thinking`` content parts: their shape and bounds, what the
Anthropic provider makes of the blocks (whole answers and streams) and sends back, what every
other provider leaves out of its requests, and hostile values from the caller or the wire,
each a typed error."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from oneringai import (
    Message,
    MessageRole,
    OutputTextContent,
    ProviderResponseError,
    RedactedThinkingContent,
    TextGenerateOptions,
    ThinkingContent,
    ToolResultContent,
    ToolUseContent,
)
from oneringai.application.agents import Agent, AgentInputError
from oneringai.application.tools import DirectToolExecutor
from oneringai.domain.content import MAX_THINKING_CHARS, ContentType
from oneringai.infrastructure.http.config import HttpSettings
from oneringai.infrastructure.providers._stream_assembly import MAX_REASONING_BLOCKS
from oneringai.infrastructure.providers.base import BaseTextProvider
from oneringai.infrastructure.providers.llamacpp_prompt import render_prompt
from tests.faults.providers_fixtures import (
    VENDORS,
    FaultServer,
    fault_server_fixture,  # noqa: F401 - provides the fault_server fixture
)
from tests.faults.test_wire_fidelity_anthropic import FULL_STREAM, whole
from tests.faults.wire_fidelity_support import failure, generate, kinds, replay, sent, sse, stream

THOUGHT = "Let me think about Paris. 🤔"
SIGNATURE = "EqQBCgIYAhIM1gbcDa9GJwZA2b3hGgxBdjrkzLoky3dl1pkiMOYds"
REDACTED = "EmwKAhgBEgy3va3pzix/LafPsn4aDFIT2Xlxh0L5L8rLVyIwxtE3rAFBa"


def history() -> list[Message]:
    """A tool turn answered with extended thinking, its result, and a question."""
    return [
        Message.user("Weather in Paris?"),
        Message(role=MessageRole.ASSISTANT, content=[
            ThinkingContent(thinking=THOUGHT, signature=SIGNATURE),
            RedactedThinkingContent(data=REDACTED),
            OutputTextContent(text="Let me check."),
            ToolUseContent(id="toolu_1", name="get_weather", arguments='{"city": "Paris"}'),
        ]),
        Message(role=MessageRole.USER, content=[ToolResultContent(tool_use_id="toolu_1", content="sunny")]),
    ]


# --- the parts ----------------------------------------------------------------------------------
@settings(max_examples=60, suppress_health_check=[HealthCheck.too_slow])
@given(thinking=st.text(max_size=200), signature=st.text(max_size=80), data=st.text(max_size=80))
def test_the_parts_survive_model_dump_and_model_validate(thinking: str, signature: str, data: str) -> None:
    message = Message(role=MessageRole.ASSISTANT, content=[
        ThinkingContent(thinking=thinking, signature=signature), RedactedThinkingContent(data=data),
        OutputTextContent(text="answer")])
    dumped = message.model_dump()
    assert dumped["content"][:2] == [{"type": "thinking", "thinking": thinking, "signature": signature},
                                     {"type": "redacted_thinking", "data": data}]
    assert Message.model_validate(dumped) == message
    assert Message.model_validate_json(message.model_dump_json()) == message
    assert Message.model_validate(json.loads(json.dumps(message.model_dump(mode="json")))) == message
    assert message.text == "answer"  # thinking is no text of the message


def test_the_parts_are_in_the_content_type_enum_and_thinking_defaults_to_unsigned() -> None:
    assert (ContentType.THINKING, ContentType.REDACTED_THINKING) == ("thinking", "redacted_thinking")
    assert ThinkingContent(thinking="x").signature == ""


@pytest.mark.parametrize(("part", "where"), [
    ({"type": "thinking", "thinking": "x", "signature": 123}, "signature"),
    ({"type": "thinking", "thinking": ["x"], "signature": "s"}, "thinking"),
    ({"type": "thinking", "signature": "s"}, "thinking"),
    ({"type": "redacted_thinking", "data": None}, "data"),
    ({"type": "redacted_thinking", "data": {"x": 1}}, "data"),
    ({"type": "thinking", "thinking": "x" * (MAX_THINKING_CHARS + 1), "signature": "s"}, "thinking"),
    ({"type": "thinking", "thinking": "x", "signature": "s" * (MAX_THINKING_CHARS + 1)}, "signature"),
    ({"type": "redacted_thinking", "data": "d" * (MAX_THINKING_CHARS + 1)}, "data"),
    ({"type": "thinking", "thinking": "x", "signature": "s", "budget": 1}, "budget"),
], ids=["signature-int", "thinking-list", "thinking-missing", "data-null", "data-object", "thinking-huge",
        "signature-huge", "data-huge", "unknown-field"])
async def test_hostile_values_are_refused_as_typed_errors(part: dict[str, Any], where: str) -> None:
    item = {"type": "message", "role": "assistant", "content": [part]}
    with pytest.raises(ValidationError) as caught:
        Message.model_validate(item)
    assert isinstance(caught.value, ValueError) and where in str(caught.value)
    # a history assigned back to an agent (as dicts, from JSON): the agent's own typed error
    agent = Agent(provider=VENDORS["anthropic"].provider("http://127.0.0.1:9"), model="m",
                  executor=DirectToolExecutor())
    agent.messages = [{"type": "message", "role": "user", "content": [{"type": "input_text", "text": "hi"}]}, item]
    try:
        with pytest.raises(AgentInputError) as refused:
            await agent.run("go on")
    finally:
        await agent.provider.aclose()  # type: ignore[union-attr]
    assert where in str(refused.value) and "x" * 100 not in str(refused.value)


# --- Anthropic: answers -------------------------------------------------------------------------
async def test_a_whole_answer_keeps_its_reasoning_blocks_in_order_and_out_of_the_text(fault_server: FaultServer):
    content = [
        {"type": "thinking", "thinking": THOUGHT, "signature": SIGNATURE},
        {"type": "redacted_thinking", "data": REDACTED},
        {"type": "server_tool_use", "id": "srvtoolu_01", "name": "web_search", "input": {"query": "nyc"}},
        {"type": "text", "text": "It is sunny."},
        {"type": "tool_use", "id": "toolu_01A", "name": "get_weather", "input": {"location": "NYC"}},
    ]
    replay(fault_server, json.dumps(whole(content, "tool_use")).encode())
    response = await generate("anthropic", fault_server)
    assert response.output_text == "It is sunny."
    assert response.output[0].content == [
        ThinkingContent(thinking=THOUGHT, signature=SIGNATURE), RedactedThinkingContent(data=REDACTED),
        OutputTextContent(text="It is sunny."),
        ToolUseContent(id="toolu_01A", name="get_weather", arguments='{"location": "NYC"}')]


async def test_a_stream_assembles_the_reasoning_blocks_without_events(fault_server: FaultServer) -> None:
    replay(fault_server, sse(FULL_STREAM, named=True), content_type="text/event-stream")
    seen, response = await stream("anthropic", fault_server)
    assert not any("thinking" in kind for kind in kinds(seen))
    assert response.output_text == "It is sunny."
    thinking, redacted = FULL_STREAM[3]["delta"], FULL_STREAM[6]["content_block"]
    assert response.output[0].content[:2] == [
        ThinkingContent(thinking=thinking["thinking"], signature=FULL_STREAM[4]["delta"]["signature"]),
        RedactedThinkingContent(data=redacted["data"])]
    assert [part.type for part in response.output[0].content] == [
        "thinking", "redacted_thinking", "output_text", "tool_use"]


def _stream(*blocks: list[dict[str, Any]]) -> bytes:
    events: list[dict[str, Any]] = [FULL_STREAM[0]]
    for events_of_block in blocks:
        events += events_of_block
    events += [{"type": "message_delta", "delta": {"stop_reason": "end_turn"}, "usage": {"output_tokens": 3}},
               {"type": "message_stop"}]
    return sse(events, named=True)


async def test_a_gateway_sending_a_whole_thinking_block_in_its_start_event(fault_server: FaultServer) -> None:
    replay(fault_server, _stream([
        {"type": "content_block_start", "index": 0,
         "content_block": {"type": "thinking", "thinking": THOUGHT, "signature": SIGNATURE}},
        {"type": "content_block_delta", "index": 7, "delta": {"type": "thinking_delta", "thinking": "stray"}},
        {"type": "content_block_stop", "index": 0}]), content_type="text/event-stream")
    _, response = await stream("anthropic", fault_server)
    assert response.output[0].content == [ThinkingContent(thinking=THOUGHT, signature=SIGNATURE)]


HOSTILE_STREAMS = {
    "signature_delta not a string": [
        {"type": "content_block_start", "index": 0, "content_block": {"type": "thinking", "thinking": ""}},
        {"type": "content_block_delta", "index": 0, "delta": {"type": "signature_delta", "signature": 987654321}}],
    "thinking_delta not a string": [
        {"type": "content_block_start", "index": 0, "content_block": {"type": "thinking", "thinking": ""}},
        {"type": "content_block_delta", "index": 0, "delta": {"type": "thinking_delta", "thinking": [987654321]}}],
    "start with a signature number": [
        {"type": "content_block_start", "index": 0,
         "content_block": {"type": "thinking", "thinking": "", "signature": 987654321}}],
    "redacted data an object": [
        {"type": "content_block_start", "index": 0,
         "content_block": {"type": "redacted_thinking", "data": {"x": 987654321}}}],
}


@pytest.mark.parametrize("name", sorted(HOSTILE_STREAMS))
async def test_a_hostile_stream_is_a_typed_error(fault_server: FaultServer, name: str) -> None:
    replay(fault_server, _stream(HOSTILE_STREAMS[name]), content_type="text/event-stream")
    error = await failure("anthropic", fault_server, streaming=True)
    assert isinstance(error, ProviderResponseError) and "987654321" not in str(error)


@pytest.mark.parametrize("block", [
    {"type": "thinking", "thinking": "x", "signature": 987654321},
    {"type": "thinking", "thinking": {"t": 987654321}, "signature": "s"},
    {"type": "redacted_thinking", "data": [987654321]},
])
async def test_a_hostile_whole_answer_is_a_typed_error(fault_server: FaultServer, block: dict[str, Any]) -> None:
    replay(fault_server, json.dumps(whole([block, {"type": "text", "text": "hi"}], "end_turn")).encode())
    error = await failure("anthropic", fault_server)
    assert isinstance(error, ProviderResponseError) and "987654321" not in str(error)
    assert block["type"] in str(error)


async def test_a_thinking_text_over_the_part_limit_is_a_typed_error(fault_server: FaultServer) -> None:
    block = {"type": "thinking", "thinking": "x" * (MAX_THINKING_CHARS + 1), "signature": SIGNATURE}
    replay(fault_server, json.dumps(whole([block], "end_turn")).encode())
    error = await failure("anthropic", fault_server)
    assert isinstance(error, ProviderResponseError) and f"at most {MAX_THINKING_CHARS}" in str(error)
    assert "xxxxxxxx" not in str(error)


async def test_streamed_thinking_counts_against_max_response_bytes(fault_server: FaultServer) -> None:
    chunk = {"type": "content_block_delta", "index": 0, "delta": {"type": "thinking_delta", "thinking": "y" * 1000}}
    replay(fault_server, _stream([
        {"type": "content_block_start", "index": 0, "content_block": {"type": "thinking", "thinking": ""}},
        *[chunk] * 40]), content_type="text/event-stream")
    async with VENDORS["anthropic"].provider(fault_server.url, http=HttpSettings(max_response_bytes=8 * 1024)) as p:
        with pytest.raises(ProviderResponseError, match="longer than"):
            _ = [event async for event in p.stream_generate(TextGenerateOptions(model="m", input="hi"))]


# --- Anthropic: requests ------------------------------------------------------------------------
async def test_reasoning_parts_go_back_unchanged_in_assistant_turns_only(fault_server: FaultServer) -> None:
    items = history()
    items.insert(0, Message(role=MessageRole.USER, content=[  # never in a user turn
        ThinkingContent(thinking="user-side", signature="sig"), *Message.user("Hi").content]))
    items[2].content.insert(0, ThinkingContent(thinking="unsigned, from another provider"))
    replay(fault_server, json.dumps(whole([{"type": "text", "text": "ok"}], "end_turn")).encode())
    await generate("anthropic", fault_server, TextGenerateOptions(model="m", input=items))
    messages = sent(fault_server)["messages"]
    assert "user-side" not in json.dumps(messages) and "unsigned" not in json.dumps(messages)
    assert messages[1]["content"] == [
        {"type": "thinking", "thinking": THOUGHT, "signature": SIGNATURE},
        {"type": "redacted_thinking", "data": REDACTED},
        {"type": "text", "text": "Let me check."},
        {"type": "tool_use", "id": "toolu_1", "name": "get_weather", "input": {"city": "Paris"}}]


# --- every other provider leaves them out -------------------------------------------------------
@pytest.mark.parametrize("kind", ["openai", "ollama"])
@pytest.mark.parametrize("streaming", [False, True], ids=["generate", "stream"])
async def test_other_providers_send_none_of_the_reasoning(fault_server: FaultServer, kind: str,
                                                          streaming: bool) -> None:
    vendor = VENDORS[kind]
    if streaming:
        replay(fault_server, vendor.stream_body(vendor.events()), content_type=vendor.stream_type)
    else:
        replay(fault_server, json.dumps(vendor.body()).encode())
    options = TextGenerateOptions(model="m", input=history())
    if streaming:
        await stream(kind, fault_server, options)
    else:
        await generate(kind, fault_server, options)
    raw = fault_server.requests[-1].body.decode()
    for secretive in (THOUGHT, "Let me think", SIGNATURE, REDACTED, "thinking"):
        assert secretive not in raw and json.dumps(secretive)[1:-1] not in raw
    assistant = next(m for m in sent(fault_server)["messages"] if m["role"] == "assistant")
    assert assistant["content"] == "Let me check."
    assert len(assistant["tool_calls"]) == 1


def test_the_llamacpp_prompt_and_flattened_input_hold_none_of_the_reasoning() -> None:
    options = TextGenerateOptions(model="m", input=history())
    for text in (render_prompt(options), BaseTextProvider.normalize_input_to_string(history())):
        assert "Let me check." in text
        assert all(value not in text for value in (THOUGHT, SIGNATURE, REDACTED))


# --- Ollama's own thinking ----------------------------------------------------------------------
def _ollama_line(message: dict[str, Any], done: bool = False) -> dict[str, Any]:
    final = {"done_reason": "stop", "prompt_eval_count": 3, "eval_count": 2} if done else {}
    return {"model": "qwen3", "created_at": "t", "message": {"role": "assistant", "content": "", **message},
            "done": done, **final}


@pytest.mark.parametrize("streaming", [False, True], ids=["generate", "stream"])
async def test_ollama_thinking_is_an_unsigned_thinking_part(fault_server: FaultServer, streaming: bool) -> None:
    if streaming:
        lines = [_ollama_line({"thinking": "The user"}), _ollama_line({"thinking": " says hi."}),
                 _ollama_line({"content": "Hi."}), _ollama_line({}, True)]
        replay(fault_server, b"".join(json.dumps(x).encode() + b"\n" for x in lines),
               content_type="application/x-ndjson")
        seen, response = await stream("ollama", fault_server)
        assert not any("thinking" in kind for kind in kinds(seen))
    else:
        body = _ollama_line({"content": "Hi.", "thinking": "The user says hi."}, True)
        replay(fault_server, json.dumps(body).encode())
        response = await generate("ollama", fault_server)
    assert response.output_text == "Hi."
    assert response.output[0].content == [ThinkingContent(thinking="The user says hi."), OutputTextContent(text="Hi.")]


@pytest.mark.parametrize("streaming", [False, True], ids=["generate", "stream"])
async def test_ollama_thinking_not_a_string_is_a_typed_error(fault_server: FaultServer, streaming: bool) -> None:
    body = _ollama_line({"content": "Hi.", "thinking": {"t": 987654321}}, True)
    replay(fault_server, json.dumps(body).encode() + (b"\n" if streaming else b""),
           content_type="application/x-ndjson" if streaming else "application/json")
    error = await failure("ollama", fault_server, streaming=streaming)
    assert isinstance(error, ProviderResponseError) and "987654321" not in str(error)


@pytest.mark.parametrize("streaming", [False, True], ids=["generate", "stream"])
async def test_an_answer_of_endless_empty_thinking_blocks_is_a_typed_error(fault_server: FaultServer,
                                                                           streaming: bool) -> None:
    count = MAX_REASONING_BLOCKS + 1
    if streaming:
        starts = [{"type": "content_block_start", "index": n, "content_block": {"type": "redacted_thinking", "data": ""}}
                  for n in range(count)]
        replay(fault_server, _stream(starts), content_type="text/event-stream")
    else:
        replay(fault_server, json.dumps(whole([{"type": "redacted_thinking", "data": ""}] * count, "end_turn")).encode())
    error = await failure("anthropic", fault_server, streaming=streaming)
    assert isinstance(error, ProviderResponseError) and f"more than {MAX_REASONING_BLOCKS} thinking blocks" in str(error)
