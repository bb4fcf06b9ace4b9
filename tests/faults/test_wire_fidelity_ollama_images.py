"""Ollama's native ``/api/chat`` (docs/api.md) and OpenAI Images (``images_response.py``), field by
field, replayed from a loopback server: thinking and tool-call lines, every ``done_reason``,
missing counts, ``{"error": ...}`` as a status, a 200 body and a line mid-stream; DALL·E and
gpt-image-1 answers with every documented field."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from oneringai import ImageGenerateOptions, ModelNotFoundError, ProviderError, ProviderResponseError
from oneringai.domain.content import InputImageContent, Message, MessageRole, ToolUseContent
from oneringai.domain.options import TextGenerateOptions
from oneringai.infrastructure.http.client import build_http_client
from oneringai.infrastructure.http.config import HttpSettings
from oneringai.infrastructure.providers.openai_images import OpenAIImageProvider
from tests.faults.providers_fixtures import (
    SECRET,
    FaultServer,
    fault_server_fixture,  # noqa: F401 - provides the fault_server fixture
)
from tests.faults.wire_fidelity_support import failure, generate, kinds, ndjson, replay, sent, stream

AT = "2026-11-30T03:40:00.123456Z"
TIMINGS = {"total_duration": 4883583458, "load_duration": 1334875, "prompt_eval_duration": 342546000,
           "eval_duration": 4535599000}


def line(message: dict[str, Any], done: bool = False, **extra: Any) -> dict[str, Any]:
    return {"model": "qwen3:8b", "created_at": AT, "message": {"role": "assistant", "content": "", **message},
            "done": done, **extra}


FINAL = {"done_reason": "stop", "prompt_eval_count": 26, "eval_count": 298, **TIMINGS}
CALL = {"id": "call_9mdkx1lp", "function": {"index": 0, "name": "get_weather", "arguments": {"city": "Paris",
                                                                                               "days": 2}}}


async def test_a_stream_with_thinking_then_a_tool_call(fault_server: FaultServer) -> None:
    lines = [line({"thinking": "The user"}), line({"thinking": " wants weather."}), line({"tool_calls": [CALL]}),
             line({}, True, **FINAL)]
    replay(fault_server, ndjson(lines), content_type="application/x-ndjson")
    seen, response = await stream("ollama", fault_server)
    assert kinds(seen) == ["response.created", "response.tool_call.start", "response.tool_call_arguments.delta",
                           "response.tool_call_arguments.done", "response.complete"]
    assert [(c.id, c.function.name, json.loads(c.function.arguments)) for c in response.tool_calls] == [
        ("call_9mdkx1lp", "get_weather", {"city": "Paris", "days": 2})]
    assert (response.model, response.stop_reason, response.raw_stop_reason) == ("qwen3:8b", "tool_calls", "stop")
    assert response.usage.model_dump() == {"input_tokens": 26, "output_tokens": 298, "total_tokens": 324}


@pytest.mark.parametrize(("reason", "normal", "status"), [
    ("stop", "complete", "completed"), ("length", "max_tokens", "incomplete"), ("load", "complete", "completed"),
    ("unload", "complete", "completed"), (None, "complete", "completed"),
])
@pytest.mark.parametrize("streaming", [False, True])
async def test_each_done_reason_and_missing_counts(fault_server: FaultServer, streaming: bool, reason: str | None,
                                                   normal: str, status: str) -> None:
    final = {"done_reason": reason, **TIMINGS} if reason else dict(TIMINGS)  # a cached prompt: no prompt_eval_count
    final["eval_count"] = 2
    if streaming:
        replay(fault_server, ndjson([line({"content": "Hi"}), line({"content": "."}), line({}, True, **final)]),
               content_type="application/x-ndjson")
        _, response = await stream("ollama", fault_server)
    else:
        replay(fault_server, json.dumps(line({"content": "Hi.", "thinking": "Hm."}, True, **final)).encode())
        response = await generate("ollama", fault_server)
    assert response.output_text == "Hi."
    assert (response.id, response.model) == (f"ollama-{AT}", "qwen3:8b")  # the stream's id was ""
    assert (response.stop_reason, response.raw_stop_reason, response.status) == (normal, reason, status)
    assert response.usage.model_dump() == {"input_tokens": 0, "output_tokens": 2, "total_tokens": 2}


@pytest.mark.parametrize("streaming", [False, True])
async def test_a_missing_model_is_model_not_found(fault_server: FaultServer, streaming: bool) -> None:
    replay(fault_server, b'{"error":"model \'llama9\' not found"}', status=404)
    error = await failure("ollama", fault_server, streaming=streaming)
    assert isinstance(error, ModelNotFoundError)
    assert error.status_code == 404 and "llama9" in error.message


async def test_an_error_line_mid_stream_and_an_error_body_with_200(fault_server: FaultServer) -> None:
    replay(fault_server, ndjson([line({"content": "Hi"}), {"error": "an error was encountered while running the model"}]),
           content_type="application/x-ndjson")
    error = await failure("ollama", fault_server, streaming=True)
    assert "running the model" in error.message
    replay(fault_server, b'{"error":"llama runner process has terminated: exit status 2"}')
    error = await failure("ollama", fault_server)
    assert "runner process" in error.message


async def test_the_request_body(fault_server: FaultServer) -> None:
    replay(fault_server, json.dumps(line({"content": "ok"}, True, **FINAL)).encode())
    history = [
        Message(role=MessageRole.USER, content=[{"type": "input_text", "text": "What is this?"},
                                                InputImageContent(image_url={"url": "data:image/png;base64,iVBORw0K"})]),
        Message(role=MessageRole.ASSISTANT, content=[ToolUseContent(id="call_1", name="look", arguments='{"x":1}')]),
        Message(role=MessageRole.USER, content=[{"type": "tool_result", "tool_use_id": "call_1", "content": "a cat"}]),
    ]
    await generate("ollama", fault_server, TextGenerateOptions(model="llava", input=history, instructions="Be brief.",
                                                               max_output_tokens=50, temperature=0.1))
    body = sent(fault_server)
    assert body["stream"] is False and body["model"] == "llava"
    assert body["options"] == {"num_predict": 50, "temperature": 0.1}
    assert body["messages"] == [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "What is this?", "images": ["iVBORw0K"]},
        {"role": "assistant", "content": "", "tool_calls": [{"function": {"name": "look", "arguments": {"x": 1}}}]},
        {"role": "tool", "content": "a cat", "tool_name": "look"},
    ]


# --- OpenAI Images ------------------------------------------------------------------------------
PNG = base64.b64encode(b"\x89PNG\r\n\x1a\n" + b"\0" * 16).decode()


def images(server: FaultServer) -> OpenAIImageProvider:
    client = build_http_client(HttpSettings())
    return OpenAIImageProvider({"base_url": f"{server.url}/v1", "api_key": SECRET, "max_retries": 0},
                               http_client=client)


async def test_gpt_image_1_answer_keeps_usage_and_output_format(fault_server: FaultServer) -> None:
    answer = {"created": 1713833628, "background": "opaque", "data": [{"b64_json": PNG}], "output_format": "png",
              "quality": "high", "size": "1024x1024",
              "usage": {"input_tokens": 50, "input_tokens_details": {"image_tokens": 40, "text_tokens": 10},
                        "output_tokens": 4160, "total_tokens": 4210}}
    replay(fault_server, json.dumps(answer).encode())
    provider = images(fault_server)
    try:
        response = await provider.generate_image(ImageGenerateOptions(prompt="a cat", response_format="b64_json"))
    finally:
        await provider.http.aclose()
    assert (response.created, response.model, response.data[0].b64_json) == (1713833628, "gpt-image-1", PNG)
    assert response.usage is not None
    assert response.usage.model_dump() == {"input_tokens": 50, "output_tokens": 4160, "total_tokens": 4210}
    assert (response.output_format, response.size, response.quality, response.background) == (
        "png", "1024x1024", "high", "opaque")
    body = sent(fault_server)
    assert "response_format" not in body  # gpt-image-1 refuses it (it always answers b64_json)
    assert body == {"model": "gpt-image-1", "prompt": "a cat", "n": 1}


async def test_dall_e_3_answer_with_url_and_revised_prompt(fault_server: FaultServer) -> None:
    url = "https://oaidalleapiprodscus.blob.core.windows.net/private/org/img-1.png?st=2026-11-30T03%3A40Z&sig=abc%3D"
    answer = {"created": 1713833628, "data": [{"url": url, "revised_prompt": "A fluffy cat on a sofa."}]}
    replay(fault_server, json.dumps(answer).encode())
    provider = images(fault_server)
    try:
        response = await provider.generate_image(ImageGenerateOptions(
            prompt="a cat", model="dall-e-3", response_format="url", size="1024x1024", style="vivid"))
    finally:
        await provider.http.aclose()
    assert (response.data[0].url, response.data[0].revised_prompt) == (url, "A fluffy cat on a sofa.")
    assert response.usage is None and response.output_format is None
    assert sent(fault_server)["response_format"] == "url"


async def test_an_images_error_is_typed(fault_server: FaultServer) -> None:
    replay(fault_server, json.dumps({"error": {
        "code": "content_policy_violation", "param": None, "type": "invalid_request_error",
        "message": "Your request was rejected as a result of our safety system."}}).encode(), status=400,
        headers={"x-request-id": "req_img"})
    provider = images(fault_server)
    try:
        with pytest.raises(ProviderError) as raised:
            await provider.generate_image(ImageGenerateOptions(prompt="x"))
    finally:
        await provider.http.aclose()
    assert isinstance(raised.value, ProviderResponseError)
    assert raised.value.status_code == 400 and "safety system" in raised.value.message
    assert raised.value.request_id == "req_img"


async def test_lines_cut_inside_characters_and_escapes(fault_server: FaultServer) -> None:
    lines = [line({"content": "東京 "}), line({"content": "🌸 \"ok\"\n"}), line({}, True, **FINAL)]
    body = b"".join(json.dumps(item, ensure_ascii=False).encode() + b"\n" for item in lines)
    cuts = [body.index("京".encode()) + 1, body.index("🌸".encode()) + 2, body.index(b'\\"ok') + 1,
            body.index(b"\n") + 0]
    replay(fault_server, body, content_type="application/x-ndjson", pieces=cuts)
    _, response = await stream("ollama", fault_server)
    assert response.output_text == "東京 🌸 \"ok\"\n"
