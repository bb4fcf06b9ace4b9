"""Anthropic Messages, field by field as the API reference and anthropic-sdk-python's types
(``raw_message_stream_event.py``, ``message.py``, ``usage.py``) spell them, replayed from a
loopback server: every content block and delta type (thinking, redacted thinking, server tools,
citations), every stop reason, prompt-cache and server-tool usage, ``error`` events mid-stream,
error bodies with their headers, and the request body the API would accept."""

from __future__ import annotations

import json
from typing import Any

import pytest

from oneringai import (
    ModelNotFoundError,
    ProviderAuthError,
    ProviderContextLengthError,
    ProviderRateLimitError,
    ProviderResponseError,
    ProviderUnavailableError,
)
from oneringai.domain.content import (
    InputImageContent,
    Message,
    MessageRole,
    OutputTextContent,
    ToolUseContent,
)
from oneringai.domain.options import TextGenerateOptions
from oneringai.domain.tools import FunctionDefinition, FunctionToolDefinition
from tests.faults.providers_fixtures import (
    FaultServer,
    fault_server_fixture,  # noqa: F401 - provides the fault_server fixture
)
from tests.faults.wire_fidelity_support import failure, generate, kinds, replay, sent, sse, stream

MODEL = "claude-sonnet-4-5-20250929"
START_USAGE = {"input_tokens": 472, "cache_creation_input_tokens": 100, "cache_read_input_tokens": 2000,
               "cache_creation": {"ephemeral_5m_input_tokens": 100, "ephemeral_1h_input_tokens": 0},
               "output_tokens": 2, "service_tier": "standard"}


def message_start(usage: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"type": "message_start", "message": {
        "id": "msg_01XFDUDYJgAACzvnptvVoYEL", "type": "message", "role": "assistant", "model": MODEL,
        "content": [], "stop_reason": None, "stop_sequence": None, "usage": usage or START_USAGE}}


def block_start(index: int, block: dict[str, Any]) -> dict[str, Any]:
    return {"type": "content_block_start", "index": index, "content_block": block}


def delta(index: int, value: dict[str, Any]) -> dict[str, Any]:
    return {"type": "content_block_delta", "index": index, "delta": value}


def stop(index: int) -> dict[str, Any]:
    return {"type": "content_block_stop", "index": index}


def message_delta(reason: str, usage: dict[str, Any] | None = None, sequence: str | None = None) -> dict[str, Any]:
    return {"type": "message_delta", "delta": {"stop_reason": reason, "stop_sequence": sequence},
            "usage": usage or {"output_tokens": 89}}


CITATION = {"type": "web_search_result_location", "cited_text": "Sunny, 21°C", "url": "https://w.example/nyc",
            "title": "NYC weather", "encrypted_index": "Eo8BCioIAhgB"}

FULL_STREAM = [
    message_start(), {"type": "ping"},
    block_start(0, {"type": "thinking", "thinking": "", "signature": ""}),
    delta(0, {"type": "thinking_delta", "thinking": "The user wants the weather."}),
    delta(0, {"type": "signature_delta", "signature": "EqQBCgIYAhIM1gbcDa9GJwZA2b3hGgxBdjrkzLoky3dl1pkiMOYds"}),
    stop(0),
    block_start(1, {"type": "redacted_thinking", "data": "EmwKAhgBEgy3va3pzix/LafPsn4aDFIT2Xlxh0L5L8rLVyIwxtE3rAFBa"}),
    stop(1),
    block_start(2, {"type": "server_tool_use", "id": "srvtoolu_014hJH82Qum7Td6UV8gDXThB", "name": "web_search",
                    "input": {}}),
    delta(2, {"type": "input_json_delta", "partial_json": '{"query": "weather NYC today"}'}),
    stop(2),
    block_start(3, {"type": "web_search_tool_result", "tool_use_id": "srvtoolu_014hJH82Qum7Td6UV8gDXThB",
                    "content": [{"type": "web_search_result", "title": "NYC weather", "url": "https://w.example/nyc",
                                 "encrypted_content": "EqgfCioIARgB", "page_age": "1 hour ago"}]}),
    stop(3),
    block_start(4, {"type": "text", "text": ""}),
    delta(4, {"type": "text_delta", "text": "It is "}),
    delta(4, {"type": "citations_delta", "citation": CITATION}),
    delta(4, {"type": "text_delta", "text": "sunny."}),
    stop(4),
    {"type": "ping"},
    block_start(5, {"type": "tool_use", "id": "toolu_01T1x1fJ34qAmk2tNTrN7Up6", "name": "get_weather", "input": {}}),
    delta(5, {"type": "input_json_delta", "partial_json": ""}),
    delta(5, {"type": "input_json_delta", "partial_json": '{"location": "San Fra'}),
    delta(5, {"type": "input_json_delta", "partial_json": 'ncisco, CA"}'}),
    stop(5),
    message_delta("tool_use", {"input_tokens": 10682, "cache_creation_input_tokens": 100,
                               "cache_read_input_tokens": 2000, "output_tokens": 510,
                               "server_tool_use": {"web_search_requests": 1}}),
    {"type": "message_stop"},
]


