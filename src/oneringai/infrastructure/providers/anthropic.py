"""Anthropic's Messages API with SSE streaming."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any, ClassVar

from oneringai.domain.content import (
    InputImageContent,
    InputTextContent,
    Message,
    MessageRole,
    OutputTextContent,
    ToolResultContent,
    ToolUseContent,
)
from oneringai.domain.errors import ProviderResponseError, ProviderUnavailableError
from oneringai.domain.events import ResponseCreatedEvent, StreamEvent
from oneringai.domain.options import TextGenerateOptions
from oneringai.domain.response import LLMResponse, Usage
from oneringai.infrastructure.http.streams import iter_sse
from oneringai.infrastructure.providers._http_calls import HttpCalls
from oneringai.infrastructure.providers._openai_mapping import tool_result_text
from oneringai.infrastructure.providers._stream_assembly import StreamAssembler
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
}


def _image_block(part: InputImageContent) -> dict[str, Any]:
    url = part.image_url.url
    if url.startswith("data:"):
        header, _, data = url.partition(",")
        media_type = header[5:].split(";", 1)[0] or "image/png"
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
        self._url = f"{(self.config.base_url or 'https://api.anthropic.com').rstrip('/')}/v1/messages"
        self._header_cache: dict[str, str] | None = None

    def validate_provider_specific_key_format(self, api_key: str) -> KeyValidationResult:
        if not api_key.startswith("sk-ant-"):
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
                    try:
                        arguments = json.loads(part.arguments or "{}")
                    except ValueError:
                        arguments = {"_raw": part.arguments}
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
            if not blocks:
                continue
            if messages and messages[-1]["role"] == role:
                messages[-1]["content"].extend(blocks)  # the API wants alternating roles
            else:
                messages.append({"role": role, "content": blocks})
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
        if choice is not None or options.parallel_tool_calls is False:
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
    def _usage(data: dict[str, Any] | None) -> Usage:
        data = data or {}
        prompt = int(data.get("input_tokens") or 0) + int(data.get("cache_read_input_tokens") or 0)
        completion = int(data.get("output_tokens") or 0)
        return Usage(input_tokens=prompt, output_tokens=completion, total_tokens=prompt + completion)

    async def generate(self, options: TextGenerateOptions) -> LLMResponse:
        data = await self.request_json(
            "POST",
            self._url,
            model=options.model,
            headers=self._headers(),
            body=self._body(options, stream=False),
        )
        if not isinstance(data, dict) or not isinstance(data.get("content"), list):
            raise ProviderResponseError("response has no content", provider=self.name, model=options.model)
        content: list[Any] = []
        for block in data["content"]:
            if block.get("type") == "text":
                content.append(OutputTextContent(text=block.get("text", "")))
            elif block.get("type") == "tool_use":
                content.append(
                    ToolUseContent(
                        id=block.get("id", ""),
                        name=block.get("name", ""),
                        arguments=json.dumps(block.get("input") or {}),
                    )
                )
        raw = data.get("stop_reason")
        return LLMResponse(
            id=str(data.get("id") or ""),
            model=str(data.get("model") or options.model),
            status="incomplete" if raw == "max_tokens" else "completed",
            output=[Message(role=MessageRole.ASSISTANT, content=content)],
            usage=self._usage(data.get("usage")),
            stop_reason=_STOP.get(raw or "", raw),
            raw_stop_reason=raw,
        )

    async def stream_generate(self, options: TextGenerateOptions) -> AsyncIterator[StreamEvent]:
        model = options.model
        assembler = StreamAssembler(model)
        input_usage = Usage()
        stopped = False
        block_to_call: dict[int, int] = {}
        async with self.open_stream(
            self._url, model=model, headers=self._headers(), body=self._body(options, stream=True)
        ) as chunks:
            async for sse in iter_sse(chunks):
                try:
                    data = json.loads(sse.data)
                except ValueError as exc:
                    raise ProviderResponseError(
                        f"malformed stream event: {sse.data[:120]!r}", provider=self.name, model=model
                    ) from exc
                kind = data.get("type") if isinstance(data, dict) else None
                if kind == "message_start":
                    message = data.get("message") or {}
                    assembler.response_id = str(message.get("id") or "")
                    assembler.model = str(message.get("model") or model)
                    input_usage = self._usage(message.get("usage"))
                    yield ResponseCreatedEvent(response_id=assembler.response_id, model=assembler.model)
                elif kind == "content_block_start":
                    block = data.get("content_block") or {}
                    if block.get("type") == "tool_use":
                        index = len(assembler.calls)
                        block_to_call[int(data.get("index", 0))] = index
                        yield assembler.tool_call_start(index, block.get("id", ""), block.get("name", ""))
                    elif block.get("type") == "text" and block.get("text"):
                        yield assembler.text_delta(block["text"])
                elif kind == "content_block_delta":
                    delta = data.get("delta") or {}
                    if delta.get("type") == "text_delta" and delta.get("text"):
                        yield assembler.text_delta(delta["text"])
                    elif delta.get("type") == "input_json_delta":
                        call_index = block_to_call.get(int(data.get("index", 0)))
                        if call_index is not None and delta.get("partial_json"):
                            yield assembler.tool_call_arguments(call_index, delta["partial_json"])
                elif kind == "message_delta":
                    raw = (data.get("delta") or {}).get("stop_reason")
                    if raw:
                        assembler.raw_stop_reason = raw
                        assembler.stop_reason = _STOP.get(raw, raw)
                    output = self._usage(data.get("usage"))
                    assembler.usage = Usage(
                        input_tokens=input_usage.input_tokens or output.input_tokens,
                        output_tokens=output.output_tokens,
                        total_tokens=(input_usage.input_tokens or output.input_tokens) + output.output_tokens,
                    )
                elif kind == "message_stop":
                    stopped = True
                elif kind == "error":
                    error = data.get("error") or {}
                    status = 529 if error.get("type") == "overloaded_error" else 500
                    raise ProviderErrorMapper.from_http_response(
                        status, data, provider=self.name, model=model, secrets=self._secrets()
                    )
        if not stopped:
            raise ProviderUnavailableError(
                "stream ended before message_stop", provider=self.name, model=model
            )
        for event in assembler.finish():
            yield event
