"""A Postgres audit sink that stops answering must not stop the agents.

A migration holding ``LOCK TABLE ... ACCESS EXCLUSIVE`` on the audit table (or a partition that
leaves the connection open and silent) made every INSERT wait, and the audit layer — outermost
in the worker example — waited with it: every tool call of every worker hung. Now a write waits
``write_timeout`` seconds, is logged as a sink failure, and the tool's result is returned."""

from __future__ import annotations

import asyncio
import logging
import uuid

from oneringai import ToolExecutionContext
from oneringai.application.tools import DirectToolExecutor, tool
from oneringai.infrastructure.tool_executors.audit import AuditingToolExecutor
from oneringai.testing import tool_call
from tests.conftest import POSTGRES_DSN, service_unavailable


@tool
def add(a: int, b: int) -> int:
    """Add."""
    return a + b


CTX = ToolExecutionContext(tools=[add], user_id="u1")


async def test_a_locked_audit_table_delays_a_call_by_write_timeout_at_most(caplog) -> None:
    import asyncpg

    table = f"audit_{uuid.uuid4().hex[:8]}"
    try:
        locker = await asyncpg.connect(POSTGRES_DSN)
    except Exception as exc:
        service_unavailable("PostgreSQL", str(exc))
    executor = AuditingToolExecutor(DirectToolExecutor(), sink="postgres", dsn=POSTGRES_DSN, table=table,
                                    write_timeout=0.5)
    try:
        first = await executor.execute_tool(tool_call("add", a=1, b=2), CTX)  # creates the table
        assert first.output == "3"
        transaction = locker.transaction()
        await transaction.start()
        await locker.execute(f"LOCK TABLE {table} IN ACCESS EXCLUSIVE MODE")
        with caplog.at_level(logging.ERROR, logger="oneringai.audit"):
            # before: waited for the lock for ever (bounded here only so the test can fail)
            result = await asyncio.wait_for(executor.execute_tool(tool_call("add", a=2, b=2), CTX), 60)
        assert result.output == "4" and not result.is_error
        assert any("audit sink failed for tool add" in r.getMessage() for r in caplog.records)
        await transaction.rollback()
        third = await asyncio.wait_for(executor.execute_tool(tool_call("add", a=3, b=3), CTX), 60)
        assert third.output == "6"
        rows = await locker.fetch(f"SELECT tool_call_id FROM {table} ORDER BY id")
        assert len(rows) == 2  # the first and the third: the stalled write gave up, nothing half-written
    finally:
        await executor.aclose()
        await locker.execute(f"DROP TABLE IF EXISTS {table}")
        await locker.close()
