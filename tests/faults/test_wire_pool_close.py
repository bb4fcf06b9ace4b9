"""Closing the pool (``client.destroy()``, container shutdown) while streams are being read
ends them with a typed error at once, and the callers queued behind them too. aiohttp closed a
connection in use without telling its reader, so a stream hung until its idle timeout (a minute
here) and the queue behind it waited as long. With httpx the readers did wake, but httpcore
left its queue waiting and, as each failed reader gave its connection back, opened a new one
for the next queued caller on the pool being closed: those sent their requests and waited for
the whole idle timeout."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from aiohttp import web

from oneringai import ProviderError, TextGenerateOptions
from oneringai.infrastructure.http.config import HttpSettings
from oneringai.infrastructure.http.pool import HttpPool
from oneringai.infrastructure.providers.openai import OpenAITextProvider

CHUNK = (b'data: {"id":"x","object":"chat.completion.chunk","created":1,"model":"m",'
         b'"choices":[{"index":0,"delta":{"content":"ab"},"finish_reason":null}]}\n\n')


@pytest.fixture
async def endless_stream() -> AsyncIterator[str]:
    stop = asyncio.Event()

    async def handle(request: web.Request) -> web.StreamResponse:
        await request.read()
        response = web.StreamResponse(headers={"content-type": "text/event-stream"})
        await response.prepare(request)
        await response.write(CHUNK)  # one event, then silence: the client waits for the next
        await stop.wait()
        return response

    app = web.Application()
    app.router.add_post("/v1/chat/completions", handle)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    yield f"http://127.0.0.1:{site._server.sockets[0].getsockname()[1]}/v1"  # type: ignore[union-attr]
    stop.set()
    await runner.cleanup()


@pytest.mark.parametrize("transport", ["aiohttp", "httpx"])
async def test_closing_the_pool_ends_streams_in_flight_and_the_queue(endless_stream, transport):
    pool = HttpPool(HttpSettings(transport=transport, max_connections=2))
    provider = OpenAITextProvider({"base_url": endless_stream, "api_key": "sk-test", "max_retries": 0,
                                   "timeout": 60}, http_client=pool)
    reading = 0

    async def consume() -> BaseException | None:
        nonlocal reading
        try:
            async for _event in provider.stream_generate(TextGenerateOptions(model="m", input="x")):
                reading += 1
        except Exception as exc:
            return exc
        return None

    tasks = [asyncio.create_task(consume()) for _ in range(5)]  # two read, three queue
    async with asyncio.timeout(10):
        while reading < 2:
            await asyncio.sleep(0.01)
    await pool.aclose()
    async with asyncio.timeout(10):  # the idle timeout is 60 s: a hang fails here
        results = await asyncio.gather(*tasks)
    assert all(isinstance(result, ProviderError) for result in results), results
