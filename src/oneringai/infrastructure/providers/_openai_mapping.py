"""Chat Completions wire mapping, shared by every OpenAI-compatible server
(OpenAI, llama.cpp, vLLM, Groq, Together…)."""

from __future__ import annotations

import json
from typing import Any

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
from oneringai.domain.response import LLMResponse, Usage
from oneringai.domain.tools import MAX_ARGUMENT_DEPTH
from oneringai.domain.tools import json_depth as _nesting
from oneringai.infrastructure.providers._openai_wire import ChatCompletion, ChatPart, ChatUsage

__all__ = [
    "STOP_REASONS",
    "arguments_object",
    "arguments_text",
    "build_chat_request",
    "message_text",
    "parse_chat_response",
    "parse_usage",
    "tool_result_text",
]

STOP_REASONS = {
    "stop": "complete",
    "tool_calls": "tool_calls",
    "function_call": "tool_calls",
    "length": "max_tokens",
    "model_length": "max_tokens",  # Mistral: cut at the model's context length
    "content_filter": "content_filter",
}


def _json_text(value: Any) -> str:
    """Any value a caller put in a tool result as JSON text: objects JSON cannot hold become their
    ``str``; a cycle or a structure nested past the interpreter's recursion limit becomes a note,
    never a ``TypeError``/``ValueError``/``RecursionError`` before the request is sent."""
    try:
        return json.dumps(value, default=str)
    except (TypeError, ValueError, RecursionError):
        return f"<{type(value).__name__} that cannot be written as JSON>"


def tool_result_text(part: ToolResultContent) -> str:
    content = part.content
    text = content if isinstance(content, str) else _json_text(content)
    if part.error and not text:
        text = json.dumps({"error": part.error})
    return text


def _messages(options: TextGenerateOptions, instructions_role: str) -> list[dict[str, Any]]:
    messages: list[dict[str, Any]] = []
    if options.instructions:
        messages.append({"role": instructions_role, "content": options.instructions})
    items = [Message.user(options.input)] if isinstance(options.input, str) else options.input
    for item in items:
        if item.role is MessageRole.ASSISTANT:
            text = "".join(
                p.text for p in item.content if isinstance(p, OutputTextContent | InputTextContent)
            )
            calls = [
                {"id": p.id, "type": "function", "function": {"name": p.name, "arguments": p.arguments}}
                for p in item.content
                if isinstance(p, ToolUseContent)
            ]
            # content may be null only beside tool_calls: a lone null is refused ("expected a string")
            message: dict[str, Any] = {"role": "assistant", "content": text or (None if calls else "")}
            if calls:
                message["tool_calls"] = calls
            messages.append(message)
            continue
        role = instructions_role if item.role is MessageRole.DEVELOPER else "user"
        parts: list[dict[str, Any]] = []
        for part in item.content:
            if isinstance(part, ToolResultContent):
                messages.append(
                    {"role": "tool", "tool_call_id": part.tool_use_id, "content": tool_result_text(part)}
                )
            elif isinstance(part, InputTextContent | OutputTextContent):
                parts.append({"type": "text", "text": part.text})
            elif isinstance(part, InputImageContent):
                parts.append(
                    {
                        "type": "image_url",
                        "image_url": {"url": part.image_url.url, "detail": part.image_url.detail},
                    }
                )
        if not parts:
            continue
        if all(p["type"] == "text" for p in parts):
            # plain strings are understood by every compatible server
            messages.append({"role": role, "content": "".join(p["text"] for p in parts)})
        else:
            messages.append({"role": role, "content": parts})
    return messages


def build_chat_request(
    options: TextGenerateOptions,
    *,
    stream: bool,
    instructions_role: str = "system",
    max_tokens_field: str = "max_tokens",
) -> dict[str, Any]:
    body: dict[str, Any] = {"model": options.model, "messages": _messages(options, instructions_role)}
    if options.tools:
        body["tools"] = [
            {"type": "function", "function": tool.function.model_dump(exclude_none=True)}
            for tool in options.tools
        ]
        if options.parallel_tool_calls is not None:
            body["parallel_tool_calls"] = options.parallel_tool_calls
    # tool_choice without tools is refused ("only allowed when 'tools' are specified")
    if options.tool_choice is not None and (options.tools or "tools" in options.provider_options):
        choice = options.tool_choice
        body["tool_choice"] = (
            choice
            if choice in ("auto", "required", "none")
            else {"type": "function", "function": {"name": choice}}
        )
    if options.temperature is not None:
        body["temperature"] = options.temperature
    if options.max_output_tokens is not None:
        body[max_tokens_field] = options.max_output_tokens
    if options.stop:
        body["stop"] = options.stop
    fmt = options.response_format
    if fmt is not None and fmt.type != "text":
        if fmt.type == "json_schema" and fmt.json_schema is not None:
            schema = fmt.json_schema
            body["response_format"] = {
                "type": "json_schema",
                "json_schema": {"name": schema.name, "schema": schema.schema_, "strict": schema.strict},
            }
        else:
            body["response_format"] = {"type": "json_object"}
    if stream:
        body["stream"] = True
        body["stream_options"] = {"include_usage": True}
    body.update(options.provider_options)
    return body


