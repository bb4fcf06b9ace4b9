"""Refresh under failure: concurrent waiters share one request and its failure;
``invalid_grant`` means a new login, and the dead refresh token is never tried again."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest

from oneringai import OAuthError, OAuthManager, StoredToken
from oneringai.application.oauth.errors import LoginRequiredError
from oneringai.testing import MemoryTokenStorage
from tests.faults.oauth_support import HostileTokenServer, hostile_server, manager_for, reply
from tests.oauth_server import OAuthTestServer


@pytest.fixture
async def server() -> AsyncIterator[HostileTokenServer]:
    async for running in hostile_server():
        yield running


@pytest.fixture(scope="module")
def auth_server() -> Iterator[OAuthTestServer]:
    running = OAuthTestServer().start()
    try:
        yield running
    finally:
        running.stop()


async def _expiring(manager: OAuthManager, user: str | None = "u1", refresh: str | None = "refresh-token-abc") -> None:
    await manager.storage.store_token(
        manager.storage_key(user),
        StoredToken(access_token="expiring-access-1", refresh_token=refresh, expires_in=60, obtained_at=time.time() - 30),
    )


@pytest.mark.parametrize("status", [500, 503, 400])
async def test_a_failing_refresh_is_one_request_shared_by_100_waiters(server: HostileTokenServer, status: int) -> None:
    server.responder = reply(status, {"error": "temporarily_unavailable", "error_description": "try later"})
    server.delay = 0.2
    manager = manager_for(server)
    await _expiring(manager)
    results = await asyncio.gather(*(manager.get_token("u1") for _ in range(100)), return_exceptions=True)
    assert server.requests == 1, f"{server.requests} token requests for 100 concurrent callers"
    assert all(isinstance(r, OAuthError) and r.status_code == status for r in results)
    assert manager._flights == {}  # nothing left in flight


async def test_a_new_call_after_the_shared_failure_tries_again(server: HostileTokenServer) -> None:
    server.responder = reply(502, {"error": "bad_gateway"})
    manager = manager_for(server)
    await _expiring(manager)
    with pytest.raises(OAuthError):
        await manager.get_token("u1")
    server.responder = reply(200, {"access_token": "recovered-access-token", "expires_in": 3600})
    assert await manager.get_token("u1") == "recovered-access-token"
    assert server.requests == 2


async def test_cancelled_waiters_do_not_cancel_the_shared_refresh(server: HostileTokenServer) -> None:
    server.responder = reply(200, {"access_token": "shared-access-token", "expires_in": 3600})
    server.delay = 0.2
    manager = manager_for(server)
    await _expiring(manager)
    tasks = [asyncio.create_task(manager.get_token("u1")) for _ in range(20)]
    await asyncio.sleep(0.05)
    for task in tasks[:10]:
        task.cancel()
    results = await asyncio.gather(*tasks[10:])
    assert set(results) == {"shared-access-token"} and server.requests == 1


async def test_invalid_grant_means_login_required_and_is_not_retried(server: HostileTokenServer) -> None:
    server.responder = reply(400, {"error": "invalid_grant", "error_description": "refresh token revoked"})
    manager = manager_for(server)
    await _expiring(manager)
    results = await asyncio.gather(*(manager.get_token("u1") for _ in range(50)), return_exceptions=True)
    assert server.requests == 1
    assert all(isinstance(r, LoginRequiredError) for r in results)
    error = results[0]
    assert isinstance(error, LoginRequiredError) and error.error == "login_required"
    assert "hostile" in str(error) and "manager.get_authorization_url()" in str(error)  # built in code: no CLI hint
    stored = await manager.storage.get_token(manager.storage_key("u1"))
    assert stored is not None and stored.needs_login and stored.refresh_token is None
    for _ in range(20):  # later calls, and another process sharing the store, fail fast
        with pytest.raises(LoginRequiredError):
            await manager.get_token("u1")
    other = manager_for(server)
    other.storage = manager.storage
    with pytest.raises(LoginRequiredError):
        await other.get_token("u1", force_refresh=True)
    assert server.requests == 1


async def test_no_token_or_no_refresh_token_is_login_required_without_a_request(server: HostileTokenServer) -> None:
    manager = manager_for(server)
    with pytest.raises(LoginRequiredError, match="no token is stored"):
        await manager.get_token("nobody")
    await _expiring(manager, "u2", refresh=None)
    await manager.storage.store_token(
        manager.storage_key("u2"),
        StoredToken(access_token="no-refresh-1", expires_in=60, obtained_at=time.time() - 30),
    )
    with pytest.raises(LoginRequiredError, match="no refresh token"):
        await manager.get_token("u2")
    assert server.requests == 0


async def _login(manager: OAuthManager, user: str) -> None:
    url, _ = manager.get_authorization_url(user)
    async with httpx.AsyncClient() as client:
        redirect = (await client.get(url + f"&login_hint={user}")).headers["location"]
    await manager.handle_callback(redirect)


async def test_revoked_refresh_token_at_a_real_server_then_a_new_login(auth_server: OAuthTestServer) -> None:
    manager = OAuthManager(
        {"flow": "authorization_code", "client_id": "web", "client_secret": "web-secret",
         "authorization_url": f"{auth_server.url}/authorize", "token_url": f"{auth_server.url}/token",
         "revocation_url": f"{auth_server.url}/revoke", "redirect_uri": auth_server.redirect_uri},
        storage=MemoryTokenStorage(), name="github",
    )
    await _login(manager, "rita")
    key = manager.storage_key("rita")
    token = await manager.storage.get_token(key)
    assert token is not None and token.refresh_token is not None
    async with httpx.AsyncClient() as client:  # the user revokes the app's access at the provider
        await client.post(f"{auth_server.url}/revoke", data={"token": token.refresh_token.get_secret_value()})
    await manager.storage.store_token(key, token.model_copy(update={"obtained_at": time.time() - token.expires_in}))
    before = auth_server.token_requests.get("web", 0)
    for _ in range(5):
        with pytest.raises(LoginRequiredError):
            await manager.get_token("rita")
    assert auth_server.token_requests["web"] - before == 1
    await _login(manager, "rita")  # a new login clears the mark
    assert await manager.get_token("rita")
