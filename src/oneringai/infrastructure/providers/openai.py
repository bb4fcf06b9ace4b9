"""OpenAI Chat Completions (and every server that speaks it) over httpx."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any, ClassVar

from pydantic import ValidationError

from oneringai.domain.errors import ProviderResponseError, ProviderUnavailableError
from oneringai.domain.events import ResponseCreatedEvent, StreamEvent
from oneringai.domain.options import TextGenerateOptions
from oneringai.domain.response import LLMResponse
from oneringai.infrastructure.http.streams import iter_sse_data_batches
from oneringai.infrastructure.providers._http_calls import HttpCalls
from oneringai.infrastructure.providers._keys import normalize_key_validation
from oneringai.infrastructure.providers._openai_mapping import (
    STOP_REASONS,
    arguments_text,
    build_chat_request,
    message_text,
    parse_chat_response,
    parse_usage,
)
from oneringai.infrastructure.providers._openai_wire import (
    ChatCompletion,
    ChatMessage,
    ChatToolCall,
    parse_chat,
    parse_models,
)
from oneringai.infrastructure.providers._stream_assembly import StreamAssembler, text_event_validator
from oneringai.infrastructure.providers._wire import shape_error, validate_shape
from oneringai.infrastructure.providers.base import BaseTextProvider, KeyValidationResult
from oneringai.infrastructure.providers.config import (
    OpenAIProviderConfig,
    OpenAITextProviderConfig,
    ProviderConfig,
)
from oneringai.infrastructure.providers.model_registry import OPENAI_MODELS, ModelRegistry

__all__ = ["OpenAITextProvider"]


class OpenAITextProvider(HttpCalls, BaseTextProvider):
    """``kind: openai`` — api.openai.com by default, any compatible server via ``base_url``."""

    name = "openai"
    api_key_env: ClassVar[str | None] = "OPENAI_API_KEY"
    config_model: ClassVar[type[ProviderConfig]] = OpenAITextProviderConfig
    model_registry: ClassVar[ModelRegistry] = ModelRegistry(OPENAI_MODELS)
    config: OpenAIProviderConfig

    def __init__(self, config: Any = None, /, *, name: str | None = None, **kwargs: Any) -> None:
        super().__init__(config, **kwargs)
        if name:
            self.name = name
        base = (self.config.base_url or "https://api.openai.com/v1").rstrip("/")
        self._url = f"{base}/chat/completions"
        self._is_openai = "api.openai.com" in base
        self._headers_cache: dict[str, str] | None = None

    @property
    def requires_key(self) -> bool:
        configured = getattr(self.config, "requires_api_key", None)
        if configured is not None:
            return bool(configured)
        return self._is_openai

    def validate_api_key(self) -> KeyValidationResult:
        """A compatible server (llama.cpp, vLLM…) may take any key, "EMPTY" included, or none."""
        if not self.requires_key:
            key = self._configured_api_key()
            if key is None:
                return KeyValidationResult(is_valid=True)
            return normalize_key_validation(self.validate_provider_specific_key_format(key), provider=self.name)
        return super().validate_api_key()

    def validate_provider_specific_key_format(self, api_key: str) -> KeyValidationResult:
        if self._is_openai and not api_key.startswith("sk-"):
            return KeyValidationResult(is_valid=False, warning="OpenAI keys start with sk-")
        return KeyValidationResult(is_valid=True)

    def _headers(self) -> dict[str, str]:
        if self._headers_cache is None:
            headers = dict(self.config.headers)
            key = self._configured_api_key() if not self.requires_key else self.get_api_key()
            if key:
                headers["authorization"] = f"Bearer {key}"
            organization = getattr(self.config, "organization", None)
            project = getattr(self.config, "project", None)
            if organization:
                headers["openai-organization"] = organization
            if project:
                headers["openai-project"] = project
            self._headers_cache = headers
        return self._headers_cache

    def _body(self, options: TextGenerateOptions, *, stream: bool) -> dict[str, Any]:
        return build_chat_request(
            options,
            stream=stream,
            max_tokens_field=self._max_tokens_field,
        )

    @property
    def _max_tokens_field(self) -> str:
        """``max_tokens_field`` when set (an ``OpenAIProviderConfig`` given as is has none): OpenAI's
        reasoning models refuse ``max_tokens``, behind Azure or a proxy too; compatible servers read it."""
        chosen = getattr(self.config, "max_tokens_field", "auto")
        if chosen in ("max_tokens", "max_completion_tokens"):
            return str(chosen)
        return "max_completion_tokens" if self._is_openai else "max_tokens"

    async def generate(self, options: TextGenerateOptions) -> LLMResponse:
        raw = await self.request_bytes(
            "POST",
            self._url,
            model=options.model,
            headers=self._headers(),
            body=self._body(options, stream=False),
        )
        data = validate_shape(parse_chat, raw, provider=self.name, model=options.model, what="response body")
        if data.get("error") is not None and not data.get("choices"):  # an error body with status 200
            self._raise_stream_error(data, options.model)
        try:
            return parse_chat_response(data, options.model)
        except ValueError as exc:  # no choices; a domain model refusing a value
            problem = ProviderResponseError(
                f"unexpected response shape: {self.scrub(str(exc))[:300]}", provider=self.name, model=options.model
            )
        raise problem  # outside the handler: a ValidationError quotes the input

    async def stream_generate(self, options: TextGenerateOptions) -> AsyncIterator[StreamEvent]:
        model = options.model
        assembler = StreamAssembler(model, max_chars=self.max_response_bytes(), provider=self.name)
        with assembler.keep_partial():  # an error carries the text received so far
            done = False
            async with self.open_stream(
                self._url, model=model, headers=self._headers(), body=self._body(options, stream=True)
            ) as chunks:
                created = False
                parse = parse_chat
                text_parts = assembler.text  # the text deltas, joined once by ``finish``
                text_event = text_event_validator()
                room = self.max_response_bytes()  # the text kept for the final response is bounded, inline
                batches = iter_sse_data_batches(chunks, max_event_bytes=self.max_event_bytes(), provider=self.name)
                guarded = self.guard(batches, model)
                async for ready in guarded:
                    for data in ready:
                        if data == b"[DONE]":
                            done = True
                            break
                        problem = None
                        try:
                            chunk = parse(data)
                        except ValidationError as exc:
                            problem = shape_error(exc, provider=self.name, model=model, what="stream chunk")
                        if problem is not None:  # raised outside the handler: the ValidationError quotes the input
                            raise problem
                        choices = chunk.get("choices")
                        if not created:
                            if chunk.get("error") is not None:
                                self._raise_stream_error(chunk, model)
                            # Azure opens with a choiceless content-filter chunk whose id and model are
                            # empty: the answer is named by the first chunk that names it
                            if chunk.get("id") or choices:
                                created = True
                                assembler.response_id = chunk.get("id") or ""
                                assembler.model = chunk.get("model") or model
                                yield ResponseCreatedEvent(response_id=assembler.response_id, model=assembler.model)
                        if choices:
                            for choice in choices:
                                if choice.get("index"):  # n > 1: the answer is choice 0, as generate returns
                                    continue
                                delta = choice.get("delta")
                                if delta:
                                    text = delta.get("content") or _refusal(delta, assembler)
                                    if text:
                                        if type(text) is not str:
                                            text = message_text(text)
                                        room -= len(text)
                                        if room < 0:
                                            raise assembler.too_long()
                                        text_parts.append(text)
                                        yield text_event({"delta": text})
                                    calls = delta.get("tool_calls")
                                    legacy = delta.get("function_call")  # deprecated ``functions``: one call
                                    if not calls and legacy:
                                        calls = [{"index": 0, "function": legacy}]
                                    if calls:
                                        for event in self._tool_call_events(assembler, calls):
                                            yield event
                                reason = choice.get("finish_reason")
                                if reason:
                                    assembler.raw_stop_reason = reason
                                    assembler.stop_reason = STOP_REASONS.get(reason, reason)
                        elif chunk.get("error") is not None:
                            self._raise_stream_error(chunk, model)
                        usage = chunk.get("usage")
                        if usage:
                            assembler.usage = parse_usage(usage)
                    if done:
                        break
                await guarded.aclose()  # type: ignore[attr-defined]
                if done:  # the answer is whole; what follows may only return the connection to the pool
                    await self.drain_after_end(chunks)
            if not done and assembler.raw_stop_reason is None:
                raise ProviderUnavailableError(
                    "stream ended before completion (no finish_reason and no [DONE])",
                    provider=self.name,
                    model=model,
                )
            if not created:  # nothing named the answer (only choiceless chunks): the sequence still opens
                yield ResponseCreatedEvent(response_id=assembler.response_id, model=assembler.model)
            if assembler.refused and assembler.stop_reason in (None, "complete"):
                assembler.stop_reason = "content_filter"
            for event in assembler.finish():
                yield event

    def _raise_stream_error(self, chunk: ChatCompletion, model: str) -> None:
        """Servers report mid-stream failures as ``{"error": {...}}`` chunks; no status is
        known there, so the error's own type/code decides the class."""
        from oneringai.infrastructure.providers.error_mapper import ProviderErrorMapper

        raise ProviderErrorMapper.map_error(
            {"error": chunk.get("error"), "status_code": chunk.get("status_code")},
            self.name,
            model=model,
            secrets=self._secrets(),
        )

    @staticmethod
    def _tool_call_events(assembler: StreamAssembler, calls: list[ChatToolCall]) -> list[StreamEvent]:
        events: list[StreamEvent] = []
        for call in calls:
            index = call.get("index")
            if index is None:
                index = _unindexed(assembler, call.get("id"))
            function = call.get("function") or {}
            if not assembler.has_call(index):
                call_id = call.get("id") or f"call_{index}"
                events.append(assembler.tool_call_start(index, call_id, function.get("name") or ""))
            arguments = function.get("arguments")
            if arguments:
                events.append(assembler.tool_call_arguments(index, arguments_text(arguments)))
        return events

    async def list_models(self) -> list[str]:
        base = (self.config.base_url or "https://api.openai.com/v1").rstrip("/")
        raw = await self.request_bytes("GET", f"{base}/models", model=None, headers=self._headers())
        data = validate_shape(parse_models, raw, provider=self.name, model=None, what="models list")
        return sorted(m.get("id") or "" for m in data.get("data") or () if m.get("id"))


def _unindexed(assembler: StreamAssembler, call_id: str | None) -> int:
    """The index of a tool-call delta that has none (some compatible servers omit it): a new
    id opens the next call, no id continues the latest one. Taking every such delta as call 0
    ran two parallel calls together into one with concatenated arguments."""
    if not assembler.calls:
        return 0
    latest = max(assembler.calls)
    if call_id and assembler.calls[latest].id != call_id:
        known = [index for index, pending in assembler.calls.items() if pending.id == call_id]
        return known[0] if known else latest + 1
    return latest


def _refusal(delta: ChatMessage, assembler: StreamAssembler) -> str | None:
    """A refusal delta's text (streamed as the answer, as ``generate`` returns it), else None."""
    refusal = delta.get("refusal")
    if refusal and type(refusal) is str:
        assembler.refused = True
        return refusal
    return None