async def test_a_stream_with_every_block_and_delta_type(fault_server: FaultServer) -> None:
    replay(fault_server, sse(FULL_STREAM, named=True), content_type="text/event-stream; charset=utf-8",
           headers={"request-id": "req_011CSHoEeqs5C35K2UUqR7Fy", "anthropic-organization-id": "org"})
    seen, response = await stream("anthropic", fault_server)
    assert kinds(seen) == ["response.created", "response.output_text.delta", "response.output_text.delta",
                           "response.tool_call.start", "response.tool_call_arguments.delta",
                           "response.tool_call_arguments.delta", "response.tool_call_arguments.done",
                           "response.complete"]
    assert (seen[0].response_id, seen[0].model) == ("msg_01XFDUDYJgAACzvnptvVoYEL", MODEL)
    assert (response.id, response.model, response.output_text) == ("msg_01XFDUDYJgAACzvnptvVoYEL", MODEL, "It is sunny.")
    assert [(c.id, c.function.name, json.loads(c.function.arguments)) for c in response.tool_calls] == [
        ("toolu_01T1x1fJ34qAmk2tNTrN7Up6", "get_weather", {"location": "San Francisco, CA"})]
    assert (response.stop_reason, response.raw_stop_reason, response.status) == ("tool_calls", "tool_use", "completed")
    # message_delta's counts are cumulative (they include the server tool's turn): input is every
    # input token, cached, cache-written and not
    assert response.usage.model_dump() == {"input_tokens": 10682 + 100 + 2000, "output_tokens": 510,
                                           "total_tokens": 10682 + 100 + 2000 + 510}


async def test_prompt_cache_tokens_count_as_input(fault_server: FaultServer) -> None:
    events = [message_start(), block_start(0, {"type": "text", "text": ""}),
              delta(0, {"type": "text_delta", "text": "Hi."}), stop(0),
              message_delta("end_turn", {"output_tokens": 15}), {"type": "message_stop"}]
    replay(fault_server, sse(events, named=True), content_type="text/event-stream")
    _, response = await stream("anthropic", fault_server)
    assert response.usage.model_dump() == {"input_tokens": 2572, "output_tokens": 15, "total_tokens": 2587}


async def test_a_message_delta_reporting_only_some_input_counts_keeps_the_others(fault_server: FaultServer) -> None:
    events = [message_start(), block_start(0, {"type": "text", "text": ""}),
              delta(0, {"type": "text_delta", "text": "Hi."}), stop(0),
              message_delta("end_turn", {"input_tokens": 900, "output_tokens": 15}), {"type": "message_stop"}]
    replay(fault_server, sse(events, named=True), content_type="text/event-stream")
    _, response = await stream("anthropic", fault_server)
    assert response.usage.model_dump() == {"input_tokens": 900 + 100 + 2000, "output_tokens": 15,
                                           "total_tokens": 900 + 100 + 2000 + 15}


