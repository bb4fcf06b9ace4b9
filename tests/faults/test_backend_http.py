"""The shared HTTP client when the provider's server drops kept-alive connections: restarted
between calls, closing each connection right after its answer, or closing an idle one just as
the next request arrives — the keep-alive race of a server whose idle timeout matches the gap
between calls. Both transports, with the provider's own retries off (``max_retries: 0``): only
the wire's single resend of a request that got no answer at all may help.

Before: the race's everyday form — the server's kernel answering our request on the closed
socket with a reset — was not such a request (only a clean close was), so every second call
at that rhythm failed with ``ProviderUnavailableError`` ("Connection reset by peer", "broke:
ReadError") unless the provider's retries (after a jittered wait) were on.
"""

from __future__ import annotations

import asyncio
import json

import pytest

from tests.faults.providers_fixtures import (
    TRANSPORTS,
    FaultServer,
    Vendor,
    head,
    options,
    read_request,
    reset,
)

VENDOR = Vendor("openai")
BODY = json.dumps(VENDOR.body()).encode()
CALLS = 6


def _answer(writer: asyncio.StreamWriter) -> None:
    writer.write(head(200, "application/json", len(BODY)) + BODY)


@pytest.mark.parametrize("transport", TRANSPORTS)
@pytest.mark.parametrize("close", ["reset", "fin"])
async def test_an_idle_connection_closed_as_the_next_request_arrives(transport: str, close: str) -> None:
    """Each connection answers one request; the next one on it is read and the connection
    closed without an answer (deterministic form of the race)."""
    server = FaultServer()

    async def script(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if await read_request(reader) is None:
            return
        _answer(writer)
        await writer.drain()
        if await read_request(reader) is not None:
            if close == "reset":
                reset(writer)
            else:
                writer.close()

    server.script = script
    await server.start()
    # a clean close is resent at once; a reset read back is not (it cannot be told from a reset
    # after part of an answer): the provider's own retries answer it
    retries = 0 if close == "fin" else 1
    try:
        async with VENDOR.provider(server.url, transport=transport, max_retries=retries) as provider:
            for _ in range(CALLS):
                response = await asyncio.wait_for(provider.generate(options()), 20)
                assert response.output_text
    finally:
        await server.stop()
    assert server.connections == CALLS  # each call after the first: one dropped send, one more send


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_a_server_closing_each_connection_after_its_answer(transport: str) -> None:
    """No ``Connection: close``: the client learns of the close only from the socket."""
    server = FaultServer()

    async def script(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if await read_request(reader) is not None:
            _answer(writer)
            await writer.drain()
            writer.close()

    server.script = script
    await server.start()
    try:
        async with VENDOR.provider(server.url, transport=transport, max_retries=0) as provider:
            for _ in range(CALLS):
                assert (await asyncio.wait_for(provider.generate(options()), 20)).output_text
    finally:
        await server.stop()


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_a_server_restarted_between_calls(transport: str) -> None:
    writers: list[asyncio.StreamWriter] = []

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writers.append(writer)
        while await read_request(reader) is not None:
            _answer(writer)
            await writer.drain()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        async with VENDOR.provider(f"http://127.0.0.1:{port}", transport=transport, max_retries=0) as provider:
            for _ in range(3):
                assert (await asyncio.wait_for(provider.generate(options()), 20)).output_text
                server.close()  # the process goes: its listener and every connection
                for writer in writers:
                    writer.transport.abort()
                writers.clear()
                await server.wait_closed()
                server = await asyncio.start_server(handle, "127.0.0.1", port, reuse_address=True)
    finally:
        server.close()


@pytest.mark.parametrize("transport", TRANSPORTS)
@pytest.mark.parametrize("partial", [b"", b"HTTP/1.1 200 OK\r\n", b"HTTP/1.1 200 OK\r\ncontent-type: appl"])
async def test_a_request_the_server_resets_is_not_resent_without_retries(transport: str, partial: bytes) -> None:
    """A reset met reading the answer may follow part of it (neither transport says whether
    bytes came: the review of 2026-11-30 found the resend rule sending a half-answered request
    twice): with ``max_retries: 0`` the request is sent once, then a typed error."""
    from oneringai import ProviderUnavailableError

    server = FaultServer()

    async def steps(writer: asyncio.StreamWriter) -> None:
        if partial:
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


TOKEN = json.dumps({"access_token": "at-ok", "token_type": "Bearer", "expires_in": 3600}).encode()
CLIENT_SECRET = "Cl1entS3cretValue99"


@pytest.mark.parametrize("transport", TRANSPORTS)
@pytest.mark.parametrize("close", ["reset", "fin"])
async def test_a_token_endpoint_dropping_a_kept_alive_connection(transport: str, close: str) -> None:
    """The OAuth token request had no resend at all: every request meeting the dropped
    connection (clean close or reset) failed the refresh with "token endpoint unreachable"."""
    from oneringai.application.oauth.token_endpoint import request_token
    from oneringai.infrastructure.http.client import build_http_client
    from oneringai.infrastructure.http.config import HttpSettings

    server = FaultServer()

    async def script(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if await read_request(reader) is None:
            return
        writer.write(head(200, "application/json", len(TOKEN)) + TOKEN)
        await writer.drain()
        if await read_request(reader) is not None:
            if close == "reset":
                reset(writer)
            else:
                writer.close()

    server.script = script
    await server.start()
    client = build_http_client(HttpSettings(transport=transport))

    async def ask() -> str:
        token = await asyncio.wait_for(request_token(
            client, f"{server.url}/token", {"grant_type": "client_credentials"},
            client_id="svc", client_secret=CLIENT_SECRET,
        ), 20)
        return token.access_token.get_secret_value()

    try:
        if close == "fin":  # never read: resent at once, every time
            for _ in range(4):
                assert await ask() == "at-ok"
        else:  # a reset may follow a grant the server ran (a rotated refresh token): not resent
            from oneringai import OAuthError

            assert await ask() == "at-ok"
            with pytest.raises(OAuthError) as info:
                await ask()
            assert CLIENT_SECRET not in str(info.value) + repr(info.value)  # a resend would have
            assert await ask() == "at-ok"  # answered on a new connection, as this next request is
    finally:
        await client.aclose()
        await server.stop()


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_a_token_endpoint_that_always_resets_is_asked_once(transport: str) -> None:
    from oneringai import OAuthError
    from oneringai.application.oauth.token_endpoint import request_token
    from oneringai.infrastructure.http.client import build_http_client
    from oneringai.infrastructure.http.config import HttpSettings

    server = FaultServer()

    async def steps(writer: asyncio.StreamWriter) -> None:
        reset(writer)

    server.run(steps)
    await server.start()
    client = build_http_client(HttpSettings(transport=transport))
    try:
        with pytest.raises(OAuthError) as info:
            await asyncio.wait_for(request_token(
                client, f"{server.url}/token", {"grant_type": "client_credentials"},
                client_id="svc", client_secret=CLIENT_SECRET,
            ), 20)
    finally:
        await client.aclose()
        await server.stop()
    assert len(server.requests) == 1 and CLIENT_SECRET not in str(info.value) + repr(info.value)
