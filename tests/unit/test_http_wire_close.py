"""A response whose close is cancelled (an attempt deadline or ``wait_for`` landing during
``aclose``) still gives its connection back, on the httpx paths.

httpcore marks the response closed first and then awaits its connection's lock: cancelled
there, the connection stayed ACTIVE and its request queued, forever — with a burst of attempt
timeouts every connection went this way and each later call waited for the pool timeout."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import httpx
import pytest
from aiohttp import web

from oneringai.infrastructure.http.config import HttpSettings
from oneringai.infrastructure.http.pool import HttpPool, wire_for
from oneringai.infrastructure.http.wire import Wire


@pytest.fixture
async def url() -> AsyncIterator[str]:
    async def handle(request: web.Request) -> web.Response:
        await request.read()
        return web.json_response({"ok": True})

    app = web.Application()
    app.router.add_post("/", handle)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    yield f"http://127.0.0.1:{site._server.sockets[0].getsockname()[1]}/"  # type: ignore[union-attr]
    await runner.cleanup()


async def _cycle(wire: Wire, timeouts: object, url: str, turns: int) -> None:
    response = await wire.send("POST", url, b"{}", {"content-type": "application/json"}, timeouts)
    assert await response.read(1 << 20) == b'{"ok": true}'
    closing = asyncio.ensure_future(response.aclose())
    for _ in range(turns):
        await asyncio.sleep(0)
    closing.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await closing


@pytest.mark.parametrize("path", ["httpcore", "user-httpx", "aiohttp"])
async def test_a_cancelled_close_gives_the_connection_back(url, path):
    if path == "user-httpx":
        client = httpx.AsyncClient(limits=httpx.Limits(max_connections=1), timeout=2.0)
        wire = wire_for(client, lambda: client)
        closer = client.aclose
    else:
        pool = HttpPool(HttpSettings(transport="httpx" if path == "httpcore" else "aiohttp",
                                     max_connections=1, timeout=2.0))
        wire = wire_for(pool, pool.httpx_client)
        closer = pool.aclose
    timeouts = wire.timeouts(2.0, 2.0, 2.0)
    try:
        for turns in range(1, 7):  # the cancellation lands at each await of the close in turn
            await _cycle(wire, timeouts, url, turns)
        await asyncio.sleep(0.05)  # a close finishing in the background
        async with asyncio.timeout(5):  # one connection: a leaked one would make this wait
            response = await wire.send("POST", url, b"{}", {}, timeouts)
            await response.read(1 << 20)
            await response.aclose()
    finally:
        await closer()
