"""The OpenTelemetry semantic conventions for generative AI, as attributes of our domain values.

Everything that knows an attribute name lives here, so the instrumented code (the observed
provider, the agent loop, the tool span, the OAuth refresh) stays about what happened and the
conventions can move in one place. We emit the latest conventions (``gen_ai.provider.name``,
not the older ``gen_ai.system``; content as ``gen_ai.input.messages`` /
``gen_ai.output.messages`` / ``gen_ai.system_instructions`` JSON strings, since OpenTelemetry
Python has no structured span attributes yet).

Content is recorded only when the telemetry says ``capture_content``; every piece of text that
can hold vendor or user data passes through ``redaction.redact``, and each part is cut at
``max_content_chars`` (the JSON structure stays valid).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import urlsplit

from oneringai.domain.content import (
    InputImageContent,
    InputTextContent,
    Message,
    MessageRole,
    OutputTextContent,
    ToolResultContent,
    ToolUseContent,
)
from oneringai.domain.options import TextGenerateOptions
from oneringai.domain.redaction import redact
from oneringai.domain.response import LLMResponse
from oneringai.domain.telemetry import AttributeValue, Histogram, Telemetry
from oneringai.domain.tools import json_depth as _nesting

__all__ = [
    "DURATION_BUCKETS",
    "TOKEN_BUCKETS",
    "GenAIMetrics",
    "input_messages",
    "output_messages",
    "provider_attributes",
    "request_attributes",
    "response_attributes",
    "system_instructions",
    "vendor_text",
]

OPERATION = "gen_ai.operation.name"
PROVIDER = "gen_ai.provider.name"
REQUEST_MODEL = "gen_ai.request.model"
RESPONSE_MODEL = "gen_ai.response.model"
ERROR_TYPE = "error.type"

#: Bucket boundaries the conventions recommend for each histogram.
TOKEN_BUCKETS = (1, 4, 16, 64, 256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304, 16777216, 67108864)
DURATION_BUCKETS = (0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48, 40.96, 81.92)

#: Our provider kinds as the conventions' well-known ``gen_ai.provider.name`` values.
_PROVIDER_NAMES = {"openai_compatible": "openai"}
#: provider_options keys with a neutral request attribute.
_REQUEST_OPTIONS = {
    "top_p": "gen_ai.request.top_p",
    "top_k": "gen_ai.request.top_k",
    "seed": "gen_ai.request.seed",
    "frequency_penalty": "gen_ai.request.frequency_penalty",
    "presence_penalty": "gen_ai.request.presence_penalty",
}
_OUTPUT_TYPES = {"text": "text", "json_object": "json", "json_schema": "json"}
#: Finish reasons vendors send that need no scrubbing.
_KNOWN_REASONS = frozenset(
    {"stop", "length", "tool_calls", "content_filter", "end_turn", "max_tokens", "stop_sequence", "tool_use",
     "refusal", "pause_turn", "complete", "function_call"}
)
#: Longest id, model name or finish reason recorded from a vendor (real ones are far shorter).
_MAX_VENDOR_TEXT = 256
_ROLES = {MessageRole.USER: "user", MessageRole.ASSISTANT: "assistant", MessageRole.DEVELOPER: "system"}


def provider_attributes(kind: str, *, base_url: str | None, name: str) -> dict[str, AttributeValue]:
    """The attributes of every call through one provider: its convention name, server, our name."""
    attributes: dict[str, AttributeValue] = {
        OPERATION: "chat",
        PROVIDER: _PROVIDER_NAMES.get(kind, kind),
    }
    if base_url:
        try:
            parts = urlsplit(base_url)
            host, port = parts.hostname, parts.port
        except ValueError:  # a malformed URL is the provider's problem, not the span's
            host, port = None, None
        if host:
            attributes["server.address"] = host
            attributes["server.port"] = port or (443 if parts.scheme == "https" else 80)
    attributes["oneringai.provider"] = name
    return attributes


def request_attributes(options: TextGenerateOptions) -> dict[str, AttributeValue]:
    """What was asked: model and sampling parameters (no content)."""
    attributes: dict[str, AttributeValue] = {REQUEST_MODEL: options.model}
    if options.temperature is not None:
        attributes["gen_ai.request.temperature"] = options.temperature
    if options.max_output_tokens is not None:
        attributes["gen_ai.request.max_tokens"] = options.max_output_tokens
    if options.stop:
        attributes["gen_ai.request.stop_sequences"] = list(options.stop)
    if options.response_format is not None:
        attributes["gen_ai.output.type"] = _OUTPUT_TYPES.get(options.response_format.type, "text")
    extra = options.provider_options
    if extra:
        for key, attribute in _REQUEST_OPTIONS.items():
            value = extra.get(key)
            if isinstance(value, int | float) and not isinstance(value, bool):
                attributes[attribute] = value
    return attributes


def vendor_text(text: str, known: str | frozenset[str] = _KNOWN_REASONS) -> str:
    """A string the vendor chose (an id, a model name, a reason): scrubbed unless it is one we
    know (the model we asked for, a common finish reason)."""
    if text == known if isinstance(known, str) else text in known:
        return text
    return redact(text)[:_MAX_VENDOR_TEXT]  # bounded: it may become a metric attribute


def response_attributes(response: LLMResponse, requested_model: str = "") -> dict[str, AttributeValue]:
    """What came back: id, model, finish reason, token usage (vendor strings scrubbed)."""
    attributes: dict[str, AttributeValue] = {}
    if response.id:
        attributes["gen_ai.response.id"] = redact(response.id)[:_MAX_VENDOR_TEXT]
    if response.model:
        attributes[RESPONSE_MODEL] = vendor_text(response.model, requested_model)
    reason = response.raw_stop_reason or response.stop_reason
    if reason:
        attributes["gen_ai.response.finish_reasons"] = [vendor_text(reason)]
    usage = response.usage
    if usage.input_tokens or usage.output_tokens:
        attributes["gen_ai.usage.input_tokens"] = usage.input_tokens
        attributes["gen_ai.usage.output_tokens"] = usage.output_tokens
    if response.provider:
        attributes["oneringai.response.provider"] = response.provider
    return attributes


# --- content (opt-in) -----------------------------------------------------------------------------
def _text(value: Any, limit: int) -> str:
    """Scrubbed before it is cut (no half secret left) and before JSON escapes it (an escaped
    secret would no longer match the registered value)."""
    text = redact(value if isinstance(value, str) else json.dumps(value, default=str))
    if len(text) > limit:
        text = text[:limit] + f"… [{len(text) - limit} more characters]"
    return text


#: Arguments nested deeper are recorded as text: a model may write ``[[[[…`` thousands deep,
#: and neither ``json.loads`` nor the ``json.dumps`` of the span may recurse that far.
_MAX_ARGUMENT_DEPTH = 64


def _arguments(raw: str, limit: int) -> Any:
    """Tool call arguments as an object when they are JSON (the conventions ask for one)."""
    cleaned = redact(raw)
    if len(cleaned) <= limit:
        try:
            value = json.loads(cleaned)
        except (ValueError, RecursionError):
            pass
        else:
            if _nesting(value) <= _MAX_ARGUMENT_DEPTH:
                return value
    return _text(cleaned, limit)


def _parts(message: Message, limit: int) -> list[dict[str, Any]]:
    parts: list[dict[str, Any]] = []
    for part in message.content:
        if isinstance(part, InputTextContent | OutputTextContent):
            parts.append({"type": "text", "content": _text(part.text, limit)})
        elif isinstance(part, ToolUseContent):
            parts.append(
                {"type": "tool_call", "id": part.id, "name": part.name, "arguments": _arguments(part.arguments, limit)}
            )
        elif isinstance(part, ToolResultContent):
            parts.append(
                {"type": "tool_call_response", "id": part.tool_use_id, "response": _text(part.content, limit)}
            )
        elif isinstance(part, InputImageContent):
            url = part.image_url.url
            if url.startswith("data:"):  # inline bytes stay out of telemetry
                parts.append({"type": "blob", "modality": "image", "mime_type": url[5:].split(";", 1)[0]})
            else:
                parts.append({"type": "uri", "modality": "image", "uri": _text(url, limit)})
    return parts


def _role(message: Message) -> str:
    if message.content and all(isinstance(p, ToolResultContent) for p in message.content):
        return "tool"
    return _ROLES.get(message.role, str(message.role))


def _dump(value: Any) -> str:
    """Every text inside was scrubbed by ``_text``; this pass catches what is left (ids, names)."""
    return redact(json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=str))


def input_messages(options: TextGenerateOptions, limit: int) -> str:
    """``gen_ai.input.messages``: the chat history sent, in the conventions' JSON shape."""
    items: Iterable[Message] = [Message.user(options.input)] if isinstance(options.input, str) else options.input
    return _dump([{"role": _role(m), "parts": _parts(m, limit)} for m in items])


