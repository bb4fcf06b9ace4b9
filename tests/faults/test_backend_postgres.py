"""Postgres failing under a running token store: our connections terminated
(``pg_terminate_backend`` by application_name) between calls, in the middle of a statement and
while a refresh lock is held; the server unreachable and back; a statement past
``command_timeout``; the table dropped underneath. Each time: a ``TokenStorageError`` without the
DSN's password, or the call done on a new connection — and no advisory lock left behind.

Before: the pool handed out a connection the server had just terminated, so the first call
after failed (asyncpg's "cannot switch to state 12; another operation is in progress", or
"connection was closed in the middle of operation"); a lock whose connection was terminated
inside failed the body's write and then raised "connection has been released back to the
pool" from the unlock, over the body's outcome; a statement past ``command_timeout`` said only
"TimeoutError: ".
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import pytest

from oneringai import OneRingAI, TokenStorageError
from oneringai.config import Settings
from oneringai.domain.tokens import StoredToken
from oneringai.infrastructure.token_storage.config import PostgresStorageSettings
from oneringai.infrastructure.token_storage.encryption import KeyRing, generate_key
from oneringai.infrastructure.token_storage.postgres import PostgresTokenStorage, open_postgres_storage
from tests.conftest import POSTGRES_DSN, require_postgres
from tests.faults.backend_support import PASSWORD, Forwarder

HANG_GUARD = 20.0
SCHEMA = "oneringai_test"


def _dsn(application: str, port: int | None = None) -> str:
    """The test DSN with a password (trust auth ignores it) and an application_name of our own."""
    parts = urlsplit(POSTGRES_DSN)
    netloc = f"{parts.username or 'postgres'}:{PASSWORD}@{parts.hostname}:{port or parts.port or 5432}"
    return urlunsplit(parts._replace(netloc=netloc, query=f"application_name={application}"))


def _no_password(*texts: object) -> bool:
    return not any(PASSWORD in str(text) or PASSWORD in repr(text) for text in texts)


def _token(access: str = "at-1") -> StoredToken:
    return StoredToken(access_token=access, refresh_token="rt-1", expires_at=time.time() + 3600)


class Admin:
    """A connection of its own (another application_name) that terminates the store's."""

    def __init__(self, conn: Any, application: str) -> None:
        self.conn = conn
        self.application = application

    async def terminate(self) -> int:
        # the subquery first (OFFSET 0): a WHERE with pg_terminate_backend beside the filter may
        # run it for rows the filter would drop — this connection's own among them
        rows = await self.conn.fetch(
            "SELECT pg_terminate_backend(pid) FROM (SELECT pid FROM pg_stat_activity "
            "WHERE application_name = $1 OFFSET 0) AS ours",
            self.application,
        )
        return sum(1 for row in rows if row[0])


@pytest.fixture
async def admin_and_store() -> AsyncIterator[tuple[Admin, PostgresTokenStorage]]:
    require_postgres()
    import asyncpg

    application = f"bf_{uuid.uuid4().hex[:10]}"
    conn = await asyncpg.connect(POSTGRES_DSN)
    settings = PostgresStorageSettings(
        dsn=_dsn(application), table=f"bf_{uuid.uuid4().hex[:10]}", schema=SCHEMA,
        command_timeout=1.0, acquire_timeout=2.0, min_size=1, max_size=3,
    )
    try:
        async with open_postgres_storage(settings, KeyRing.generate()) as store:
            try:
                yield Admin(conn, application), store
            finally:
                if conn.is_in_transaction():
                    await conn.execute("ROLLBACK")
                await conn.execute(f"DROP TABLE IF EXISTS {store.table}")
    finally:
        await conn.close()


