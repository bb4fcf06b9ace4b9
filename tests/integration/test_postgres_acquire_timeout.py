"""The Postgres store's pool had no bounded wait: with every connection busy (held refresh
locks, slow statements, a leak) ``pool.acquire()`` waited forever, and so did every token read
and write behind it. Now a caller waits at most ``oauth.storage.postgres.acquire_timeout`` and
gets a ``TokenStorageError`` naming that setting. Against the real server."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import pytest

from oneringai import StoredToken, TokenStorageError
from oneringai.config import Settings
from oneringai.infrastructure.token_storage.config import PostgresStorageSettings
from oneringai.infrastructure.token_storage.encryption import KeyRing
from oneringai.infrastructure.token_storage.postgres import PostgresTokenStorage, open_postgres_storage
from tests.conftest import POSTGRES_DSN, require_postgres

#: Guards the test itself: before the fix the calls below never returned.
_GUARD = 60.0


@pytest.fixture
async def one_connection_store() -> AsyncIterator[PostgresTokenStorage]:
    require_postgres()
    settings = PostgresStorageSettings(
        dsn=POSTGRES_DSN, table=f"acq_{uuid.uuid4().hex[:8]}", schema="oneringai_test",
        min_size=1, max_size=1, acquire_timeout=0.2,
    )
    async with open_postgres_storage(settings, KeyRing.generate()) as store:
        try:
            yield store
        finally:
            await store.pool.execute(f"DROP TABLE IF EXISTS {store.table}")


async def test_every_operation_waits_a_bounded_time_for_a_busy_pool(one_connection_store: PostgresTokenStorage) -> None:
    store = one_connection_store
    await store.store_token("acq:one", StoredToken(access_token="acquire-token-1"))
    operations = {
        "get_token": lambda: store.get_token("acq:one"),
        "store_token": lambda: store.store_token("acq:one", StoredToken(access_token="acquire-token-2")),
        "delete_token": lambda: store.delete_token("acq:one"),
        "has_token": lambda: store.has_token("acq:one"),
        "list_keys": lambda: store.list_keys("acq:"),
        "cleanup_expired": lambda: store.cleanup_expired(),
        "rotate_key": lambda: store.rotate_key("acq:one"),
    }
    async with store.pool.acquire():  # the only connection, held
        for name, call in operations.items():
            async with asyncio.timeout(_GUARD):
                with pytest.raises(TokenStorageError, match=r"oauth\.storage\.postgres\.acquire_timeout") as info:
                    await call()
            assert "acquire-token" not in str(info.value), name
        async with asyncio.timeout(_GUARD):
            with pytest.raises(TokenStorageError, match=r"acquire_timeout"):
                async with store.lock("acq-lock"):
                    pytest.fail("the lock was taken without a connection")
    # released: everything works again, nothing was lost
    got = await store.get_token("acq:one")
    assert got is not None and got.access_token.get_secret_value() == "acquire-token-1"


async def test_a_task_holding_the_lock_still_reads_and_writes(one_connection_store: PostgresTokenStorage) -> None:
    """The lock's own connection serves its holder: a pool of one is not a deadlock."""
    store = one_connection_store
    async with asyncio.timeout(_GUARD), store.lock("acq-refresh"):
        await store.store_token("acq:locked", StoredToken(access_token="locked-token-1"))
        got = await store.get_token("acq:locked")
    assert got is not None and got.access_token.get_secret_value() == "locked-token-1"


def test_the_setting_is_validated_and_documented() -> None:
    settings = Settings.model_validate(
        {"oauth": {"storage": {"kind": "postgres", "postgres": {"dsn": POSTGRES_DSN, "acquire_timeout": 2.5}}}}
    )
    assert settings.oauth.storage.postgres.acquire_timeout == 2.5
    from oneringai.domain.errors import ConfigError

    for bad in (0, -1, "soon"):
        with pytest.raises((ConfigError, ValueError)):
            Settings.model_validate({"oauth": {"storage": {"kind": "postgres", "postgres": {"acquire_timeout": bad}}}})
