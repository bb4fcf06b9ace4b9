"""Will the token store's pool fit in the Postgres server? Checked before the pool opens, so a
deployment with too many processes x ``max_size`` fails at start with our advice rather than
mid-traffic with asyncpg's ``TooManyConnectionsError`` ("sorry, too many clients already").

The rule: every process opens up to ``oauth.storage.postgres.max_size`` connections, so

    processes x max_size + other clients <= max_connections - superuser_reserved_connections
                                           (- reserved_connections on Postgres >= 16)

for a role that is not a superuser (a superuser may also use the reserved slots); a role's or
database's ``CONNECTION LIMIT`` caps it further. A check at start sees only the connections
open at that moment: processes that start together can each fit alone and not together, so a
``TooManyConnectionsError`` at any later time is mapped to the same advice.
"""

from __future__ import annotations

from typing import Any

from oneringai.domain.errors import TokenStorageError

__all__ = [
    "ACQUIRE_TIMEOUT_KEY",
    "DEFAULT_ACQUIRE_TIMEOUT",
    "SIZE_KEY",
    "check_pool_fits",
    "connection_is_gone",
    "is_too_many_connections",
    "too_many_connections",
]

SIZE_KEY = "oauth.storage.postgres.max_size"
ACQUIRE_TIMEOUT_KEY = "oauth.storage.postgres.acquire_timeout"
#: The longest wait for a free pool connection before a ``TokenStorageError`` (seconds).
DEFAULT_ACQUIRE_TIMEOUT = 10.0
_ADVICE = (
    f"each process opens up to {SIZE_KEY} connections, and processes x {SIZE_KEY} + other clients "
    "must stay <= max_connections - superuser_reserved_connections: lower "
    f"{SIZE_KEY}, run fewer processes, or raise max_connections "
    "(docs/scaling.md, 'Pool sizes per process vs Postgres max_connections')"
)
# What one connection may use: the server's slots less those kept for superusers (and for
# pg_use_reserved_connections members on Postgres >= 16), capped by the role's and the
# database's CONNECTION LIMIT; and how many client connections are open now (this one included).
_CAPACITY_SQL = """
SELECT current_setting('max_connections')::int AS max_connections,
       current_setting('superuser_reserved_connections')::int AS superuser_reserved,
       coalesce(current_setting('reserved_connections', true), '0')::int AS reserved,
       r.rolsuper AS superuser,
       coalesce(pg_has_role(current_user, 'pg_use_reserved_connections', 'member'), false) AS may_use_reserved,
       r.rolconnlimit AS role_limit,
       d.datconnlimit AS database_limit,
       (SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend')::int AS in_use,
       (SELECT count(*) FROM pg_stat_activity WHERE usename = current_user)::int AS role_in_use,
       (SELECT count(*) FROM pg_stat_activity WHERE datname = current_database())::int AS database_in_use
FROM pg_roles r, pg_database d
WHERE r.rolname = current_user AND d.datname = current_database()
"""
_CAPACITY_SQL_NO_RESERVED_ROLE = _CAPACITY_SQL.replace(
    "coalesce(pg_has_role(current_user, 'pg_use_reserved_connections', 'member'), false)", "false"
)


def connection_is_gone(conn: Any) -> bool:
    """The connection was closed (the server terminated it, a restart, a network cut). A pool's
    proxy whose connection died is detached from it and refuses every call, this one too."""
    try:
        return bool(conn.is_closed())
    except Exception:  # InterfaceError: "connection has been released back to the pool"
        return True


def is_too_many_connections(exc: BaseException) -> bool:
    """asyncpg's ``TooManyConnectionsError`` (SQLSTATE 53300), told by its code."""
    return getattr(exc, "sqlstate", None) == "53300"


def too_many_connections(detail: str = "") -> TokenStorageError:
    """The typed error for a server out of connection slots, with the sizing advice."""
    where = f" ({detail})" if detail else ""
    return TokenStorageError(f"the Postgres server has no free connection slot{where}: {_ADVICE}", backend="postgres")


async def _capacity(conn: Any) -> Any:
    try:
        return await conn.fetchrow(_CAPACITY_SQL)
    except Exception as exc:  # Postgres < 16: no pg_use_reserved_connections role
        if getattr(exc, "sqlstate", None) != "42704":
            raise
        return await conn.fetchrow(_CAPACITY_SQL_NO_RESERVED_ROLE)


async def check_pool_fits(conn: Any, max_size: int) -> None:
    """Raise ``TokenStorageError`` naming ``oauth.storage.postgres.max_size`` when a pool of
    ``max_size`` connections cannot open beside the clients connected now. ``conn`` is a
    short-lived connection of the same DSN (counted in the figures, closed by the caller)."""
    row = await _capacity(conn)
    if row is None:  # the role or database row is hidden from us: nothing to check against
        return
    slots = row["max_connections"]
    if not row["superuser"]:
        slots -= row["superuser_reserved"]
        if not row["may_use_reserved"]:
            slots -= row["reserved"]
    others = row["in_use"] - 1  # this checking connection closes before the pool opens
    free = slots - others
    limits = [f"max_connections={row['max_connections']}",
              f"superuser_reserved_connections={row['superuser_reserved']}"]
    if row["reserved"]:
        limits.append(f"reserved_connections={row['reserved']}")
    for name, limit, used in (("role", row["role_limit"], row["role_in_use"]),
                              ("database", row["database_limit"], row["database_in_use"])):
        if limit is not None and limit >= 0 and limit - (used - 1) < free:
            free = limit - (used - 1)
            limits.append(f"the {name}'s CONNECTION LIMIT {limit}")
    if max_size > free:
        raise TokenStorageError(
            f"{SIZE_KEY}={max_size} does not fit: the server has {max(free, 0)} free connection "
            f"slot(s) for this role ({', '.join(limits)}, {others} other client connection(s) open "
            f"now); {_ADVICE}",
            backend="postgres",
        )
