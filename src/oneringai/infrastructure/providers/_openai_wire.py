"""The wire shapes of OpenAI's Chat Completions, models list and Images, as vendors send them.

Lenient where OpenAI-compatible servers differ: ``content`` may be a string, a list of
parts or null; tool-call ``arguments`` a JSON string (OpenAI) or an object (some servers);
ids may be missing or null.
"""

from __future__ import annotations

from typing import Any, NotRequired

from typing_extensions import TypedDict

from oneringai.infrastructure.providers._wire import TokenCount, json_validator, lazy_json_validator

__all__ = ["ChatCompletion", "ChatUsage", "parse_chat", "parse_images", "parse_models"]


class ChatFunction(TypedDict, total=False):
    name: str | None
    arguments: Any


class ChatToolCall(TypedDict, total=False):
    id: str | None
    index: int | None
    type: str | None
    function: ChatFunction | None


class ChatPart(TypedDict, total=False):
    type: str | None
    text: str | None


class ChatMessage(TypedDict, total=False):
    role: str | None
    content: str | list[ChatPart] | None
    tool_calls: list[ChatToolCall] | None
    function_call: ChatFunction | None  # the deprecated ``functions`` API: one call, no id
    refusal: Any  # the model declined: its text instead of content (read when a string)


class ChatChoice(TypedDict, total=False):
    index: int | None
    message: ChatMessage | None
    delta: ChatMessage | None
    finish_reason: str | None


class ChatUsage(TypedDict, total=False):
    prompt_tokens: TokenCount | None
    completion_tokens: TokenCount | None
    total_tokens: TokenCount | None


class ChatCompletion(TypedDict, total=False):
    """A whole response (``choices[].message``) or a stream chunk (``choices[].delta``)."""

    id: str | None
    model: str | None
    choices: list[ChatChoice] | None
    usage: ChatUsage | None
    error: Any
    status_code: Any


class _Model(TypedDict, total=False):
    id: str | None


class _Models(TypedDict, total=False):
    data: list[_Model] | None


class _Image(TypedDict, total=False):
    url: str | None
    b64_json: str | None
    revised_prompt: str | None


class _ImageUsage(TypedDict, total=False):
    input_tokens: TokenCount | None
    output_tokens: TokenCount | None
    total_tokens: TokenCount | None


class _Images(TypedDict):
    data: list[_Image]
    created: NotRequired[TokenCount | None]  # seconds since the epoch, bounded the same way
    usage: NotRequired[_ImageUsage | None]  # gpt-image models
    output_format: NotRequired[str | None]
    size: NotRequired[str | None]
    quality: NotRequired[str | None]
    background: NotRequired[str | None]


parse_chat = json_validator(ChatCompletion)
parse_models = lazy_json_validator(_Models)
parse_images = lazy_json_validator(_Images)