async def test_the_first_call_after_a_termination_runs_on_a_new_connection(
    admin_and_store: tuple[Admin, PostgresTokenStorage],
) -> None:
    admin, store = admin_and_store
    await store.store_token("k", _token())
    for _ in range(5):
        assert await admin.terminate() >= 1
        # at once, before the loop saw the close: was asyncpg's "another operation is in progress"
        token = await asyncio.wait_for(store.get_token("k"), HANG_GUARD)
        assert token is not None and token.access_token.get_secret_value() == "at-1"
        await admin.terminate()
        await asyncio.wait_for(store.store_token("k", _token()), HANG_GUARD)
        await admin.terminate()
        assert await asyncio.wait_for(store.list_keys(""), HANG_GUARD) == ["k"]
        await admin.terminate()
        async with asyncio.timeout(HANG_GUARD), store.lock("refresh"):  # the lock's own statement too
            pass


async def test_a_statement_whose_connection_is_terminated_midway_runs_again(
    admin_and_store: tuple[Admin, PostgresTokenStorage],
) -> None:
    admin, store = admin_and_store
    await store.store_token("k", _token())
    await admin.conn.execute("BEGIN")
    await admin.conn.execute(f"LOCK TABLE {store.table} IN ACCESS EXCLUSIVE MODE")
    reading = asyncio.ensure_future(store.get_token("k"))  # waits for the table lock
    await asyncio.sleep(0.3)
    assert await admin.terminate() >= 1
    await admin.conn.execute("ROLLBACK")
    token = await asyncio.wait_for(reading, HANG_GUARD)  # was: "connection was closed in the middle"
    assert token is not None


async def test_a_lock_whose_connection_is_terminated_inside(
    admin_and_store: tuple[Admin, PostgresTokenStorage], caplog: pytest.LogCaptureFixture,
) -> None:
    admin, store = admin_and_store
    await store.store_token("k", _token("old"))
    async with asyncio.timeout(HANG_GUARD):
        async with store.lock("refresh"):
            assert await admin.terminate() >= 1
            await asyncio.sleep(0.1)
            # the refreshed token still reaches the table (was: a TokenStorageError for the write,
            # then the unlock's "connection has been released back to the pool" over it)
            await store.store_token("k", _token("new"))
    token = await store.get_token("k")
    assert token is not None and token.access_token.get_secret_value() == "new"
    assert "closed while it was held" in caplog.text
    # no advisory lock left: another session takes it at once, and so does the store
    taken = await admin.conn.fetchval("SELECT pg_try_advisory_lock(hashtextextended($1, 0))", "refresh")
    assert taken is True
    await admin.conn.execute("SELECT pg_advisory_unlock(hashtextextended($1, 0))", "refresh")
    async with asyncio.timeout(HANG_GUARD), store.lock("refresh"):
        pass


async def test_a_statement_past_command_timeout_names_the_setting_then_recovers(
    admin_and_store: tuple[Admin, PostgresTokenStorage],
) -> None:
    admin, store = admin_and_store
    await store.store_token("k", _token())
    await admin.conn.execute("BEGIN")
    await admin.conn.execute(f"LOCK TABLE {store.table} IN ACCESS EXCLUSIVE MODE")
    try:
        with pytest.raises(TokenStorageError, match=r"did not answer within 1s \(oauth\.storage\.postgres\.command_timeout") as info:
            await asyncio.wait_for(store.get_token("k"), HANG_GUARD)
        assert _no_password(info.value, info.value.__cause__)
    finally:
        await admin.conn.execute("ROLLBACK")
    assert await store.get_token("k") is not None


async def test_the_table_dropped_underneath_is_a_typed_error_naming_it(
    admin_and_store: tuple[Admin, PostgresTokenStorage],
) -> None:
    admin, store = admin_and_store
    await store.store_token("k", _token())
    await admin.conn.execute(f"DROP TABLE {store.table}")
    with pytest.raises(TokenStorageError, match=store.table_name) as info:
        await store.get_token("k")
    assert _no_password(info.value, info.value.__cause__)
    await store.ensure_schema()  # what a restart does; the store works again
    await store.store_token("k", _token())
    assert await store.get_token("k") is not None


