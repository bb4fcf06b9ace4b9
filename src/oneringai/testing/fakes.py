"""Fakes for users' own tests: no network, deterministic, recording what they were asked.

provider = ScriptedTextProvider(["Hello!", tool_call("get_weather", city="Paris"), "Sunny."])
client = OneRingAI(providers={"fake": provider})
assert await client.text.generate("hi", model="any") == "Hello!"
assert provider.requests[0].input == "hi"
"""

from __future__ import annotations

import inspect
import itertools
import json
from collections.abc import AsyncIterator, Callable, Iterable, Sequence
from typing import Any

from oneringai.domain.capabilities import ModelCapabilities, ProviderCapabilities
from oneringai.domain.content import Message, MessageRole, OutputTextContent, ToolUseContent
from oneringai.domain.events import (
    OutputTextDeltaEvent,
    ResponseCompleteEvent,
    ResponseCreatedEvent,
    StreamEvent,
    ToolCallArgumentsDeltaEvent,
    ToolCallArgumentsDoneEvent,
    ToolCallStartEvent,
)
from oneringai.domain.options import TextGenerateOptions
from oneringai.domain.response import LLMResponse, Usage
from oneringai.domain.tools import ToolCall, ToolCallFunction
from oneringai.infrastructure.providers.base import BaseTextProvider
from oneringai.infrastructure.token_storage.memory import MemoryTokenStorage

__all__ = [
    "MemoryTokenStorage",
    "ScriptedTextProvider",
    "text_response",
    "tool_call",
    "tool_calls_response",
]

ScriptItem = (
    str | ToolCall | Sequence[ToolCall] | LLMResponse | BaseException | Callable[[TextGenerateOptions], Any]
)
_ids = itertools.count(1)


def tool_call(name: str, /, call_id: str | None = None, **arguments: Any) -> ToolCall:
    """A tool call as a model would make it."""
    return ToolCall(
        id=call_id or f"call_{next(_ids)}",
        function=ToolCallFunction(name=name, arguments=json.dumps(arguments)),
    )


def text_response(text: str, *, model: str = "scripted", usage: Usage | None = None) -> LLMResponse:
    words = max(1, len(text.split()))
    return LLMResponse(
        id=f"resp_{next(_ids)}",
        model=model,
        output=[Message(role=MessageRole.ASSISTANT, content=[OutputTextContent(text=text)])],
        usage=usage or Usage(input_tokens=10, output_tokens=words, total_tokens=10 + words),
        stop_reason="complete",
    )


def tool_calls_response(calls: Sequence[ToolCall], *, text: str = "", model: str = "scripted") -> LLMResponse:
    content: list[Any] = [OutputTextContent(text=text)] if text else []
    content += [ToolUseContent(id=c.id, name=c.function.name, arguments=c.function.arguments) for c in calls]
    return LLMResponse(
        id=f"resp_{next(_ids)}",
        model=model,
        output=[Message(role=MessageRole.ASSISTANT, content=content)],
        usage=Usage(input_tokens=10, output_tokens=5, total_tokens=15),
        stop_reason="tool_calls",
    )


class ScriptedTextProvider(BaseTextProvider):
    """Answers from a script, in order; records every request in ``requests``.

    Script items: a string (text answer), a ``ToolCall`` or list of them (a tool-call
    turn), an ``LLMResponse``, an exception (raised), or a callable taking the options
    and returning any of these. ``repeat_last=True`` keeps answering with the last item.
    """

    name = "scripted"
    requires_api_key = False
    capabilities = ProviderCapabilities(text=True)

    def __init__(
        self,
        script: Iterable[ScriptItem] = (),
        *,
        name: str = "scripted",
        repeat_last: bool = False,
        capabilities: ModelCapabilities | None = None,
    ) -> None:
        super().__init__({})
        self.name = name
        self._script = list(script)
        self._position = 0
        self._repeat_last = repeat_last
        self._model_capabilities = capabilities or ModelCapabilities()
        self.requests: list[TextGenerateOptions] = []

    def add(self, *items: ScriptItem) -> None:
        self._script.extend(items)

    @property
    def remaining(self) -> int:
        return len(self._script) - self._position

    async def _next(self, options: TextGenerateOptions) -> LLMResponse:
        self.requests.append(options)
        if self._position >= len(self._script):
            if self._repeat_last and self._script:
                item = self._script[-1]
            else:
                raise AssertionError(
                    f"ScriptedTextProvider {self.name!r}: script exhausted after "
                    f"{len(self._script)} responses (request #{len(self.requests)})"
                )
        else:
            item = self._script[self._position]
            self._position += 1
        return await self._materialise(item, options)

    async def _materialise(self, item: Any, options: TextGenerateOptions) -> LLMResponse:
        if callable(item) and not isinstance(item, BaseException | type):
            result = item(options)
            item = await result if inspect.isawaitable(result) else result
        if isinstance(item, BaseException):
            raise item
        if isinstance(item, LLMResponse):
            return item.model_copy(update={"model": item.model or options.model})
        if isinstance(item, str):
            return text_response(item, model=options.model)
        if isinstance(item, ToolCall):
            return tool_calls_response([item], model=options.model)
        if isinstance(item, Sequence) and all(isinstance(c, ToolCall) for c in item):
            return tool_calls_response(list(item), model=options.model)
        raise TypeError(f"cannot turn {type(item).__name__} into a response")

    async def generate(self, options: TextGenerateOptions) -> LLMResponse:
        return await self._next(options)

    async def stream_generate(self, options: TextGenerateOptions) -> AsyncIterator[StreamEvent]:
        response = await self._next(options)
        yield ResponseCreatedEvent(response_id=response.id, model=response.model)
        text = response.output_text
        for index in range(0, len(text), 8):
            yield OutputTextDeltaEvent(delta=text[index : index + 8])
        for index, call in enumerate(response.tool_calls):
            yield ToolCallStartEvent(tool_call_id=call.id, tool_name=call.function.name, index=index)
            yield ToolCallArgumentsDeltaEvent(
                tool_call_id=call.id, delta=call.function.arguments, index=index
            )
            yield ToolCallArgumentsDoneEvent(
                tool_call_id=call.id,
                tool_name=call.function.name,
                arguments=call.function.arguments,
                index=index,
            )
        yield ResponseCompleteEvent(response=response)

    def get_model_capabilities(self, model: str) -> ModelCapabilities:
        return self._model_capabilities

    async def validate_config(self) -> bool:
        return True