@pytest.mark.parametrize(("reason", "normal", "status"), [
    ("end_turn", "complete", "completed"), ("max_tokens", "max_tokens", "incomplete"),
    ("stop_sequence", "stop_sequence", "completed"), ("tool_use", "tool_calls", "completed"),
    ("pause_turn", "complete", "completed"), ("refusal", "content_filter", "completed"),
    ("model_context_window_exceeded", "max_tokens", "incomplete"),
])
@pytest.mark.parametrize("streaming", [False, True])
async def test_each_stop_reason(fault_server: FaultServer, streaming: bool, reason: str, normal: str,
                                status: str) -> None:
    if streaming:
        events = [message_start(), block_start(0, {"type": "text", "text": ""}),
                  delta(0, {"type": "text_delta", "text": "Hi"}), stop(0),
                  message_delta(reason, sequence="\n\nHuman:" if reason == "stop_sequence" else None),
                  {"type": "message_stop"}]
        replay(fault_server, sse(events, named=True), content_type="text/event-stream")
        _, response = await stream("anthropic", fault_server)
    else:
        replay(fault_server, json.dumps(whole([{"type": "text", "text": "Hi"}], reason)).encode())
        response = await generate("anthropic", fault_server)
    assert (response.stop_reason, response.raw_stop_reason, response.status) == (normal, reason, status)


def whole(content: list[dict[str, Any]], reason: str = "end_turn") -> dict[str, Any]:
    return {"id": "msg_013Zva2CMHLNnXjNJJKqJ2EF", "type": "message", "role": "assistant", "model": MODEL,
            "content": content, "stop_reason": reason, "stop_sequence": None,
            "usage": {"input_tokens": 2095, "cache_creation_input_tokens": 0, "cache_read_input_tokens": 0,
                      "output_tokens": 503, "server_tool_use": {"web_search_requests": 1}, "service_tier": "standard"},
            "container": None}


async def test_a_whole_message_with_several_blocks(fault_server: FaultServer) -> None:
    content = [
        {"type": "thinking", "thinking": "Hmm.", "signature": "EqQBCgIYAh"},
        {"type": "redacted_thinking", "data": "EmwKAhgBEgy3"},
        {"type": "server_tool_use", "id": "srvtoolu_01", "name": "web_search", "input": {"query": "nyc"}},
        {"type": "web_search_tool_result", "tool_use_id": "srvtoolu_01", "content": []},
        {"type": "text", "text": "It is ", "citations": None},
        {"type": "text", "text": "sunny.", "citations": [CITATION]},
        {"type": "tool_use", "id": "toolu_01A", "name": "get_weather", "input": {"location": "NYC"}},
        {"type": "tool_use", "id": "toolu_01B", "name": "get_time", "input": {}},
    ]
    replay(fault_server, json.dumps(whole(content, "tool_use")).encode(), headers={"request-id": "req_1"})
    response = await generate("anthropic", fault_server)
    assert (response.id, response.model, response.output_text) == ("msg_013Zva2CMHLNnXjNJJKqJ2EF", MODEL, "It is sunny.")
    assert [(c.id, c.function.name, json.loads(c.function.arguments)) for c in response.tool_calls] == [
        ("toolu_01A", "get_weather", {"location": "NYC"}), ("toolu_01B", "get_time", {})]
    assert response.usage.model_dump() == {"input_tokens": 2095, "output_tokens": 503, "total_tokens": 2598}
    assert response.stop_reason == "tool_calls"


# --- errors -------------------------------------------------------------------------------------
@pytest.mark.parametrize(("kind", "expected"), [("overloaded_error", ProviderUnavailableError),
                                                ("api_error", ProviderUnavailableError)])
async def test_an_error_event_after_content_is_a_typed_error(fault_server: FaultServer, kind: str,
                                                             expected: type) -> None:
    events = [message_start(), block_start(0, {"type": "text", "text": ""}),
              delta(0, {"type": "text_delta", "text": "Hi"}), {"type": "ping"},
              {"type": "error", "error": {"type": kind, "message": "Overloaded"},
               "request_id": "req_011CSHoEeqs5C35K2UUqR7Fy"}]
    replay(fault_server, sse(events, named=True), content_type="text/event-stream")
    error = await failure("anthropic", fault_server, streaming=True)
    assert type(error) is expected
    assert error.is_retryable
    assert error.request_id == "req_011CSHoEeqs5C35K2UUqR7Fy"


