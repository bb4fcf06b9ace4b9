"""Anthropic's Messages API with SSE streaming."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Mapping
from typing import Any, ClassVar

from pydantic import ValidationError

from oneringai.domain.content import (
    InputImageContent,
    InputTextContent,
    Message,
    MessageRole,
    OutputTextContent,
    RedactedThinkingContent,
    ThinkingContent,
    ToolResultContent,
    ToolUseContent,
)
from oneringai.domain.errors import ProviderResponseError, ProviderUnavailableError
from oneringai.domain.events import ResponseCreatedEvent, StreamEvent
from oneringai.domain.options import TextGenerateOptions
from oneringai.domain.response import LLMResponse, Usage
from oneringai.infrastructure.http.streams import iter_sse_data_batches
from oneringai.infrastructure.providers._anthropic_wire import (
    AnthropicUsage,
    parse_anthropic_event,
    parse_anthropic_message,
)
from oneringai.infrastructure.providers._http_calls import HttpCalls
from oneringai.infrastructure.providers._openai_mapping import arguments_object, tool_result_text
from oneringai.infrastructure.providers._stream_assembly import (
    MAX_REASONING_BLOCKS,
    StreamAssembler,
    reasoning_part,
    too_many_reasoning_blocks,
)
from oneringai.infrastructure.providers._wire import shape_error, validate_shape
from oneringai.infrastructure.providers.base import BaseTextProvider, KeyValidationResult
from oneringai.infrastructure.providers.config import AnthropicProviderConfig, ProviderConfig
from oneringai.infrastructure.providers.error_mapper import ProviderErrorMapper
from oneringai.infrastructure.providers.model_registry import ANTHROPIC_MODELS, ModelRegistry

__all__ = ["AnthropicTextProvider"]

_STOP = {
    "end_turn": "complete",
    "tool_use": "tool_calls",
    "max_tokens": "max_tokens",
    "stop_sequence": "stop_sequence",
    "refusal": "content_filter",
    "pause_turn": "complete",
    # the answer was cut where the context window ended: as cut short as by max_tokens
    "model_context_window_exceeded": "max_tokens",
}


def _image_block(part: InputImageContent) -> dict[str, Any]:
    url = part.image_url.url
    if url.startswith("data:"):
        header, _, data = url.partition(",")
        media_type = header[5:].split(";", 1)[0].strip().lower() or "image/png"
        if media_type == "image/jpg":  # a common spelling the API refuses (image/jpeg, png, gif, webp only)
            media_type = "image/jpeg"
        return {"type": "image", "source": {"type": "base64", "media_type": media_type, "data": data}}
    return {"type": "image", "source": {"type": "url", "url": url}}


class AnthropicTextProvider(HttpCalls, BaseTextProvider):
    """``kind: anthropic``."""

    name = "anthropic"
    api_key_env: ClassVar[str | None] = "ANTHROPIC_API_KEY"
    config_model: ClassVar[type[ProviderConfig]] = AnthropicProviderConfig
    model_registry: ClassVar[ModelRegistry] = ModelRegistry(ANTHROPIC_MODELS)
    config: AnthropicProviderConfig

    def __init__(self, config: Any = None, /, *, name: str | None = None, **kwargs: Any) -> None:
        super().__init__(config, **kwargs)
        if name:
            self.name = name
        base = (self.config.base_url or "https://api.anthropic.com").rstrip("/")
        self._url = f"{base}/v1/messages"
        self._is_anthropic = "api.anthropic.com" in base
        self._header_cache: dict[str, str] | None = None

    def validate_provider_specific_key_format(self, api_key: str) -> KeyValidationResult:
        """Anthropic's own keys start with ``sk-ant-``; compatible gateways issue their own."""
        if self._is_anthropic and not api_key.startswith("sk-ant-"):
            return KeyValidationResult(is_valid=False, warning="Anthropic keys start with sk-ant-")
        return KeyValidationResult(is_valid=True)

    def _headers(self) -> dict[str, str]:
        if self._header_cache is None:
            self._header_cache = {
                **self.config.headers,
                "x-api-key": self.get_api_key(),
                "anthropic-version": self.config.api_version,
            }
        return self._header_cache

    def _body(self, options: TextGenerateOptions, *, stream: bool) -> dict[str, Any]:
        system: list[str] = [options.instructions] if options.instructions else []
        messages: list[dict[str, Any]] = []
        items = [Message.user(options.input)] if isinstance(options.input, str) else options.input
        for item in items:
            if item.role is MessageRole.DEVELOPER:
                system.append(item.text)
                continue
            role = "assistant" if item.role is MessageRole.ASSISTANT else "user"
            blocks: list[dict[str, Any]] = []
            for part in item.content:
                if isinstance(part, InputTextContent | OutputTextContent):
                    if part.text:
                        blocks.append({"type": "text", "text": part.text})
                elif isinstance(part, InputImageContent):
                    blocks.append(_image_block(part))
                elif isinstance(part, ToolUseContent):
                    parsed = arguments_object(part.arguments)
                    arguments = parsed if parsed is not None else {"_raw": part.arguments}
                    blocks.append({"type": "tool_use", "id": part.id, "name": part.name, "input": arguments})
                elif isinstance(part, ToolResultContent):
                    block: dict[str, Any] = {
                        "type": "tool_result",
                        "tool_use_id": part.tool_use_id,
                        "content": tool_result_text(part),
                    }
                    if part.error:
                        block["is_error"] = True
                    blocks.append(block)
                elif role == "assistant" and isinstance(part, ThinkingContent):
                    # sent back unchanged, where it was: the API checks the signature, and wants the
                    # signed thinking first in a tool_use turn; unsigned (not Anthropic's): left out
                    if part.signature:
                        blocks.append({"type": "thinking", "thinking": part.thinking, "signature": part.signature})
                elif role == "assistant" and isinstance(part, RedactedThinkingContent):
                    blocks.append({"type": "redacted_thinking", "data": part.data})
            if not blocks:
                continue
            if messages and messages[-1]["role"] == role:
                messages[-1]["content"].extend(blocks)  # the API wants alternating roles
            else:
                messages.append({"role": role, "content": blocks})
        for message in messages:  # tool results first in their message: text before them is a 400
            blocks = message["content"]
            if message["role"] == "user" and len(blocks) > 1:
                message["content"] = [b for b in blocks if b["type"] == "tool_result"] + [
                    b for b in blocks if b["type"] != "tool_result"
                ]
        fmt = options.response_format
        if fmt is not None and fmt.type != "text":
            # no native JSON mode: ask for it in the system prompt
            rule = "Respond with a single JSON object and nothing else."
            if fmt.type == "json_schema" and fmt.json_schema is not None:
                rule += f" It must match this JSON Schema: {json.dumps(fmt.json_schema.schema_)}"
            system.append(rule)
        body: dict[str, Any] = {
            "model": options.model,
            "max_tokens": options.max_output_tokens or self.config.default_max_tokens,
            "messages": messages,
        }
        if system:
            body["system"] = "\n\n".join(system)
        if options.temperature is not None:
            body["temperature"] = min(options.temperature, 1.0)
        if options.stop:
            body["stop_sequences"] = options.stop
        if options.tools:
            body["tools"] = [
                {
                    "name": t.function.name,
                    "description": t.function.description,
                    "input_schema": t.function.parameters,
                }
                for t in options.tools
            ]
        choice = options.tool_choice
        has_tools = bool(options.tools) or "tools" in options.provider_options
        if has_tools and (choice is not None or options.parallel_tool_calls is False):  # else refused
            tool_choice: dict[str, Any] = (
                {"type": "auto"}
                if choice in (None, "auto")
                else {"type": "any"}
                if choice == "required"
                else {"type": "none"}
                if choice == "none"
                else {"type": "tool", "name": choice}
            )
            if options.parallel_tool_calls is False and tool_choice["type"] != "none":
                tool_choice["disable_parallel_tool_use"] = True
            body["tool_choice"] = tool_choice
        if options.metadata and "user_id" in options.metadata:
            body["metadata"] = {"user_id": options.metadata["user_id"]}
        if stream:
            body["stream"] = True
        body.update(options.provider_options)
        return body

    @staticmethod
    def _usage(data: AnthropicUsage | None) -> Usage:
        if not data:
            return Usage()
        # every input token: the uncached ones, those written to the prompt cache and those read from it
        # (the cache writes were left out: a cached prompt's first call looked ~all output)
        prompt = (
            (data.get("input_tokens") or 0)
            + (data.get("cache_creation_input_tokens") or 0)
            + (data.get("cache_read_input_tokens") or 0)
        )
        completion = data.get("output_tokens") or 0
        return Usage(input_tokens=prompt, output_tokens=completion, total_tokens=prompt + completion)

    async def generate(self, options: TextGenerateOptions) -> LLMResponse:
        raw = await self.request_bytes(
            "POST",
            self._url,
            model=options.model,
            headers=self._headers(),
            body=self._body(options, stream=False),
        )
        data = validate_shape(
            parse_anthropic_message, raw, provider=self.name, model=options.model, what="response body"
        )
        blocks = data.get("content")
        if blocks is None:
            if data.get("error") is not None:  # an error body with status 200: judged by its own type
                raise ProviderErrorMapper.map_error(
                    {"error": data.get("error")}, self.name, model=options.model, secrets=self._secrets()
                )
            raise ProviderResponseError("response has no content", provider=self.name, model=options.model)
        content: list[Any] = []
        reasoning = 0
        for block in blocks:
            kind = block.get("type")
            if kind == "text":
                content.append(OutputTextContent(text=block.get("text") or ""))
            elif kind == "tool_use":
                content.append(
                    ToolUseContent(
                        id=block.get("id") or f"toolu_{len(content)}",
                        name=block.get("name") or "",
                        arguments=_arguments(block.get("input")),
                    )
                )
            elif kind in ("thinking", "redacted_thinking"):  # kept as received: sent back unchanged
                reasoning += 1
                if reasoning > MAX_REASONING_BLOCKS:
                    raise too_many_reasoning_blocks(self.name, options.model)
                keys = ("data",) if kind == "redacted_thinking" else ("thinking", "signature")
                fields = {key: "" if block.get(key) is None else block.get(key) for key in keys}
                content.append(reasoning_part(fields, provider=self.name, model=options.model))
        raw_reason = data.get("stop_reason")
        stop_reason = _STOP.get(raw_reason or "", raw_reason)
        return LLMResponse(
            id=data.get("id") or "",
            model=data.get("model") or options.model,
            status="incomplete" if stop_reason == "max_tokens" else "completed",
            output=[Message(role=MessageRole.ASSISTANT, content=content)],
            usage=self._usage(data.get("usage")),
            stop_reason=stop_reason,
            raw_stop_reason=raw_reason,
        )

    async def stream_generate(self, options: TextGenerateOptions) -> AsyncIterator[StreamEvent]:
        model = options.model
        assembler = StreamAssembler(model, max_chars=self.max_response_bytes(), provider=self.name)
        with assembler.keep_partial():  # an error carries the text received so far
            start_usage = AnthropicUsage()
            stopped = False
            block_to_call: dict[int, int] = {}
            prefilled: set[int] = set()  # calls whose whole input came with their start (deltas would repeat it)
            parse = parse_anthropic_event
            async with self.open_stream(
                self._url, model=model, headers=self._headers(), body=self._body(options, stream=True)
            ) as chunks:
                batches = iter_sse_data_batches(chunks, max_event_bytes=self.max_event_bytes(), provider=self.name)
                guarded = self.guard(batches, model)
                async for ready in guarded:
                    for raw in ready:
                        problem = None
                        try:
                            data = parse(raw)
                        except ValidationError as exc:
                            problem = shape_error(exc, provider=self.name, model=model, what="stream event")
                        if problem is not None:  # raised outside the handler: the ValidationError quotes the input
                            raise problem
                        kind = data.get("type")
                        if kind == "content_block_delta":
                            delta = data.get("delta") or {}
                            delta_type = delta.get("type")
                            if delta_type == "text_delta":
                                text = delta.get("text")
                                if text:
                                    yield assembler.text_delta(text)
                            elif delta_type == "input_json_delta":
                                call_index = block_to_call.get(data.get("index") or 0)
                                partial = delta.get("partial_json")
                                if call_index is not None and partial and call_index not in prefilled:
                                    yield assembler.tool_call_arguments(call_index, partial)
                            elif delta_type == "thinking_delta":  # kept for the history, no event
                                assembler.thinking_delta(data.get("index") or 0, delta.get("thinking") or "")
                            elif delta_type == "signature_delta":
                                signature = delta.get("signature") or ""
                                assembler.thinking_delta(data.get("index") or 0, signature, signature=True)
                        elif kind == "message_start":
                            message = data.get("message") or {}
                            assembler.response_id = message.get("id") or ""
                            assembler.model = message.get("model") or model
                            start_usage = message.get("usage") or AnthropicUsage()
                            assembler.usage = self._usage(start_usage)  # a cut stream still reports it
                            yield ResponseCreatedEvent(response_id=assembler.response_id, model=assembler.model)
                        elif kind == "content_block_start":
                            block = data.get("content_block") or {}
                            if block.get("type") == "tool_use":
                                index = len(assembler.calls)
                                block_to_call[data.get("index") or 0] = index
                                yield assembler.tool_call_start(
                                    index, block.get("id") or f"toolu_{index}", block.get("name") or ""
                                )
                                initial = block.get("input")
                                if initial:  # a gateway that sends the whole input here (Anthropic sends {})
                                    prefilled.add(index)
                                    yield assembler.tool_call_arguments(index, _arguments(initial))
                            elif block.get("type") == "text":
                                text = block.get("text")
                                if text:
                                    yield assembler.text_delta(text)
                            elif block.get("type") in ("thinking", "redacted_thinking"):
                                _start_reasoning(assembler, data.get("index") or 0, block, self.name, model)
                        elif kind == "message_delta":
                            raw_reason = (data.get("delta") or {}).get("stop_reason")
                            if raw_reason:
                                assembler.raw_stop_reason = raw_reason
                                assembler.stop_reason = _STOP.get(raw_reason, raw_reason)
                            # message_delta's counts are cumulative: where it reports an input count (it does
                            # with server tools, whose results add input after message_start) that is the final one
                            assembler.usage = self._usage(_cumulative(start_usage, data.get("usage") or AnthropicUsage()))
                        elif kind == "message_stop":
                            stopped = True
                            break
                        elif kind == "error" or (kind is None and data.get("error") is not None):
                            # no status mid-stream: the error's own type decides (overloaded_error → unavailable)
                            raise ProviderErrorMapper.map_error(
                                {"error": data.get("error"), "request_id": data.get("request_id")},
                                self.name,
                                model=model,
                                secrets=self._secrets(),
                            )
                    if stopped:
                        break
                await guarded.aclose()  # type: ignore[attr-defined]
                if stopped:  # the answer is whole; what follows may only return the connection to the pool
                    await self.drain_after_end(chunks)
            if not stopped:
                raise ProviderUnavailableError(
                    "stream ended before message_stop", provider=self.name, model=model
                )
            for event in assembler.finish():
                yield event


