"""Ollama's native API: ``/api/chat`` (NDJSON streaming), ``/api/tags``."""

from __future__ import annotations

import base64
import hashlib
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
from oneringai.infrastructure.http.streams import iter_lines
from oneringai.infrastructure.providers._http_calls import HttpCalls
from oneringai.infrastructure.providers._openai_mapping import tool_result_text
from oneringai.infrastructure.providers._stream_assembly import StreamAssembler
from oneringai.infrastructure.providers.base import BaseTextProvider
from oneringai.infrastructure.providers.config import OllamaProviderConfig, ProviderConfig
from oneringai.infrastructure.providers.error_mapper import ProviderErrorMapper
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
        # Ollama takes only base64: fetch remote images ourselves.
        try:
            response = await self.http.get(url, timeout=self.request_timeout())
        except Exception as exc:
            raise self.map_error(exc, url=url) from exc
        if response.status_code >= 400 or len(response.content) > _MAX_IMAGE_BYTES:
            raise ProviderResponseError(
                f"cannot fetch image {url} (status {response.status_code})", provider=self.name
            )
        return base64.b64encode(response.content).decode()

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
                    try:
                        arguments = json.loads(part.arguments or "{}")
                    except ValueError:
                        arguments = {}
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
        model_options.update(extra.pop("options", {}) or {})
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
    def _usage(data: dict[str, Any]) -> Usage:
        prompt = int(data.get("prompt_eval_count") or 0)
        completion = int(data.get("eval_count") or 0)
        return Usage(input_tokens=prompt, output_tokens=completion, total_tokens=prompt + completion)

    def _tool_calls(self, message: dict[str, Any], offset: int = 0) -> list[ToolUseContent]:
        calls = []
        for position, call in enumerate(message.get("tool_calls") or (), start=offset):
            function = call.get("function") or {}
            arguments = function.get("arguments", {})
            name = str(function.get("name") or "")
            text = arguments if isinstance(arguments, str) else json.dumps(arguments)
            call_id = call.get("id") or stable_call_id(position, name, arguments)
            calls.append(ToolUseContent(id=call_id, name=name, arguments=text))
        return calls

    async def generate(self, options: TextGenerateOptions) -> LLMResponse:
        data = await self.request_json(
            "POST",
            f"{self.base_url}/api/chat",
            model=options.model,
            headers=self._headers,
            body=await self._body(options, stream=False),
        )
        if not isinstance(data, dict) or not isinstance(data.get("message"), dict):
            raise ProviderResponseError("response has no message", provider=self.name, model=options.model)
        message = data["message"]
        content: list[Any] = []
        if message.get("content"):
            content.append(OutputTextContent(text=message["content"]))
        calls = self._tool_calls(message)
        content.extend(calls)
        raw = data.get("done_reason")
        return LLMResponse(
            id=f"ollama-{data.get('created_at', '')}",
            model=str(data.get("model") or options.model),
            status="incomplete" if raw == "length" else "completed",
            output=[Message(role=MessageRole.ASSISTANT, content=content)],
            usage=self._usage(data),
            stop_reason="tool_calls" if calls else _STOP.get(raw or "stop", raw),
            raw_stop_reason=raw,
        )

    async def stream_generate(self, options: TextGenerateOptions) -> AsyncIterator[StreamEvent]:
        model = options.model
        assembler = StreamAssembler(model)
        done = False
        async with self.open_stream(
            f"{self.base_url}/api/chat",
            model=model,
            headers=self._headers,
            body=await self._body(options, stream=True),
        ) as chunks:
            yield ResponseCreatedEvent(model=model)
            async for line in iter_lines(chunks):
                try:
                    data = json.loads(line)
                except ValueError as exc:
                    raise ProviderResponseError(
                        f"malformed NDJSON line: {line[:120]!r}", provider=self.name, model=model
                    ) from exc
                if not isinstance(data, dict):
                    raise ProviderResponseError(
                        "NDJSON line is not an object", provider=self.name, model=model
                    )
                if "error" in data:
                    raise ProviderErrorMapper.from_http_response(500, data, provider=self.name, model=model)
                message = data.get("message") or {}
                if message.get("content"):
                    yield assembler.text_delta(message["content"])
                for call in self._tool_calls(message, offset=len(assembler.calls)):
                    index = len(assembler.calls)
                    yield assembler.tool_call_start(index, call.id, call.name)
                    yield assembler.tool_call_arguments(index, call.arguments)
                if data.get("done"):
                    done = True
                    raw = data.get("done_reason")
                    assembler.raw_stop_reason = raw
                    assembler.stop_reason = _STOP.get(raw or "stop", raw)
                    assembler.usage = self._usage(data)
                    assembler.model = str(data.get("model") or model)
        if not done:
            raise ProviderUnavailableError(
                "stream ended before the final done message", provider=self.name, model=model
            )
        for event in assembler.finish():
            yield event

    async def list_models(self) -> list[str]:
        data = await self.request_json("GET", f"{self.base_url}/api/tags", model=None, headers=self._headers)
        return sorted(str(m.get("name") or m.get("model")) for m in data.get("models", []))
