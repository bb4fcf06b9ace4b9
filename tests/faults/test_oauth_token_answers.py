"""What a token endpoint may answer that is valid JSON and still wrong to use as is.

* ``token_type: DPoP`` (or ``mac``): a token that must travel with a per-request proof was
  stored and sent as ``Authorization: Bearer`` — RFC 6749 §7.1 says a client must not use a
  token of a type it does not understand. Now an ``OAuthError``; ``bearer`` in any case, and
  vendor types such as Slack's ``bot``, are still accepted.
* A refresh answer without ``scope`` means the scope granted before (RFC 6749 §5.1): the stored
  token lost it. A changed scope is stored as the server says.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator

import pytest

from oneringai import OAuthError, StoredToken
from tests.faults.oauth_support import HostileTokenServer, hostile_server, manager_for, reply


@pytest.fixture
async def server() -> AsyncIterator[HostileTokenServer]:
    async for running in hostile_server():
        yield running


@pytest.mark.parametrize("token_type", ["DPoP", "dpop", "MAC", "mac"])
async def test_a_proof_of_possession_token_is_not_used_as_a_bearer_token(server: HostileTokenServer, token_type: str) -> None:
    server.responder = reply(200, {"access_token": "pop-bound-access-1", "token_type": token_type, "expires_in": 3600})
    manager = manager_for(server, flow="client_credentials")
    try:
        with pytest.raises(OAuthError, match="proof of possession") as info:
            await manager.get_token()
        assert "pop-bound-access-1" not in str(info.value)
        assert not await manager.storage.list_keys("")
    finally:
        await manager.aclose()


@pytest.mark.parametrize("token_type", ["bearer", "Bearer", "BEARER", "bot", None])
async def test_bearer_and_vendor_token_types_are_used(server: HostileTokenServer, token_type: str | None) -> None:
    body: dict[str, object] = {"access_token": "plain-access-1", "expires_in": "3600"}
    if token_type is not None:
        body["token_type"] = token_type
    server.responder = reply(200, body)
    manager = manager_for(server, flow="client_credentials")
    try:
        assert await manager.get_token() == "plain-access-1"
    finally:
        await manager.aclose()


async def _refresh_with(server: HostileTokenServer, answer: dict[str, object]) -> StoredToken:
    server.responder = reply(200, answer)
    manager = manager_for(server)
    key = manager.storage_key("u1")
    await manager.storage.store_token(
        key,
        StoredToken(access_token="old-access", refresh_token="old-refresh-1", scope="repo user",
                    expires_in=60, obtained_at=time.time() - 3600),
    )
    try:
        assert await manager.get_token("u1") == answer["access_token"]
    finally:
        await manager.aclose()
    stored = await manager.storage.get_token(key)
    assert stored is not None
    return stored


async def test_a_refresh_answer_without_scope_keeps_the_scope_granted(server: HostileTokenServer) -> None:
    stored = await _refresh_with(server, {"access_token": "new-access-1", "expires_in": 3600})
    assert stored.scope == "repo user"
    assert stored.refresh_token is not None and stored.refresh_token.get_secret_value() == "old-refresh-1"


async def test_a_refresh_answer_with_a_narrower_scope_is_stored_as_sent(server: HostileTokenServer) -> None:
    stored = await _refresh_with(
        server, {"access_token": "new-access-2", "expires_in": 3600, "scope": "repo", "refresh_token": "new-refresh-2"}
    )
    assert stored.scope == "repo"
    assert stored.refresh_token is not None and stored.refresh_token.get_secret_value() == "new-refresh-2"
