"""Untrusted shapes become typed errors: valid JSON of the wrong shape, wrong content types,
invalid UTF-8 — for generate and stream, all three vendors and OpenAI Images. Named cases
here; ``test_providers_fuzz.py`` replaces every field at every depth with any JSON value."""

from __future__ import annotations

import json
from typing import Any

import pytest

from oneringai import (
    ImageGenerateOptions,
    LLMResponse,
    ProviderError,
    ProviderResponseError,
)
from oneringai.infrastructure.http.client import build_http_client
from oneringai.infrastructure.providers.openai_images import OpenAIImageProvider
from tests.faults.providers_fixtures import (
    KINDS,
    SECRET,
    VENDORS,
    FaultServer,
    collect,
    fault_server_fixture,  # noqa: F401 - provides the fault_server fixture
    options,
)

WRONG_BODIES: dict[str, list[Any]] = {
    "openai": [
        {"choices": ["x"]}, {"choices": [{"message": "hi"}]}, {"choices": "many"}, {"choices": []},
        {"choices": [{"message": {"content": 5}}]}, {"choices": [{"message": {"tool_calls": ["x"]}}]},
        {"choices": [{"message": {"tool_calls": [{"function": "f"}]}}]},
        {"id": None, "model": None, "choices": [{"message": {"content": "ok"}, "finish_reason": None}]},
        {"choices": [{"message": {"content": "ok"}}], "usage": "many"},
        {"choices": [{"message": {"content": "ok"}}], "usage": {"prompt_tokens": "abc"}},
        {"choices": [{"message": {"content": "ok"}}], "usage": {"prompt_tokens": 1e400}},
        {"choices": [{"index": "abc", "message": {"content": "ok"}}]}, 42, "text", None, [], [1, 2],
    ],
    "ollama": [
        {"message": "hi"}, {"message": None}, {"message": {"content": ["x"]}}, {"message": {"tool_calls": "x"}},
        {"message": {"tool_calls": [{"function": "f"}]}}, {"message": {"content": "ok"}, "eval_count": "many"},
        {"message": {"content": "ok"}, "done": "maybe"}, {"message": {"content": "ok"}, "created_at": 5},
        42, "text", None, [],
    ],
    "anthropic": [
        {"content": "hi"}, {"content": ["x"]}, {"content": [{"type": "text", "text": 5}]},
        {"content": [{"type": "tool_use", "id": None, "name": None, "input": "x"}]},
        {"content": [], "usage": "many"}, {"content": [], "usage": {"input_tokens": "abc"}},
        {"content": None}, 42, "text", None, [],
    ],
}

WRONG_EVENTS: dict[str, list[Any]] = {
    "openai": [
        {"choices": ["x"]}, {"choices": [{"delta": "hi"}]}, {"choices": [{"delta": {"content": 5}}]},
        {"choices": [{"delta": {"tool_calls": [{"index": "abc", "function": {"name": "f"}}]}}]},
        {"choices": [{"delta": {"tool_calls": [{"index": 0, "function": {"arguments": {"a": 1}}}]}}]},
        {"choices": [], "usage": "many"}, {"id": None, "choices": None}, 42, "text", [], None,
        {"error": "plain string error"}, {"error": {"message": 5, "code": ["x"]}},
    ],
    "ollama": [
        {"message": "hi"}, {"message": {"content": 5}}, {"message": {"tool_calls": [{"function": 3}]}},
        {"done": "yes", "eval_count": "x"}, {"error": {"nested": True}}, 42, "text", [], None,
    ],
    "anthropic": [
        {"type": "content_block_delta", "index": "abc", "delta": {"type": "text_delta", "text": "x"}},
        {"type": "content_block_delta", "delta": "x"}, {"type": "content_block_start", "content_block": "x"},
        {"type": "message_start", "message": "x"}, {"type": "message_delta", "usage": "many"},
        {"type": 5}, {"type": "error", "error": "x"}, {"type": "error"}, 42, "text", [], None,
    ],
}


def _cases(table: dict[str, list[Any]]) -> list[tuple[str, Any]]:
    return [(kind, case) for kind, cases in table.items() for case in cases]


@pytest.mark.parametrize(("kind", "body"), _cases(WRONG_BODIES))
async def test_a_wrong_body_is_a_valid_response_or_a_typed_error(fault_server: FaultServer, kind, body):
    fault_server.answer(200, json.dumps(body).encode())
    async with VENDORS[kind].provider(fault_server.url) as provider:
        try:
            result = await provider.generate(options())
        except ProviderError as error:
            assert error.provider == provider.name
        else:
            assert isinstance(result, LLMResponse)


