"""The Postgres token store against the real server's connection limits: a pool that cannot fit
fails at start with our typed error naming ``oauth.storage.postgres.max_size``; a server out of
slots later (asyncpg's ``TooManyConnectionsError``) gives the same advice; and an OAuth error
raised while the store's refresh lock is held keeps its own type."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from urllib.parse import urlsplit, urlunsplit

import pytest

from oneringai import OAuthError, OneRingAI, TokenStorageError
from oneringai.config import Settings
from oneringai.infrastructure.token_storage.encryption import generate_key
from tests.conftest import POSTGRES_DSN, require_postgres
from tests.oauth_server import OAuthTestServer


def _settings(dsn: str, **postgres: object) -> Settings:
    return Settings.model_validate({"oauth": {
        "encryption_keys": [generate_key()],
        "storage": {"kind": "postgres", "postgres": {"dsn": dsn, "table": f"pool_{uuid.uuid4().hex[:8]}", **postgres}},
    }})


async def _open(settings: Settings) -> None:
    async with OneRingAI(settings=settings) as client:
        await client.token_storage.list_keys("")


@pytest.fixture
async def limited_role() -> AsyncIterator[tuple[str, str]]:
    """A role with CONNECTION LIMIT 3 (not a superuser) and its DSN; dropped afterwards."""
    require_postgres()
    import asyncpg

    name = f"soak_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(POSTGRES_DSN)
    database = urlsplit(POSTGRES_DSN).path.lstrip("/")
    await admin.execute(f'CREATE ROLE "{name}" LOGIN CONNECTION LIMIT 3')
    await admin.execute(f'GRANT CREATE, CONNECT ON DATABASE "{database}" TO "{name}"')
    parts = urlsplit(POSTGRES_DSN)
    dsn = urlunsplit(parts._replace(netloc=f"{name}@{parts.hostname}:{parts.port or 5432}"))
    try:
        yield name, dsn
    finally:
        await admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = $1", name
        )
        await admin.execute(f'DROP SCHEMA IF EXISTS "{name}" CASCADE')
        await admin.execute(f'DROP OWNED BY "{name}"')
        await admin.execute(f'DROP ROLE "{name}"')
        await admin.close()


async def test_pool_larger_than_the_server_fails_at_start_naming_the_key():
    require_postgres()
    with pytest.raises(TokenStorageError, match=r"oauth\.storage\.postgres\.max_size=100000 does not fit") as info:
        await _open(_settings(POSTGRES_DSN, max_size=100_000, min_size=1))
    assert "max_connections=" in str(info.value) and "superuser_reserved_connections" in str(info.value)


async def test_pool_larger_than_the_role_limit_fails_at_start(limited_role):
    name, dsn = limited_role
    with pytest.raises(TokenStorageError, match=r"max_size=5 does not fit: the server has 3 free") as info:
        await _open(_settings(dsn, max_size=5, min_size=1, schema=name))
    assert "CONNECTION LIMIT 3" in str(info.value)
    await _open(_settings(dsn, max_size=3, min_size=1, schema=name))  # fits: opens


async def test_too_many_connections_later_is_typed_with_the_advice(limited_role):
    """The pool fits at start; then other clients take the role's slots and the pool must grow."""
    import asyncio

    import asyncpg

    name, dsn = limited_role
    async with OneRingAI(settings=_settings(dsn, max_size=3, min_size=1, schema=name)) as client:
        storage = client.token_storage
        await storage.list_keys("")  # the pool holds one connection
        others = [await asyncpg.connect(dsn) for _ in range(2)]  # the role's other two slots
        try:
            async def hold() -> None:
                async with storage.lock(f"hold-{uuid.uuid4().hex}"):  # type: ignore[attr-defined]
                    await asyncio.sleep(0.5)

            with pytest.raises(TokenStorageError, match=r"no free connection slot.*oauth\.storage\.postgres\.max_size"):
                await asyncio.gather(hold(), hold())  # the second needs a new connection
        finally:
            for conn in others:
                await conn.close()


async def test_oauth_error_under_the_refresh_lock_keeps_its_type():
    """Regression: the lock's error mapping wrapped its body, so a token endpoint refusal
    during a refresh surfaced as ``TokenStorageError: OAuthError: ...``."""
    require_postgres()
    server = OAuthTestServer().start()
    try:
        settings = Settings.model_validate({"oauth": {
            "encryption_keys": [generate_key()],
            "storage": {"kind": "postgres", "postgres": {"dsn": POSTGRES_DSN, "table": f"pool_{uuid.uuid4().hex[:8]}"}},
            "connections": {"svc": {"flow": "client_credentials", "client_id": "svc", "client_secret": "wrong",
                                    "token_url": f"{server.url}/token"}},
        }})
        async with OneRingAI(settings=settings) as client:
            with pytest.raises(OAuthError) as info:
                await client.oauth("svc").get_token()
        assert not isinstance(info.value, TokenStorageError) and info.value.error == "invalid_client"
    finally:
        server.stop()


async def test_refresh_lock_holders_never_wait_for_a_second_connection():
    """Regression (found by benchmarks/soak.py --path tokens with 12 keys, pool max_size 5): a
    lock holder took a second pool connection for its reads and writes, so as many keys falling
    due at once as the pool has connections deadlocked the store for good: every connection held
    a lock, every holder waited for a connection. Here: a pool of 2 and 6 keys due together."""
    import asyncio
    import time

    from oneringai import StoredToken
    from tests.oauth_server import Client

    require_postgres()
    server = OAuthTestServer().start()
    names = [f"dl-{uuid.uuid4().hex[:6]}-{i}" for i in range(6)]
    for name in names:
        server.add_client(Client(name, "svc-secret", server.redirect_uri, ["client_credentials"]))
    try:
        settings = Settings.model_validate({"oauth": {
            "encryption_keys": [generate_key()],
            "storage": {"kind": "postgres", "postgres": {"dsn": POSTGRES_DSN, "max_size": 2, "min_size": 1,
                                                         "table": f"pool_{uuid.uuid4().hex[:8]}"}},
            "connections": {name: {"flow": "client_credentials", "client_id": name, "client_secret": "svc-secret",
                                   "token_url": f"{server.url}/token"} for name in names},
        }})
        client = OneRingAI(settings=settings)
        try:
            for name in names:  # every key due now
                await client.token_storage.store_token(
                    f"{name}:{name}", StoredToken(access_token="old", expires_in=60, obtained_at=time.time() - 59))
            try:  # a hang guard, not a timing assertion: before the fix this never finished
                tokens = await asyncio.wait_for(
                    asyncio.gather(*(client.oauth(name).get_token() for name in names for _ in range(5))), 60)
            except TimeoutError:
                (await client.token_storage.resolve()).pool.terminate()  # type: ignore[attr-defined]
                pytest.fail("deadlock: every pool connection holds a refresh lock and waits for another")
        finally:
            await client.destroy()
        assert "old" not in tokens and len(set(tokens)) == len(names)
        assert all(server.token_requests.get(name) == 1 for name in names)
    finally:
        server.stop()
