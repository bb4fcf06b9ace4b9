"""Builds the typed events of a stream and the final ``LLMResponse`` from vendor deltas."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any

from pydantic import ValidationError

from oneringai.domain.content import (
    Content,
    Message,
    MessageRole,
    OutputTextContent,
    RedactedThinkingContent,
    ThinkingContent,
    ToolUseContent,
)
from oneringai.domain.errors import ProviderError, ProviderResponseError
from oneringai.domain.events import (
    OutputTextDeltaEvent,
    ResponseCompleteEvent,
    StreamEvent,
    ToolCallArgumentsDeltaEvent,
    ToolCallArgumentsDoneEvent,
    ToolCallStartEvent,
)
from oneringai.domain.response import LLMResponse, Usage

__all__ = [
    "DEFAULT_MAX_CHARS",
    "MAX_REASONING_BLOCKS",
    "StreamAssembler",
    "reasoning_part",
    "text_event",
    "text_event_validator",
    "too_many_reasoning_blocks",
]


# Validating a dict through the model's core validator is still full validation, at less than half
# the cost of ``Model(**fields)`` — this runs once per streamed chunk. Looked up per call, not at
# import: the models defer their schema build, and a call that does not stream never needs it.
def text_event(fields: dict[str, str]) -> OutputTextDeltaEvent:
    """The validator of ``OutputTextDeltaEvent`` (a stream fetches it once: ``text_event_validator``)."""
    return OutputTextDeltaEvent.__pydantic_validator__.validate_python(fields)  # type: ignore[no-any-return]


def text_event_validator() -> Callable[[dict[str, str]], OutputTextDeltaEvent]:
    return OutputTextDeltaEvent.__pydantic_validator__.validate_python


@dataclass(slots=True)
class _PendingCall:
    id: str
    name: str
    index: int
    arguments: list[str] = field(default_factory=list)


@dataclass(slots=True)
class _PendingReasoning:
    """A thinking block being streamed (its text and signature deltas), or a redacted one."""

    redacted: bool
    text: list[str] = field(default_factory=list)
    signature: list[str] = field(default_factory=list)


#: Thinking blocks one answer may hold (a model writes a few; each empty one on the wire is a
#: few dozen bytes, kept as a part of a few hundred).
MAX_REASONING_BLOCKS = 4096


def too_many_reasoning_blocks(provider: str | None, model: str | None) -> ProviderResponseError:
    return ProviderResponseError(
        f"answer with more than {MAX_REASONING_BLOCKS} thinking blocks", provider=provider, model=model
    )


def reasoning_part(
    fields: dict[str, Any], *, provider: str | None, model: str | None
) -> ThinkingContent | RedactedThinkingContent:
    """A ``thinking`` (``thinking``, ``signature``) or ``redacted_thinking`` (``data``) part from
    a vendor's values; a non-string or an over-long value is a ``ProviderResponseError`` that
    names the field, never the value."""
    redacted = "data" in fields
    model_class = RedactedThinkingContent if redacted else ThinkingContent
    try:
        return model_class.__pydantic_validator__.validate_python(fields)  # type: ignore[no-any-return]
    except ValidationError as exc:
        errors = exc.errors(include_input=False, include_url=False, include_context=False)
        where = ".".join(str(part) for part in errors[0]["loc"]) if errors else "?"
        problem = errors[0]["msg"] if errors else "invalid"
        kind = "redacted_thinking" if redacted else "thinking"
        message = f"unexpected {kind} block from the provider: {where}: {problem}"
    raise ProviderResponseError(message, provider=provider, model=model)  # outside the handler: no input quoted


#: What one streamed answer may hold (text, tool names and arguments), in characters, when the
#: provider passes no limit: the default of ``http.max_response_bytes``.
DEFAULT_MAX_CHARS = 64 * 1024 * 1024


class StreamAssembler:
    def __init__(self, model: str, *, max_chars: int = DEFAULT_MAX_CHARS, provider: str | None = None) -> None:
        self.model = model
        self.response_id = ""
        self.text: list[str] = []
        self.calls: dict[int, _PendingCall] = {}
        #: Extended thinking blocks by the vendor's block index, in arrival order: they lead the
        #: answer's content (before text and calls), as the vendor sends and wants them back.
        self.reasoning: dict[int, _PendingReasoning] = {}
        self.usage = Usage()
        self.raw_stop_reason: str | None = None
        self.stop_reason: str | None = None
        self.refused = False  # the model declined (OpenAI's refusal): the answer is its reason
        # Every event is bounded (max_event_bytes), but an endless stream of them is not: what
        # is kept for the final response is, like a body (max_response_bytes).
        self._room = max_chars
        self._max_chars = max_chars
        self._provider = provider

    def keep_partial(self) -> _KeepPartial:
        """``with assembler.keep_partial(): ...`` around a stream's reading: a ``ProviderError``
        leaving the block carries the text and usage received so far (``partial_output_text``,
        ``partial_usage``): a stream cut after some deltas lost them for a caller that did not
        collect the events itself."""
        return _KeepPartial(self)

    def too_long(self) -> ProviderResponseError:
        return ProviderResponseError(
            f"streamed answer longer than {self._max_chars} characters (http.max_response_bytes)",
            provider=self._provider, model=self.model,
        )

    def text_delta(self, delta: str) -> OutputTextDeltaEvent:
        self._room -= len(delta)
        if self._room < 0:
            raise self.too_long()
        self.text.append(delta)
        return OutputTextDeltaEvent.__pydantic_validator__.validate_python({"delta": delta})  # type: ignore[no-any-return]

    def has_call(self, index: int) -> bool:
        return index in self.calls

    def tool_call_start(self, index: int, call_id: str, name: str) -> ToolCallStartEvent:
        self._room -= len(call_id) + len(name) + 16  # a call costs memory even with no arguments
        if self._room < 0:
            raise self.too_long()
        self.calls[index] = _PendingCall(id=call_id, name=name, index=index)
        return ToolCallStartEvent(tool_call_id=call_id, tool_name=name, index=index)

    def tool_call_arguments(self, index: int, delta: str) -> ToolCallArgumentsDeltaEvent:
        self._room -= len(delta)
        if self._room < 0:
            raise self.too_long()
        call = self.calls[index]
        call.arguments.append(delta)
        fields = {"tool_call_id": call.id, "delta": delta, "index": index}
        return ToolCallArgumentsDeltaEvent.__pydantic_validator__.validate_python(fields)  # type: ignore[no-any-return]

    def _spend(self, chars: int) -> None:
        self._room -= chars
        if self._room < 0:
            raise self.too_long()

    def reasoning_start(self, index: int, *, redacted: bool = False) -> None:
        """A thinking (or redacted thinking) block opens at the vendor's block ``index``."""
        self._spend(16)  # a block costs memory even when empty
        if len(self.reasoning) >= MAX_REASONING_BLOCKS:
            raise too_many_reasoning_blocks(self._provider, self.model)
        self.reasoning[index] = _PendingReasoning(redacted=redacted)

    def thinking_delta(self, index: int, delta: str, *, signature: bool = False) -> None:
        """Thinking text (or, with ``signature``, the signature, or a redacted block's data) for
        the block at ``index``; ignored for an index that opened no such block."""
        block = self.reasoning.get(index)
        if block is None or not delta:
            return
        self._spend(len(delta))
        (block.signature if signature else block.text).append(delta)

    def _reasoning_parts(self) -> list[Content]:
        parts: list[Content] = []
        for block in self.reasoning.values():
            fields = (
                {"data": "".join(block.text)}
                if block.redacted
                else {"thinking": "".join(block.text), "signature": "".join(block.signature)}
            )
            parts.append(reasoning_part(fields, provider=self._provider, model=self.model))
        return parts

    def finish(self) -> list[StreamEvent]:
        """The argument-done events of every call, then ``response.complete``."""
        events: list[StreamEvent] = []
        content: list[Content] = self._reasoning_parts() if self.reasoning else []
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
            output=[Message(role=MessageRole.ASSISTANT, content=content)],
            usage=self.usage,
            stop_reason=self.stop_reason or "complete",
            raw_stop_reason=self.raw_stop_reason,
        )
        events.append(ResponseCompleteEvent(response=response))
        return events


class _KeepPartial:
    __slots__ = ("_assembler",)

    def __init__(self, assembler: StreamAssembler) -> None:
        self._assembler = assembler

    def __enter__(self) -> None:
        return None

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        if isinstance(error, ProviderError) and "partial_output_text" not in error.__dict__:
            assembler = self._assembler
            error.partial_output_text = "".join(assembler.text)
            usage = assembler.usage
            error.partial_usage = usage if usage.input_tokens or usage.output_tokens or usage.total_tokens else None
