"""PostgreSQL store (asyncpg pool): one row per key, upserts, expired rows ignored and
removable, advisory locks for cross-process single-flight refresh.

Table and schema names are validated in full (``fullmatch``: no trailing newline slips
through) before they are quoted into SQL. A row another program wrote (``envelope`` NULL
or not our envelope) is a ``TokenDecryptionError`` for its key and skipped by ``list_keys``.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any, TypeVar

from oneringai.domain.errors import TokenStorageError, install_extra_hint
from oneringai.domain.redaction import get_logger
from oneringai.infrastructure.token_storage.base import EncryptedTokenStorage, Record
from oneringai.infrastructure.token_storage.encryption import KeyRing
from oneringai.infrastructure.token_storage.postgres_pool import (
    ACQUIRE_TIMEOUT_KEY,
    DEFAULT_ACQUIRE_TIMEOUT,
    SIZE_KEY,
    check_pool_fits,
    connection_is_gone,
    is_too_many_connections,
    too_many_connections,
)

if TYPE_CHECKING:
    from oneringai.infrastructure.token_storage.config import PostgresStorageSettings

__all__ = ["PostgresTokenStorage", "open_postgres_storage"]

logger = get_logger("oneringai.token_storage")
T = TypeVar("T")

_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,62}")
_ENVELOPE_SQL = r"^v1:[0-9a-f]{16}:[A-Za-z0-9+/]+={0,2}$"


def _import_asyncpg() -> Any:
    try:
        import asyncpg
    except ImportError as exc:
        raise TokenStorageError(
            f"needs asyncpg (the postgres extra): {install_extra_hint('postgres')}", backend="postgres"
        ) from exc
    return asyncpg


# The connection holding a refresh lock, and the task that holds it: that task's reads and writes
# go through it instead of taking a second pool connection. Taking a second one deadlocked: with
# as many keys falling due together as the pool has connections, every connection held a lock
# and every holder waited for a free connection that could never come.
_LOCK_CONNECTION: ContextVar[tuple[asyncio.Task[Any] | None, tuple[Any, Any]] | None] = ContextVar(
    "oneringai_postgres_lock_connection", default=None
)


def _safe_dsn(dsn: str) -> str:
    return re.sub(r"//([^:/@]+):[^@]*@", r"//\1:***@", dsn)


class PostgresTokenStorage(EncryptedTokenStorage):
    backend = "postgres"
    _expiry_tolerance = 1e-3  # TIMESTAMPTZ keeps microseconds

    def __init__(
        self,
        pool: Any,
        key_ring: KeyRing,
        *,
        table: str = "oauth_tokens",
        schema: str = "public",
        acquire_timeout: float = DEFAULT_ACQUIRE_TIMEOUT,
        command_timeout: float | None = None,
    ) -> None:
        super().__init__(key_ring)
        self.acquire_timeout = acquire_timeout
        self.command_timeout = command_timeout
        for name, value in (("table", table), ("schema", schema)):
            if not isinstance(value, str) or not _IDENT.fullmatch(value):
                raise TokenStorageError(
                    f"invalid {name} name {value!r}: letters, digits and _ only, starting with a letter "
                    f"or _, at most 63 characters (oauth.storage.postgres.{name})",
                    backend="postgres",
                )
        self.pool = pool
        self.table = f'"{schema}"."{table}"'
        self.schema = schema
        self.table_name = table

    @contextlib.asynccontextmanager
    async def _errors(self) -> AsyncIterator[None]:
        """As the base's, and a server out of connection slots gets the pool-sizing advice."""
        try:
            async with super()._errors():
                yield
        except TokenStorageError as exc:
            if is_too_many_connections(exc.__cause__ or exc):
                raise too_many_connections(str(exc.__cause__)) from exc.__cause__
            if isinstance(exc.__cause__, TimeoutError):  # asyncpg's command_timeout: said with no words
                within = "" if self.command_timeout is None else f" within {self.command_timeout:g}s"
                raise TokenStorageError(
                    f"Postgres did not answer{within} (oauth.storage.postgres.command_timeout; "
                    "a locked table, a stalled server or network)",
                    backend="postgres",
                ) from exc.__cause__
            raise

    @contextlib.asynccontextmanager
    async def _acquire(self) -> AsyncIterator[Any]:
        """A pool connection, waited for at most ``acquire_timeout`` seconds: with every
        connection busy (held locks, slow statements, a leak) a caller gets a typed error
        naming the setting instead of waiting forever."""
        try:
            manager = self.pool.acquire(timeout=self.acquire_timeout)
            conn = await manager.__aenter__()
        except TimeoutError:
            raise TokenStorageError(
                f"no free connection in the pool within {self.acquire_timeout:g}s ({ACQUIRE_TIMEOUT_KEY}; "
                f"every one of the {SIZE_KEY} connections was busy)",
                backend="postgres",
            ) from None
        try:
            yield conn
        except BaseException as exc:
            if not await manager.__aexit__(type(exc), exc, exc.__traceback__):
                raise
        else:
            await manager.__aexit__(None, None, None)

    @contextlib.asynccontextmanager
    async def _db(self) -> AsyncIterator[Any]:
        """The lock's connection when this task holds a lock of this store, else one of the pool.
        A lock's connection the server closed is not used: the session's lock went with it, and
        what the holder writes (a refreshed token) still has to reach the table."""
        held = _LOCK_CONNECTION.get()
        if held is not None and held[0] is asyncio.current_task() and held[1][0] is self and not connection_is_gone(held[1][1]):
            yield held[1][1]
            return
        async with self._acquire() as conn:
            yield conn

    async def _run(self, statement: Callable[[Any], Awaitable[T]]) -> T:
        """One statement, sent once more on a new connection when the one it met turns out
        closed. A pool hands out a connection the server terminated a moment ago (a Postgres
        restart, ``pg_terminate_backend``, an idle timeout on a proxy) until the event loop
        has seen the close: the first call after one failed with asyncpg's "another operation
        is in progress" or "connection was closed in the middle of operation". Every statement
        of the store may run twice: upserts, deletes and reads repeat alike, and a compare-and-
        set that did land finds the record changed (``rotate_key`` then reads it again).

        The pool's other connections are dropped too: a restart closed them all, and the
        second attempt would meet the next one."""
        async with self._errors():
            for attempt in (1, 2):
                async with self._db() as db:
                    try:
                        return await statement(db)
                    except Exception:
                        if attempt == 2 or not connection_is_gone(db):
                            raise
                with contextlib.suppress(Exception):  # best effort: the retry opens its own anyway
                    await self.pool.expire_connections()
        raise AssertionError("unreachable")  # pragma: no cover

    async def ensure_schema(self) -> None:
        """Create or migrate the table; serialised by an advisory lock so replicas can race."""
        async with self._errors(), self._acquire() as conn, conn.transaction():
            await conn.execute("SELECT pg_advisory_xact_lock(hashtext('oneringai:schema'))")
            await conn.execute(f'CREATE SCHEMA IF NOT EXISTS "{self.schema}"')
            await conn.execute(
                f"CREATE TABLE IF NOT EXISTS {self.table} ("
                "key TEXT PRIMARY KEY, envelope TEXT NOT NULL, key_id TEXT NOT NULL DEFAULT '', "
                "expires_at TIMESTAMPTZ NULL, created_at TIMESTAMPTZ NOT NULL DEFAULT now(), "
                "updated_at TIMESTAMPTZ NOT NULL DEFAULT now())"
            )
            for column, ddl in (
                ("envelope", "TEXT"),
                ("key_id", "TEXT NOT NULL DEFAULT ''"),
                ("expires_at", "TIMESTAMPTZ NULL"),
                ("created_at", "TIMESTAMPTZ NOT NULL DEFAULT now()"),
                ("updated_at", "TIMESTAMPTZ NOT NULL DEFAULT now()"),
            ):
                await conn.execute(f"ALTER TABLE {self.table} ADD COLUMN IF NOT EXISTS {column} {ddl}")
            await conn.execute(
                f'CREATE INDEX IF NOT EXISTS "{self.table_name}_expires_at_idx" ON {self.table} (expires_at)'
            )

    async def _put(self, key: str, envelope: str, expires_at: float | None) -> None:
        await self._run(lambda db: db.execute(
            f"INSERT INTO {self.table} (key, envelope, key_id, expires_at) "
            "VALUES ($1, $2, $3, to_timestamp($4)) ON CONFLICT (key) DO UPDATE SET "
            "envelope = EXCLUDED.envelope, key_id = EXCLUDED.key_id, "
            "expires_at = EXCLUDED.expires_at, updated_at = now()",
            key, envelope, KeyRing.key_id_of(envelope) or "", expires_at,
        ))

    async def _replace(self, key: str, expected: str, envelope: str, expires_at: float | None) -> bool:
        result = await self._run(lambda db: db.execute(
            f"UPDATE {self.table} SET envelope = $3, key_id = $4, updated_at = now() "
            "WHERE key = $1 AND envelope = $2",
            key, expected, envelope, KeyRing.key_id_of(envelope) or "",
        ))
        return bool(result.endswith(" 1"))

    async def _get(self, key: str) -> Record | None:
        row = await self._run(lambda db: db.fetchrow(
            f"SELECT envelope, extract(epoch FROM expires_at)::float8 AS expires FROM {self.table} "
            "WHERE key = $1 AND (expires_at IS NULL OR expires_at > now())",
            key,
        ))
        if row is None:
            return None
        envelope = row["envelope"]
        if not isinstance(envelope, str):
            from oneringai.domain.errors import TokenDecryptionError

            raise TokenDecryptionError(
                f"row for {key!r} has no envelope (written by another program into {self.table}?)",
                backend="postgres",
            )
        return envelope, row["expires"]

    async def _delete(self, key: str) -> None:
        await self._run(lambda db: db.execute(f"DELETE FROM {self.table} WHERE key = $1", key))

    async def _list(self, prefix: str) -> list[str]:
        rows = await self._run(lambda db: db.fetch(
            f"SELECT key, coalesce(envelope ~ $2, false) AS ours FROM {self.table} "
            "WHERE left(key, length($1)) = $1 AND (expires_at IS NULL OR expires_at > now()) ORDER BY key",
            prefix,
            _ENVELOPE_SQL,
        ))
        keys = []
        for row in rows:
            if row["ours"]:
                keys.append(row["key"])
            else:
                self._skip_foreign("postgres", row["key"], "envelope is not ours")
        return keys

    async def cleanup_expired(self) -> int:
        result = await self._run(lambda db: db.execute(f"DELETE FROM {self.table} WHERE expires_at <= now()"))
        return int(result.split()[-1])

    async def _locked_connection(self, stack: contextlib.AsyncExitStack, name: str) -> Any:
        """A pool connection holding the advisory lock ``name``, released by ``stack``; taken
        on a second connection when the first turns out closed (as ``_run`` does)."""
        for attempt in (1, 2):
            held = contextlib.AsyncExitStack()
            conn = await held.enter_async_context(self._acquire())
            try:
                await conn.execute("SELECT pg_advisory_lock(hashtextextended($1, 0))", name)
            except BaseException as exc:
                await held.aclose()
                if attempt == 2 or not isinstance(exc, Exception) or not connection_is_gone(conn):
                    raise
                with contextlib.suppress(Exception):
                    await self.pool.expire_connections()
                continue
            stack.push_async_exit(held)
            return conn
        raise AssertionError("unreachable")  # pragma: no cover

    @contextlib.asynccontextmanager
    async def lock(self, name: str) -> AsyncIterator[None]:
        """A session advisory lock: one holder across every process sharing the database.

        Only the lock's own statements are mapped to ``TokenStorageError``: an error of the
        body (an ``OAuthError`` of the refresh it guards) passes through with its own type.

        The server keeps the lock with the session: when the lock's connection dies inside
        (a restart, ``pg_terminate_backend``), the lock is gone with it. The body's reads and
        writes then go through the pool (the token it refreshed is still saved), the unlock is
        skipped and a warning logged — the unlock on the dead connection raised "connection
        has been released back to the pool" over the body's own outcome before."""
        async with contextlib.AsyncExitStack() as stack:
            async with self._errors():
                conn = await self._locked_connection(stack, name)
            token = _LOCK_CONNECTION.set((asyncio.current_task(), (self, conn)))
            failed = False
            try:
                yield
            except BaseException:
                failed = True
                raise
            finally:
                with contextlib.suppress(ValueError):  # exited in another context than entered
                    _LOCK_CONNECTION.reset(token)
                if connection_is_gone(conn):
                    logger.warning(
                        "postgres token storage: the connection holding lock %r was closed while it was "
                        "held; the server released the lock with it", name[:200],
                    )
                else:
                    # an unlock that fails must not hide the body's own error; the pool's reset
                    # of the connection (pg_advisory_unlock_all) frees the lock all the same
                    with contextlib.suppress(TokenStorageError) if failed else contextlib.nullcontext():
                        async with self._errors():
                            await conn.execute("SELECT pg_advisory_unlock(hashtextextended($1, 0))", name)


