"""Ollama's native API: ``/api/chat`` (NDJSON streaming), ``/api/tags``."""

from __future__ import annotations

import asyncio
import base64
import hashlib
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
    ToolResultContent,
    ToolUseContent,
)
from oneringai.domain.errors import (
    ProviderError,
    ProviderResponseError,
    ProviderTimeoutError,
    ProviderUnavailableError,
    RequestOptionsError,
)
from oneringai.domain.events import ResponseCreatedEvent, StreamEvent
from oneringai.domain.options import TextGenerateOptions
from oneringai.domain.response import LLMResponse, Usage
from oneringai.infrastructure.http.bodies import read_body
from oneringai.infrastructure.http.streams import iter_line_batches
from oneringai.infrastructure.providers._http_calls import HttpCalls
from oneringai.infrastructure.providers._ollama_wire import (
    OllamaChat,
    OllamaMessage,
    parse_ollama_chat,
    parse_ollama_tags,
)
from oneringai.infrastructure.providers._openai_mapping import arguments_object, tool_result_text
from oneringai.infrastructure.providers._stream_assembly import StreamAssembler, reasoning_part
from oneringai.infrastructure.providers._wire import shape_error, validate_shape
from oneringai.infrastructure.providers.base import BaseTextProvider
from oneringai.infrastructure.providers.config import OllamaProviderConfig, ProviderConfig
from oneringai.infrastructure.providers.error_mapper import ProviderErrorMapper, display_url
from oneringai.infrastructure.providers.model_registry import OLLAMA_MODELS, ModelRegistry

__all__ = ["OllamaTextProvider", "normalize_ollama_host"]

_STOP = {"stop": "complete", "length": "max_tokens", "load": "complete", "unload": "complete"}
_MAX_IMAGE_BYTES = 20 * 1024 * 1024


def normalize_ollama_host(value: str) -> str:
    """``OLLAMA_HOST`` may be ``0.0.0.0:11434`` or ``host``; make it a URL."""
    value = value.strip().rstrip("/")
    if "://" not in value:
        value = f"http://{value}"
    host_part = value.split("://", 1)[1]
    if ":" not in host_part.split("/", 1)[0]:
        value = f"{value}:11434"
    return value.replace("://0.0.0.0", "://127.0.0.1")


def stable_call_id(position: int, name: str, arguments: Any) -> str:
    """Ollama sends no tool-call ids; derive one that is the same for the same call."""
    digest = hashlib.sha256(
        f"{position}:{name}:{json.dumps(arguments, sort_keys=True)}".encode()
    ).hexdigest()[:16]
    return f"call_{digest}"


