"""A ``user_id`` whose storage key no store can keep (over 1024 bytes, a lone surrogate, a NUL
that PostgreSQL text cannot hold) was
accepted by ``get_authorization_url``: the user logged in, the code was exchanged — and only
then did ``store_token`` refuse the key, so the token was lost and the next login failed the
same way. Now the key is checked before the user is sent away (``OAuthError``, no request)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from oneringai import OAuthError
from tests.faults.oauth_support import HostileTokenServer, hostile_server, manager_for


@pytest.fixture
async def server() -> AsyncIterator[HostileTokenServer]:
    async for running in hostile_server():
        yield running


@pytest.mark.parametrize("user_id", ["u" * 1100, "é" * 600, "bad-\udcff-user", "nul-\x00-user"])
async def test_an_unstorable_user_id_fails_before_the_login(server: HostileTokenServer, user_id: str) -> None:
    manager = manager_for(server)
    with pytest.raises(OAuthError) as info:
        manager.get_authorization_url(user_id)
    assert info.value.error == "invalid_request"
    with pytest.raises(OAuthError):
        await manager.start_authorization(user_id)
    with pytest.raises(OAuthError):
        await manager.get_token(user_id)
    assert server.requests == 0


async def test_the_longest_storable_user_id_round_trips(server: HostileTokenServer) -> None:
    manager = manager_for(server)
    user_id = "u" * (1024 - len(manager.storage_key("x")) + 1)
    _url, state = manager.get_authorization_url(user_id)
    token = await manager.handle_callback({"state": state, "code": "code-123456"})
    assert await manager.storage.get_token(manager.storage_key(user_id)) == token
