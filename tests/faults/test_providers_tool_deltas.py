"""Tool calls and refusals as compatible servers and gateways really send them, through the public API.

Found by a hostile server: deltas without an ``index`` (some compatible servers omit it) were
all taken as call 0, so two parallel calls became one call named after the first, with both
argument strings run together (``{"city": "Paris"}{"city": "Oslo"}``); an Anthropic tool input sent
whole with its block start (a gateway; Anthropic sends ``{}`` there) was dropped; a refusal (``content``
null, ``refusal`` the model's reason) was dropped, leaving an empty answer that said "complete".
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from oneringai import OneRingAI
from oneringai.domain.content import ToolUseContent
from oneringai.domain.events import ResponseCompleteEvent
from tests.faults.providers_fixtures import (
    SECRET,
    VENDORS,
    FaultServer,
    fault_server_fixture,  # noqa: F401 - provides the fault_server fixture
)

BASE = {"id": "chatcmpl-3", "object": "chat.completion.chunk", "created": 1, "model": "m"}


def _chunk(delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
    return {**BASE, "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}


def _call(call_id: str | None, name: str | None, arguments: str, index: int | None = None) -> dict[str, Any]:
    call: dict[str, Any] = {"type": "function", "function": {"arguments": arguments}}
    if call_id is not None:
        call["id"] = call_id
    if name is not None:
        call["function"]["name"] = name
    if index is not None:
        call["index"] = index
    return {"tool_calls": [call]}


STREAMS = {
    "two whole calls without an index": [
        _call("call_a", "get_weather", '{"city": "Paris"}'),
        _call("call_b", "get_time", '{"zone": "CET"}'),
    ],
    "first delta names the call, then arguments only": [
        _call("call_a", "get_weather", ""),
        _call(None, None, '{"city": '),
        _call(None, None, '"Paris"}'),
        _call("call_b", "get_time", '{"zone": '),
        _call(None, None, '"CET"}'),
    ],
    "indexed (the usual form)": [
        _call("call_a", "get_weather", '{"city": ', index=0),
        _call("call_b", "get_time", '{"zone": "CET"}', index=1),
        _call(None, None, '"Paris"}', index=0),
    ],
}


@pytest.mark.parametrize("case", list(STREAMS))
async def test_parallel_tool_calls_stay_apart(fault_server: FaultServer, case):
    vendor = VENDORS["openai"]
    events = [_chunk({"role": "assistant", "content": None})] + [_chunk(d) for d in STREAMS[case]]
    events += [_chunk({}, "tool_calls"), "[DONE]"]
    fault_server.answer(200, vendor.stream_body(events), vendor.stream_type)
    provider = {"kind": "openai", "api_key": SECRET, "max_retries": 0, "timeout": 10, "base_url": f"{fault_server.url}/v1"}
    async with OneRingAI.from_config(None, env={}, overrides={"text": {"default": "p", "providers": {"p": provider}}}) as client:
        streamed = [event async for event in client.text.stream("hi", provider="p", model="m")]
    assert isinstance(streamed[-1], ResponseCompleteEvent)
    calls = [part for item in streamed[-1].response.output for part in getattr(item, "content", [])
             if isinstance(part, ToolUseContent)]
    assert [(call.id, call.name, call.arguments) for call in calls] == [
        ("call_a", "get_weather", '{"city": "Paris"}'),
        ("call_b", "get_time", '{"zone": "CET"}'),
    ]


# --- a refusal (found by the same review: dropped, leaving an empty "complete" answer) --------
def _client(url: str) -> OneRingAI:
    provider = {"kind": "openai", "api_key": SECRET, "max_retries": 0, "timeout": 10, "base_url": f"{url}/v1"}
    return OneRingAI.from_config(None, env={}, overrides={"text": {"default": "p", "providers": {"p": provider}}})


async def test_a_refusal_is_the_answer_with_stop_reason_content_filter(fault_server: FaultServer):
    body = VENDORS["openai"].body()
    body["choices"][0]["message"] = {"role": "assistant", "content": None, "refusal": "I can't help with that."}
    fault_server.answer(200, json.dumps(body).encode())
    async with _client(fault_server.url) as client:
        response = await client.text.generate_raw("hi", provider="p", model="m")
    assert response.output_text == "I can't help with that." and response.stop_reason == "content_filter"


async def test_a_streamed_refusal_is_the_answer_with_stop_reason_content_filter(fault_server: FaultServer):
    vendor = VENDORS["openai"]
    events = [_chunk({"role": "assistant", "content": None, "refusal": ""}), _chunk({"refusal": "I can't "}),
              _chunk({"refusal": "help."}), _chunk({}, "stop"), "[DONE]"]
    fault_server.answer(200, vendor.stream_body(events), vendor.stream_type)
    async with _client(fault_server.url) as client:
        streamed = [event async for event in client.text.stream("hi", provider="p", model="m")]
    response = streamed[-1].response
    assert response.output_text == "I can't help." and response.stop_reason == "content_filter"


# --- Anthropic: a gateway that sends a tool's whole input with its block start ----------------
async def test_an_anthropic_tool_input_sent_whole_at_block_start_is_kept(fault_server: FaultServer):
    vendor = VENDORS["anthropic"]
    events = vendor.events(tools=True)
    events[2]["content_block"]["input"] = {"city": "Paris"}  # the start carries the input...
    events = [event for event in events if event.get("type") != "content_block_delta"]  # ...and no delta follows
    fault_server.answer(200, vendor.stream_body(events), vendor.stream_type)
    provider = {"kind": "anthropic", "api_key": SECRET, "max_retries": 0, "timeout": 10, "base_url": fault_server.url}
    async with OneRingAI.from_config(None, env={}, overrides={"text": {"default": "p", "providers": {"p": provider}}}) as client:
        streamed = [event async for event in client.text.stream("hi", provider="p", model="m")]
    calls = [part for item in streamed[-1].response.output for part in getattr(item, "content", [])
             if isinstance(part, ToolUseContent)]
    assert [(call.name, json.loads(call.arguments)) for call in calls] == [("get_weather", {"city": "Paris"})]
