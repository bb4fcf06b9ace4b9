"""Every tool call reaches the Postgres audit table, whatever text the model wrote (third
adversarial review): a NUL (``\\u0000``) or a lone surrogate in the arguments, a NaN, a NUL
in the user id or tool name made the INSERT fail — the sink failure was logged and the call
vanished from the audit trail, so a model could hide a call by adding one character."""

from __future__ import annotations

import json
import uuid

import pytest

from oneringai import ToolExecutionContext
from oneringai.application.tools import DirectToolExecutor, tool
from oneringai.domain.tools import ToolCall, ToolCallFunction
from oneringai.infrastructure.tool_executors.audit import AuditingToolExecutor
from tests.conftest import POSTGRES_DSN, service_unavailable


@tool
def echo(text: str = "", number: float = 0.0) -> str:
    """Returns its input."""
    return text


CASES = {
    "nul in a value": ("echo", '{"text": "a\\u0000b"}', "u1"),
    "nul in a key": ("echo", '{"te\\u0000xt": "a"}', "u1"),
    "lone surrogate": ("echo", '{"text": "\\ud800"}', "u1"),
    "nan": ("echo", '{"text": "x", "number": NaN}', "u1"),
    "infinity": ("echo", '{"number": 1e999}', "u1"),
    "nul in the user id": ("echo", '{"text": "x"}', "u\x00ser"),
    "nul in the tool name": ("ec\x00ho", '{"text": "x"}', "u1"),
    "surrogate in the tool name": ("\udc80echo", "{}", "u1"),
}


@pytest.mark.parametrize("case", list(CASES))
async def test_the_postgres_audit_row_is_written_for_hostile_text(case: str) -> None:
    import asyncpg

    name, arguments, user = CASES[case]
    table = f"audit_{uuid.uuid4().hex[:8]}"
    try:
        conn = await asyncpg.connect(POSTGRES_DSN)
    except Exception as exc:
        service_unavailable("PostgreSQL", str(exc))
    executor = AuditingToolExecutor(DirectToolExecutor(), sink="postgres", dsn=POSTGRES_DSN, table=table)
    call_id = f"call_{case.replace(' ', '_')}"
    try:
        await executor.execute_tool(
            ToolCall(id=call_id, function=ToolCallFunction(name=name, arguments=arguments)),
            ToolExecutionContext(tools=[echo], user_id=user),
        )
        rows = await conn.fetch(f"SELECT tool_call_id, tool, user_id, arguments FROM {table}")
        assert [row["tool_call_id"] for row in rows] == [call_id], "the call is in the audit table"
        assert isinstance(json.loads(rows[0]["arguments"]), dict)
    finally:
        await executor.aclose()
        await conn.execute(f"DROP TABLE IF EXISTS {table}")
        await conn.close()
