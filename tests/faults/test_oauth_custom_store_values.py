"""A custom token store ported from the guide returns what TypeScript's ``getToken`` returns —
``JSON.parse(...)``, a plain object — or its JSON text, or junk. Before, the manager raised
``AttributeError: 'dict' object has no attribute 'needs_login'``; now a mapping or JSON text
holding a token is read as one (ms ``obtained_at`` included) and anything else is a
``TokenDecryptionError`` naming the store and the key (found by the adversarial review, issue
#10 class 5)."""

from __future__ import annotations

import time
from typing import Any

import pytest

from oneringai import OAuthManager, StoredToken, TokenDecryptionError
from oneringai.domain.interfaces import IOAuthTokenStorage


class GuidePortStore(IOAuthTokenStorage):
    """Returns whatever it was given, as a port of the guide's Mongo/Postgres examples would."""

    def __init__(self, value: Any) -> None:
        self.value = value
        self.stored: list[StoredToken] = []

    async def store_token(self, key: str, token: StoredToken) -> None:
        self.stored.append(token)

    async def get_token(self, key: str) -> Any:
        return self.value

    async def delete_token(self, key: str) -> None:
        self.value = None

    async def has_token(self, key: str) -> bool:
        return self.value is not None


def _manager(value: Any) -> OAuthManager:
    config = {"flow": "client_credentials", "client_id": "c", "client_secret": "port-secret-123",
              "token_url": "http://127.0.0.1:9/token"}
    return OAuthManager(config, storage=GuidePortStore(value), name="port")


NOW_MS = time.time() * 1000
TOKENS = {
    "plain object, ms obtained_at": {"access_token": "port-token-1", "expires_in": 3600, "obtained_at": NOW_MS},
    "plain object with nulls": {"access_token": "port-token-1", "refresh_token": None, "expires_in": None},
    "JSON text": '{"access_token": "port-token-1", "expires_in": 3600}',
    "JSON bytes": b'{"access_token": "port-token-1"}',
}
JUNK = {
    "number": 5, "list": ["port-token-1"], "object without token": {"token": "port-token-1"},
    "token of the wrong type": {"access_token": 5}, "JSON text of a list": "[1]", "not JSON": "port-token-1",
    "deeply nested text": "[" * 5000, "object": object(),
}


@pytest.mark.parametrize("case", list(TOKENS))
async def test_a_token_in_the_guides_shapes_is_read(case: str) -> None:
    manager = _manager(TOKENS[case])
    assert await manager.get_token() == "port-token-1"  # fresh: no request to the (closed) endpoint


@pytest.mark.parametrize("case", list(JUNK))
async def test_anything_else_is_a_typed_error_naming_the_store_and_key(case: str) -> None:
    manager = _manager(JUNK[case])
    with pytest.raises(TokenDecryptionError, match=r"GuidePortStore\.get_token\('port:c'\)"):
        await manager.get_token()
