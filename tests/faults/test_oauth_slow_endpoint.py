"""A token endpoint that drips its answer (a byte every 0.3 s) or never finishes its body:
httpx's timeouts bound each read, so before, a refresh — and every waiter sharing it — hung for
as long as the server liked. Now the whole exchange is bounded by the client's read timeout and
ends in an ``OAuthError`` (found by the adversarial review, issue #10 class 4)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import httpx
import pytest

from oneringai import OAuthError, OAuthManager, StoredToken
from oneringai.testing import MemoryTokenStorage
from tests.faults.providers_fixtures import FaultServer, drip, head

BODY = b'{"access_token": "drip-access-token-1", "expires_in": 3600}' + b" " * 4000


@pytest.fixture
async def token_server() -> AsyncIterator[FaultServer]:
    server = FaultServer()
    await server.start()
    try:
        yield server
    finally:
        await server.stop()


def _manager(server: FaultServer, flow: str = "client_credentials") -> OAuthManager:
    config = {"flow": flow, "client_id": "c", "client_secret": "drip-secret-123", "token_url": f"{server.url}/token",
              "authorization_url": f"{server.url}/authorize", "redirect_uri": "http://127.0.0.1:8765/cb"}
    return OAuthManager(config, storage=MemoryTokenStorage(), name="drip", http_client=httpx.AsyncClient(timeout=1.0))


@pytest.mark.parametrize("shape", ["dripping body", "dripping headers", "body never ends"])
async def test_a_slow_token_endpoint_is_an_oauth_error_in_bounded_time(token_server: FaultServer, shape: str) -> None:
    async def steps(writer: asyncio.StreamWriter) -> None:
        if shape == "dripping headers":
            await drip(writer, head(200, "application/json", len(BODY)) + BODY, every=0.3)
            return
        writer.write(head(200, "application/json", len(BODY)))
        if shape == "dripping body":
            await drip(writer, BODY, every=0.3)
        else:
            writer.write(BODY[:100])
            await writer.drain()
            await asyncio.sleep(3600)

    token_server.run(steps)
    manager = _manager(token_server)
    with pytest.raises(OAuthError, match=r"did not answer within 1s|unreachable") as caught:
        await asyncio.wait_for(manager.get_token(), 30)  # the bound under test is 1 s; 30 s means hung
    assert "drip-secret-123" not in str(caught.value)


async def test_waiters_sharing_a_dripping_refresh_all_get_the_error(token_server: FaultServer) -> None:
    async def steps(writer: asyncio.StreamWriter) -> None:
        writer.write(head(200, "application/json", len(BODY)))
        await drip(writer, BODY, every=0.3)

    token_server.run(steps)
    manager = _manager(token_server, flow="authorization_code")
    await manager.storage.store_token(
        manager.storage_key("u1"),
        StoredToken(access_token="old-access-1", refresh_token="old-refresh-1", expires_in=1, obtained_at=time.time() - 60),
    )
    results = await asyncio.wait_for(
        asyncio.gather(*(manager.get_token("u1") for _ in range(20)), return_exceptions=True), 30
    )
    assert all(isinstance(r, OAuthError) for r in results)
    assert len(token_server.requests) == 1
