"""Builds the typed events of a stream and the final ``LLMResponse`` from vendor deltas."""

from __future__ import annotations

from dataclasses import dataclass, field

from oneringai.domain.content import Message, MessageRole, OutputTextContent, ToolUseContent
from oneringai.domain.events import (
    OutputTextDeltaEvent,
    ResponseCompleteEvent,
    StreamEvent,
    ToolCallArgumentsDeltaEvent,
    ToolCallArgumentsDoneEvent,
    ToolCallStartEvent,
)
from oneringai.domain.response import LLMResponse, Usage

__all__ = ["StreamAssembler", "text_event"]

# Validating a dict through the model's core validator is still full validation, at less than half
# the cost of ``Model(**fields)`` — this runs once per streamed chunk.
text_event = _text_event = OutputTextDeltaEvent.__pydantic_validator__.validate_python
_arguments_event = ToolCallArgumentsDeltaEvent.__pydantic_validator__.validate_python


@dataclass(slots=True)
class _PendingCall:
    id: str
    name: str
    index: int
    arguments: list[str] = field(default_factory=list)


class StreamAssembler:
    def __init__(self, model: str) -> None:
        self.model = model
        self.response_id = ""
        self.text: list[str] = []
        self.calls: dict[int, _PendingCall] = {}
        self.usage = Usage()
        self.raw_stop_reason: str | None = None
        self.stop_reason: str | None = None

    def text_delta(self, delta: str) -> OutputTextDeltaEvent:
        self.text.append(delta)
        return _text_event({"delta": delta})  # type: ignore[no-any-return]

    def has_call(self, index: int) -> bool:
        return index in self.calls

    def tool_call_start(self, index: int, call_id: str, name: str) -> ToolCallStartEvent:
        self.calls[index] = _PendingCall(id=call_id, name=name, index=index)
        return ToolCallStartEvent(tool_call_id=call_id, tool_name=name, index=index)

    def tool_call_arguments(self, index: int, delta: str) -> ToolCallArgumentsDeltaEvent:
        call = self.calls[index]
        call.arguments.append(delta)
        return _arguments_event({"tool_call_id": call.id, "delta": delta, "index": index})  # type: ignore[no-any-return]

    def finish(self) -> list[StreamEvent]:
        """The argument-done events of every call, then ``response.complete``."""
        events: list[StreamEvent] = []
        content: list[OutputTextContent | ToolUseContent] = []
        if self.text:
            content.append(OutputTextContent(text="".join(self.text)))
        for index in sorted(self.calls):
            call = self.calls[index]
            arguments = "".join(call.arguments) or "{}"
            events.append(
                ToolCallArgumentsDoneEvent(
                    tool_call_id=call.id, tool_name=call.name, arguments=arguments, index=index
                )
            )
            content.append(ToolUseContent(id=call.id, name=call.name, arguments=arguments))
        if self.calls and self.stop_reason in (None, "complete"):
            self.stop_reason = "tool_calls"
        response = LLMResponse(
            id=self.response_id,
            model=self.model,
            status="incomplete" if self.stop_reason == "max_tokens" else "completed",
            output=[Message(role=MessageRole.ASSISTANT, content=list(content))],
            usage=self.usage,
            stop_reason=self.stop_reason or "complete",
            raw_stop_reason=self.raw_stop_reason,
        )
        events.append(ResponseCompleteEvent(response=response))
        return events
