"""OpenAI Chat Completions, field by field as the API reference and openai-python's types
(``chat_completion.py``, ``chat_completion_chunk.py``) spell them, replayed from a loopback
server: every documented field present (``system_fingerprint``, ``service_tier``,
``obfuscation``, ``logprobs``, usage details), Azure's content-filter chunks, refusals, every
``finish_reason``, parallel calls interleaved by index and cut mid-character, error bodies
with each status and rate-limit header, and the request body a real server would accept."""

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
    SECRET,
    FaultServer,
    fault_server_fixture,  # noqa: F401 - provides the fault_server fixture
    shows_secret,
)
from tests.faults.wire_fidelity_support import failure, generate, kinds, replay, sent, sse, stream

MODEL = "gpt-4o-2024-08-06"
HEAD = {"id": "chatcmpl-B9MBs8CjcvOU2jLn4n570S5qMJKcT", "object": "chat.completion.chunk", "created": 1741570283,
        "model": MODEL, "service_tier": "default", "system_fingerprint": "fp_eb9dce56a8"}


def chunk(delta: dict[str, Any], finish: str | None = None, **extra: Any) -> dict[str, Any]:
    return {**HEAD, "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}],
            "usage": None, "obfuscation": "kQ3", **extra}


USAGE = {"prompt_tokens": 19, "completion_tokens": 10, "total_tokens": 29,
         "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
         "completion_tokens_details": {"reasoning_tokens": 0, "audio_tokens": 0,
                                       "accepted_prediction_tokens": 0, "rejected_prediction_tokens": 0}}
USAGE_CHUNK = {**HEAD, "choices": [], "usage": USAGE, "obfuscation": "Zx"}


def completion(message: dict[str, Any], finish: str | None) -> dict[str, Any]:
    return {"id": "chatcmpl-123", "object": "chat.completion", "created": 1741569952, "model": MODEL,
            "choices": [{"index": 0, "message": {"role": "assistant", "refusal": None, "annotations": [], **message},
                         "logprobs": {"content": [{"token": "Hi", "logprob": -0.1, "bytes": [72, 105],
                                                   "top_logprobs": []}], "refusal": None},
                         "finish_reason": finish}],
            "usage": USAGE, "service_tier": "default", "system_fingerprint": "fp_fc9f1d7035"}


# --- whole responses ---------------------------------------------------------------------------
@pytest.mark.parametrize(("finish", "stop", "status"), [
    ("stop", "complete", "completed"), ("length", "max_tokens", "incomplete"),
    ("content_filter", "content_filter", "completed"),
])
async def test_a_whole_response_with_every_documented_field(fault_server: FaultServer, finish: str, stop: str,
                                                             status: str) -> None:
    replay(fault_server, json.dumps(completion({"content": "Hi there."}, finish)).encode())
    response = await generate("openai", fault_server)
    assert (response.id, response.model, response.output_text) == ("chatcmpl-123", MODEL, "Hi there.")
    assert (response.stop_reason, response.raw_stop_reason, response.status) == (stop, finish, status)
    assert response.usage.model_dump() == {"input_tokens": 19, "output_tokens": 10, "total_tokens": 29}


async def test_content_null_with_parallel_tool_calls(fault_server: FaultServer) -> None:
    calls = [{"id": "call_a", "type": "function", "function": {"name": "get_weather", "arguments": '{"city":"Paris"}'}},
             {"id": "call_b", "type": "function", "function": {"name": "get_time", "arguments": '{"zone":"CET"}'}}]
    replay(fault_server, json.dumps(completion({"content": None, "tool_calls": calls}, "tool_calls")).encode())
    response = await generate("openai", fault_server)
    assert response.output_text == ""
    assert [(c.id, c.function.name, c.function.arguments) for c in response.tool_calls] == [
        ("call_a", "get_weather", '{"city":"Paris"}'), ("call_b", "get_time", '{"zone":"CET"}')]
    assert response.stop_reason == "tool_calls"


