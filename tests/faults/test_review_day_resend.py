"""Review of the day's merges: the resend-once rule must not resend a request the server
had begun to answer (a reset after part of the status line or headers)."""

from __future__ import annotations

import asyncio

import pytest

from tests.faults.providers_fixtures import TRANSPORTS, FaultServer, Vendor, options, reset

VENDOR = Vendor("openai")


@pytest.mark.parametrize("transport", TRANSPORTS)
@pytest.mark.parametrize("partial", [b"HTTP/1.1 200 OK\r\n", b"HTTP/1.1 200 OK\r\ncontent-type: appl"])
async def test_a_reset_after_part_of_the_answer_is_not_resent(transport: str, partial: bytes) -> None:
    from oneringai import ProviderUnavailableError

    server = FaultServer()

    async def steps(writer: asyncio.StreamWriter) -> None:
        writer.write(partial)
        await writer.drain()
        await asyncio.sleep(0.05)
        reset(writer)

    server.run(steps)
    await server.start()
    try:
        async with VENDOR.provider(server.url, transport=transport, max_retries=0) as provider:
            with pytest.raises(ProviderUnavailableError):
                await asyncio.wait_for(provider.generate(options()), 20)
    finally:
        await server.stop()
    assert len(server.requests) == 1
