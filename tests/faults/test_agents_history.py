"""A strict conversation validator mirroring OpenAI's and Anthropic's request rules, and the
proof that it rejects what those APIs reject. The other ``test_agents_*`` files import
``validate_history`` to check ``agent.messages`` and every request a provider received.

The rules (the intersection of both vendors' checks on tool use):

* every message is a ``message`` item with a known role and non-empty content;
* ``tool_use`` parts appear only in assistant messages, with non-empty ids unique within
  the message;
* the message right after an assistant message with tool calls is a user message that
  *starts* with exactly one ``tool_result`` per call, in call order (Anthropic: results
  first in the next user turn; OpenAI: ``tool`` messages right after the assistant one);
* a ``tool_result`` appears nowhere else (no orphan, no duplicate, none after text).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pytest

from oneringai import Message, MessageRole, ToolResultContent, ToolUseContent
from oneringai.domain.content import InputTextContent, OutputTextContent


class InvalidHistory(AssertionError):
    pass


def validate_history(messages: Sequence[Any] | str) -> None:
    """Raise ``InvalidHistory`` naming the first rule ``messages`` breaks."""
    if isinstance(messages, str):
        return  # a plain prompt
    expected: list[str] | None = None  # ids the next message must answer first
    for index, message in enumerate(messages):
        where = f"message {index}"
        if not isinstance(message, Message) or message.type != "message":
            raise InvalidHistory(f"{where}: not a message item: {message!r}")
        if message.role not in (MessageRole.USER, MessageRole.ASSISTANT, MessageRole.DEVELOPER):
            raise InvalidHistory(f"{where}: unknown role {message.role!r}")
        if not message.content:
            raise InvalidHistory(f"{where}: empty content")
        parts = list(message.content)
        results = [p for p in parts if isinstance(p, ToolResultContent)]
        if expected is not None:
            if message.role != MessageRole.USER:
                raise InvalidHistory(f"{where}: tool calls {expected} are not answered by the next message")
            leading = []
            for part in parts:
                if not isinstance(part, ToolResultContent):
                    break
                leading.append(part.tool_use_id)
            if leading != expected:
                raise InvalidHistory(f"{where}: results {leading} do not answer calls {expected} one each, in order")
            if len(results) != len(leading):
                raise InvalidHistory(f"{where}: a tool_result after other content")
            expected = None
        elif results:
            raise InvalidHistory(f"{where}: tool_result {results[0].tool_use_id!r} answers no call")
        calls = [p for p in parts if isinstance(p, ToolUseContent)]
        if calls:
            if message.role != MessageRole.ASSISTANT:
                raise InvalidHistory(f"{where}: tool_use in a {message.role} message")
            ids = [c.id for c in calls]
            if any(not i for i in ids) or len(set(ids)) != len(ids):
                raise InvalidHistory(f"{where}: tool call ids must be non-empty and unique: {ids}")
            expected = ids
    if expected is not None:
        raise InvalidHistory(f"the conversation ends with unanswered tool calls {expected}")


def validate_requests(requests: Sequence[Any]) -> None:
    """Every request a (fake) provider received carried a valid conversation."""
    for number, request in enumerate(requests):
        try:
            validate_history(request.input)
        except InvalidHistory as exc:
            raise InvalidHistory(f"request {number}: {exc}") from None


# --- the validator rejects what the vendors reject ---------------------------------------------

def _user(text: str = "hi") -> Message:
    return Message.user(text)


def _calls(*ids: str) -> Message:
    return Message(role=MessageRole.ASSISTANT, content=[ToolUseContent(id=i, name="t") for i in ids])


def _results(*ids: str, text: str | None = None) -> Message:
    content: list[Any] = [ToolResultContent(tool_use_id=i, content="ok") for i in ids]
    if text is not None:
        content.append(InputTextContent(text=text))
    return Message(role=MessageRole.USER, content=content)


VALID = [
    [_user()],
    [_user(), Message.assistant("hello")],
    [_user(), _calls("a", "b"), _results("a", "b"), Message.assistant("done")],
    [_user(), _calls("a"), _results("a", text="and also"), _calls("b"), _results("b")],
    [Message.developer("be brief"), _user(), _user("again")],
]

INVALID = {
    "unanswered at the end": [_user(), _calls("a")],
    "one of two answered": [_user(), _calls("a", "b"), _results("a")],
    "answered out of order": [_user(), _calls("a", "b"), _results("b", "a")],
    "answered twice": [_user(), _calls("a"), _results("a", "a")],
    "text before the results": [_user(), _calls("a"), Message(role=MessageRole.USER, content=[
        InputTextContent(text="x"), ToolResultContent(tool_use_id="a")])],
    "orphan result": [_user(), _results("zzz")],
    "result after a plain answer": [_user(), Message.assistant("hi"), _results("a")],
    "user text between call and result": [_user(), _calls("a"), _user("?"), _results("a")],
    "duplicate ids in a turn": [_user(), _calls("a", "a"), _results("a", "a")],
    "empty id": [_user(), _calls(""), _results("")],
    "empty message": [_user(), Message(role=MessageRole.ASSISTANT, content=[])],
    "tool_use from the user": [Message(role=MessageRole.USER, content=[ToolUseContent(id="a", name="t")]), _results("a")],
    "assistant answers its own call": [_user(), _calls("a"), Message(role=MessageRole.ASSISTANT, content=[
        OutputTextContent(text="x")])],
}


@pytest.mark.parametrize("history", VALID)
def test_valid_histories_pass(history):
    validate_history(history)


@pytest.mark.parametrize("name", sorted(INVALID))
def test_invalid_histories_are_rejected(name):
    with pytest.raises(InvalidHistory):
        validate_history(INVALID[name])


def test_agent_repair_makes_every_invalid_tool_history_valid():
    """The agent's own repair (run at the start of each run) fixes unanswered, partial,
    reordered and duplicated answers — the states an interrupted run can leave."""
    from oneringai.application.agents.history import answer_open_calls

    for name in ("unanswered at the end", "one of two answered", "answered out of order", "answered twice",
                 "user text between call and result"):
        history = list(INVALID[name])
        answer_open_calls(history, {}, code="cancelled", reason="cancelled")
        validate_history(history)
        again = list(history)
        answer_open_calls(again, {}, code="cancelled", reason="cancelled")
        assert again == history, name  # idempotent