async def test_a_whole_refusal_is_the_answer(fault_server: FaultServer) -> None:
    replay(fault_server, json.dumps(completion({"content": None, "refusal": "I can't help with that."}, "stop")).encode())
    response = await generate("openai", fault_server)
    assert (response.output_text, response.stop_reason) == ("I can't help with that.", "content_filter")


async def test_a_legacy_function_call_is_a_tool_call(fault_server: FaultServer) -> None:
    """``functions``/``function_call`` (deprecated, still answered): ``finish_reason: function_call``."""
    message = {"content": None, "function_call": {"name": "get_weather", "arguments": '{"city":"Paris"}'}}
    replay(fault_server, json.dumps(completion(message, "function_call")).encode())
    response = await generate("openai", fault_server)
    assert [(c.function.name, c.function.arguments) for c in response.tool_calls] == [
        ("get_weather", '{"city":"Paris"}')]
    assert response.stop_reason == "tool_calls"


# --- streams ------------------------------------------------------------------------------------
async def test_a_stream_with_include_usage_ends_with_a_choiceless_usage_chunk(fault_server: FaultServer) -> None:
    events = [chunk({"role": "assistant", "content": "", "refusal": None}), chunk({"content": "Hi"}),
              chunk({"content": " there."}), chunk({}, "stop"), USAGE_CHUNK, "[DONE]"]
    replay(fault_server, sse(events), content_type="text/event-stream; charset=utf-8")
    seen, response = await stream("openai", fault_server)
    assert kinds(seen) == ["response.created", "response.output_text.delta", "response.output_text.delta",
                           "response.complete"]
    assert (seen[0].response_id, seen[0].model) == (HEAD["id"], MODEL)
    assert (response.id, response.model, response.output_text) == (HEAD["id"], MODEL, "Hi there.")
    assert (response.stop_reason, response.status) == ("complete", "completed")
    assert response.usage.model_dump() == {"input_tokens": 19, "output_tokens": 10, "total_tokens": 29}
    body = sent(fault_server)
    assert body["stream"] is True and body["stream_options"] == {"include_usage": True}


AZURE_PREAMBLE = {"choices": [], "created": 0, "id": "", "model": "", "object": "",
                  "prompt_filter_results": [{"prompt_index": 0, "content_filter_results": {
                      "hate": {"filtered": False, "severity": "safe"},
                      "self_harm": {"filtered": False, "severity": "safe"}}}]}


async def test_azure_content_filter_preamble_and_trailing_filter_chunks(fault_server: FaultServer) -> None:
    """Azure OpenAI opens with a choiceless chunk (empty id and model) and sends filter results in
    chunks with an empty delta; the answer's id and model are those of the real chunks."""
    filters = {"hate": {"filtered": False, "severity": "safe"}}
    events = [AZURE_PREAMBLE,
              {**chunk({"role": "assistant", "content": ""}), "choices": [
                  {"index": 0, "delta": {"role": "assistant", "content": ""}, "finish_reason": None,
                   "content_filter_results": {}}]},
              chunk({"content": "Hi."}), chunk({}, "stop"),
              {**HEAD, "choices": [{"index": 0, "delta": {}, "finish_reason": None,
                                    "content_filter_offsets": {"check_offset": 0, "start_offset": 0, "end_offset": 3},
                                    "content_filter_results": filters}]},
              USAGE_CHUNK, "[DONE]"]
    replay(fault_server, sse(events), content_type="text/event-stream")
    _, response = await stream("openai", fault_server)
    assert (response.id, response.model, response.output_text) == (HEAD["id"], MODEL, "Hi.")
    assert response.stop_reason == "complete"
    assert response.usage.total_tokens == 29


