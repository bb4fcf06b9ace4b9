"""Keeping an agent's conversation acceptable to every vendor.

OpenAI and Anthropic reject a history in which a tool call is not answered: every
``tool_use`` of an assistant message needs exactly one ``tool_result`` at the start of the
next (user) message, in the same order, and a ``tool_result`` may answer nothing else. A run
that is cancelled, times out, fails or is abandoned mid-stream leaves calls open; these
helpers close them (answering with the result the tool produced when there is one, else an
error result saying why it has none), so the next run is valid.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping, Sequence

from pydantic import TypeAdapter, ValidationError

from oneringai.application.agents.support import AgentInputError
from oneringai.domain.content import (
    Content,
    InputItem,
    Message,
    MessageRole,
    ToolResultContent,
    ToolUseContent,
)
from oneringai.domain.response import LLMResponse
from oneringai.domain.tools import ToolCall, ToolResult

__all__ = ["MAX_TOOL_CALLS_PER_RESPONSE", "answer_open_calls", "call_ids", "input_items", "refuse_excess_calls", "restored_history", "result_part", "with_unique_call_ids"]

#: Tool calls of one model response that are run; the rest are answered with an error result
#: (a hostile or looping server can send 50,000 calls in one body — each would hold a task, an
#: output of up to ``max_tool_output_chars`` and a history entry).
MAX_TOOL_CALLS_PER_RESPONSE = 128


def input_items(input: object, history: Sequence[InputItem]) -> list[InputItem]:
    """What ``run(input)`` adds to ``history``, checked before anything is added.

    A string is one user message; a sequence holds messages (or their dict form, as the guide
    writes them). Anything else — and an empty prompt, a message without content, a run that
    would send no message at all — is an ``AgentInputError``: appended unchecked, a bad item
    stayed in the history and every later run of the agent failed on it (a raw
    ``AttributeError``), and an empty text was a message every vendor refuses.
    """
    if isinstance(input, str):
        if not input:
            raise AgentInputError("agent input is an empty string: give the prompt text")
        return [Message.user(input)]
    if not isinstance(input, Sequence) or isinstance(input, bytes | bytearray):
        raise AgentInputError(
            f"agent input must be a string or a sequence of messages, not {type(input).__name__}"
        )
    items = _messages(input, "agent input item")
    if not items and not history:
        raise AgentInputError("agent input is empty and the conversation has no message yet")
    return items


def restored_history(history: object) -> list[InputItem]:
    """``agent.messages`` as messages: a history saved as JSON and assigned back as dicts is
    validated (it made every run fail with a raw ``AttributeError``); anything else that is
    not a message is an ``AgentInputError`` naming its index. One pass when already messages."""
    if isinstance(history, list) and all(isinstance(item, Message) for item in history):
        return history
    if not isinstance(history, Sequence) or isinstance(history, str | bytes | bytearray):
        raise AgentInputError(f"agent.messages must be a list of messages, not {type(history).__name__}")
    return _messages(history, "agent.messages item")


def _messages(items: Sequence[object], what: str) -> list[InputItem]:
    messages: list[InputItem] = []
    for index, item in enumerate(items):
        if not isinstance(item, Message):
            try:
                item = _MESSAGE.validate_python(item)
            except ValidationError as exc:
                errors = exc.errors()
                where = ".".join(str(part) for part in errors[0]["loc"]) if errors else ""
                problem = errors[0]["msg"] if errors else "invalid"  # never the input value itself
                raise AgentInputError(
                    f"{what} {index} is not a message ({type(item).__name__}): "
                    f"{where + ': ' if where else ''}{problem}"
                ) from None
        if not item.content:
            raise AgentInputError(f"{what} {index} has no content; no vendor accepts an empty message")
        messages.append(item)
    return messages


_MESSAGE: TypeAdapter[Message] = TypeAdapter(Message)


def result_part(result: ToolResult) -> ToolResultContent:
    return ToolResultContent(tool_use_id=result.tool_call_id, content=result.output, error=result.error)


def _calls(message: InputItem) -> list[ToolUseContent]:
    if message.role != MessageRole.ASSISTANT:
        return []
    return [part for part in message.content if isinstance(part, ToolUseContent)]


def _leading_results(message: InputItem) -> list[ToolResultContent]:
    leading: list[ToolResultContent] = []
    for part in message.content:
        if not isinstance(part, ToolResultContent):
            break
        leading.append(part)
    return leading


def answer_open_calls(
    messages: list[InputItem], known: Mapping[str, ToolResult], *, code: str, reason: str
) -> None:
    """In place: after each assistant message with tool calls, the next message starts with
    one result per call, in call order — the existing result, else ``known[id]``, else an
    error result (``code``, ``reason``). Results that answer no call there are dropped (and a
    message left empty by that). Idempotent, and one pass without copies on a valid history."""
    index = 0
    while index < len(messages):
        message = messages[index]
        calls = _calls(message)
        if not calls:
            if message.role == MessageRole.USER and any(
                isinstance(part, ToolResultContent) for part in message.content
            ):  # orphan results (an edited history): no vendor accepts them
                kept = [part for part in message.content if not isinstance(part, ToolResultContent)]
                if kept:
                    messages[index] = Message(role=MessageRole.USER, content=kept)
                else:
                    del messages[index]
                    continue
            index += 1
            continue
        following = messages[index + 1] if index + 1 < len(messages) else None
        leading = (
            _leading_results(following)
            if following is not None and following.role == MessageRole.USER
            else []
        )
        if (
            [part.tool_use_id for part in leading] == [call.id for call in calls]
            and following is not None
            and not any(isinstance(part, ToolResultContent) for part in following.content[len(leading) :])
        ):
            index += 2
            continue
        existing = {part.tool_use_id: part for part in leading}
        answers: list[Content] = [
            existing.get(call.id)
            or result_part(known.get(call.id) or _failure(call, code=code, reason=reason))
            for call in calls
        ]
        if leading and following is not None:
            rest = [
                part for part in following.content[len(leading) :] if not isinstance(part, ToolResultContent)
            ]
            messages[index + 1] = Message(role=MessageRole.USER, content=[*answers, *rest])
        else:
            messages.insert(index + 1, Message(role=MessageRole.USER, content=answers))
        index += 2


def refuse_excess_calls(calls: list[ToolCall], done: dict[str, ToolResult]) -> list[ToolCall]:
    """The calls to run; each call past ``MAX_TOOL_CALLS_PER_RESPONSE`` gets its error result in
    ``done`` now, so the history still answers every call."""
    if len(calls) <= MAX_TOOL_CALLS_PER_RESPONSE:
        return calls
    reason = (
        f"not run: the response asked for {len(calls)} tool calls and at most "
        f"{MAX_TOOL_CALLS_PER_RESPONSE} are run per response"
    )
    for call in calls[MAX_TOOL_CALLS_PER_RESPONSE:]:
        done[call.id] = ToolResult.failure(call, reason, code="too_many_tool_calls")
    return calls[:MAX_TOOL_CALLS_PER_RESPONSE]


def _failure(call: ToolUseContent, *, code: str, reason: str) -> ToolResult:
    return ToolResult(
        tool_call_id=call.id,
        tool_name=call.name,
        output=json.dumps({"error": reason, "code": code}),
        error=reason,
        execution_time_ms=None,
        metadata={"code": code},
    )


def call_ids(messages: Sequence[InputItem]) -> set[str]:
    """The tool call ids already used in ``messages``."""
    return {part.id for message in messages for part in _calls(message)}


def with_unique_call_ids(response: LLMResponse, used: set[str] | frozenset[str] = frozenset()) -> LLMResponse:
    """``response`` with every tool call id non-empty and unique within it and not in ``used``
    (the ids earlier turns of the conversation hold). A vendor pairs results by id; local
    servers repeat ids or send none, and many number their calls per response (``call_0``
    in every turn) — Anthropic refuses a conversation whose ``tool_use`` ids repeat, even
    across turns (a fallback to it, or a history moved to it). Unchanged when already so."""
    seen: set[str] = set()
    clash = False
    for item in response.output:
        for part in item.content:
            if isinstance(part, ToolUseContent):
                if not part.id or part.id in seen or part.id in used:
                    clash = True
                seen.add(part.id)
    if not clash:
        return response
    seen.clear()
    output: list[Message] = []
    for item in response.output:
        content = []
        for part in item.content:
            if isinstance(part, ToolUseContent):
                if not part.id or part.id in seen or part.id in used:
                    part = part.model_copy(update={"id": f"call_{uuid.uuid4().hex[:24]}"})
                seen.add(part.id)
            content.append(part)
        output.append(item.model_copy(update={"content": content}))
    return response.model_copy(update={"output": output})
