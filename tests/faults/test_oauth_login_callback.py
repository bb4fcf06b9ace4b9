"""``oneringai oauth login``'s local redirect server against requests that are not the login's.

Before: (1) any page the browser visited could end a running login by sending
``/callback?error=...`` with a made-up state — the login failed with that page's text; (2) that
text (``error_description``) was put into the answer page unescaped: HTML and script of the
sender's choosing served from the login's origin. Now an error callback whose state is not a
pending one is refused as ``invalid_state`` and the login keeps waiting, and the page escapes
what it quotes."""

from __future__ import annotations

import asyncio
import socket
import uuid
from collections.abc import Iterator

import httpx
import pytest

from oneringai import OAuthError, OAuthManager
from oneringai.application.oauth.login import run_login
from oneringai.testing import MemoryTokenStorage
from tests.oauth_server import Client, OAuthTestServer


@pytest.fixture(scope="module")
def auth_server() -> Iterator[OAuthTestServer]:
    server = OAuthTestServer().start()
    try:
        yield server
    finally:
        server.stop()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _manager(server: OAuthTestServer) -> tuple[OAuthManager, str]:
    client_id = f"login-{uuid.uuid4().hex[:8]}"
    redirect = f"http://127.0.0.1:{_free_port()}/callback"
    server.add_client(Client(client_id, "login-secret", redirect, ["authorization_code", "refresh_token"]))
    manager = OAuthManager(
        {"flow": "authorization_code", "client_id": client_id, "client_secret": "login-secret",
         "authorization_url": f"{server.url}/authorize", "token_url": f"{server.url}/token",
         "redirect_uri": redirect},
        storage=MemoryTokenStorage(), name="login",
    )
    return manager, redirect


async def _until_listening(redirect: str, login: asyncio.Task[object]) -> None:
    async with httpx.AsyncClient() as client:
        for _ in range(200):
            assert not login.done(), "the login ended before any callback"
            try:
                await client.get(redirect.replace("/callback", "/not-the-callback"))
                return
            except httpx.ConnectError:
                await asyncio.sleep(0.05)
    raise AssertionError("the login server never listened")


async def test_a_strangers_error_callback_neither_ends_the_login_nor_injects_html(
    auth_server: OAuthTestServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    manager, redirect = _manager(auth_server)
    opened: list[str] = []
    monkeypatch.setattr("webbrowser.open", lambda url: opened.append(url) or True)
    login = asyncio.create_task(run_login(manager, open_browser=True, timeout=60))
    await _until_listening(redirect, login)
    async with httpx.AsyncClient() as client:
        page = await client.get(redirect, params={
            "state": "made-up-state", "error": "access_denied",
            "error_description": "<script>alert('owned')</script>",
        })
        assert page.status_code == 400
        assert "<script>" not in page.text, "the sender's HTML is served by the login page"
        await asyncio.sleep(0.1)
        assert not login.done(), "a stranger's error callback ended the login"

        # the real redirect still completes it
        authorized = await client.get(opened[0])
        assert authorized.status_code == 302
        done = await client.get(authorized.headers["location"])
        assert done.status_code == 200
    token = await asyncio.wait_for(login, 30)
    assert token.access_token.get_secret_value()


async def test_an_error_with_this_logins_state_still_ends_it(
    auth_server: OAuthTestServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    manager, redirect = _manager(auth_server)
    opened: list[str] = []
    monkeypatch.setattr("webbrowser.open", lambda url: opened.append(url) or True)
    login = asyncio.create_task(run_login(manager, open_browser=True, timeout=60))
    await _until_listening(redirect, login)
    state = httpx.URL(opened[0]).params["state"]
    async with httpx.AsyncClient() as client:
        page = await client.get(redirect, params={"state": state, "error": "access_denied", "error_description": "<b>no</b>"})
    assert page.status_code == 400 and "<b>" not in page.text
    with pytest.raises(OAuthError) as info:
        await asyncio.wait_for(login, 30)
    assert info.value.error == "access_denied"