async def test_a_streamed_refusal_is_the_answer(fault_server: FaultServer) -> None:
    events = [chunk({"role": "assistant", "content": None, "refusal": ""}), chunk({"refusal": "I can't"}),
              chunk({"refusal": " help."}), chunk({}, "stop"), USAGE_CHUNK, "[DONE]"]
    replay(fault_server, sse(events), content_type="text/event-stream")
    _, response = await stream("openai", fault_server)
    assert (response.output_text, response.stop_reason) == ("I can't help.", "content_filter")


@pytest.mark.parametrize(("finish", "stop", "status"), [
    ("length", "max_tokens", "incomplete"), ("content_filter", "content_filter", "completed"),
    ("function_call", "tool_calls", "completed"),
])
async def test_each_streamed_finish_reason(fault_server: FaultServer, finish: str, stop: str, status: str) -> None:
    first: dict[str, Any] = {"content": "Hi"}
    if finish == "function_call":
        first = {"content": None, "function_call": {"name": "get_weather", "arguments": ""}}
    events = [chunk({"role": "assistant", **first})]
    if finish == "function_call":
        events += [chunk({"function_call": {"arguments": '{"city":'}}), chunk({"function_call": {"arguments": '"Oslo"}'}})]
    events += [chunk({}, finish), USAGE_CHUNK, "[DONE]"]
    replay(fault_server, sse(events), content_type="text/event-stream")
    _, response = await stream("openai", fault_server)
    assert (response.stop_reason, response.raw_stop_reason, response.status) == (stop, finish, status)
    if finish == "function_call":
        assert [(c.function.name, c.function.arguments) for c in response.tool_calls] == [
            ("get_weather", '{"city":"Oslo"}')]


async def test_a_stream_whose_server_never_sends_finish_reason_but_done(fault_server: FaultServer) -> None:
    events = [chunk({"role": "assistant", "content": "Hi."}), "[DONE]"]
    replay(fault_server, sse(events), content_type="text/event-stream")
    _, response = await stream("openai", fault_server)
    assert (response.output_text, response.stop_reason, response.raw_stop_reason) == ("Hi.", "complete", None)


def _call_delta(index: int, arguments: str, call_id: str | None = None, name: str | None = None) -> dict[str, Any]:
    call: dict[str, Any] = {"index": index, "function": {"arguments": arguments}}
    if call_id:
        call.update(id=call_id, type="function")
        call["function"]["name"] = name
    return {"tool_calls": [call]}


async def test_parallel_calls_interleaved_by_index_and_cut_mid_character_and_mid_escape(
        fault_server: FaultServer) -> None:
    paris, tokyo = '{"city": "Paris \u2013 Île\\n"}', '{"city": "東京 🌸", "q": "a\\"b"}'
    events = [chunk({"role": "assistant", "content": None}),
              chunk(_call_delta(0, "", "call_a", "get_weather")), chunk(_call_delta(1, "", "call_b", "get_weather")),
              chunk(_call_delta(0, paris[:14])), chunk(_call_delta(1, tokyo[:12])),
              chunk(_call_delta(0, paris[14:])), chunk(_call_delta(1, tokyo[12:])),
              chunk({}, "tool_calls"), USAGE_CHUNK, "[DONE]"]
    body = sse(events)
    cuts = [body.index("Î".encode()) + 1, body.index("東".encode()) + 2, body.index("🌸".encode()) + 3,
            body.index(b'\\\\n') + 1, body.index(b'\\"b') + 1]
    replay(fault_server, body, content_type="text/event-stream", pieces=cuts)
    seen, response = await stream("openai", fault_server)
    starts = [e for e in seen if e.type == "response.tool_call.start"]
    assert [(e.index, e.tool_call_id) for e in starts] == [(0, "call_a"), (1, "call_b")]
    done = [e for e in seen if e.type == "response.tool_call_arguments.done"]
    assert [json.loads(e.arguments) for e in done] == [json.loads(paris), json.loads(tokyo)]
    assert [c.id for c in response.tool_calls] == ["call_a", "call_b"]
    assert response.stop_reason == "tool_calls"


