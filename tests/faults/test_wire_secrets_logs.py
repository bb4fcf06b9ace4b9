"""A server that echoes the key back — in a header, or in a malformed status or header line —
does not get it into the logs, even with httpx's and httpcore's DEBUG logging on (httpcore logs
every response's headers and each protocol error's offending line there)."""

from __future__ import annotations

import logging

import httpx
import pytest

from oneringai import ProviderError
from oneringai.infrastructure.providers.openai import OpenAITextProvider
from tests.faults.providers_fixtures import (
    SECRET,
    VENDORS,
    FaultServer,
    fault_server_fixture,  # noqa: F401 - provides the fault_server fixture
    options,
)

ECHOES = {
    "reflected-header": f"HTTP/1.1 401 X\r\nwww-authenticate: Bearer {SECRET}\r\ncontent-length: 2\r\n\r\n{{}}",
    "bad-header-line": f"HTTP/1.1 200 OK\r\nx-bad: \x00{SECRET}\r\n\r\n",
    "bad-status-line": f"HTTP/1.1 2x0 {SECRET}\r\n\r\n",
}


@pytest.mark.parametrize("echo", sorted(ECHOES))
@pytest.mark.parametrize("transport", ["aiohttp", "httpx", "user-httpx"])
async def test_an_echoed_key_stays_out_of_debug_logs(fault_server: FaultServer, caplog, transport, echo):
    async def steps(writer) -> None:  # type: ignore[no-untyped-def]
        writer.write(ECHOES[echo].encode("latin-1"))
        await writer.drain()
        writer.close()

    fault_server.run(steps)
    user_client = httpx.AsyncClient() if transport == "user-httpx" else None
    provider = (
        OpenAITextProvider({"base_url": f"{fault_server.url}/v1", "api_key": SECRET, "max_retries": 0},
                           http_client=user_client)
        if user_client is not None else VENDORS["openai"].provider(fault_server.url, transport=transport)
    )
    caplog.set_level(logging.DEBUG)
    try:
        with pytest.raises(ProviderError) as raised:
            await provider.generate(options())
    finally:
        await provider.aclose()
        if user_client is not None:
            await user_client.aclose()
    assert SECRET not in str(raised.value)
    if transport != "aiohttp":  # aiohttp's client logs nothing here; httpcore does
        assert caplog.records, "DEBUG logging captured nothing: the test would prove nothing"
    assert SECRET not in caplog.text
