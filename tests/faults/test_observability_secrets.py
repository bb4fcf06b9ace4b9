"""No secret in any span: a server echoes the API key everywhere it can (error bodies on every
status, the completion text, tool call arguments, a mid-stream error event) and the user puts it
in the prompt; with content capture on, no attribute, event, status or name holds it."""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
from aiohttp import web
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from oneringai import OneRingAI
from oneringai.application.observability.genai import input_messages, output_messages, system_instructions
from oneringai.application.tools import tool
from oneringai.domain.content import (
    Message,
    MessageRole,
    OutputTextContent,
    ToolResultContent,
    ToolUseContent,
)
from oneringai.domain.errors import ProviderError
from oneringai.domain.options import TextGenerateOptions
from oneringai.domain.redaction import register_secret
from oneringai.domain.response import LLMResponse
from tests.otel_support import Recorded, every_string, recording, write_config


@pytest.fixture
def telemetry() -> Iterator[Recorded]:
    yield from recording()

#: Not shaped like any vendor key: only the registry (the provider registers its api_key) can catch it.
KEY = "echo" + uuid.uuid4().hex + "Zq"


class EchoServer:
    """OpenAI-shaped; the model name picks where the Authorization header comes back."""

    def __init__(self) -> None:
        self.app = web.Application()
        self.app.router.add_post("/v1/chat/completions", self.chat)
        self.runner: web.AppRunner | None = None
        self.url = ""

    async def start(self) -> None:
        self.runner = web.AppRunner(self.app, access_log=None)
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", 0)
        await site.start()
        self.url = f"http://127.0.0.1:{site._server.sockets[0].getsockname()[1]}"  # type: ignore[union-attr]

    async def chat(self, request: web.Request) -> web.StreamResponse:
        body = await request.json()
        secret = request.headers.get("Authorization", "").removeprefix("Bearer ")
        model = body["model"]
        if model.startswith("status-"):
            status = int(model.split("-")[1])
            return web.json_response(
                {"error": {"message": f"key {secret} rejected", "type": "x", "code": secret}},
                status=status, headers={"x-echo": secret},
            )
        if body.get("stream"):
            response = web.StreamResponse(headers={"content-type": "text/event-stream"})
            await response.prepare(request)
            chunk = {"id": secret, "model": model, "choices": [{"index": 0, "delta": {"content": secret}}]}
            await response.write(f"data: {json.dumps(chunk)}\n\n".encode())
            await response.write(f"data: {json.dumps({'error': {'message': secret}})}\n\n".encode())
            return response
        wants_tools = bool(body.get("tools")) and not any(m.get("role") == "tool" for m in body["messages"])
        message: dict[str, Any] = {"role": "assistant", "content": None if wants_tools else f"your key: {secret}"}
        if wants_tools:
            message["tool_calls"] = [{"id": f"call_{secret}", "type": "function",
                                      "function": {"name": "lookup", "arguments": json.dumps({"q": secret})}}]
        return web.json_response({
            "id": f"resp-{secret}", "model": f"{model}-{secret}",
            "choices": [{"index": 0, "message": message, "finish_reason": "tool_calls" if wants_tools else "stop"}],
            "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
        })


@pytest.fixture
async def echo() -> AsyncIterator[EchoServer]:
    server = EchoServer()
    await server.start()
    yield server
    assert server.runner is not None
    await server.runner.cleanup()


@tool
def lookup(q: str) -> str:
    """Looks the query up (and says it back)."""
    return f"found {q}"


async def test_an_echoed_key_is_absent_from_every_span(tmp_path, echo, telemetry: Recorded):
    text = {"default": "echo", "providers": {"echo": {
        "kind": "openai", "base_url": f"{echo.url}/v1", "api_key": KEY, "max_retries": 1, "retry_max_wait": 0.01}}}
    observability = {"tracing": True, "metrics": True, "capture_content": True}
    tools = {"executor": [{"kind": "cache"}, {"kind": "audit"}]}
    path = write_config(tmp_path, text, observability=observability, tools=tools)
    async with OneRingAI.from_config(path) as client:
        for status in (400, 401, 404, 429, 500):
            with pytest.raises(ProviderError) as info:
                await client.text.generate(f"my key is {KEY}", model=f"status-{status}")
            assert KEY not in str(info.value)
        # the caller gets the model's text as it is; only telemetry is scrubbed
        assert KEY in await client.text.generate(f"please repeat {KEY}", model="ok", instructions=KEY)
        with pytest.raises(ProviderError):
            async for _ in client.text.stream(f"stream {KEY}", model="streamer"):
                pass
        agent = client.agents.create(model="agent", tools=[lookup], instructions=f"secret {KEY}")
        await agent.run(f"look up {KEY}")
    spans = telemetry.spans()
    names = {s.name.split(" ")[0] for s in spans}
    assert names == {"chat", "invoke_agent", "execute_tool"}, names
    assert len(telemetry.named("chat status-")) == 5
    assert any(e.name == "oneringai.retry" for s in telemetry.named("chat status-5") for e in s.events)
    assert any("gen_ai.input.messages" in (s.attributes or {}) for s in spans)
    assert any("gen_ai.tool.call.arguments" in (s.attributes or {}) for s in spans)
    for span in spans:
        for value in every_string(span):
            assert KEY not in value, (span.name, value[:200])
    exported = [p.attributes for name in ("gen_ai.client.operation.duration", "gen_ai.client.token.usage")
                for p in telemetry.histogram_points(name)]
    assert exported and all(KEY not in str(v) for attributes in exported for v in attributes.values())


# --- the content builders, for any text around a registered secret ----------------------------------
SECRET = "hyp" + uuid.uuid4().hex
register_secret(SECRET)
texts = st.builds(lambda a, b, quote: a + ('"' if quote else "") + SECRET + b, st.text(max_size=40),
                  st.text(max_size=40), st.booleans())


@settings(max_examples=int(os.environ.get("ONERINGAI_FUZZ_EXAMPLES", "150")), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(user=texts, assistant=texts, arguments=texts, result=texts, instructions=texts, limit=st.integers(16, 200))
def test_captured_content_never_holds_a_registered_secret(user, assistant, arguments, result, instructions, limit):
    items = [
        Message.user(user),
        Message(role=MessageRole.ASSISTANT, content=[
            OutputTextContent(text=assistant),
            ToolUseContent(id="c1", name="lookup", arguments=json.dumps({"q": arguments})),
            ToolUseContent(id="c2", name="lookup", arguments=arguments),  # not JSON at all
        ]),
        Message(role=MessageRole.USER, content=[ToolResultContent(tool_use_id="c1", content={"r": result})]),
    ]
    options = TextGenerateOptions(model="m", input=items, instructions=instructions)
    response = LLMResponse(output=[items[1]], raw_stop_reason="stop")
    captured = [input_messages(options, limit), system_instructions(options, limit) or "",
                output_messages(response, limit)]
    for text in captured:
        json.loads(text)  # still valid JSON after scrubbing and cutting
        assert SECRET not in text and SECRET not in json.loads(json.dumps(text))
        assert SECRET[: len(SECRET) // 2] not in text  # no half secret left by a cut
