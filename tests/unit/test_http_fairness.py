"""Callers beyond ``http.max_connections`` are served in turn, never starved.

aiohttp's connector hands an idle kept-alive connection to whoever asks first, before the
callers already waiting for one: a caller that loops (send, read, send again) takes back its
own connection every time, and the callers beyond the pool wait until they time out. Found by
the soak benchmark (256 callers, a pool of 100: 156 never got a connection in 60 s). The
built-in providers admit requests to the aiohttp pool in arrival order (``http.wire``).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator

import pytest
from aiohttp import web

from oneringai.domain.errors import ProviderError, ProviderUnavailableError
from oneringai.domain.options import TextGenerateOptions
from oneringai.infrastructure.http.config import HttpSettings
from oneringai.infrastructure.http.pool import HttpPool
from oneringai.infrastructure.providers.openai import OpenAITextProvider

SSE = (
    b'data: {"id":"x","model":"m","choices":[{"index":0,"delta":{"content":"ok"},"finish_reason":null}]}\n\n'
    b'data: {"id":"x","model":"m","choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}\n\n'
    b"data: [DONE]\n\n"
)
BODY = json.dumps({
    "id": "x", "model": "m",
    "choices": [{"index": 0, "message": {"role": "assistant", "content": "ok"}, "finish_reason": "stop"}],
}).encode()
CALLERS = 8
POOL = 2


@pytest.fixture
async def server() -> AsyncIterator[str]:
    async def handle(request: web.Request) -> web.Response:
        streamed = json.loads(await request.read()).get("stream")
        await asyncio.sleep(0.002)  # an answer takes a moment: the others queue meanwhile
        if streamed:
            return web.Response(body=SSE, content_type="text/event-stream")
        return web.Response(body=BODY, content_type="application/json")

    app = web.Application()
    app.router.add_post("/v1/chat/completions", handle)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    yield f"http://127.0.0.1:{port}/v1"
    await runner.cleanup()


@pytest.mark.parametrize("stream", [False, True])
async def test_looping_callers_beyond_the_pool_are_all_served(server: str, stream: bool) -> None:
    pool = HttpPool(HttpSettings(max_connections=POOL, timeout=30))
    provider = OpenAITextProvider({"base_url": server, "api_key": "sk-test-000000000"}, http_client=pool)
    served = [0] * CALLERS
    stop = asyncio.Event()
    options = TextGenerateOptions(model="m", input="hi")

    async def caller(index: int) -> None:
        while not stop.is_set():
            if stream:
                async for _ in provider.stream_generate(options):
                    pass
            else:
                await provider.generate(options)
            served[index] += 1

    async def enough() -> None:
        while sum(served) < CALLERS * 15:
            await asyncio.sleep(0.01)

    tasks = [asyncio.create_task(caller(i)) for i in range(CALLERS)]
    try:
        await asyncio.wait_for(enough(), 60)
        failed = [task.exception() for task in tasks if task.done()]
        assert not failed, failed
    finally:
        stop.set()
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await pool.aclose()
    # In turn: every caller got its share (starvation leaves some at 0 while others loop).
    assert min(served) >= 5, served


async def test_no_place_in_the_queue_is_kept_by_a_failed_or_abandoned_call(server: str) -> None:
    """A pool of one: errors, refused connections and streams left early all give their place
    back, so the next call is served (a leaked place would make it wait for its timeout)."""
    pool = HttpPool(HttpSettings(max_connections=1, timeout=5))
    provider = OpenAITextProvider({"base_url": server, "api_key": "sk-test-000000000"}, http_client=pool)
    refused = OpenAITextProvider(
        {"base_url": "http://127.0.0.1:9/v1", "api_key": "sk-test-000000000", "max_retries": 0}, http_client=pool
    )
    missing = OpenAITextProvider(
        {"base_url": server + "/nowhere", "api_key": "sk-test-000000000", "max_retries": 0}, http_client=pool
    )
    options = TextGenerateOptions(model="m", input="hi")
    try:
        for _ in range(3):
            with pytest.raises(ProviderUnavailableError):
                await refused.generate(options)
            with pytest.raises(ProviderError):
                await missing.generate(options)
            events = provider.stream_generate(options)
            async for _event in events:
                break
            await events.aclose()  # type: ignore[attr-defined]
            async for _event in provider.stream_generate(options):
                break  # left without closing: finalised when dropped
        response = await asyncio.wait_for(provider.generate(options), 4)
        assert response.output_text == "ok"
    finally:
        await pool.aclose()
