"""The ``completion`` prompt format on the wire: OpenAI's ``/v1/completions`` (which
llama-server, vLLM and others speak), non-streamed and streamed.

An answer that is empty or only repeats the question is asked again, up to
``_ATTEMPTS`` times, each with a new seed and a little more temperature. A stream holds
its text back only while it could still be such an echo, so a usable answer starts to
flow after its first distinctive word; an unusable one is dropped and asked again
before anything of it was shown.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Mapping
from contextlib import AbstractAsyncContextManager
from typing import Any, Protocol

from pydantic import BaseModel, ConfigDict, ValidationError

from oneringai.domain.content import Message, MessageRole, OutputTextContent
from oneringai.domain.errors import ProviderResponseError, ProviderUnavailableError
from oneringai.domain.events import ResponseCreatedEvent, StreamEvent
from oneringai.domain.options import TextGenerateOptions
from oneringai.domain.response import LLMResponse, Usage
from oneringai.infrastructure.http.streams import iter_sse_data_batches
from oneringai.infrastructure.providers._openai_mapping import STOP_REASONS, parse_usage
from oneringai.infrastructure.providers._stream_assembly import StreamAssembler
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


class _Choice(BaseModel):
    model_config = ConfigDict(extra="ignore")
    text: str = ""
    finish_reason: str | None = None


class _Completion(BaseModel):
    """The vendor shape of one ``/v1/completions`` body or stream chunk (lenient)."""

    model_config = ConfigDict(extra="ignore")
    id: str = ""
    model: str = ""
    choices: list[_Choice] = []
    usage: dict[str, Any] | None = None
    error: dict[str, Any] | str | None = None


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

    async def request_json(
        self, method: str, url: str, *, model: str | None, headers: Mapping[str, str] | None = None,
        body: Mapping[str, Any] | None = None,
    ) -> Any: ...

    def open_stream(
        self, url: str, *, model: str | None, headers: Mapping[str, str] | None = None, body: Mapping[str, Any]
    ) -> AbstractAsyncContextManager[AsyncIterator[bytes]]: ...

    def _parse(self, data: Any, model: str) -> _Completion: ...

    def _stream_pieces(
        self, options: TextGenerateOptions, attempt: int, assembler: StreamAssembler
    ) -> AsyncIterator[str]: ...


class CompletionCalls:
    """Mixin of ``LlamaCppTextProvider``: ``complete`` and ``stream_complete``."""

    def _parse(self: _Provider, data: Any, model: str) -> _Completion:
        try:
            parsed = _Completion.model_validate(data)
        except ValidationError as exc:
            raise ProviderResponseError(
                f"unexpected /v1/completions shape: {exc.errors()[0]['msg']}", provider=self.name, model=model
            ) from None
        if parsed.error is not None:
            raise ProviderResponseError(f"server error: {parsed.error}", provider=self.name, model=model)
        return parsed

    async def complete(self: _Provider, options: TextGenerateOptions) -> LLMResponse:
        question = last_question(options)
        usage = Usage()
        response = LLMResponse(model=options.model)
        for attempt in range(_ATTEMPTS):
            data = await self.request_json(
                "POST", f"{self.base_url}/completions", model=options.model,
                headers=self._headers(), body=_body(options, attempt, stream=False),
            )
            parsed = self._parse(data, options.model)
            if not parsed.choices:
                raise ProviderResponseError("response has no choices", provider=self.name, model=options.model)
            choice = parsed.choices[0]
            usage = usage + parse_usage(parsed.usage)
            raw = choice.finish_reason
            response = LLMResponse(
                id=parsed.id, model=options.model, usage=usage,
                status="incomplete" if raw == "length" else "completed",
                output=[Message(role=MessageRole.ASSISTANT, content=[OutputTextContent(text=clean(choice.text))])],
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
            assembler = StreamAssembler(options.model)
            held: list[str] = []  # text not shown yet: it may still be an echo of the question
            flowing = False
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
            async for ready in iter_sse_data_batches(chunks):
                for data in ready:
                    if data == b"[DONE]":
                        done = True
                        continue  # read to the end: the connection goes back to the pool
                    try:
                        decoded = json.loads(data)
                    except ValueError:
                        raise ProviderResponseError(
                            f"malformed stream chunk: {data[:120]!r}", provider=self.name, model=options.model
                        ) from None
                    chunk = self._parse(decoded, options.model)
                    assembler.response_id = assembler.response_id or chunk.id
                    if chunk.usage:
                        assembler.usage = parse_usage(chunk.usage)
                    for choice in chunk.choices[:1]:
                        if choice.finish_reason:
                            assembler.raw_stop_reason = choice.finish_reason
                            assembler.stop_reason = STOP_REASONS.get(choice.finish_reason, choice.finish_reason)
                        text = strip_template_tokens(choice.text)
                        if text:
                            yield text
        if not done and assembler.raw_stop_reason is None:
            raise ProviderUnavailableError(
                "stream ended before completion (no finish_reason and no [DONE])",
                provider=self.name, model=options.model,
            )
