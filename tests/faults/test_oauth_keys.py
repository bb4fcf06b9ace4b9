"""Storage keys cannot alias; the guide's standalone ``OAuthManager`` config is accepted."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from oneringai import OAuthError, OAuthManager, StoredToken
from oneringai.application.oauth import keys
from oneringai.domain.errors import ConfigError
from oneringai.testing import MemoryTokenStorage
from tests.oauth_server import OAuthTestServer


def _manager(name: str, client_id: str, storage: MemoryTokenStorage) -> OAuthManager:
    return OAuthManager(
        {"flow": "client_credentials", "client_id": client_id, "client_secret": "s", "token_url": "http://127.0.0.1:9/t"},
        storage=storage, name=name,
    )


async def test_connection_and_client_with_colons_are_two_records() -> None:
    storage = MemoryTokenStorage()
    a, b = _manager("crm", "x:bob", storage), _manager("crm:x", "bob", storage)
    assert a.storage_key() != b.storage_key()
    await storage.store_token(a.storage_key(), StoredToken(access_token="token-of-a", expires_in=3600))
    assert await storage.get_token(b.storage_key()) is None
    await storage.store_token(b.storage_key(), StoredToken(access_token="token-of-b", expires_in=3600))
    assert await a.get_token() == "token-of-a" and await b.get_token() == "token-of-b"


async def test_user_ids_cannot_alias_each_other_or_the_connection() -> None:
    storage = MemoryTokenStorage()
    manager = _manager("crm", "cid", storage)
    for bad in ("", 0, ["u"]):
        with pytest.raises(OAuthError, match="user_id"):
            manager.storage_key(bad)  # type: ignore[arg-type]
        with pytest.raises(OAuthError, match="user_id"):
            await manager.get_token(bad)  # type: ignore[arg-type]
    users = [None, "a:b", "a%3Ab", "a%b", "a", "a:", ":a", "%", "%25", "a:b:c"]
    made = [manager.storage_key(u) for u in users]
    assert len(set(made)) == len(users)


def test_ordinary_names_keep_the_documented_shape() -> None:
    assert keys.storage_key("github", "my-client", "user123") == "github:my-client:user123"
    assert keys.storage_key("github", "my-client") == "github:my-client"
    assert keys.storage_key("crm", "x:bob") == "crm:x%3Abob"


@settings(max_examples=int(os.environ.get("ONERINGAI_FUZZ_EXAMPLES", "300")), deadline=None)
@given(
    a=st.tuples(st.text(max_size=6), st.text(max_size=6), st.none() | st.text(min_size=1, max_size=6)),
    b=st.tuples(st.text(max_size=6), st.text(max_size=6), st.none() | st.text(min_size=1, max_size=6)),
)
def test_the_key_is_injective(a: tuple[str, str, str | None], b: tuple[str, str, str | None]) -> None:
    if a != b:
        assert keys.storage_key(*a) != keys.storage_key(*b)
    assert keys.state_key(a[0], a[1], "some-state") != keys.storage_key(*b)


async def test_records_under_the_old_key_are_read_and_moved() -> None:
    storage = MemoryTokenStorage()
    manager = _manager("crm", "cid", storage)
    await storage.store_token("crm:cid:tenant:bob", StoredToken(access_token="legacy-token", expires_in=3600))
    assert await manager.get_token("tenant:bob") == "legacy-token"
    assert await storage.list_keys("") == ["crm:cid:tenant%3Abob"]
    # never where the old key is another user's key of today, or the name itself holds ':'
    await storage.store_token("crm:cid:a%3Ab", StoredToken(access_token="user-a:b", expires_in=3600))
    assert keys.legacy_key("crm", "cid", "a%3Ab") is None
    assert keys.legacy_key("crm:x", "bob") is None and keys.legacy_key("crm", "x:bob") is None


@pytest.fixture(scope="module")
def auth_server() -> Iterator[OAuthTestServer]:
    running = OAuthTestServer().start()
    try:
        yield running
    finally:
        running.stop()


async def test_the_guides_standalone_config_shape(auth_server: OAuthTestServer) -> None:
    storage = MemoryTokenStorage()
    oauth = OAuthManager({
        "flow": "authorization_code",
        "clientId": "web",
        "clientSecret": "web-secret",
        "authorizationUrl": f"{auth_server.url}/authorize",
        "tokenUrl": f"{auth_server.url}/token",
        "redirectUri": auth_server.redirect_uri,
        "scope": "read write",
        "usePKCE": True,
        "refreshBeforeExpiry": 120,
        "storage": storage,
    })
    assert oauth.storage is storage and oauth.refresh_skew == 120 and oauth.config.scopes == ["read", "write"]
    url, _ = oauth.get_authorization_url("user123")
    async with httpx.AsyncClient() as client:
        redirect = (await client.get(url + "&login_hint=user123")).headers["location"]
    await oauth.handle_callback(redirect)
    token = await oauth.get_token("user123")
    stored = await storage.get_token(oauth.storage_key("user123"))
    assert stored is not None and stored.access_token.get_secret_value() == token
    assert stored.obtained_at <= time.time()


def test_unknown_keys_are_still_rejected_clearly() -> None:
    with pytest.raises(ConfigError) as info:
        OAuthManager({"flow": "client_credentials", "clientId": "x", "tokenUrl": "http://t", "clientSecert": "typo-secret-1",
                      "storage": MemoryTokenStorage()})
    message = str(info.value)
    assert "'clientSecert'" in message and "clientSecret" in message and "typo-secret-1" not in message
    with pytest.raises(ConfigError, match="storage"):
        OAuthManager({"flow": "client_credentials", "clientId": "x", "tokenUrl": "http://t"})
    with pytest.raises(ConfigError, match="flow"):
        OAuthManager({"flow": "implicit", "storage": MemoryTokenStorage()})