async def test_reasoning_content_deltas_of_compatible_servers_do_not_disturb_the_answer(
        fault_server: FaultServer) -> None:
    """DeepSeek / vLLM stream ``delta.reasoning_content`` (content null) before the answer."""
    events = [chunk({"role": "assistant", "content": None, "reasoning_content": ""}),
              chunk({"content": None, "reasoning_content": "Think"}), chunk({"content": None, "reasoning_content": "."}),
              chunk({"content": "42", "reasoning_content": None}), chunk({"content": ""}, "stop"),
              {**USAGE_CHUNK, "usage": {"prompt_tokens": 5, "completion_tokens": 7, "total_tokens": 12,
                                        "completion_tokens_details": {"reasoning_tokens": 5}}}, "[DONE]"]
    replay(fault_server, sse(events), content_type="text/event-stream")
    seen, response = await stream("openai", fault_server)
    assert [e.delta for e in seen if e.type == "response.output_text.delta"] == ["42"]
    assert (response.output_text, response.usage.output_tokens, response.usage.total_tokens) == ("42", 7, 12)


# --- errors -------------------------------------------------------------------------------------
def error_body(message: str, kind: str, code: str | None, param: str | None = None) -> bytes:
    return json.dumps({"error": {"message": message, "type": kind, "param": param, "code": code}}).encode()


ERRORS = [
    (400, "invalid_request_error", None, "Invalid value for 'temperature'", ProviderResponseError),
    (400, "invalid_request_error", "context_length_exceeded",
     "This model's maximum context length is 128000 tokens.", ProviderContextLengthError),
    (401, "invalid_request_error", "invalid_api_key", "Incorrect API key provided: sk-proj-****abcd.", ProviderAuthError),
    (403, "invalid_request_error", "unsupported_country_region_territory", "Country not supported.", ProviderAuthError),
    (404, "invalid_request_error", "model_not_found", "The model `gpt-9` does not exist or you do not have access to it.",
     ModelNotFoundError),
    (409, "invalid_request_error", None, "Conflict", ProviderUnavailableError),
    (422, "invalid_request_error", None, "Unprocessable", ProviderResponseError),
    (429, "requests", "rate_limit_exceeded", "Rate limit reached for gpt-4o on requests per min (RPM)",
     ProviderRateLimitError),
    (500, "server_error", None, "The server had an error while processing your request.", ProviderUnavailableError),
    (503, "server_error", None, "The engine is currently overloaded, please try again later.",
     ProviderUnavailableError),
]


@pytest.mark.parametrize("streaming", [False, True])
@pytest.mark.parametrize(("status", "kind", "code", "message", "expected"), ERRORS)
async def test_each_error_status_is_its_typed_error(fault_server: FaultServer, streaming: bool, status: int, kind: str,
                                                    code: str | None, message: str, expected: type) -> None:
    replay(fault_server, error_body(message, kind, code), status=status,
           headers={"x-request-id": "req_123", "openai-processing-ms": "12"})
    error = await failure("openai", fault_server, streaming=streaming)
    assert type(error) is expected
    assert error.status_code == status
    assert message[:20] in error.message
    assert error.request_id == "req_123"


@pytest.mark.parametrize("value", ["req 1", "a" * 129, "req<script>", "-x", ""])
async def test_a_request_id_that_is_no_id_is_dropped(fault_server: FaultServer, value: str) -> None:
    replay(fault_server, error_body("Bad", "invalid_request_error", None), status=400,
           headers={"x-request-id": value})
    error = await failure("openai", fault_server)
    assert error.request_id is None
    assert "request_id" not in str(error)


def test_a_request_id_survives_pickling() -> None:
    import pickle

    error = ProviderRateLimitError("slow down", provider="openai", status_code=429, request_id="req_9")
    assert pickle.loads(pickle.dumps(error)).request_id == "req_9"


