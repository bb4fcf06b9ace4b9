"""The ``execute_tool {tool}`` span around the whole executor stack.

The container puts it outermost when telemetry is on, so every decorator inside runs with
this span current and reports what it decided as an event of it (``span_event``): cache hit,
miss or coalesced, rate limited, denied, retried, timed out, over budget. An error result
becomes ``error.type`` (the result's ``code``) and the error status; the result's metadata
that describes the call (cache, attempts, cost) become ``oneringai.tool.*`` attributes.
Arguments and results are recorded only with ``capture_content``, scrubbed of secrets.
"""

from __future__ import annotations

import asyncio
from typing import Any

from oneringai.domain.interfaces import IToolExecutor
from oneringai.domain.redaction import redact
from oneringai.domain.telemetry import AttributeValue, Telemetry
from oneringai.domain.tools import ToolCall, ToolExecutionContext, ToolResult
from oneringai.infrastructure.tool_executors.wrapper import WrapperToolExecutor

__all__ = ["ObservedToolExecutor"]

#: Result metadata recorded on the span (bounded, low-cardinality values only).
_METADATA = ("cache", "attempts", "cost", "retry_after")
#: Longest tool name or call id recorded (real ones are at most 64 characters).
_MAX_NAME = 256


def _clip(text: str, limit: int) -> str:
    """Scrubbed first (a cut must not leave half a secret behind), then bounded."""
    text = redact(text)
    return text if len(text) <= limit else text[:limit] + f"… [{len(text) - limit} more characters]"


class ObservedToolExecutor(WrapperToolExecutor):
    """A tool span per call; everything else is the wrapped stack's."""

    def __init__(self, wrapped: IToolExecutor, *, telemetry: Telemetry) -> None:
        super().__init__(wrapped)
        self.telemetry = telemetry

    async def execute_tool(self, tool_call: ToolCall, context: ToolExecutionContext) -> ToolResult:
        telemetry = self.telemetry
        # The model chose both: vendor text, scrubbed and bounded (a model may name a tool with
        # megabytes; the span name and attribute would carry them all).
        name = _clip(tool_call.function.name, _MAX_NAME)
        attributes: dict[str, AttributeValue] = {
            "gen_ai.operation.name": "execute_tool",
            "gen_ai.tool.name": name,
            "gen_ai.tool.call.id": _clip(tool_call.id, _MAX_NAME),
            "gen_ai.tool.type": "function",
        }
        if context.agent_id:
            attributes["gen_ai.agent.id"] = context.agent_id
        span = telemetry.start_span(f"execute_tool {name}", attributes=attributes)
        if not span.recording:
            return await self.call_wrapped(tool_call, context)
        tool = context.find_tool(tool_call.function.name)
        description = tool.definition.function.description if tool is not None else None
        if description:
            span.set_attribute("gen_ai.tool.description", _clip(description, 512))
        if telemetry.capture_content:
            span.set_attribute("gen_ai.tool.call.arguments", _clip(tool_call.function.arguments, telemetry.max_content_chars))
        try:
            with telemetry.activate(span):
                result = await self.call_wrapped(tool_call, context)
        except asyncio.CancelledError as exc:
            span.record_error(exc, error_type="cancelled")
            span.end()
            raise
        except BaseException as exc:
            span.record_error(exc)
            span.end()
            raise
        metadata: dict[str, Any] = result.metadata
        for key in _METADATA:
            value = metadata.get(key)
            if isinstance(value, str | int | float) and not isinstance(value, bool):
                span.set_attribute(f"oneringai.tool.{key}", value)
        if result.is_error:
            code = metadata.get("code")
            span.set_error(code if isinstance(code, str) else "tool_error", result.error or "")
        elif telemetry.capture_content:
            span.set_attribute("gen_ai.tool.call.result", _clip(result.output, telemetry.max_content_chars))
        span.end()
        return result
