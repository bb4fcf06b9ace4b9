"""Compressed bodies on every wire: decoded correctly, and the decoded size — not just the bytes
on the wire — bounded by ``http.max_response_bytes``/``max_event_bytes`` while decoding.

httpx decodes a whole received chunk at once, so a gzip bomb (nested: ``content-encoding:
gzip, gzip``) was inflated in full before any limit was checked: an 822-byte body took
831 MiB with ``max_response_bytes`` at 1 MiB on the httpx transport.
"""

from __future__ import annotations

import gzip
import json
import tracemalloc
import zlib

import httpx
import pytest

from oneringai import ProviderError, ProviderResponseError
from oneringai.infrastructure.http.config import HttpSettings
from oneringai.infrastructure.providers.openai import OpenAITextProvider
from tests.faults.providers_fixtures import (
    MIB,
    SECRET,
    TRANSPORTS,
    VENDORS,
    FaultServer,
    collect,
    fault_server_fixture,  # noqa: F401 - provides the fault_server fixture
    gzip_of_zeros,
    options,
)

BOMB = gzip.compress(gzip_of_zeros(192 * MIB), 9)  # ~1 KB on the wire


def _peak_while(run):  # type: ignore[no-untyped-def]
    async def measured() -> tuple[int, BaseException | None]:
        tracemalloc.start()
        try:
            await run()
            error = None
        except Exception as exc:
            error = exc
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        return peak, error

    return measured()


def _user_client_provider(url: str, client: httpx.AsyncClient) -> OpenAITextProvider:
    return OpenAITextProvider({"base_url": f"{url}/v1", "api_key": SECRET, "max_retries": 0}, http_client=client)


@pytest.mark.parametrize("stream", [False, True])
@pytest.mark.parametrize("transport", [*TRANSPORTS, "user-httpx"])
async def test_a_nested_gzip_bomb_is_stopped_at_the_limit_while_decoding(fault_server: FaultServer, transport, stream):
    vendor = VENDORS["openai"]
    fault_server.answer(200, BOMB, content_type="text/event-stream" if stream else "application/json",
                        extra={"content-encoding": "gzip, gzip"})
    settings = HttpSettings(transport="httpx" if transport == "user-httpx" else transport,
                            max_response_bytes=MIB, max_event_bytes=MIB)
    user_client = httpx.AsyncClient() if transport == "user-httpx" else None
    provider = (_user_client_provider(fault_server.url, user_client) if user_client is not None
                else vendor.provider(fault_server.url, http=settings))
    if user_client is not None:
        user_client.settings = settings  # type: ignore[attr-defined] - read by http_settings_of

    async def call() -> None:
        if stream:
            await collect(provider)
        else:
            await provider.generate(options())

    try:
        peak, error = await _peak_while(call)
    finally:
        await provider.aclose()
        if user_client is not None:
            await user_client.aclose()
    # aiohttp decodes one coding only: the nested body arrives still gzipped (a typed error too)
    assert isinstance(error, ProviderError if transport == "aiohttp" else ProviderResponseError), error
    assert peak < 48 * MIB, f"{peak / MIB:.0f} MiB held decoding a {len(BOMB)}-byte body"


@pytest.mark.parametrize("encoding", ["gzip", "x-gzip", "deflate", "raw-deflate", "gzip, gzip", "identity, gzip"])
@pytest.mark.parametrize("transport", [*TRANSPORTS, "user-httpx"])
async def test_compressed_bodies_decode(fault_server: FaultServer, transport, encoding):
    vendor = VENDORS["openai"]
    body = json.dumps(vendor.body()).encode() * 1  # small and valid
    if encoding in ("gzip", "x-gzip", "identity, gzip"):
        wire = gzip.compress(body)
    elif encoding == "deflate":
        wire = zlib.compress(body)
    elif encoding == "raw-deflate":
        compressor = zlib.compressobj(6, zlib.DEFLATED, -zlib.MAX_WBITS)
        wire = compressor.compress(body) + compressor.flush()
    else:
        wire = gzip.compress(gzip.compress(body))
    header = "deflate" if encoding == "raw-deflate" else encoding
    if transport == "aiohttp" and encoding in ("gzip, gzip", "x-gzip", "identity, gzip"):
        pytest.skip("aiohttp decodes one content-coding, gzip/deflate/br by name (the httpx paths more)")
    fault_server.answer(200, wire, extra={"content-encoding": header})
    user_client = httpx.AsyncClient() if transport == "user-httpx" else None
    provider = (_user_client_provider(fault_server.url, user_client) if user_client is not None
                else vendor.provider(fault_server.url, transport=transport))
    try:
        response = await provider.generate(options())
    finally:
        await provider.aclose()
        if user_client is not None:
            await user_client.aclose()
    assert response.output_text == "Hello there."


@pytest.mark.parametrize("transport", ["httpx", "user-httpx"])
async def test_a_broken_gzip_body_is_a_typed_error(fault_server: FaultServer, transport):
    fault_server.answer(200, b"\x1f\x8b\x08\x00garbage" * 50, extra={"content-encoding": "gzip"})
    user_client = httpx.AsyncClient() if transport == "user-httpx" else None
    provider = (_user_client_provider(fault_server.url, user_client) if user_client is not None
                else VENDORS["openai"].provider(fault_server.url, transport=transport))
    try:
        with pytest.raises(ProviderResponseError):
            await provider.generate(options())
    finally:
        await provider.aclose()
        if user_client is not None:
            await user_client.aclose()
