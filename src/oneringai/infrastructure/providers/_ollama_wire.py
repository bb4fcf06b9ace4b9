"""The wire shapes of Ollama's ``/api/chat`` (a body, or one NDJSON line) and ``/api/tags``."""

from __future__ import annotations

from typing import Any

from typing_extensions import TypedDict

from oneringai.infrastructure.providers._wire import TokenCount, json_validator

__all__ = ["OllamaChat", "OllamaMessage", "parse_ollama_chat", "parse_ollama_tags"]


class OllamaFunction(TypedDict, total=False):
    name: str | None
    arguments: Any  # an object (Ollama); a JSON string from some proxies


class OllamaToolCall(TypedDict, total=False):
    id: str | None
    function: OllamaFunction | None


class OllamaMessage(TypedDict, total=False):
    role: str | None
    content: str | None
    thinking: str | None  # a thinking model's reasoning (``think: true``)
    tool_calls: list[OllamaToolCall] | None


class OllamaChat(TypedDict, total=False):
    model: str | None
    created_at: str | None
    message: OllamaMessage | None
    done: bool | None
    done_reason: str | None
    prompt_eval_count: TokenCount | None
    eval_count: TokenCount | None
    error: Any


class _Tag(TypedDict, total=False):
    name: str | None
    model: str | None


class _Tags(TypedDict, total=False):
    models: list[_Tag] | None


parse_ollama_chat = json_validator(OllamaChat)
parse_ollama_tags = json_validator(_Tags)