@pytest.mark.parametrize(("headers", "expected"), [
    ({"retry-after-ms": "1500", "retry-after": "2"}, 1.5),
    ({"retry-after": "3"}, 3.0),
    ({"x-ratelimit-limit-requests": "500", "x-ratelimit-remaining-requests": "0",
      "x-ratelimit-reset-requests": "120ms", "x-ratelimit-reset-tokens": "6m0s"}, None),
])
async def test_retry_after_headers(fault_server: FaultServer, headers: dict[str, str], expected: float | None) -> None:
    replay(fault_server, error_body("Rate limit reached", "requests", "rate_limit_exceeded"), status=429, headers=headers)
    error = await failure("openai", fault_server)
    assert isinstance(error, ProviderRateLimitError)
    assert error.retry_after == expected


async def test_insufficient_quota_is_not_retried(fault_server: FaultServer) -> None:
    """Billing, not load: waiting does not help (openai-python documents it as a 429 too)."""
    replay(fault_server, error_body("You exceeded your current quota, please check your plan and billing details.",
                                    "insufficient_quota", "insufficient_quota"), status=429)
    error = await failure("openai", fault_server, max_retries=2)
    assert isinstance(error, ProviderRateLimitError)
    assert error.is_retryable is False
    assert len(fault_server.requests) == 1


# --- what we send -------------------------------------------------------------------------------
def _full_options(model: str) -> TextGenerateOptions:
    tool = FunctionToolDefinition(function=FunctionDefinition(
        name="get_weather", description="Weather", parameters={"type": "object", "properties": {"city": {"type": "string"}}}))
    history = [
        Message(role=MessageRole.DEVELOPER, content=[{"type": "input_text", "text": "Be brief."}]),
        Message(role=MessageRole.USER, content=[
            {"type": "input_text", "text": "What is here?"},
            InputImageContent(image_url={"url": "https://example.com/a.png", "detail": "low"})]),
        Message(role=MessageRole.ASSISTANT, content=[OutputTextContent(text="")]),
        Message(role=MessageRole.ASSISTANT, content=[ToolUseContent(id="call_a", name="get_weather",
                                                                    arguments='{"city":"Paris"}')]),
        Message(role=MessageRole.USER, content=[{"type": "tool_result", "tool_use_id": "call_a", "content": "sunny"}]),
    ]
    return TextGenerateOptions(model=model, input=history, instructions="You help.", tools=[tool],
                               tool_choice="get_weather", max_output_tokens=100, temperature=0.2)


def _check_chat_request(body: dict[str, Any]) -> None:
    """What the Chat Completions reference requires of each message."""
    for message in body["messages"]:
        assert message["role"] in ("system", "developer", "user", "assistant", "tool")
        if message["role"] == "assistant":
            assert message.get("content") is not None or message.get("tool_calls"), message
        if message["role"] == "tool":
            assert isinstance(message["tool_call_id"], str) and isinstance(message["content"], str)
        if isinstance(message.get("content"), list):
            for part in message["content"]:
                assert part["type"] in ("text", "image_url"), part
                if part["type"] == "image_url":
                    assert part["image_url"]["detail"] in ("auto", "low", "high")


async def test_the_request_body_for_api_openai_com_and_a_compatible_server(fault_server: FaultServer) -> None:
    replay(fault_server, json.dumps(completion({"content": "ok"}, "stop")).encode())
    await generate("openai", fault_server, _full_options("gpt-4o"))
    body = sent(fault_server)
    _check_chat_request(body)
    assert body["tools"] == [{"type": "function", "function": {
        "name": "get_weather", "description": "Weather",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}}}}]
    assert body["tool_choice"] == {"type": "function", "function": {"name": "get_weather"}}
    assert body["max_tokens"] == 100  # a compatible server: the field every one of them reads
    assert body["messages"][0] == {"role": "system", "content": "You help."}
    assert [m["role"] for m in body["messages"]] == ["system", "system", "user", "assistant", "assistant", "tool"]
    assert body["messages"][3] == {"role": "assistant", "content": ""}
    assert body["messages"][4]["content"] is None and body["messages"][4]["tool_calls"][0]["id"] == "call_a"
    assert body["messages"][2]["content"][1] == {"type": "image_url",
                                                 "image_url": {"url": "https://example.com/a.png", "detail": "low"}}
    assert fault_server.requests[-1].headers["authorization"].startswith("Bearer ")


