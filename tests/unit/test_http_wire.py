"""The wires the built-in providers send on (``http.wire``): which one is chosen, that each
decodes a compressed body and sends the user-agent, and that the default (aiohttp) path
never imports httpx."""

from __future__ import annotations

import asyncio
import gzip
import json
import sys
from collections.abc import AsyncIterator
from subprocess import PIPE

import httpx
import pytest
from aiohttp import web

from oneringai.domain.options import TextGenerateOptions
from oneringai.infrastructure.http.client import build_http_client
from oneringai.infrastructure.http.config import HttpSettings
from oneringai.infrastructure.http.pool import HttpPool
from oneringai.infrastructure.providers.openai import OpenAITextProvider

BODY = json.dumps({
    "id": "x", "model": "m",
    "choices": [{"index": 0, "message": {"role": "assistant", "content": "zipped hello"}, "finish_reason": "stop"}],
}).encode()


@pytest.fixture
async def gzip_server() -> AsyncIterator[tuple[str, list[dict[str, str]]]]:
    seen: list[dict[str, str]] = []

    async def handle(request: web.Request) -> web.Response:
        seen.append({k.lower(): v for k, v in request.headers.items()})
        return web.Response(body=gzip.compress(BODY), headers={"content-encoding": "gzip",
                                                                "content-type": "application/json"})

    app = web.Application()
    app.router.add_post("/v1/chat/completions", handle)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    yield f"http://127.0.0.1:{port}/v1", seen
    await runner.cleanup()


@pytest.mark.parametrize("transport", ["aiohttp", "httpx"])
@pytest.mark.parametrize("holder", ["pool", "client"])
async def test_compressed_body_is_decoded_and_user_agent_sent(gzip_server, transport, holder):
    url, seen = gzip_server
    settings = HttpSettings(transport=transport, user_agent="wire-test/1")
    http = HttpPool(settings) if holder == "pool" else build_http_client(settings)
    provider = OpenAITextProvider({"base_url": url, "api_key": "sk-test-000000000"}, http_client=http)
    expected = "AiohttpWire" if transport == "aiohttp" else "HttpcoreWire"
    try:
        response = await provider.generate(TextGenerateOptions(model="m", input="hi"))
        assert response.output_text == "zipped hello"
        assert type(provider._wire()[0]).__name__ == expected
        assert seen[-1]["user-agent"] == "wire-test/1"
        assert "gzip" in seen[-1]["accept-encoding"]
    finally:
        await http.aclose()


async def test_a_client_the_user_built_is_used_as_given(gzip_server):
    url, seen = gzip_server
    async with httpx.AsyncClient(headers={"x-mine": "1"}) as mine:
        provider = OpenAITextProvider({"base_url": url, "api_key": "sk-test-000000000"}, http_client=mine)
        response = await provider.generate(TextGenerateOptions(model="m", input="hi"))
        assert response.output_text == "zipped hello"
        assert type(provider._wire()[0]).__name__ == "HttpxWire"
        assert seen[-1]["x-mine"] == "1"
        assert provider.http is mine


async def test_pool_builds_an_httpx_client_on_demand_over_its_session():
    pool = HttpPool(HttpSettings(transport="aiohttp"))
    client = pool.httpx_client()
    assert isinstance(client, httpx.AsyncClient) and pool.httpx_client() is client
    await pool.aclose()
    assert pool.is_closed and client.is_closed


async def test_default_transport_call_does_not_import_httpx(vendor_server):
    code = (
        "import asyncio, sys\n"
        "from oneringai import OneRingAI\n"
        "from oneringai.config import Settings\n"
        "client = OneRingAI(settings=Settings.model_validate({'text': {'default': 'o', 'providers': {'o': "
        f"{{'kind': 'ollama', 'base_url': {vendor_server.url!r}}}}}}}, 'oauth': {{'storage': {{'kind': 'memory'}}}}}}))\n"
        "async def main():\n"
        "    await client.text.generate('hi', model='ok')\n"
        "    await client.destroy()\n"
        "asyncio.run(main())\n"
        "print(sorted(m for m in ('httpx', 'httpcore', 'aiohttp') if m in sys.modules))\n"
    )
    # the server runs in this test's loop: wait for the child without blocking it
    child = await asyncio.create_subprocess_exec(sys.executable, "-c", code, stdout=PIPE, stderr=PIPE)
    out, err = await child.communicate()
    assert child.returncode == 0, err.decode()[-2000:]
    assert out.decode().strip() == "['aiohttp']"


@pytest.mark.parametrize("transport", ["aiohttp", "httpx"])
@pytest.mark.parametrize("holder", ["pool", "client"])
async def test_a_closed_pool_or_client_is_refused_with_a_typed_error(gzip_server, transport, holder):
    from oneringai.domain.errors import ProviderError

    url, _seen = gzip_server
    settings = HttpSettings(transport=transport)
    http = HttpPool(settings) if holder == "pool" else build_http_client(settings)
    provider = OpenAITextProvider({"base_url": url, "api_key": "sk-test-000000000"}, http_client=http)
    await provider.generate(TextGenerateOptions(model="m", input="hi"))
    await http.aclose()
    with pytest.raises(ProviderError):
        await provider.generate(TextGenerateOptions(model="m", input="hi"))


@pytest.mark.parametrize("holder", ["pool", "client"])
async def test_a_proxy_in_the_environment_keeps_requests_on_httpx(gzip_server, holder, monkeypatch):
    """With the httpx transport, httpx routes requests through ``HTTP(S)_PROXY`` (honouring
    ``NO_PROXY``); the direct httpcore path would not, so with a proxy configured it is not taken.
    (The aiohttp transport never used one: httpx mounts no proxy over a transport it is given.)"""
    monkeypatch.setenv("HTTP_PROXY", "http://127.0.0.1:9")  # nothing listens: used, it would fail
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    url, _seen = gzip_server
    settings = HttpSettings(transport="httpx")
    http = HttpPool(settings) if holder == "pool" else build_http_client(settings)
    provider = OpenAITextProvider({"base_url": url, "api_key": "sk-test-000000000"}, http_client=http)
    try:
        response = await provider.generate(TextGenerateOptions(model="m", input="hi"))
        assert response.output_text == "zipped hello"
        assert type(provider._wire()[0]).__name__ == "HttpxWire"
    finally:
        await http.aclose()
