"""Two processes refreshing one token with a server that rotates refresh tokens, on a store
without a lock (AWS Secrets Manager, a custom store) or with one that expired. The first
refresh succeeds and stores the new pair; the second, still holding the old refresh token,
gets ``invalid_grant`` — and marked the stored token "needs login" over the first one's fresh
token: every process then raised ``LoginRequiredError`` although a valid token had just been
issued. Now an ``invalid_grant`` re-reads the store first and uses a token refreshed meanwhile.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator

import pytest
from aiohttp import web

from oneringai import OAuthManager, StoredToken
from oneringai.application.oauth.errors import LoginRequiredError
from oneringai.domain.interfaces import IOAuthTokenStorage
from oneringai.testing import MemoryTokenStorage
from tests.faults.oauth_support import HostileTokenServer, hostile_server


@pytest.fixture
async def server() -> AsyncIterator[HostileTokenServer]:
    async for running in hostile_server():
        yield running


class _ReadBeforeTheOtherWrote(IOAuthTokenStorage):
    """The shared store, as a process sees it that read the token before another process
    stored its refresh: the first ``stale_reads`` reads answer that earlier token."""

    def __init__(self, shared: IOAuthTokenStorage, earlier: StoredToken, stale_reads: int) -> None:
        self.shared, self.earlier, self.stale_reads = shared, earlier, stale_reads

    async def get_token(self, key: str) -> StoredToken | None:
        if self.stale_reads:
            self.stale_reads -= 1
            return self.earlier
        return await self.shared.get_token(key)

    async def store_token(self, key: str, token: StoredToken) -> None:
        await self.shared.store_token(key, token)

    async def delete_token(self, key: str) -> None:
        await self.shared.delete_token(key)

    async def has_token(self, key: str) -> bool:
        return await self.shared.has_token(key)

    async def list_keys(self, prefix: str = "") -> list[str]:
        return await self.shared.list_keys(prefix)


def _rotating(server: HostileTokenServer) -> None:
    used: set[str] = set()

    def respond(form: dict[str, str], raw: str, auth: str) -> web.Response:
        refresh = form.get("refresh_token", "")
        if refresh in used:
            return web.json_response({"error": "invalid_grant", "error_description": "refresh token already used"}, status=400)
        used.add(refresh)
        n = len(used)
        return web.json_response({"access_token": f"rotated-access-{n}", "refresh_token": f"rotated-refresh-{n}", "expires_in": 3600})

    server.responder = respond


def _manager(server: HostileTokenServer, storage: IOAuthTokenStorage) -> OAuthManager:
    return OAuthManager(
        {"flow": "authorization_code", "client_id": "rot-client", "client_secret": "rot-secret-123",
         "token_url": f"{server.url}/token", "authorization_url": f"{server.url}/authorize",
         "redirect_uri": "http://127.0.0.1:8765/callback"},
        storage=storage, name="rot",
    )


async def test_the_loser_of_a_rotated_refresh_uses_the_winners_token(server: HostileTokenServer) -> None:
    _rotating(server)
    shared = MemoryTokenStorage()
    expired = StoredToken(access_token="expired-access-0", refresh_token="original-refresh-0", expires_in=60,
                          obtained_at=time.time() - 3600)
    first = _manager(server, shared)
    await shared.store_token(first.storage_key("u1"), expired)
    assert await first.get_token("u1") == "rotated-access-1"

    second = _manager(server, _ReadBeforeTheOtherWrote(shared, expired, stale_reads=2))
    assert await second.get_token("u1") == "rotated-access-1", "the token the first process stored"
    assert server.requests == 2  # the second's refresh was refused: nothing more
    stored = await shared.get_token(first.storage_key("u1"))
    assert stored is not None and not stored.needs_login
    assert stored.refresh_token is not None and stored.refresh_token.get_secret_value() == "rotated-refresh-1"
    assert await first.get_token("u1") == "rotated-access-1"


async def test_a_refresh_token_nobody_replaced_still_means_login(server: HostileTokenServer) -> None:
    """The re-read must not hide a real ``invalid_grant``."""
    server.responder = lambda form, raw, auth: web.json_response({"error": "invalid_grant"}, status=400)
    storage = MemoryTokenStorage()
    manager = _manager(server, storage)
    await storage.store_token(manager.storage_key("u1"), StoredToken(
        access_token="expired-access-9", refresh_token="revoked-refresh-9", expires_in=60, obtained_at=time.time() - 3600))
    with pytest.raises(LoginRequiredError):
        await manager.get_token("u1")
    with pytest.raises(LoginRequiredError):
        await manager.get_token("u1")
    assert server.requests == 1, "the dead refresh token is not tried again"