@pytest.mark.parametrize(("finish", "calls", "stop"), [
    (None, False, "complete"), (None, True, "tool_calls"), ("stop", True, "tool_calls"),
])
async def test_a_whole_response_stops_as_the_same_stream_would(fault_server: FaultServer, finish: str | None,
                                                               calls: bool, stop: str) -> None:
    """``finish_reason`` null, or "stop" beside tool calls (vLLM, Ollama's compatible API): a stream
    of the same answer said "complete"/"tool_calls", generate said None/"complete"."""
    message: dict[str, Any] = {"content": "Hi."}
    if calls:
        message["tool_calls"] = [{"id": "call_a", "type": "function",
                                  "function": {"name": "get_weather", "arguments": "{}"}}]
    replay(fault_server, json.dumps(completion(message, finish)).encode())
    response = await generate("openai", fault_server)
    assert (response.stop_reason, response.raw_stop_reason) == (stop, finish)


async def test_a_stream_of_several_choices_is_the_first_choice(fault_server: FaultServer) -> None:
    """``n: 2``: the chunks of choice 1 were run into choice 0's text."""
    def pair(first: dict[str, Any], second: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
        return {**HEAD, "choices": [{"index": 0, "delta": first, "finish_reason": finish},
                                    {"index": 1, "delta": second, "finish_reason": finish}]}

    events = [pair({"role": "assistant", "content": ""}, {"role": "assistant", "content": ""}),
              pair({"content": "Yes"}, {"content": "No"}), {**HEAD, "choices": [{"index": 1, "delta": {"content": "pe"}}]},
              pair({}, {}, "stop"), USAGE_CHUNK, "[DONE]"]
    replay(fault_server, sse(events), content_type="text/event-stream")
    _, response = await stream("openai", fault_server, TextGenerateOptions(model="m", input="hi",
                                                                           provider_options={"n": 2}))
    assert response.output_text == "Yes"
    assert sent(fault_server)["n"] == 2


@pytest.mark.parametrize("choice", ["auto", "none", "required", "get_weather"])
async def test_tool_choice_is_sent_only_with_tools(fault_server: FaultServer, choice: str) -> None:
    """OpenAI refuses ``tool_choice`` without ``tools`` ("only allowed when 'tools' are specified")."""
    replay(fault_server, json.dumps(completion({"content": "ok"}, "stop")).encode())
    await generate("openai", fault_server, TextGenerateOptions(model="m", input="hi", tool_choice=choice,
                                                               parallel_tool_calls=False))
    body = sent(fault_server)
    assert "tool_choice" not in body and "parallel_tool_calls" not in body
    raw_tools = [{"type": "function", "function": {"name": "get_weather", "parameters": {"type": "object"}}}]
    await generate("openai", fault_server, TextGenerateOptions(model="m", input="hi", tool_choice=choice,
                                                               provider_options={"tools": raw_tools}))
    assert "tool_choice" in sent(fault_server)


@pytest.mark.parametrize("header", ["x-request-id", "request-id"])
async def test_a_request_id_echoing_the_key_is_dropped(fault_server: FaultServer, header: str) -> None:
    replay(fault_server, error_body("Bad", "invalid_request_error", None), status=400, headers={header: SECRET})
    error = await failure("openai", fault_server)
    assert error.request_id is None
    assert not shows_secret(error, repr(error), error.message)
