"""One structured record per tool call — who, what (secrets redacted), how long, outcome —
to a logger or a Postgres table."""

from __future__ import annotations

import asyncio
import inspect
import json
import math
import time
from collections.abc import Callable
from typing import Any

from oneringai.domain.errors import ConfigError, install_extra_hint
from oneringai.domain.interfaces import IToolExecutor
from oneringai.domain.redaction import get_logger
from oneringai.domain.redaction import redact as scrub
from oneringai.domain.tools import ToolCall, ToolExecutionContext, ToolResult
from oneringai.infrastructure.tool_executors.config import AuditExecutorConfig
from oneringai.infrastructure.tool_executors.wrapper import WrapperToolExecutor

__all__ = ["AuditingToolExecutor", "redact"]


def redact(value: Any, keys: list[str] | tuple[str, ...]) -> Any:
    """Replace values under secret-looking keys (substring match, any case), recursively."""
    return _Redactor(keys)(value)


class _Redactor:
    def __init__(self, keys: list[str] | tuple[str, ...]) -> None:
        self._needles = tuple(k.lower() for k in keys)
        self._verdicts: dict[str, bool] = {}

    def is_secret(self, key: str) -> bool:
        verdict = self._verdicts.get(key)
        if verdict is None:
            lowered = key.lower()
            verdict = any(needle in lowered for needle in self._needles)
            if len(self._verdicts) < 4096:
                self._verdicts[key] = verdict
        return verdict

    def __call__(self, value: Any) -> Any:
        if isinstance(value, dict):
            # keys are the model's text too: a secret written as a key is scrubbed like a value
            return {scrub(str(k)): "[REDACTED]" if self.is_secret(str(k)) else self(v) for k, v in value.items()}
        if isinstance(value, list):
            return [self(v) for v in value]
        if isinstance(value, str):  # a known secret or credential shape under an ordinary key
            return scrub(value)
        return value


def _pg_text(value: Any) -> str | None:
    """Text Postgres stores: no NUL (``text`` and ``jsonb`` refuse it) and no lone surrogate
    (not UTF-8) — otherwise one hostile argument made the INSERT fail and the call vanished
    from the audit table. Non-text values (a custom layer's ``code``) become their ``str``."""
    if value is None:
        return None
    text = value if isinstance(value, str) else str(value)
    if "\x00" in text:
        text = text.replace("\x00", "\ufffd")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        text = text.encode("utf-8", "replace").decode("utf-8")
    return text


def _pg_json(value: Any) -> Any:
    """``value`` (parsed arguments: depth-bounded) as jsonb takes it: keys and strings cleaned by
    ``_pg_text``, non-finite numbers as text."""
    if isinstance(value, dict):
        return {_pg_text(k): _pg_json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_pg_json(v) for v in value]
    if isinstance(value, str):
        return _pg_text(value)
    if isinstance(value, float) and not math.isfinite(value):  # NaN, 1e999: JSON text, not jsonb
        return str(value)
    return value


