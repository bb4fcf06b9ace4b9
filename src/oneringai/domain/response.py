"""The provider-neutral response of one model call."""

from __future__ import annotations

import time
from typing import Literal

from pydantic import Field

from oneringai.domain._guide_model import GuideModel
from oneringai.domain.content import Message, OutputTextContent, ToolUseContent
from oneringai.domain.tools import ToolCall, ToolCallFunction

__all__ = ["LLMResponse", "StopReason", "Usage"]

#: Normalised stop reasons; ``raw_stop_reason`` on the response keeps the vendor's word.
StopReason = Literal["complete", "tool_calls", "max_tokens", "content_filter", "stop_sequence"]


class Usage(GuideModel):
    input_tokens: int = 0
    output_tokens: int = 0
    total_tokens: int = 0

    def __add__(self, other: Usage) -> Usage:
        return Usage(
            input_tokens=self.input_tokens + other.input_tokens,
            output_tokens=self.output_tokens + other.output_tokens,
            total_tokens=self.total_tokens + other.total_tokens,
        )


class LLMResponse(GuideModel):
    id: str = ""
    object: Literal["response"] = "response"
    created_at: float = Field(default_factory=time.time)
    model: str = ""
    status: Literal["completed", "incomplete", "failed", "in_progress"] = "completed"
    output: list[Message] = Field(default_factory=list)
    usage: Usage = Field(default_factory=Usage)
    stop_reason: str | None = None
    raw_stop_reason: str | None = None
    #: The configured provider that served the call, when a composite (``kind: fallback``)
    #: chose among several; None when the provider called is the one that answered.
    provider: str | None = None

    @property
    def output_text(self) -> str:
        """All ``output_text`` parts of every output message, concatenated."""
        return "".join(
            part.text for item in self.output for part in item.content if isinstance(part, OutputTextContent)
        )

    @property
    def tool_calls(self) -> list[ToolCall]:
        """The tool calls the model asked for, in order."""
        return [
            ToolCall(id=part.id, function=ToolCallFunction(name=part.name, arguments=part.arguments))
            for item in self.output
            for part in item.content
            if isinstance(part, ToolUseContent)
        ]
