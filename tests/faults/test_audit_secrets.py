"""The audit record is a log too: its Postgres sink and ``on_record`` callback get no logging
filter, so a registered secret in an argument under an ordinary key (``query``) or in a tool's
error message reached the table as it was. Now string values and the error are scrubbed like a
log record (found by the adversarial review, issue #10 class 1)."""

from __future__ import annotations

import json
import uuid
from typing import Any

from oneringai import ToolExecutionContext
from oneringai.application.tools import DirectToolExecutor, tool
from oneringai.domain.redaction import register_secret
from oneringai.infrastructure.tool_executors.audit import AuditingToolExecutor
from oneringai.testing import tool_call
from tests.conftest import POSTGRES_DSN, service_unavailable

SECRET = "audit" + uuid.uuid4().hex[:16]
register_secret(SECRET)


@tool
def search(query: str, note: str = "") -> str:
    """Fails with a message quoting its input, as real tools do."""
    raise RuntimeError(f"backend refused query {query!r}")


CTX = ToolExecutionContext(tools=[search], user_id="u1")
CALL = tool_call("search", query=f"token={SECRET}", note=f"plain {SECRET} text")


async def test_on_record_gets_a_scrubbed_entry() -> None:
    entries: list[dict[str, Any]] = []
    executor = AuditingToolExecutor(DirectToolExecutor(), on_record=entries.append)
    result = await executor.execute_tool(CALL, CTX)
    assert result.is_error
    [entry] = entries
    assert SECRET not in json.dumps(entry, default=str)
    assert entry["arguments"]["note"] == "plain [REDACTED] text", "the rest of the value stays readable"


async def test_the_postgres_sink_stores_no_secret() -> None:
    import asyncpg

    table = f"audit_{uuid.uuid4().hex[:8]}"
    try:
        conn = await asyncpg.connect(POSTGRES_DSN)
    except Exception as exc:
        service_unavailable("PostgreSQL", str(exc))
    executor = AuditingToolExecutor(DirectToolExecutor(), sink="postgres", dsn=POSTGRES_DSN, table=table)
    try:
        await executor.execute_tool(CALL, CTX)
        [row] = await conn.fetch(f"SELECT arguments, error FROM {table}")
        assert SECRET not in row["arguments"] and SECRET not in (row["error"] or "")
        assert json.loads(row["arguments"])["note"] == "plain [REDACTED] text"
    finally:
        await executor.aclose()
        await conn.execute(f"DROP TABLE IF EXISTS {table}")
        await conn.close()


async def test_a_secret_written_as_a_key_name_or_call_id_is_scrubbed_too() -> None:
    """Third review: keys of the arguments, the tool name and the call id are the model's
    text as well, and reached ``on_record`` / the Postgres table unscrubbed."""
    from oneringai.domain.tools import ToolCall, ToolCallFunction

    entries: list[dict[str, Any]] = []
    executor = AuditingToolExecutor(DirectToolExecutor(), on_record=entries.append)
    call = ToolCall(
        id=f"call-{SECRET}",
        function=ToolCallFunction(name=f"x{SECRET}", arguments=json.dumps({SECRET: {f"n{SECRET}": 1}})),
    )
    await executor.execute_tool(call, CTX)
    [entry] = entries
    assert SECRET not in json.dumps(entry, default=str)
