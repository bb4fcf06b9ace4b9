"""The Postgres audit sink under a running kit: its connections terminated between calls, its
table dropped, the server unreachable at the first call and back later. A record is written on
a new connection (or into the table made again); a sink that cannot write logs the loss without
the DSN's password and never fails the tool call.

Before: the first record after a termination was lost (asyncpg's "another operation is in
progress" on the connection the pool still held), and after the table was dropped every record
was lost until a restart (the table was made only when the pool opened).
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import pytest

from oneringai import ToolExecutionContext, tool
from oneringai.application.tools import DirectToolExecutor
from oneringai.infrastructure.tool_executors.audit import AuditingToolExecutor
from oneringai.testing import tool_call
from tests.conftest import POSTGRES_DSN, require_postgres
from tests.faults.backend_support import PASSWORD, Forwarder


@tool
def ping() -> str:
    """Answers."""
    return "pong"


def _dsn(application: str, port: int | None = None) -> str:
    parts = urlsplit(POSTGRES_DSN)
    netloc = f"{parts.username or 'postgres'}:{PASSWORD}@{parts.hostname}:{port or parts.port or 5432}"
    return urlunsplit(parts._replace(netloc=netloc, query=f"application_name={application}"))


@pytest.fixture
async def admin() -> AsyncIterator[Any]:
    require_postgres()
    import asyncpg

    conn = await asyncpg.connect(POSTGRES_DSN)
    try:
        yield conn
    finally:
        await conn.close()


async def _terminate(admin: Any, application: str) -> None:
    await admin.execute(
        "SELECT pg_terminate_backend(pid) FROM (SELECT pid FROM pg_stat_activity "
        "WHERE application_name = $1 OFFSET 0) AS ours",
        application,
    )


async def test_records_after_terminations_and_a_dropped_table_are_written(admin: Any) -> None:
    application, table = f"bf_{uuid.uuid4().hex[:10]}", f"bf_audit_{uuid.uuid4().hex[:8]}"
    executor = AuditingToolExecutor(
        DirectToolExecutor(), sink="postgres", dsn=_dsn(application), table=table, write_timeout=5
    )
    context = ToolExecutionContext(tools=[ping])
    try:
        await executor.execute_tool(tool_call("ping"), context)
        for _ in range(5):
            await _terminate(admin, application)
            entry = executor.record(tool_call("ping"), context, await DirectToolExecutor().execute_tool(tool_call("ping"), context), 0.0)
            await executor._write(entry)  # at once, before the loop saw the close
        assert await admin.fetchval(f"SELECT count(*) FROM {table}") == 6
        await admin.execute(f"DROP TABLE {table}")
        await executor.execute_tool(tool_call("ping"), context)
        assert await admin.fetchval(f"SELECT count(*) FROM {table}") == 1  # made again, record kept
    finally:
        await executor.aclose()
        await admin.execute(f"DROP TABLE IF EXISTS {table}")


async def test_unreachable_at_the_first_call_then_back(admin: Any, caplog: pytest.LogCaptureFixture) -> None:
    forwarder = Forwarder(urlsplit(POSTGRES_DSN).port or 5432)  # nothing listens yet
    table = f"bf_audit_{uuid.uuid4().hex[:8]}"
    executor = AuditingToolExecutor(
        DirectToolExecutor(), sink="postgres", dsn=_dsn("bf_audit", forwarder.port), table=table, write_timeout=5
    )
    context = ToolExecutionContext(tools=[ping])
    try:
        with caplog.at_level(logging.ERROR, logger="oneringai.audit"):
            result = await executor.execute_tool(tool_call("ping"), context)
        assert result.output == "pong" and "audit sink failed" in caplog.text
        assert PASSWORD not in caplog.text
        await forwarder.start()
        await executor.execute_tool(tool_call("ping"), context)
        assert await admin.fetchval(f"SELECT count(*) FROM {table}") == 1
    finally:
        await executor.aclose()
        await forwarder.stop()
        await admin.execute(f"DROP TABLE IF EXISTS {table}")
