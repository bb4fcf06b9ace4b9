"""One callback delivered twice at once, to two replicas sharing the token store (a browser
re-submitting, a proxy retrying, a stolen redirect URL replayed). The persisted state was read
by both replicas before either deleted it: both passed the single-use check and both redeemed
the code — RFC 6749 §4.1.2 lets a server revoke every token issued from a code used twice, so
the login that had just succeeded could be killed by its own replay. Now the state is taken
under the store's lock: one replica redeems it, the other gets ``invalid_state``."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from oneringai import OAuthError, StoredToken
from oneringai.infrastructure.redis_client import make_redis_client
from oneringai.infrastructure.token_storage.encryption import KeyRing
from oneringai.infrastructure.token_storage.redis import RedisTokenStorage
from tests.conftest import REDIS_URL, require_redis
from tests.integration.test_oauth import authorize, web_manager
from tests.oauth_server import OAuthTestServer


@pytest.fixture(scope="module")
def auth_server() -> Iterator[OAuthTestServer]:
    server = OAuthTestServer().start()
    try:
        yield server
    finally:
        server.stop()


class SlowReads(RedisTokenStorage):
    """The real Redis store, its reads as slow as a busy network makes them."""

    async def get_token(self, key: str) -> StoredToken | None:
        token = await super().get_token(key)
        await asyncio.sleep(0.05)  # the answer on its way back
        return token


@pytest.mark.parametrize("replay", ["same replica", "two replicas"])
async def test_a_callback_delivered_twice_at_once_redeems_the_code_once(auth_server: OAuthTestServer, replay: str) -> None:
    require_redis()
    client: Any = make_redis_client(REDIS_URL)
    prefix = f"cbrace:{uuid.uuid4().hex[:8]}:"
    store = SlowReads(client, KeyRing.generate(), prefix=prefix)
    try:
        first = web_manager(auth_server, storage=store)
        second = first if replay == "same replica" else web_manager(auth_server, storage=store)
        url, _ = await first.start_authorization("mika")
        callback = await authorize(url + "&login_hint=mika")
        results = await asyncio.gather(
            first.handle_callback(callback), second.handle_callback(callback), return_exceptions=True
        )
        tokens = [r for r in results if isinstance(r, StoredToken)]
        errors = [r for r in results if isinstance(r, BaseException)]
        assert len(tokens) == 1, results
        assert len(errors) == 1 and isinstance(errors[0], OAuthError) and errors[0].error == "invalid_state", errors
        requests = first.token_requests + (second.token_requests if second is not first else 0)
        assert requests == 1  # the code was redeemed once
        stored = await store.get_token("github:web:mika")
        assert stored is not None and stored.access_token == tokens[0].access_token
        await first.aclose()
        await second.aclose()
    finally:
        async for key in client.scan_iter(match=f"*{prefix}*"):
            await client.delete(key)
        await client.aclose()