def system_instructions(options: TextGenerateOptions, limit: int) -> str | None:
    """``gen_ai.system_instructions``: instructions given apart from the history."""
    if not options.instructions:
        return None
    return _dump([{"type": "text", "content": _text(options.instructions, limit)}])


def output_messages(response: LLMResponse, limit: int) -> str:
    """``gen_ai.output.messages``: one message per choice (ours: one), with its finish reason."""
    parts = [part for message in response.output for part in _parts(message, limit)]
    reason = response.raw_stop_reason or response.stop_reason or ""
    return _dump([{"role": "assistant", "parts": parts, "finish_reason": reason}])


class GenAIMetrics:
    """The two client histograms of the conventions, with their recommended buckets."""

    __slots__ = ("duration", "enabled", "tokens")

    def __init__(self, telemetry: Telemetry) -> None:
        self.enabled = telemetry.metrics
        self.duration: Histogram = telemetry.histogram(
            "gen_ai.client.operation.duration",
            unit="s",
            description="GenAI operation duration.",
            boundaries=DURATION_BUCKETS,
        )
        self.tokens: Histogram = telemetry.histogram(
            "gen_ai.client.token.usage",
            unit="{token}",
            description="Number of input and output tokens used.",
            boundaries=TOKEN_BUCKETS,
        )

    def record(
        self,
        seconds: float,
        base: Mapping[str, AttributeValue],
        *,
        response: LLMResponse | None = None,
        error_type: str | None = None,
    ) -> None:
        """One operation: its duration (with ``error.type`` when it failed) and, when the
        provider reported usage, its input and output tokens."""
        if not self.enabled:
            return
        attributes = dict(base)
        if response is not None and response.model:
            attributes[RESPONSE_MODEL] = vendor_text(response.model, str(base.get(REQUEST_MODEL, "")))
        if error_type is not None:
            attributes[ERROR_TYPE] = error_type
        self.duration.record(seconds, attributes)
        if response is None:
            return
        usage = response.usage
        if usage.input_tokens or usage.output_tokens:
            self.tokens.record(usage.input_tokens, {**attributes, "gen_ai.token.type": "input"})
            self.tokens.record(usage.output_tokens, {**attributes, "gen_ai.token.type": "output"})