@pytest.mark.parametrize(("kind", "event"), _cases(WRONG_EVENTS))
@pytest.mark.parametrize("position", [0, 2])
async def test_a_wrong_stream_event_is_a_valid_stream_or_a_typed_error(fault_server: FaultServer, kind, event,
                                                                       position):
    vendor = VENDORS[kind]
    events = vendor.events()
    events.insert(position, event)
    fault_server.answer(200, vendor.stream_body(events), vendor.stream_type)
    async with vendor.provider(fault_server.url) as provider:
        try:
            produced = await collect(provider)
        except ProviderError as error:
            assert error.provider == provider.name
        else:
            assert produced[-1].type == "response.complete"


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize(("content_type", "body"), [
    ("text/html", b"<html><body>502 Bad Gateway</body></html>"),
    ("text/plain", b"upstream connect error or disconnect/reset before headers"),
    ("application/octet-stream", b"\x00\x01\x02\xff"),
])
async def test_a_wrong_content_type_is_a_response_error(fault_server: FaultServer, kind, content_type, body):
    vendor = VENDORS[kind]
    fault_server.answer(200, body, content_type)
    async with vendor.provider(fault_server.url) as provider:
        with pytest.raises(ProviderResponseError):
            await provider.generate(options())
        with pytest.raises(ProviderError):
            await collect(provider)


@pytest.mark.parametrize("kind", KINDS)
async def test_a_json_body_to_a_stream_request_is_judged_by_its_content(fault_server: FaultServer, kind):
    vendor = VENDORS[kind]
    fault_server.answer(200, json.dumps(vendor.body()).encode(), "application/json")
    async with vendor.provider(fault_server.url) as provider:
        try:
            events = await collect(provider)
        except ProviderError as error:
            assert error.provider == provider.name
        else:  # Ollama's NDJSON: one JSON object is a one-line stream
            assert kind == "ollama" and events[-1].response.output_text


@pytest.mark.parametrize("kind", KINDS)
async def test_invalid_utf8_is_a_typed_error_or_replaced(fault_server: FaultServer, kind):
    vendor = VENDORS[kind]
    bad = json.dumps(vendor.body()).encode().replace(b"Hello", b"He\xff\xfelo")
    fault_server.answer(200, bad)
    async with vendor.provider(fault_server.url) as provider:
        try:
            response = await provider.generate(options())
        except ProviderError as error:
            assert error.provider == provider.name
        else:
            assert "lo" in response.output_text
        events = vendor.events()
        raw = [vendor.frame(e) for e in events]
        raw[1] = raw[1][:-3] + b"\xc3\x28" + raw[1][-3:]  # an invalid 2-byte sequence
        fault_server.answer(200, b"".join(raw), vendor.stream_type)
        try:
            produced = await collect(provider)
        except ProviderError as error:
            assert error.provider == provider.name
        else:
            assert produced[-1].type == "response.complete"


@pytest.mark.parametrize("kind", KINDS)
async def test_deeply_nested_json_is_a_typed_error(fault_server: FaultServer, kind):
    vendor = VENDORS[kind]
    fault_server.answer(200, b"[" * 100_000 + b"]" * 100_000)
    async with vendor.provider(fault_server.url) as provider:
        with pytest.raises(ProviderResponseError):
            await provider.generate(options())
        fault_server.answer(200, vendor.stream_body([b"[" * 50_000]), vendor.stream_type)
        with pytest.raises(ProviderResponseError):
            await collect(provider)


@pytest.mark.parametrize("status", [400, 404, 500])
async def test_deeply_nested_error_body_is_still_the_typed_error(fault_server: FaultServer, status):
    fault_server.answer(status, b'{"error": ' + b"[" * 60_000)
    async with VENDORS["openai"].provider(fault_server.url) as provider:
        with pytest.raises(ProviderError) as caught:
            await provider.generate(options())
    assert caught.value.status_code == status


@pytest.mark.parametrize("body", [
    {"data": "x"}, {"data": ["x"]}, {"data": [{"url": 5}]}, {"created": "abc", "data": []}, {"created": 1},
    42, None, "text", {"data": [{"url": "https://x/y.png"}], "created": None},
])
async def test_images_wrong_shapes(fault_server: FaultServer, body):
    fault_server.answer(200, json.dumps(body).encode())
    client = build_http_client()
    provider = OpenAIImageProvider({"base_url": f"{fault_server.url}/v1", "api_key": f"sk-{SECRET}",
                                    "max_retries": 0}, http_client=client)
    try:
        result = await provider.generate_image(ImageGenerateOptions(prompt="a cat"))
    except ProviderError as error:
        assert error.provider == provider.name
    else:
        assert all(image.url for image in result.data)
    finally:
        await client.aclose()


@pytest.mark.parametrize(("kind", "body"), [
    ("openai", {"data": "x"}), ("openai", {"data": [5]}), ("openai", 42),
    ("ollama", {"models": "x"}), ("ollama", {"models": [{"name": 5}]}), ("ollama", None),
])
async def test_model_lists_wrong_shapes(fault_server: FaultServer, kind, body):
    fault_server.answer(200, json.dumps(body).encode())
    async with VENDORS[kind].provider(fault_server.url) as provider:
        try:
            models = await provider.list_models()
        except ProviderError as error:
            assert error.provider == provider.name
        else:
            assert all(isinstance(m, str) for m in models)
