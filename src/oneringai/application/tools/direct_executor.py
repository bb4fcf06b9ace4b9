"""The innermost executor: find the tool, validate arguments, run it, never raise."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import time
from typing import Any

from oneringai.domain.errors import ToolExecutionError
from oneringai.domain.interfaces import IToolExecutor
from oneringai.domain.tools import ToolCall, ToolExecutionContext, ToolResult

__all__ = ["DirectToolExecutor", "serialise_output"]


def _jsonable(value: Any) -> Any:
    if hasattr(value, "model_dump") and callable(value.model_dump):  # pydantic models
        return value.model_dump(mode="json")
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.asdict(value)
    if isinstance(value, set | frozenset | tuple):
        return list(value)
    return str(value)


def serialise_output(value: Any) -> str:
    """What the model reads: strings as they are, everything else as JSON."""
    if isinstance(value, str):
        return value
    try:
        return json.dumps(value, default=_jsonable)
    except (TypeError, ValueError):
        return str(value)


class DirectToolExecutor(IToolExecutor):
    async def execute_tool(self, tool_call: ToolCall, context: ToolExecutionContext) -> ToolResult:
        started = time.perf_counter()
        name = tool_call.function.name
        tool = context.find_tool(name)
        if tool is None:
            available = ", ".join(t.name for t in context.tools) or "none"
            return ToolResult.failure(
                tool_call, f"unknown tool {name!r} (available: {available})", code="unknown_tool"
            )
        try:
            raw = tool_call.parsed_arguments()
        except ValueError as exc:
            return ToolResult.failure(
                tool_call, f"arguments are not valid JSON: {exc}", code="invalid_arguments"
            )
        try:
            arguments = tool.validate_arguments(raw)
        except ValueError as exc:
            return ToolResult.failure(tool_call, str(exc), code="invalid_arguments")
        try:
            value = await tool.execute(arguments)
        except asyncio.CancelledError:
            raise
        except ToolExecutionError as exc:
            return ToolResult.failure(tool_call, str(exc), code="tool_error", retryable=exc.is_retryable)
        except (TimeoutError, ConnectionError) as exc:
            return ToolResult.failure(
                tool_call, f"{type(exc).__name__}: {exc}", code="tool_error", retryable=True
            )
        except Exception as exc:
            return ToolResult.failure(tool_call, f"{type(exc).__name__}: {exc}", code="tool_error")
        return ToolResult(
            tool_call_id=tool_call.id,
            tool_name=name,
            output=serialise_output(value),
            execution_time_ms=(time.perf_counter() - started) * 1000,
        )