ERRORS = [
    (400, "invalid_request_error", "messages: roles must alternate", ProviderResponseError),
    (400, "invalid_request_error", "prompt is too long: 208310 tokens > 200000 maximum", ProviderContextLengthError),
    (401, "authentication_error", "invalid x-api-key", ProviderAuthError),
    (403, "permission_error", "Your API key does not have permission to use the specified resource.",
     ProviderAuthError),
    (404, "not_found_error", "model: claude-9", ModelNotFoundError),
    (413, "request_too_large", "Request exceeds the maximum allowed number of bytes.", ProviderContextLengthError),
    (429, "rate_limit_error", "Number of request tokens has exceeded your per-minute rate limit",
     ProviderRateLimitError),
    (500, "api_error", "Internal server error", ProviderUnavailableError),
    (529, "overloaded_error", "Overloaded", ProviderUnavailableError),
]


@pytest.mark.parametrize("streaming", [False, True])
@pytest.mark.parametrize(("status", "kind", "message", "expected"), ERRORS)
async def test_each_error_status_is_its_typed_error(fault_server: FaultServer, streaming: bool, status: int, kind: str,
                                                    message: str, expected: type) -> None:
    body = {"type": "error", "error": {"type": kind, "message": message}, "request_id": "req_011CSHoEeqs5C35K2UUqR7Fy"}
    retryable = status >= 500 or status == 429
    headers = {"request-id": "req_011CSHoEeqs5C35K2UUqR7Fy", "x-should-retry": "true" if retryable else "false"}
    if status == 429:
        headers.update({"retry-after": "7", "anthropic-ratelimit-requests-limit": "50",
                        "anthropic-ratelimit-requests-remaining": "0",
                        "anthropic-ratelimit-requests-reset": "2026-11-30T04:00:07Z"})
    replay(fault_server, json.dumps(body).encode(), status=status, headers=headers)
    error = await failure("anthropic", fault_server, streaming=streaming)
    assert type(error) is expected
    assert error.status_code == status
    assert message[:20] in error.message
    assert error.request_id == "req_011CSHoEeqs5C35K2UUqR7Fy"
    assert "request_id=req_011CSHoEeqs5C35K2UUqR7Fy" in str(error)
    assert error.is_retryable is retryable
    if status == 429:
        assert error.retry_after == 7.0


