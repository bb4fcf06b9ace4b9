"""The wire shapes of Anthropic's Messages API: the response body and every stream event.

One event shape covers every ``type`` (``message_start``, ``content_block_start``,
``content_block_delta``, ``message_delta``, ``error``…): the fields are disjoint enough,
and one validator call per event is the cheapest check. Unknown block and delta types
(server tools, citations) pass and are ignored. A thinking block's values are left unchecked
here (``Any``: the keys may mean something else in a block we do not read) and checked where
they become a part.
"""

from __future__ import annotations

from typing import Any

from typing_extensions import TypedDict

from oneringai.infrastructure.providers._wire import TokenCount, json_validator

__all__ = ["AnthropicBlock", "AnthropicUsage", "parse_anthropic_event", "parse_anthropic_message"]


class AnthropicBlock(TypedDict, total=False):
    type: str | None
    text: str | None
    id: str | None
    name: str | None
    input: Any
    thinking: Any  # thinking blocks
    signature: Any
    data: Any  # redacted_thinking blocks


class AnthropicUsage(TypedDict, total=False):
    input_tokens: TokenCount | None
    output_tokens: TokenCount | None
    cache_read_input_tokens: TokenCount | None
    cache_creation_input_tokens: TokenCount | None


class AnthropicMessage(TypedDict, total=False):
    id: str | None
    type: str | None
    model: str | None
    content: list[AnthropicBlock] | None
    stop_reason: str | None
    usage: AnthropicUsage | None
    error: Any  # {"type": "error", "error": {...}} sent with status 200 (a proxy, a gateway)


class AnthropicDelta(TypedDict, total=False):
    type: str | None
    text: str | None
    partial_json: str | None
    thinking: str | None  # thinking_delta
    signature: str | None  # signature_delta
    stop_reason: str | None


class AnthropicEvent(TypedDict, total=False):
    type: str | None
    message: AnthropicMessage | None
    index: int | None
    content_block: AnthropicBlock | None
    delta: AnthropicDelta | None
    usage: AnthropicUsage | None
    error: Any
    request_id: Any  # beside an ``error`` event's error (read when it is an id)


parse_anthropic_message = json_validator(AnthropicMessage)
parse_anthropic_event = json_validator(AnthropicEvent)
