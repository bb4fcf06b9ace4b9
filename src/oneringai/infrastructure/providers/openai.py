"""OpenAI Chat Completions (and every server that speaks it) over httpx."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any, ClassVar

from oneringai.domain.errors import ProviderResponseError, ProviderUnavailableError
from oneringai.domain.events import ResponseCreatedEvent, StreamEvent
from oneringai.domain.options import TextGenerateOptions
from oneringai.domain.response import LLMResponse
from oneringai.infrastructure.http.streams import iter_sse_data_batches
from oneringai.infrastructure.providers._http_calls import HttpCalls
from oneringai.infrastructure.providers._openai_mapping import (
    STOP_REASONS,
    build_chat_request,
    parse_chat_response,
    parse_usage,
)
from oneringai.infrastructure.providers._stream_assembly import StreamAssembler
from oneringai.infrastructure.providers.base import BaseTextProvider, KeyValidationResult
from oneringai.infrastructure.providers.config import OpenAIProviderConfig, ProviderConfig
from oneringai.infrastructure.providers.model_registry import OPENAI_MODELS, ModelRegistry

__all__ = ["OpenAITextProvider"]

_DECODER = json.JSONDecoder()


class OpenAITextProvider(HttpCalls, BaseTextProvider):
    """``kind: openai`` — api.openai.com by default, any compatible server via ``base_url``."""

    name = "openai"
    api_key_env: ClassVar[str | None] = "OPENAI_API_KEY"
    config_model: ClassVar[type[ProviderConfig]] = OpenAIProviderConfig
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
        if not self.requires_key and self._configured_api_key() is None:
            return KeyValidationResult(is_valid=True)
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
            max_tokens_field="max_completion_tokens" if self._is_openai else "max_tokens",
        )

    async def generate(self, options: TextGenerateOptions) -> LLMResponse:
        data = await self.request_json(
            "POST",
            self._url,
            model=options.model,
            headers=self._headers(),
            body=self._body(options, stream=False),
        )
        try:
            return parse_chat_response(data, options.model)
        except (ValueError, TypeError, AttributeError) as exc:
            raise ProviderResponseError(
                f"unexpected response shape: {exc}", provider=self.name, model=options.model
            ) from exc

    async def stream_generate(self, options: TextGenerateOptions) -> AsyncIterator[StreamEvent]:
        model = options.model
        assembler = StreamAssembler(model)
        done = False
        async with self.open_stream(
            self._url, model=model, headers=self._headers(), body=self._body(options, stream=True)
        ) as chunks:
            created = False
            decode = _DECODER.decode
            text_delta = assembler.text_delta
            async for ready in iter_sse_data_batches(chunks):
                for data in ready:
                    if data == b"[DONE]":
                        done = True
                        continue  # keep reading to the end so the connection goes back to the pool
                    try:
                        chunk = decode(data.decode())
                    except ValueError as exc:
                        raise ProviderResponseError(
                            f"malformed stream chunk: {data[:120]!r}", provider=self.name, model=model
                        ) from exc
                    if type(chunk) is not dict:
                        raise ProviderResponseError(
                            "stream chunk is not an object", provider=self.name, model=model
                        )
                    if not created:
                        self._raise_stream_error(chunk, model)
                        created = True
                        assembler.response_id = str(chunk.get("id") or "")
                        assembler.model = str(chunk.get("model") or model)
                        yield ResponseCreatedEvent(response_id=assembler.response_id, model=assembler.model)
                    choices = chunk.get("choices")
                    if choices:
                        for choice in choices:
                            delta = choice.get("delta")
                            if delta:
                                text = delta.get("content")
                                if text:
                                    yield text_delta(text)
                                calls = delta.get("tool_calls")
                                if calls:
                                    for event in self._tool_call_events(assembler, calls):
                                        yield event
                            reason = choice.get("finish_reason")
                            if reason:
                                assembler.raw_stop_reason = reason
                                assembler.stop_reason = STOP_REASONS.get(reason, reason)
                    else:
                        self._raise_stream_error(chunk, model)
                    usage = chunk.get("usage")
                    if usage:
                        assembler.usage = parse_usage(usage)
        if not done and assembler.raw_stop_reason is None:
            raise ProviderUnavailableError(
                "stream ended before completion (no finish_reason and no [DONE])",
                provider=self.name,
                model=model,
            )
        for event in assembler.finish():
            yield event

    def _raise_stream_error(self, chunk: dict[str, Any], model: str) -> None:
        """Servers report mid-stream failures as ``{"error": {...}}`` chunks."""
        if "error" in chunk:
            from oneringai.infrastructure.providers.error_mapper import ProviderErrorMapper

            raise ProviderErrorMapper.from_http_response(
                int(chunk.get("status_code") or 500), chunk, provider=self.name, model=model,
                secrets=self._secrets(),
            )

    @staticmethod
    def _tool_call_events(assembler: StreamAssembler, calls: list[dict[str, Any]]) -> list[StreamEvent]:
        events: list[StreamEvent] = []
        for call in calls:
            index = int(call.get("index", 0))
            function = call.get("function") or {}
            if not assembler.has_call(index):
                call_id = call.get("id") or f"call_{index}"
                events.append(assembler.tool_call_start(index, call_id, function.get("name") or ""))
            arguments = function.get("arguments")
            if arguments:
                if not isinstance(arguments, str):
                    arguments = json.dumps(arguments)
                events.append(assembler.tool_call_arguments(index, arguments))
        return events

    async def list_models(self) -> list[str]:
        base = (self.config.base_url or "https://api.openai.com/v1").rstrip("/")
        data = await self.request_json("GET", f"{base}/models", model=None, headers=self._headers())
        return sorted(str(m.get("id")) for m in data.get("data", []) if isinstance(m, dict))
