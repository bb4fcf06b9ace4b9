"""A stream's end marker (OpenAI ``[DONE]``, Anthropic ``message_stop``) ends the answer.

What follows it is only read, for a moment, so a well-behaved server's connection goes back to
the pool; a server that holds the connection open after the marker (or keeps sending) costs that
connection, never the complete answer — it was a ``ProviderTimeoutError`` once the idle timeout
fired."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp import web

from oneringai.domain.events import ResponseCompleteEvent
from oneringai.domain.options import TextGenerateOptions
from oneringai.infrastructure.http.config import HttpSettings
from oneringai.infrastructure.http.pool import HttpPool
from oneringai.infrastructure.providers.anthropic import AnthropicTextProvider
from oneringai.infrastructure.providers.openai import OpenAITextProvider

OPENAI = [
    {"id": "c1", "model": "m", "choices": [{"index": 0, "delta": {"content": "Hello "}, "finish_reason": None}]},
    {"id": "c1", "model": "m", "choices": [{"index": 0, "delta": {"content": "there."}, "finish_reason": "stop"}]},
    "[DONE]",
]
ANTHROPIC = [
    {"type": "message_start", "message": {"id": "msg_1", "model": "m", "usage": {"input_tokens": 3}}},
    {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}},
    {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": "Hello "}},
    {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": "there."}},
    {"type": "message_delta", "delta": {"stop_reason": "end_turn"}, "usage": {"output_tokens": 2}},
    {"type": "message_stop"},
]


def _frame(event: Any) -> bytes:
    return b"data: " + (event.encode() if isinstance(event, str) else json.dumps(event).encode()) + b"\n\n"


@pytest.fixture
async def server() -> AsyncIterator[tuple[str, dict[str, Any]]]:
    state: dict[str, Any] = {"after": "end", "peers": set()}

    async def handle(request: web.Request) -> web.StreamResponse:
        await request.read()
        state["peers"].add(request.transport.get_extra_info("peername") if request.transport else None)
        events = ANTHROPIC if request.path.endswith("/messages") else OPENAI
        response = web.StreamResponse(headers={"content-type": "text/event-stream"})
        await response.prepare(request)
        for event in events:
            await response.write(_frame(event))
        if state["after"] == "hold":
            await asyncio.sleep(3600)  # the answer is complete; the connection is never ended
        elif state["after"] == "chatter":
            while True:  # keeps sending comments after the end marker
                await response.write(b": still here\n\n")
                await asyncio.sleep(0.01)
        await response.write_eof()
        return response

    app = web.Application()
    app.router.add_post("/v1/chat/completions", handle)
    app.router.add_post("/v1/messages", handle)
    runner = web.AppRunner(app, shutdown_timeout=0.1)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    yield f"http://127.0.0.1:{port}/v1", state
    await runner.cleanup()


def _provider(kind: str, url: str, pool: HttpPool) -> Any:
    config = {"base_url": url, "api_key": "sk-test-000000000", "timeout": 20, "max_retries": 0}
    if kind == "openai":
        return OpenAITextProvider(config, http_client=pool)
    return AnthropicTextProvider({**config, "base_url": url.removesuffix("/v1")}, http_client=pool)


async def _answer(provider: Any) -> tuple[str, ResponseCompleteEvent]:
    events = [event async for event in provider.stream_generate(TextGenerateOptions(model="m", input="hi"))]
    complete = events[-1]
    assert isinstance(complete, ResponseCompleteEvent), events
    return complete.response.output_text, complete


@pytest.mark.parametrize("kind", ["openai", "anthropic"])
@pytest.mark.parametrize("after", ["hold", "chatter"])
async def test_a_server_that_keeps_the_connection_after_the_end_marker_costs_no_answer(server, kind, after):
    url, state = server
    state["after"] = after
    pool = HttpPool(HttpSettings(timeout=20))
    try:
        # Well within the 20 s idle timeout: the drain after the marker is bounded on its own.
        text, _ = await asyncio.wait_for(_answer(_provider(kind, url, pool)), 10)
        assert text == "Hello there."
    finally:
        await pool.aclose()


@pytest.mark.parametrize("kind", ["openai", "anthropic"])
async def test_a_server_that_ends_the_stream_gets_its_connection_reused(server, kind):
    url, state = server
    pool = HttpPool(HttpSettings(timeout=20))
    provider = _provider(kind, url, pool)
    try:
        for _ in range(4):
            text, _ = await _answer(provider)
            assert text == "Hello there."
    finally:
        await pool.aclose()
    assert len(state["peers"]) == 1, state["peers"]  # one connection, pooled between the streams
