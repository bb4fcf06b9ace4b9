"""Conversation items and their content parts, in the original library's shape.

Items are ``{"type": "message", "role": ..., "content": [...]}``; parts are
``input_text``, ``input_image_url``, ``output_text``, ``tool_use`` and ``tool_result``.
The shapes are vendor-neutral: each provider maps them to its own wire format.

Two parts are one vendor's own and travel only back to it: ``thinking`` and
``redacted_thinking``, Anthropic's extended thinking. The API signs them; an assistant turn
with ``tool_use`` must be sent back with them first and unchanged while thinking is on, so
they are kept in the history. Every other provider leaves them out of its requests, and they
are never part of ``output_text``.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import Field

from oneringai.domain._guide_model import GuideModel

__all__ = [
    "MAX_THINKING_CHARS",
    "Content",
    "ContentType",
    "ImageURL",
    "InputImageContent",
    "InputItem",
    "InputTextContent",
    "Message",
    "MessageRole",
    "OutputTextContent",
    "RedactedThinkingContent",
    "ThinkingContent",
    "ToolResultContent",
    "ToolUseContent",
]


class MessageRole(StrEnum):
    USER = "user"
    ASSISTANT = "assistant"
    DEVELOPER = "developer"


class ContentType(StrEnum):
    INPUT_TEXT = "input_text"
    INPUT_IMAGE_URL = "input_image_url"
    OUTPUT_TEXT = "output_text"
    TOOL_USE = "tool_use"
    TOOL_RESULT = "tool_result"
    THINKING = "thinking"
    REDACTED_THINKING = "redacted_thinking"


#: The longest thinking text, signature or redacted ``data`` a part holds, in characters. Far
#: above what a model writes (its whole output is some 128k tokens; a signature carries the
#: encrypted full thinking), low enough that a hostile value is refused before it is kept.
MAX_THINKING_CHARS = 16_000_000


class _Part(GuideModel):
    pass


class InputTextContent(_Part):
    type: Literal["input_text"] = "input_text"
    text: str


class ImageURL(GuideModel):
    """An http(s) URL or a ``data:image/...;base64,...`` URI."""

    url: str
    detail: Literal["auto", "low", "high"] = "auto"


class InputImageContent(_Part):
    type: Literal["input_image_url"] = "input_image_url"
    image_url: ImageURL


class OutputTextContent(_Part):
    type: Literal["output_text"] = "output_text"
    text: str


class ToolUseContent(_Part):
    """A tool call made by the assistant. ``arguments`` is a JSON string, as the model wrote it."""

    type: Literal["tool_use"] = "tool_use"
    id: str
    name: str
    arguments: str = "{}"


class ToolResultContent(_Part):
    """The result of a tool call, sent back to the model. ``error`` is set when the tool failed."""

    type: Literal["tool_result"] = "tool_result"
    tool_use_id: str
    content: Any = ""
    error: str | None = None


class ThinkingContent(_Part):
    """Anthropic extended thinking: the model's reasoning and the ``signature`` that
    authenticates it. Sent back to Anthropic unchanged (an assistant turn without its signed
    thinking is refused while thinking is on); an unsigned part (``signature`` empty, as from
    a provider that does not sign) is never sent to it. Other providers leave it out."""

    type: Literal["thinking"] = "thinking"
    thinking: str = Field(max_length=MAX_THINKING_CHARS)
    signature: str = Field(default="", max_length=MAX_THINKING_CHARS)


class RedactedThinkingContent(_Part):
    """Anthropic extended thinking the API encrypted (flagged by its safety systems): only
    the opaque ``data`` travels, sent back to Anthropic unchanged; other providers leave it out."""

    type: Literal["redacted_thinking"] = "redacted_thinking"
    data: str = Field(max_length=MAX_THINKING_CHARS)


Content = Annotated[
    InputTextContent
    | InputImageContent
    | OutputTextContent
    | ToolUseContent
    | ToolResultContent
    | ThinkingContent
    | RedactedThinkingContent,
    Field(discriminator="type"),
]


class Message(GuideModel):
    type: Literal["message"] = "message"
    role: MessageRole
    content: list[Content]

    @classmethod
    def user(cls, text: str) -> Message:
        return cls(role=MessageRole.USER, content=[InputTextContent(text=text)])

    @classmethod
    def assistant(cls, text: str) -> Message:
        return cls(role=MessageRole.ASSISTANT, content=[OutputTextContent(text=text)])

    @classmethod
    def developer(cls, text: str) -> Message:
        return cls(role=MessageRole.DEVELOPER, content=[InputTextContent(text=text)])

    @property
    def text(self) -> str:
        """The concatenated text parts (input or output) of this message."""
        return "".join(
            part.text for part in self.content if isinstance(part, InputTextContent | OutputTextContent)
        )


InputItem = Message