def parse_usage(data: ChatUsage | None) -> Usage:
    if not data:
        return Usage()
    prompt = data.get("prompt_tokens") or 0
    completion = data.get("completion_tokens") or 0
    return Usage(
        input_tokens=prompt,
        output_tokens=completion,
        total_tokens=data.get("total_tokens") or prompt + completion,
    )


def message_text(content: str | list[ChatPart] | None) -> str:
    """``content`` as text: a string, or the text of its parts (some servers send parts)."""
    if not content:
        return ""
    if isinstance(content, str):
        return content
    return "".join(part.get("text") or "" for part in content)


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def arguments_object(text: str) -> dict[str, Any] | None:
    """A tool call's JSON-string arguments as the object Anthropic and Ollama want in history;
    None when they are not a JSON object nested at most ``MAX_ARGUMENT_DEPTH`` levels (a model's
    ``[[[[…`` thousands deep must not raise ``RecursionError`` when the next turn is built), or
    when they hold ``NaN``/``Infinity`` (Python's JSON reads them; no vendor's request does)."""
    try:
        value = json.loads(text or "{}", parse_constant=_no_constant)
    except (ValueError, RecursionError):
        return None
    if not isinstance(value, dict) or _nesting(value) > MAX_ARGUMENT_DEPTH:
        return None
    return value


def arguments_text(arguments: Any) -> str:
    """Tool-call arguments as the JSON string our model keeps (servers may send an object)."""
    if isinstance(arguments, str):
        return arguments
    return json.dumps(arguments if arguments is not None else {})


def parse_chat_response(data: ChatCompletion, model: str) -> LLMResponse:
    """The ``LLMResponse`` of a validated completion; ``ValueError`` when it has no choice."""
    choices = data.get("choices")
    if not choices:
        raise ValueError("response has no choices")
    choice = choices[0]
    message = choice.get("message") or {}
    content: list[Any] = []
    text = message_text(message.get("content"))
    refusal = message.get("refusal")
    refused = False
    if not text and isinstance(refusal, str) and refusal:  # the model declined: its reason is the
        text, refused = refusal, True  # answer (it was dropped: an empty "complete" response)
    if text:
        content.append(OutputTextContent(text=text))
    calls = message.get("tool_calls") or ()
    legacy = message.get("function_call")
    if not calls and legacy:  # ``finish_reason: function_call``: the call was dropped, "tool_calls" said
        calls = [{"function": legacy}]
    for call in calls:
        function = call.get("function") or {}
        content.append(
            ToolUseContent(
                id=call.get("id") or f"call_{len(content)}",
                name=function.get("name") or "",
                arguments=arguments_text(function.get("arguments")),
            )
        )
    raw_reason = choice.get("finish_reason")
    stop_reason = "content_filter" if refused else STOP_REASONS.get(raw_reason or "", raw_reason)
    calls_made = any(isinstance(part, ToolUseContent) for part in content)
    if stop_reason is None or (calls_made and stop_reason == "complete"):
        # as a stream ends: no finish_reason (null, some compatible servers) is a complete answer,
        # and one that calls tools says so whatever word the server used ("stop": vLLM, Ollama)
        stop_reason = "tool_calls" if calls_made else "complete"
    return LLMResponse(
        id=data.get("id") or "",
        model=data.get("model") or model,
        status="incomplete" if stop_reason == "max_tokens" else "completed",
        output=[Message(role=MessageRole.ASSISTANT, content=content)],
        usage=parse_usage(data.get("usage")),
        stop_reason=stop_reason,
        raw_stop_reason=raw_reason,
    )
