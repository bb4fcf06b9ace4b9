"""A token or revocation endpoint answering a redirect. With an ``http_client`` that follows
redirects (``httpx.AsyncClient(follow_redirects=True)``, a common default in applications), a
307 re-sent the whole form — grant, refresh token or code, PKCE verifier, ``extra_token_params``
— to whatever host the server named, and the token that host answered was stored. Now neither
request follows a redirect: a 3xx is an ``OAuthError`` (token) or a logged refusal (revocation),
and nothing reaches the other host."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator

import httpx
import pytest
from aiohttp import web

from oneringai import OAuthError, StoredToken
from tests.faults.oauth_support import HostileTokenServer, hostile_server, manager_for


@pytest.fixture
async def server() -> AsyncIterator[HostileTokenServer]:
    async for running in hostile_server():
        yield running


@pytest.fixture
async def elsewhere() -> AsyncIterator[tuple[str, list[str]]]:
    """Another host (``localhost`` is another origin than ``127.0.0.1``) that records bodies."""
    seen: list[str] = []

    async def sink(request: web.Request) -> web.Response:
        seen.append(await request.text())
        return web.json_response({"access_token": "token-of-another-host", "expires_in": 3600})

    app = web.Application()
    app.router.add_post("/steal", sink)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        yield f"http://localhost:{port}/steal", seen
    finally:
        await runner.cleanup()


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
async def test_the_token_endpoint_never_follows_a_redirect(
    server: HostileTokenServer, elsewhere: tuple[str, list[str]], status: int
) -> None:
    target, seen = elsewhere
    server.responder = lambda form, raw, auth: web.Response(status=status, headers={"location": target})
    manager = manager_for(server, extra_token_params={"audience": "extra-param-secret-1"})
    manager._http = httpx.AsyncClient(follow_redirects=True)
    await manager.storage.store_token(
        manager.storage_key("u1"),
        StoredToken(access_token="old-access-1", refresh_token="refresh-secret-1", expires_in=1, obtained_at=time.time() - 100),
    )
    try:
        with pytest.raises(OAuthError, match=f"HTTP {status}"):
            await manager.get_token("u1")
    finally:
        await manager._http.aclose()
    assert seen == [], f"the form reached another host: {seen}"
    stored = await manager.storage.get_token(manager.storage_key("u1"))
    assert stored is not None and stored.access_token.get_secret_value() == "old-access-1"


async def test_revocation_never_follows_a_redirect(server: HostileTokenServer, elsewhere: tuple[str, list[str]]) -> None:
    target, seen = elsewhere
    server.responder = lambda form, raw, auth: web.Response(status=307, headers={"location": target})
    manager = manager_for(server)
    manager._http = httpx.AsyncClient(follow_redirects=True)
    await manager.storage.store_token(
        manager.storage_key("u1"), StoredToken(access_token="revoked-access-1", refresh_token="revoked-refresh-1")
    )
    try:
        await manager.revoke("u1")
    finally:
        await manager._http.aclose()
    assert seen == [], f"a token reached another host: {seen}"
    assert await manager.storage.get_token(manager.storage_key("u1")) is None, "deleted locally anyway"
