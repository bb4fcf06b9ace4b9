"""The typed stream: every event a provider stream or an agent run can emit.

``type`` is the discriminator; ``StreamEvent`` is the union, so ``match event:``
or ``isinstance`` narrow it. Providers emit created / text deltas / tool-call
events / complete; agents add tool execution and iteration events.
"""

from __future__ import annotations

from functools import cache
from typing import Annotated, Any, Literal

from pydantic import Field, TypeAdapter

from oneringai.domain._base import DomainModel
from oneringai.domain.response import LLMResponse, Usage
from oneringai.domain.tools import ToolResult

__all__ = [
    "ErrorEvent",
    "IterationCompleteEvent",
    "OutputTextDeltaEvent",
    "ResponseCompleteEvent",
    "ResponseCreatedEvent",
    "StreamEvent",
    "StreamEventType",
    "ToolCallArgumentsDeltaEvent",
    "ToolCallArgumentsDoneEvent",
    "ToolCallStartEvent",
    "ToolExecutionDoneEvent",
    "ToolExecutionStartEvent",
]


class StreamEventType:
    RESPONSE_CREATED = "response.created"
    OUTPUT_TEXT_DELTA = "response.output_text.delta"
    TOOL_CALL_START = "response.tool_call.start"
    TOOL_CALL_ARGUMENTS_DELTA = "response.tool_call_arguments.delta"
    TOOL_CALL_ARGUMENTS_DONE = "response.tool_call_arguments.done"
    TOOL_EXECUTION_START = "response.tool_execution.start"
    TOOL_EXECUTION_DONE = "response.tool_execution.done"
    ITERATION_COMPLETE = "response.iteration.complete"
    RESPONSE_COMPLETE = "response.complete"
    ERROR = "response.error"


class ResponseCreatedEvent(DomainModel):
    type: Literal["response.created"] = "response.created"
    response_id: str = ""
    model: str = ""


class OutputTextDeltaEvent(DomainModel):
    type: Literal["response.output_text.delta"] = "response.output_text.delta"
    delta: str


class ToolCallStartEvent(DomainModel):
    type: Literal["response.tool_call.start"] = "response.tool_call.start"
    tool_call_id: str
    tool_name: str
    index: int = 0


class ToolCallArgumentsDeltaEvent(DomainModel):
    type: Literal["response.tool_call_arguments.delta"] = "response.tool_call_arguments.delta"
    tool_call_id: str
    delta: str
    index: int = 0


class ToolCallArgumentsDoneEvent(DomainModel):
    type: Literal["response.tool_call_arguments.done"] = "response.tool_call_arguments.done"
    tool_call_id: str
    tool_name: str
    arguments: str
    index: int = 0


class ToolExecutionStartEvent(DomainModel):
    type: Literal["response.tool_execution.start"] = "response.tool_execution.start"
    tool_call_id: str
    tool_name: str
    arguments: str


class ToolExecutionDoneEvent(DomainModel):
    type: Literal["response.tool_execution.done"] = "response.tool_execution.done"
    tool_call_id: str
    tool_name: str
    result: ToolResult
    duration_ms: float = 0.0


class IterationCompleteEvent(DomainModel):
    type: Literal["response.iteration.complete"] = "response.iteration.complete"
    iteration: int
    tool_calls: int = 0
    usage: Usage = Field(default_factory=Usage)


class ResponseCompleteEvent(DomainModel):
    type: Literal["response.complete"] = "response.complete"
    response: LLMResponse

    @property
    def usage(self) -> Usage:
        return self.response.usage


class ErrorEvent(DomainModel):
    type: Literal["response.error"] = "response.error"
    message: str
    code: str | None = None
    details: dict[str, Any] = Field(default_factory=dict)


StreamEvent = Annotated[
    ResponseCreatedEvent
    | OutputTextDeltaEvent
    | ToolCallStartEvent
    | ToolCallArgumentsDeltaEvent
    | ToolCallArgumentsDoneEvent
    | ToolExecutionStartEvent
    | ToolExecutionDoneEvent
    | IterationCompleteEvent
    | ResponseCompleteEvent
    | ErrorEvent,
    Field(discriminator="type"),
]

@cache
def stream_event_adapter() -> TypeAdapter[StreamEvent]:
    """Validates any event from its dict form (``adapter.validate_python(data)``)."""
    return TypeAdapter(StreamEvent)
