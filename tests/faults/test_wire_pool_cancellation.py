"""Callers cancelled (or timed out) while queued for a connection leave the pool usable.

httpcore's pool creates a connection for a queued request and hands it over; a request that is
cancelled in that moment leaves the connection "CONNECTING" forever, counted against
``max_connections``. With the httpx transport a burst of attempt timeouts killed the pool: every
later call waited for its timeout (900 calls, 792 ``ProviderTimeoutError``, four connections
stuck). The aiohttp transport is checked alongside: its admission slots all come back.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import AsyncIterator

import pytest
from aiohttp import web

from oneringai import ProviderError, TextGenerateOptions
from oneringai.infrastructure.http import wire
from oneringai.infrastructure.http.config import HttpSettings
from oneringai.infrastructure.http.pool import HttpPool
from oneringai.infrastructure.providers.openai import OpenAITextProvider
from tests.faults.providers_fixtures import VENDORS

LIMIT = 3


@pytest.fixture
async def slow_server() -> AsyncIterator[tuple[str, dict[str, float]]]:
    delay = {"seconds": 0.2}

    async def handle(request: web.Request) -> web.Response:
        await request.read()
        await asyncio.sleep(delay["seconds"])
        return web.json_response(VENDORS["openai"].body())

    app = web.Application()
    app.router.add_post("/v1/chat/completions", handle)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    yield f"http://127.0.0.1:{site._server.sockets[0].getsockname()[1]}/v1", delay  # type: ignore[union-attr]
    await runner.cleanup()


def _free_slots(pool: HttpPool) -> int:
    session = pool.session()
    admission = wire._ADMISSIONS.get(session.connector)
    return LIMIT if admission is None else admission._value


@pytest.mark.parametrize("transport", ["aiohttp", "httpx"])
async def test_a_burst_of_timed_out_and_cancelled_callers_leaves_the_pool_serving(slow_server, transport):
    url, delay = slow_server
    pool = HttpPool(HttpSettings(transport=transport, max_connections=LIMIT))
    provider = OpenAITextProvider({"base_url": url, "api_key": "sk-test", "max_retries": 0, "timeout": 0.3},
                                  http_client=pool)
    fds = len(os.listdir("/proc/self/fd"))

    async def one(index: int) -> None:
        call = provider.generate(TextGenerateOptions(model="m", input="x"))
        if index % 3 == 0:  # the caller gives up at varied moments, as well as the attempt deadline
            with contextlib.suppress(TimeoutError, ProviderError):
                await asyncio.wait_for(call, 0.01 * (index % 17))
            return
        with contextlib.suppress(ProviderError):
            await call

    try:
        for _ in range(3):
            await asyncio.gather(*(one(index) for index in range(60)))
        delay["seconds"] = 0.0
        for _ in range(2 * LIMIT):  # each would wait for its timeout behind a stuck connection
            response = await provider.generate(TextGenerateOptions(model="m", input="x"))
            assert response.output_text
        if transport == "httpx":
            connections = pool.httpx_client()._transport._pool._connections  # type: ignore[attr-defined]
            assert not [c for c in connections if "CONNECTING" in repr(c)], connections
        else:
            assert _free_slots(pool) == LIMIT
    finally:
        await pool.aclose()
    await asyncio.sleep(0.05)
    assert len(os.listdir("/proc/self/fd")) <= fds + 1