class AuditingToolExecutor(WrapperToolExecutor):
    config: AuditExecutorConfig
    config_model = AuditExecutorConfig

    def __init__(
        self,
        wrapped: IToolExecutor,
        config: AuditExecutorConfig | None = None,
        *,
        on_record: Callable[[dict[str, Any]], Any] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(wrapped, config, **kwargs)
        self._logger = get_logger(self.config.logger)
        self._redact = _Redactor(self.config.redact_keys)
        self._on_record = on_record
        self._pool: Any = None
        self._opening = asyncio.Lock()

    def record(
        self, tool_call: ToolCall, context: ToolExecutionContext, result: ToolResult, duration: float
    ) -> dict[str, Any]:
        try:
            arguments: Any = self._redact(tool_call.parsed_arguments())
        except ValueError as exc:  # invalid JSON, or over the size/depth limits: record why
            arguments = f"[unparseable arguments: {str(exc)[:200]}]"
        return {
            "timestamp": time.time(),  # epoch seconds; sinks format it
            "user_id": context.user_id,
            "agent_id": context.agent_id,
            "tool": scrub(tool_call.function.name),  # the model chose the name and id: its text
            "tool_call_id": scrub(tool_call.id),
            "arguments": arguments,
            "duration_ms": round(duration * 1000, 3),
            "outcome": "error" if result.is_error else "ok",
            "error_code": result.metadata.get("code") if result.is_error else None,
            # the Postgres sink and on_record get no logging filter: scrub here
            "error": scrub(result.error) if result.error else result.error,
        }

    async def execute_tool(self, tool_call: ToolCall, context: ToolExecutionContext) -> ToolResult:
        started = time.perf_counter()
        result = await self.call_wrapped(tool_call, context)
        entry = self.record(tool_call, context, result, time.perf_counter() - started)
        try:
            await self._write(entry)
        except ConfigError:
            raise
        except Exception:  # an audit sink failure is logged, never turned into a tool failure
            self._logger.exception("audit sink failed for tool %s", tool_call.function.name)
        return result

    async def _write(self, entry: dict[str, Any]) -> None:
        if self._on_record is not None:
            outcome = self._on_record(entry)
            if outcome is not None and inspect.isawaitable(outcome):
                await outcome
        elif self.config.sink == "postgres":
            await self._write_postgres(entry)
        else:
            self._logger.info("tool call %s", json.dumps(entry, default=str))

    async def _write_postgres(self, entry: dict[str, Any]) -> None:
        """Bounded by ``write_timeout``, pool and table included: a locked table or a silent
        server must not hold the tool call (and the agent) for ever."""
        limit = self.config.write_timeout
        async with asyncio.timeout(limit):
            await self._insert(entry, limit)

    async def _insert(self, entry: dict[str, Any], limit: float) -> None:
        if self._pool is None:
            async with self._opening:  # concurrent first calls open one pool, create the table once
                if self._pool is None:
                    self._pool = await self._open_postgres()
        from oneringai.infrastructure.token_storage.postgres_pool import connection_is_gone

        values = (
            _pg_text(entry["user_id"]),
            _pg_text(entry["agent_id"]),
            _pg_text(entry["tool"]),
            _pg_text(entry["tool_call_id"]),
            json.dumps(_pg_json(entry["arguments"]), default=str),
            entry["duration_ms"],
            entry["outcome"],
            _pg_text(entry["error_code"]),
            _pg_text(entry["error"]),
        )
        # Once more when the connection met was closed (a restart, pg_terminate_backend: the
        # pool hands it out until the loop has seen the close) or the table was dropped: the
        # record was lost before, and with the table gone every later one too.
        for attempt in (1, 2):
            async with self._pool.acquire() as conn:
                try:
                    await conn.execute(
                        f"INSERT INTO {self.config.table} (user_id, agent_id, tool, tool_call_id, arguments, "
                        "duration_ms, outcome, error_code, error) VALUES ($1, $2, $3, $4, $5::jsonb, $6, $7, $8, $9)",
                        *values,
                        timeout=limit,  # asyncpg cancels the statement on the server too
                    )
                    return
                except Exception as exc:
                    if attempt == 2:
                        raise
                    if connection_is_gone(conn):
                        await self._pool.expire_connections()  # a restart closed the others too
                    elif getattr(exc, "sqlstate", None) == "42P01":  # undefined_table
                        await self._create_table(conn)
                    else:
                        raise

    async def _open_postgres(self) -> Any:
        try:
            import asyncpg
        except ImportError as exc:
            raise ConfigError(
                f"audit sink postgres needs the postgres extra: {install_extra_hint('postgres')}",
                path="tools.executor.audit.sink",
            ) from exc
        if self.config.dsn is None:
            raise ConfigError("audit sink postgres needs dsn", path="tools.executor.audit.dsn")
        pool = await asyncpg.create_pool(self.config.dsn.get_secret_value(), min_size=1, max_size=4)
        try:
            async with pool.acquire() as conn:
                await self._create_table(conn)
        except BaseException:
            await pool.close()
            raise
        return pool

    async def _create_table(self, conn: Any) -> None:
        async with conn.transaction():
            # Replicas start together: CREATE TABLE IF NOT EXISTS alone races on pg_type.
            await conn.execute("SELECT pg_advisory_xact_lock(hashtext('oneringai:audit-schema'))")
            await conn.execute(
                f"CREATE TABLE IF NOT EXISTS {self.config.table} ("
                "id BIGSERIAL PRIMARY KEY, at TIMESTAMPTZ NOT NULL DEFAULT now(), user_id TEXT, "
                "agent_id TEXT, tool TEXT NOT NULL, tool_call_id TEXT, arguments JSONB, "
                "duration_ms DOUBLE PRECISION, outcome TEXT NOT NULL, error_code TEXT, error TEXT)"
            )

    async def aclose(self) -> None:
        if self._pool is not None:
            await self._pool.close()
            self._pool = None
        await super().aclose()
