"""One provider, one pool, several event loops (``asyncio.run`` twice, as scripts and tests
do): every call succeeds. The pool's aiohttp session belonged to the first loop, so every
call from the second one failed with "Event loop is closed" (httpx transport: each stale
connection failed one call)."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator

import pytest
from aiohttp import web

from oneringai.domain.options import TextGenerateOptions
from oneringai.infrastructure.http.client import build_http_client
from oneringai.infrastructure.http.config import HttpSettings
from oneringai.infrastructure.http.pool import HttpPool
from oneringai.infrastructure.providers.openai import OpenAITextProvider

BODY = {"id": "x", "model": "m",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": "hi"}, "finish_reason": "stop"}]}


@pytest.fixture(scope="module")
def server_url() -> Iterator[str]:
    """A server on its own loop in a thread, so it outlives the callers' loops."""
    loop = asyncio.new_event_loop()
    started = threading.Event()
    url: list[str] = []

    async def handle(request: web.Request) -> web.Response:
        await request.read()
        return web.json_response(BODY)

    async def start() -> web.AppRunner:
        app = web.Application()
        app.router.add_post("/v1/chat/completions", handle)
        runner = web.AppRunner(app)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        url.append(f"http://127.0.0.1:{site._server.sockets[0].getsockname()[1]}/v1")  # type: ignore[union-attr]
        return runner

    def run() -> None:
        asyncio.set_event_loop(loop)
        runner = loop.run_until_complete(start())
        started.set()
        loop.run_forever()
        loop.run_until_complete(runner.cleanup())

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    started.wait(10)
    yield url[0]
    loop.call_soon_threadsafe(loop.stop)
    thread.join(10)


@pytest.mark.parametrize("holder", ["pool", "client"])
@pytest.mark.parametrize("transport", ["aiohttp", "httpx"])
def test_a_provider_serves_every_event_loop_it_is_used_from(server_url, transport, holder):
    settings = HttpSettings(transport=transport)
    http = HttpPool(settings) if holder == "pool" else build_http_client(settings)
    provider = OpenAITextProvider({"base_url": server_url, "api_key": "sk-test", "max_retries": 0}, http_client=http)

    async def calls() -> list[str]:
        sequential = [(await provider.generate(TextGenerateOptions(model="m", input="x"))).output_text]
        parallel = await asyncio.gather(*(provider.generate(TextGenerateOptions(model="m", input="x"))
                                          for _ in range(4)))
        return sequential + [response.output_text for response in parallel]

    async def last() -> list[str]:
        try:
            return await calls()
        finally:  # closing from yet another loop is not covered (the httpx pool's connections)
            await http.aclose()

    for _ in range(2):
        assert asyncio.run(calls()) == ["hi"] * 5
    assert asyncio.run(last()) == ["hi"] * 5