class OllamaTextProvider(HttpCalls, BaseTextProvider):
    """``kind: ollama`` — a local or remote Ollama server; no API key needed."""

    name = "ollama"
    requires_api_key: ClassVar[bool] = False
    config_model: ClassVar[type[ProviderConfig]] = OllamaProviderConfig
    model_registry: ClassVar[ModelRegistry] = ModelRegistry(OLLAMA_MODELS)
    config: OllamaProviderConfig

    def __init__(self, config: Any = None, /, *, name: str | None = None, **kwargs: Any) -> None:
        super().__init__(config, **kwargs)
        if name:
            self.name = name
        self.base_url = normalize_ollama_host(self.config.base_url or "http://localhost:11434")
        headers = dict(self.config.headers)
        key = self._configured_api_key()
        if key:  # Ollama behind an authenticating proxy, or ollama.com
            headers["authorization"] = f"Bearer {key}"
        self._headers = headers

    async def _images(self, part: InputImageContent) -> str:
        url = part.image_url.url
        if url.startswith("data:"):
            return url.split(",", 1)[1] if "," in url else ""
        # Ollama takes only base64: fetch remote images ourselves (bounded in time and size).
        shown = display_url(url)
        seconds = self.attempt_timeout()
        deadline = asyncio.timeout(seconds)
        try:
            async with deadline:
                response = await self.http.send(
                    self.http.build_request("GET", url, timeout=self.request_timeout()), stream=True
                )
                try:
                    if response.status_code >= 300 or response.status_code == 204:  # a redirect's body is no image
                        raise ProviderResponseError(
                            f"cannot fetch image {shown} (status {response.status_code})", provider=self.name
                        )
                    content = await read_body(
                        response,
                        _MAX_IMAGE_BYTES,
                        provider=self.name,
                        what="input image",
                        remedy="input images are fetched up to 20 MiB: pass a smaller one",
                    )
                    if not content:
                        raise ProviderResponseError(f"cannot fetch image {shown} (empty body)", provider=self.name)
                finally:
                    await response.aclose()
        except ProviderError:
            raise
        except TimeoutError:
            if deadline.expired():
                raise ProviderTimeoutError(
                    f"cannot fetch image {shown} within {seconds or 0:g}s", provider=self.name
                ) from None
            raise
        except Exception as exc:
            raise self.map_error(exc, url=url) from None
        return base64.b64encode(content).decode()

    async def _messages(self, options: TextGenerateOptions) -> list[dict[str, Any]]:
        messages: list[dict[str, Any]] = []
        if options.instructions:
            messages.append({"role": "system", "content": options.instructions})
        items = [Message.user(options.input)] if isinstance(options.input, str) else options.input
        names: dict[str, str] = {}
        for item in items:
            role = {"assistant": "assistant", "developer": "system"}.get(item.role.value, "user")
            text: list[str] = []
            images: list[str] = []
            calls: list[dict[str, Any]] = []
            for part in item.content:
                if isinstance(part, InputTextContent | OutputTextContent):
                    text.append(part.text)
                elif isinstance(part, InputImageContent):
                    images.append(await self._images(part))
                elif isinstance(part, ToolUseContent):
                    names[part.id] = part.name
                    arguments = arguments_object(part.arguments) or {}
                    calls.append({"function": {"name": part.name, "arguments": arguments}})
                elif isinstance(part, ToolResultContent):
                    tool_message = {"role": "tool", "content": tool_result_text(part)}
                    if part.tool_use_id in names:
                        tool_message["tool_name"] = names[part.tool_use_id]
                    messages.append(tool_message)
            if text or images or calls:
                message: dict[str, Any] = {"role": role, "content": "".join(text)}
                if images:
                    message["images"] = images
                if calls:
                    message["tool_calls"] = calls
                messages.append(message)
        return messages

    async def _body(self, options: TextGenerateOptions, *, stream: bool) -> dict[str, Any]:
        model_options: dict[str, Any] = dict(self.config.options)
        extra = dict(options.provider_options)
        given = extra.pop("options", None) or {}
        if not isinstance(given, Mapping):  # dict.update of a list or string: a raw TypeError/ValueError
            raise RequestOptionsError(
                f"provider_options['options'] is Ollama's model options: a mapping, not {type(given).__name__}"
            )
        model_options.update(given)
        for key in ("num_ctx", "num_predict", "top_k", "top_p", "seed", "repeat_penalty", "num_gpu"):
            if key in extra:
                model_options[key] = extra.pop(key)
        if options.temperature is not None:
            model_options["temperature"] = options.temperature
        if options.max_output_tokens is not None:
            model_options["num_predict"] = options.max_output_tokens
        if options.stop:
            model_options["stop"] = options.stop
        body: dict[str, Any] = {
            "model": options.model,
            "messages": await self._messages(options),
            "stream": stream,
        }
        if model_options:
            body["options"] = model_options
        keep_alive = extra.pop("keep_alive", self.config.keep_alive)
        if keep_alive is not None:
            body["keep_alive"] = keep_alive
        if options.tools:
            body["tools"] = [
                {"type": "function", "function": t.function.model_dump(exclude_none=True)}
                for t in options.tools
            ]
        fmt = options.response_format
        if fmt is not None and fmt.type == "json_object":
            body["format"] = "json"
        elif fmt is not None and fmt.type == "json_schema" and fmt.json_schema is not None:
            body["format"] = fmt.json_schema.schema_
        body.update(extra)
        return body

    @staticmethod
    def _usage(data: OllamaChat) -> Usage:
        prompt = data.get("prompt_eval_count") or 0
        completion = data.get("eval_count") or 0
        return Usage(input_tokens=prompt, output_tokens=completion, total_tokens=prompt + completion)

    def _tool_calls(self, message: OllamaMessage, offset: int = 0) -> list[ToolUseContent]:
        calls = []
        for position, call in enumerate(message.get("tool_calls") or (), start=offset):
            function = call.get("function") or {}
            arguments = function.get("arguments")
            if arguments is None:
                arguments = {}
            name = function.get("name") or ""
            text = arguments if isinstance(arguments, str) else json.dumps(arguments)
            call_id = call.get("id") or stable_call_id(position, name, arguments)
            calls.append(ToolUseContent(id=call_id, name=name, arguments=text))
        return calls

    async def generate(self, options: TextGenerateOptions) -> LLMResponse:
        raw = await self.request_bytes(
            "POST",
            f"{self.base_url}/api/chat",
            model=options.model,
            headers=self._headers,
            body=await self._body(options, stream=False),
        )
        data = validate_shape(parse_ollama_chat, raw, provider=self.name, model=options.model, what="response body")
        if data.get("error") is not None:
            self._raise_body_error(data, options.model)
        message = data.get("message")
        if message is None:
            raise ProviderResponseError("response has no message", provider=self.name, model=options.model)
        content: list[Any] = []
        thinking = message.get("thinking")
        if thinking:  # an unsigned thinking part: kept in the history, never sent to a provider
            content.append(reasoning_part({"thinking": thinking}, provider=self.name, model=options.model))
        text = message.get("content")
        if text:
            content.append(OutputTextContent(text=text))
        calls = self._tool_calls(message)
        content.extend(calls)
        raw_reason = data.get("done_reason")
        return LLMResponse(
            id=f"ollama-{data.get('created_at') or ''}",
            model=data.get("model") or options.model,
            status="incomplete" if raw_reason == "length" else "completed",
            output=[Message(role=MessageRole.ASSISTANT, content=content)],
            usage=self._usage(data),
            stop_reason="tool_calls" if calls else _STOP.get(raw_reason or "stop", raw_reason),
            raw_stop_reason=raw_reason,
        )

    def _raise_body_error(self, data: OllamaChat, model: str | None) -> None:
        """Ollama reports failures (also mid-stream) as ``{"error": "..."}``, without a status."""
        raise ProviderErrorMapper.map_error(
            {"error": data.get("error")}, self.name, model=model, secrets=self._secrets()
        )

    async def stream_generate(self, options: TextGenerateOptions) -> AsyncIterator[StreamEvent]:
        model = options.model
        assembler = StreamAssembler(model, max_chars=self.max_response_bytes(), provider=self.name)
        with assembler.keep_partial():  # an error carries the text received so far
            done = False
            parse = parse_ollama_chat
            async with self.open_stream(
                f"{self.base_url}/api/chat",
                model=model,
                headers=self._headers,
                body=await self._body(options, stream=True),
                expect="ndjson",
            ) as chunks:
                yield ResponseCreatedEvent(model=model)
                batches = iter_line_batches(chunks, max_line_bytes=self.max_event_bytes(), provider=self.name)
                async for lines in self.guard(batches, model):
                    for line in lines:
                        problem = None
                        try:
                            data = parse(line)
                        except ValidationError as exc:
                            problem = shape_error(exc, provider=self.name, model=model, what="NDJSON line")
                        if problem is not None:  # raised outside the handler: the ValidationError quotes the input
                            raise problem
                        if data.get("error") is not None:
                            self._raise_body_error(data, model)
                        message = data.get("message")
                        if message:
                            thinking = message.get("thinking")
                            if thinking:  # kept as one unsigned thinking part, no event
                                if not assembler.reasoning:
                                    assembler.reasoning_start(0)
                                assembler.thinking_delta(0, thinking)
                            text = message.get("content")
                            if text:
                                yield assembler.text_delta(text)
                            if message.get("tool_calls"):
                                for call in self._tool_calls(message, offset=len(assembler.calls)):
                                    index = len(assembler.calls)
                                    yield assembler.tool_call_start(index, call.id, call.name)
                                    yield assembler.tool_call_arguments(index, call.arguments)
                        if data.get("done"):
                            done = True
                            raw_reason = data.get("done_reason")
                            assembler.raw_stop_reason = raw_reason
                            assembler.stop_reason = _STOP.get(raw_reason or "stop", raw_reason)
                            assembler.usage = self._usage(data)
                            assembler.model = data.get("model") or model
                            assembler.response_id = f"ollama-{data.get('created_at') or ''}"  # as generate names it
                            break  # the final message: what a server sends after it is not this answer
                    if done:
                        break
            if not done:
                raise ProviderUnavailableError(
                    "stream ended before the final done message", provider=self.name, model=model
                )
            for event in assembler.finish():
                yield event

    async def list_models(self) -> list[str]:
        raw = await self.request_bytes("GET", f"{self.base_url}/api/tags", model=None, headers=self._headers)
        data = validate_shape(parse_ollama_tags, raw, provider=self.name, model=None, what="model list")
        return sorted(name for m in data.get("models") or () if (name := m.get("name") or m.get("model")))