@contextlib.asynccontextmanager
async def open_postgres_storage(settings: PostgresStorageSettings, key_ring: KeyRing) -> AsyncIterator[PostgresTokenStorage]:
    """Container resource: a pool, the table ensured, closed on shutdown."""
    asyncpg = _import_asyncpg()
    if settings.dsn is None:
        raise TokenStorageError(
            "oauth.storage.postgres.dsn is not set (e.g. dsn: \"${DATABASE_URL}\")", backend="postgres"
        )
    dsn = settings.dsn.get_secret_value()
    try:
        probe = await asyncpg.connect(dsn, timeout=settings.command_timeout)
        try:
            await check_pool_fits(probe, settings.max_size)
        finally:
            await probe.close()
        pool = await asyncpg.create_pool(
            dsn, min_size=settings.min_size, max_size=settings.max_size, command_timeout=settings.command_timeout
        )
    except TokenStorageError:
        raise
    except Exception as exc:
        if is_too_many_connections(exc):
            raise too_many_connections(str(exc)) from None
        raise TokenStorageError(
            f"cannot connect to {_safe_dsn(dsn)}: {type(exc).__name__}: {str(exc).replace(dsn, _safe_dsn(dsn))}",
            backend="postgres",
        ) from None
    try:
        storage = PostgresTokenStorage(
            pool, key_ring, table=settings.table, schema=settings.schema_name, acquire_timeout=settings.acquire_timeout,
            command_timeout=settings.command_timeout,
        )
        await storage.ensure_schema()
        yield storage
    finally:
        await pool.close()
