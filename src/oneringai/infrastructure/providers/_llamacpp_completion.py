"""The ``completion`` prompt format on the wire: OpenAI's ``/v1/completions`` (which
llama-server, vLLM and others speak), non-streamed and streamed.

An answer that is empty or only repeats the question is asked again, up to
``_ATTEMPTS`` times, each with a new seed and a little more temperature. A stream holds
its text back only while it could still be such an echo, so a usable answer starts to
flow after its first distinctive word; an unusable one is dropped and asked again
before anything of it was shown.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from contextlib import AbstractAsyncContextManager
from typing import Any, Protocol, TypeVar

from pydantic import ValidationError
from typing_extensions import TypedDict

from oneringai.domain.content import Message, MessageRole, OutputTextContent
from oneringai.domain.errors import ProviderError, ProviderResponseError, ProviderUnavailableError
from oneringai.domain.events import ResponseCreatedEvent, StreamEvent
from oneringai.domain.options import TextGenerateOptions
from oneringai.domain.response import LLMResponse, Usage
from oneringai.infrastructure.http.streams import iter_sse_data_batches
from oneringai.infrastructure.providers._openai_mapping import STOP_REASONS, parse_usage
from oneringai.infrastructure.providers._openai_wire import ChatUsage
from oneringai.infrastructure.providers._stream_assembly import StreamAssembler
from oneringai.infrastructure.providers._wire import json_validator, shape_error, validate_shape
from oneringai.infrastructure.providers.error_mapper import ProviderErrorMapper
from oneringai.infrastructure.providers.llamacpp_prompt import (
    FRAME_STOPS,
    TEMPLATE_TOKENS,
    clean,
    is_unusable,
    last_question,
    may_still_be_echo,
    render_prompt,
    strip_template_tokens,
)

__all__ = ["CompletionCalls"]

_ATTEMPTS = 3
_TEMPERATURE_STEP = 0.3


class _CompletionChoice(TypedDict, total=False):
    text: str | None
    index: int | None
    finish_reason: str | None


class _Completion(TypedDict, total=False):
    """A ``/v1/completions`` body or stream chunk, as OpenAI-compatible servers send it."""

    id: str | None
    model: str | None
    choices: list[_CompletionChoice] | None
    usage: ChatUsage | None
    error: Any
    status_code: Any


parse_completion = json_validator(_Completion)
T = TypeVar("T")


def _body(options: TextGenerateOptions, attempt: int, *, stream: bool) -> dict[str, Any]:
    stops = list(dict.fromkeys([*(options.stop or []), *FRAME_STOPS, *TEMPLATE_TOKENS]))
    body: dict[str, Any] = {
        "model": options.model,
        "prompt": render_prompt(options),
        "max_tokens": options.max_output_tokens,
        "stop": stops,
    }
    if options.temperature is not None:
        body["temperature"] = options.temperature
    body.update(options.provider_options)
    if attempt:  # asked again: another seed, a little more temperature
        body["seed"] = attempt
        body["temperature"] = min(float(body.get("temperature") or 0.0) + _TEMPERATURE_STEP * attempt, 1.5)
    if stream:
        body["stream"] = True
        body["stream_options"] = {"include_usage": True}
    return body


class _Provider(Protocol):
    name: str

    @property
    def base_url(self) -> str: ...

    def _headers(self) -> dict[str, str]: ...

    def _secrets(self) -> tuple[str | None, ...]: ...

    def max_event_bytes(self) -> int: ...

    def max_response_bytes(self) -> int: ...

    def guard(self, items: AsyncIterator[T], model: str | None) -> AsyncIterator[T]: ...

    async def request_bytes(
        self, method: str, url: str, *, model: str | None, headers: Mapping[str, str] | None = None,
        body: Mapping[str, Any] | None = None,
    ) -> bytes: ...

    def open_stream(
        self, url: str, *, model: str | None, headers: Mapping[str, str] | None = None, body: Mapping[str, Any]
    ) -> AbstractAsyncContextManager[AsyncIterator[bytes]]: ...

    def _raise_error_in(self, data: _Completion, model: str) -> None: ...

    def _stream_pieces(
        self, options: TextGenerateOptions, attempt: int, assembler: StreamAssembler
    ) -> AsyncIterator[str]: ...


class CompletionCalls:
    """Mixin of ``LlamaCppTextProvider``: ``complete`` and ``stream_complete``."""

    def _raise_error_in(self: _Provider, data: _Completion, model: str) -> None:
        """Servers report failures inside a 200 body or stream as ``{"error": {...}}``."""
        if data.get("error") is not None:
            error: ProviderError = ProviderErrorMapper.map_error(
                {"error": data.get("error"), "status_code": data.get("status_code")},
                self.name, model=model, secrets=self._secrets(),
            )
            raise error

    async def complete(self: _Provider, options: TextGenerateOptions) -> LLMResponse:
        question = last_question(options)
        usage = Usage()
        response = LLMResponse(model=options.model)
        for attempt in range(_ATTEMPTS):
            raw_body = await self.request_bytes(
                "POST", f"{self.base_url}/completions", model=options.model,
                headers=self._headers(), body=_body(options, attempt, stream=False),
            )
            data: _Completion = validate_shape(
                parse_completion, raw_body, provider=self.name, model=options.model, what="response body"
            )
            self._raise_error_in(data, options.model)
            choices = data.get("choices")
            if not choices:
                raise ProviderResponseError("response has no choices", provider=self.name, model=options.model)
            choice = choices[0]
            usage = usage + parse_usage(data.get("usage"))
            raw = choice.get("finish_reason")
            text = clean(choice.get("text") or "")
            response = LLMResponse(
                id=data.get("id") or "", model=options.model, usage=usage,
                status="incomplete" if raw == "length" else "completed",
                output=[Message(role=MessageRole.ASSISTANT, content=[OutputTextContent(text=text)])],
                stop_reason=STOP_REASONS.get(raw or "", raw), raw_stop_reason=raw,
            )
            if not is_unusable(response.output_text, question):
                break
        return response

    async def stream_complete(self: _Provider, options: TextGenerateOptions) -> AsyncIterator[StreamEvent]:
        question = last_question(options)
        yield ResponseCreatedEvent(response_id="", model=options.model)
        usage = Usage()
        for attempt in range(_ATTEMPTS):
            assembler = StreamAssembler(options.model, max_chars=self.max_response_bytes(), provider=self.name)
            held: list[str] = []  # text not shown yet: it may still be an echo of the question
            flowing = False
            with assembler.keep_partial():  # an error carries the text shown so far
                async for piece in self._stream_pieces(options, attempt, assembler):
                    if flowing:
                        yield assembler.text_delta(piece)
                        continue
                    held.append(piece)
                    if not may_still_be_echo("".join(held), question):
                        flowing = True
                        yield assembler.text_delta("".join(held).lstrip())
            usage = usage + assembler.usage
            said = "".join(held) if not flowing else "".join(assembler.text)
            if flowing or attempt == _ATTEMPTS - 1 or not is_unusable(said, question):
                if not flowing and said.strip():
                    yield assembler.text_delta(said.strip())
                assembler.usage = usage
                if assembler.text:
                    assembler.text = ["".join(assembler.text).rstrip()]
                for event in assembler.finish():
                    yield event
                return

    async def _stream_pieces(
        self: _Provider, options: TextGenerateOptions, attempt: int, assembler: StreamAssembler
    ) -> AsyncIterator[str]:
        """The text pieces of one streamed completion (template tokens removed)."""
        done = False
        url = f"{self.base_url}/completions"
        body = _body(options, attempt, stream=True)
        async with self.open_stream(url, model=options.model, headers=self._headers(), body=body) as chunks:
            batches = iter_sse_data_batches(chunks, max_event_bytes=self.max_event_bytes(), provider=self.name)
            async for ready in self.guard(batches, options.model):
                for data in ready:
                    if data == b"[DONE]":
                        done = True
                        continue  # read to the end: the connection goes back to the pool
                    problem = None
                    try:
                        chunk: _Completion = parse_completion(data)
                    except ValidationError as exc:
                        problem = shape_error(exc, provider=self.name, model=options.model, what="stream chunk")
                    if problem is not None:  # raised outside the handler: the ValidationError quotes the input
                        raise problem
                    self._raise_error_in(chunk, options.model)
                    assembler.response_id = assembler.response_id or chunk.get("id") or ""
                    usage = chunk.get("usage")
                    if usage:
                        assembler.usage = parse_usage(usage)
                    for choice in (chunk.get("choices") or [])[:1]:
                        reason = choice.get("finish_reason")
                        if reason:
                            assembler.raw_stop_reason = reason
                            assembler.stop_reason = STOP_REASONS.get(reason, reason)
                        text = strip_template_tokens(choice.get("text") or "")
                        if text:
                            yield text
        if not done and assembler.raw_stop_reason is None:
            raise ProviderUnavailableError(
                "stream ended before completion (no finish_reason and no [DONE])",
                provider=self.name, model=options.model,
            )