async def test_unreachable_at_start_then_reachable_without_a_restart_of_the_kit() -> None:
    require_postgres()
    forwarder = Forwarder(urlsplit(POSTGRES_DSN).port or 5432)  # not started: nothing listens yet
    settings = Settings.model_validate({"oauth": {
        "encryption_keys": [generate_key()],
        "storage": {"kind": "postgres", "postgres": {
            "dsn": _dsn(f"bf_{uuid.uuid4().hex[:8]}", port=forwarder.port), "schema": SCHEMA,
            "table": f"bf_{uuid.uuid4().hex[:10]}", "command_timeout": 2.0}},
    }})
    try:
        async with OneRingAI(settings=settings) as client:
            with pytest.raises(TokenStorageError) as info:
                await asyncio.wait_for(client.token_storage.list_keys(""), HANG_GUARD)
            assert _no_password(info.value, info.value.__cause__)
            await forwarder.start()
            assert await asyncio.wait_for(client.token_storage.list_keys(""), HANG_GUARD) == []
            await forwarder.stop()  # down again mid-run: typed, then back
            with pytest.raises(TokenStorageError) as down:
                await asyncio.wait_for(client.token_storage.list_keys(""), HANG_GUARD)
            assert _no_password(down.value, down.value.__cause__)
            await forwarder.start()
            assert await asyncio.wait_for(client.token_storage.list_keys(""), HANG_GUARD) == []
            store = await client.token_storage.resolve()
            await store.pool.execute(f"DROP TABLE IF EXISTS {store.table}")  # type: ignore[attr-defined]
    finally:
        await forwarder.stop()


async def test_a_refresh_whose_lock_connection_is_terminated_keeps_its_token() -> None:
    """End to end: the token endpoint terminates the store's Postgres connections (the lock's
    among them) while it answers. The token it issued is stored and served; nobody asks again."""
    require_postgres()
    import json

    import asyncpg

    from tests.faults.providers_fixtures import FaultServer, head, read_request

    application = f"bf_{uuid.uuid4().hex[:10]}"
    admin = Admin(await asyncpg.connect(POSTGRES_DSN), application)
    body = json.dumps({"access_token": "issued-once", "token_type": "Bearer", "expires_in": 3600}).encode()
    server = FaultServer()

    async def script(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while (request := await read_request(reader)) is not None:
            server.requests.append(request)
            await admin.terminate()  # mid-refresh: the lock is held on one of these
            writer.write(head(200, "application/json", len(body)) + body)
            await writer.drain()

    server.script = script
    await server.start()
    table = f"bf_{uuid.uuid4().hex[:10]}"
    settings = Settings.model_validate({"oauth": {
        "encryption_keys": [generate_key()],
        "storage": {"kind": "postgres", "postgres": {
            "dsn": _dsn(application), "schema": SCHEMA, "table": table, "command_timeout": 2.0}},
        "connections": {"svc": {"flow": "client_credentials", "client_id": "svc", "client_secret": "s3",
                                "token_url": f"{server.url}/token"}},
    }})
    try:
        async with OneRingAI(settings=settings) as client:
            first = await asyncio.wait_for(client.oauth("svc").get_token(), HANG_GUARD)
            second = await asyncio.wait_for(client.oauth("svc").get_token(), HANG_GUARD)
            assert first == second == "issued-once" and len(server.requests) == 1
            taken = await admin.conn.fetchval(
                "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted AND pid IN "
                "(SELECT pid FROM pg_stat_activity WHERE application_name = $1)", application)
            assert taken == 0  # no advisory lock held by the kit once the refresh is over
    finally:
        await server.stop()
        await admin.conn.execute(f'DROP TABLE IF EXISTS "{SCHEMA}"."{table}"')
        await admin.conn.close()