# --- what we send -------------------------------------------------------------------------------
async def test_the_request_body_and_headers(fault_server: FaultServer) -> None:
    replay(fault_server, json.dumps(whole([{"type": "text", "text": "ok"}])).encode())
    tool = FunctionToolDefinition(function=FunctionDefinition(
        name="get_weather", description="Weather", parameters={"type": "object", "properties": {"city": {"type": "string"}}}))
    history = [
        Message(role=MessageRole.USER, content=[
            {"type": "input_text", "text": "What is here?"},
            InputImageContent(image_url={"url": "data:image/png;base64,iVBORw0KGgo="}),
            InputImageContent(image_url={"url": "https://example.com/a.jpg"})]),
        Message(role=MessageRole.ASSISTANT, content=[OutputTextContent(text="Let me look."),
                                                     ToolUseContent(id="toolu_a", name="get_weather",
                                                                    arguments='{"city":"Paris"}')]),
        Message(role=MessageRole.USER, content=[{"type": "tool_result", "tool_use_id": "toolu_a", "content": "sunny"},
                                                {"type": "tool_result", "tool_use_id": "toolu_b", "content": "",
                                                 "error": "boom"}]),
    ]
    options = TextGenerateOptions(model=MODEL, input=history, instructions="You help.", tools=[tool],
                                  tool_choice="required")
    await generate("anthropic", fault_server, options)
    body, headers = sent(fault_server), fault_server.requests[-1].headers
    assert headers["anthropic-version"] == "2023-06-01" and headers["x-api-key"]
    assert "authorization" not in headers
    assert body["system"] == "You help." and body["max_tokens"] == 4096
    assert [m["role"] for m in body["messages"]] == ["user", "assistant", "user"]
    assert body["messages"][0]["content"][1:] == [
        {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": "iVBORw0KGgo="}},
        {"type": "image", "source": {"type": "url", "url": "https://example.com/a.jpg"}}]
    assert body["messages"][1]["content"][1] == {"type": "tool_use", "id": "toolu_a", "name": "get_weather",
                                                 "input": {"city": "Paris"}}
    results = body["messages"][2]["content"]
    assert results[0] == {"type": "tool_result", "tool_use_id": "toolu_a", "content": "sunny"}
    assert results[1]["is_error"] is True and results[1]["content"]
    assert body["tools"] == [{"name": "get_weather", "description": "Weather",
                              "input_schema": {"type": "object", "properties": {"city": {"type": "string"}}}}]
    assert body["tool_choice"] == {"type": "any"}


async def test_tool_results_come_first_in_their_user_message(fault_server: FaultServer) -> None:
    """The reference: "tool_result blocks must come FIRST in the content array" (text before them: 400).
    A history whose user turn holds text then results, or a text message then a results message
    (merged into one turn), sent the text first."""
    replay(fault_server, json.dumps(whole([{"type": "text", "text": "ok"}])).encode())
    history = [
        Message(role=MessageRole.USER, content=[{"type": "input_text", "text": "Weather?"}]),
        Message(role=MessageRole.ASSISTANT, content=[ToolUseContent(id="toolu_a", name="w", arguments="{}"),
                                                     ToolUseContent(id="toolu_b", name="w", arguments="{}")]),
        Message(role=MessageRole.USER, content=[{"type": "input_text", "text": "Here you go:"},
                                                {"type": "tool_result", "tool_use_id": "toolu_a", "content": "1"}]),
        Message(role=MessageRole.USER, content=[{"type": "tool_result", "tool_use_id": "toolu_b", "content": "2"},
                                                {"type": "input_text", "text": "Thanks."}]),
    ]
    await generate("anthropic", fault_server, TextGenerateOptions(model=MODEL, input=history))
    last = sent(fault_server)["messages"][-1]
    assert [(b["type"], b.get("tool_use_id") or b.get("text")) for b in last["content"]] == [
        ("tool_result", "toolu_a"), ("tool_result", "toolu_b"), ("text", "Here you go:"), ("text", "Thanks.")]


@pytest.mark.parametrize(("status", "kind", "header", "attempts"), [
    (500, "api_error", "false", 1), (529, "overloaded_error", "false", 1), (400, "invalid_request_error", "true", 2),
])
async def test_x_should_retry_decides_over_the_status(fault_server: FaultServer, status: int, kind: str, header: str,
                                                      attempts: int) -> None:
    """Both vendors' SDKs obey ``x-should-retry`` before the status: a 500 the server says not to
    retry was retried ``max_retries`` times; a 400 it says to retry was not."""
    body = {"type": "error", "error": {"type": kind, "message": "no"}}
    replay(fault_server, json.dumps(body).encode(), status=status, headers={"x-should-retry": header})
    error = await failure("anthropic", fault_server, max_retries=1)
    assert error.status_code == status
    assert error.is_retryable is (header == "true")
    assert len(fault_server.requests) == attempts


@pytest.mark.parametrize(("choice", "parallel"), [("auto", None), ("none", None), ("required", None), (None, False)])
async def test_tool_choice_is_sent_only_with_tools(fault_server: FaultServer, choice: str | None,
                                                   parallel: bool | None) -> None:
    """Anthropic refuses ``tool_choice`` without ``tools``."""
    replay(fault_server, json.dumps(whole([{"type": "text", "text": "ok"}])).encode())
    await generate("anthropic", fault_server, TextGenerateOptions(model=MODEL, input="hi", tool_choice=choice,
                                                                  parallel_tool_calls=parallel))
    assert "tool_choice" not in sent(fault_server)


@pytest.mark.parametrize(("url", "media_type"), [("data:image/jpg;base64,/9j/4AAQ", "image/jpeg"),
                                                 ("data:IMAGE/PNG;base64,iVBORw0K", "image/png"),
                                                 ("data:image/webp;base64,UklGR", "image/webp")])
async def test_an_image_data_url_gets_a_media_type_the_api_accepts(fault_server: FaultServer, url: str,
                                                                  media_type: str) -> None:
    """``media_type`` must be one of image/jpeg, image/png, image/gif, image/webp: ``image/jpg``
    (a common spelling) and upper case were sent as written and refused."""
    replay(fault_server, json.dumps(whole([{"type": "text", "text": "ok"}])).encode())
    history = [Message(role=MessageRole.USER, content=[InputImageContent(image_url={"url": url})])]
    await generate("anthropic", fault_server, TextGenerateOptions(model=MODEL, input=history))
    source = sent(fault_server)["messages"][0]["content"][0]["source"]
    assert (source["type"], source["media_type"]) == ("base64", media_type)