def _cumulative(start: AnthropicUsage, delta: AnthropicUsage) -> AnthropicUsage:
    """The final usage of a stream: message_delta's output, each input count the larger of the two."""
    return {
        "input_tokens": max(start.get("input_tokens") or 0, delta.get("input_tokens") or 0),
        "cache_creation_input_tokens": max(
            start.get("cache_creation_input_tokens") or 0, delta.get("cache_creation_input_tokens") or 0
        ),
        "cache_read_input_tokens": max(
            start.get("cache_read_input_tokens") or 0, delta.get("cache_read_input_tokens") or 0
        ),
        "output_tokens": delta.get("output_tokens") or 0,
    }


def _start_reasoning(
    assembler: StreamAssembler, index: int, block: Mapping[str, Any], provider: str, model: str
) -> None:
    """A thinking block opening (Anthropic sends its text and signature as deltas; a gateway
    may send them whole here), or a redacted one (its ``data`` comes whole, here)."""
    redacted = block.get("type") == "redacted_thinking"
    assembler.reasoning_start(index, redacted=redacted)
    for key, is_signature in (("data", False),) if redacted else (("thinking", False), ("signature", True)):
        value = block.get(key)
        if value is not None and not isinstance(value, str):
            raise ProviderResponseError(
                f"unexpected {block.get('type')} block from the provider: {key}: Input should be a valid string",
                provider=provider, model=model,
            )
        assembler.thinking_delta(index, value or "", signature=is_signature)


def _arguments(value: Any) -> str:
    """A tool_use block's ``input`` as our JSON-string arguments."""
    if isinstance(value, str):
        return value
    return json.dumps(value if value is not None else {})
