"""Tokens that live no longer than ``refresh_skew``: a server answering ``expires_in: 300`` (or
60) against the default skew of 300 s made every fresh token due for refresh at once — every
``get_token`` was a token request, and every process waiting for the refresh lock refreshed
again behind the first (two managers on one file store: two requests for one expiry). Now a
token is refreshed within ``refresh_skew`` of its expiry or half its lifetime, whichever is
shorter."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from oneringai import OAuthManager, StoredToken
from oneringai.infrastructure.token_storage.encryption import KeyRing
from oneringai.infrastructure.token_storage.file import FileTokenStorage
from tests.faults.oauth_support import HostileTokenServer, hostile_server, manager_for, reply


@pytest.fixture
async def server() -> AsyncIterator[HostileTokenServer]:
    async for running in hostile_server():
        yield running


@pytest.mark.parametrize("lifetime", [60, 299, 300])
async def test_a_short_lived_token_is_requested_once_not_per_call(server: HostileTokenServer, lifetime: int) -> None:
    server.responder = reply(200, {"access_token": "short-lived-token-1", "expires_in": lifetime})
    manager = manager_for(server, "client_credentials")
    for _ in range(10):
        assert await manager.get_token() == "short-lived-token-1"
    assert server.requests == 1, f"expires_in {lifetime}: {server.requests} token requests for 10 calls"


async def test_a_short_lived_token_is_still_refreshed_before_it_expires(server: HostileTokenServer) -> None:
    server.responder = reply(200, {"access_token": "short-lived-token-2", "expires_in": 60})
    manager = manager_for(server, "client_credentials")
    await manager.storage.store_token(
        manager.storage_key(), StoredToken(access_token="old-short-token", expires_in=60, obtained_at=time.time() - 31)
    )
    assert await manager.get_token() == "short-lived-token-2", "past half its lifetime: refreshed"
    assert server.requests == 1


def _manager(server: HostileTokenServer, storage: FileTokenStorage) -> OAuthManager:
    return OAuthManager(
        {"flow": "client_credentials", "client_id": "short-client", "client_secret": "short-secret-123",
         "token_url": f"{server.url}/token"},
        storage=storage, name="short",
    )


async def test_two_processes_waiting_on_the_lock_make_one_request(server: HostileTokenServer, tmp_path: Path) -> None:
    """Two managers (as in two processes) on one file store: the second waits for the first's
    ``flock``, then finds its fresh token — it must not refresh it again."""
    server.responder = reply(200, {"access_token": "short-lived-token-3", "expires_in": 120})
    server.delay = 0.2  # both are waiting before the first answer lands
    ring = KeyRing.generate()
    first = _manager(server, FileTokenStorage(tmp_path, ring))
    second = _manager(server, FileTokenStorage(tmp_path, ring))
    tokens = await asyncio.gather(first.get_token(), second.get_token())
    assert tokens == ["short-lived-token-3"] * 2
    assert server.requests == 1, f"{server.requests} token requests for one expiry"
