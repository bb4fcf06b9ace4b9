"""Tool calls, tool results and the context an executor runs them in.

Shapes follow the guide: ``tool_call.function.name`` / ``tool_call.function.arguments``
(a JSON string), ``ToolResult(tool_call_id, output, error)``, and
``context.tools`` holding the tools available to this call, each with
``definition.function.name`` and an async ``execute(arguments)``.
"""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from typing import Any, Literal

from pydantic import ConfigDict, Field, PrivateAttr, field_validator

from oneringai.domain._base import DomainModel

__all__ = [
    "FunctionDefinition",
    "FunctionToolDefinition",
    "Tool",
    "ToolCall",
    "ToolCallFunction",
    "ToolExecutionContext",
    "ToolResult",
]


class FunctionDefinition(DomainModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(pattern=r"^[A-Za-z0-9_.-]{1,64}$")
    description: str = ""
    parameters: dict[str, Any] = Field(default_factory=lambda: {"type": "object", "properties": {}})
    strict: bool | None = None


class FunctionToolDefinition(DomainModel):
    """The definition a model sees: ``{"type": "function", "function": {...}}``."""

    model_config = ConfigDict(extra="forbid")
    type: Literal["function"] = "function"
    function: FunctionDefinition

    @property
    def name(self) -> str:
        return self.function.name


class ToolCallFunction(DomainModel):
    name: str
    arguments: str = "{}"


class ToolCall(DomainModel):
    """A call the model asked for. ``function.arguments`` is the model's raw JSON text."""

    id: str
    type: Literal["function"] = "function"
    function: ToolCallFunction
    _parsed: tuple[str, Any] | None = PrivateAttr(default=None)

    @property
    def name(self) -> str:
        return self.function.name

    def parsed_arguments(self) -> Any:
        """The arguments as JSON (parsed once per text; treat the result as read-only);
        raises ``ValueError`` when the model wrote invalid JSON."""
        text = self.function.arguments
        private = self.__pydantic_private__  # direct: attribute access to privates is slow
        cached = private.get("_parsed") if private is not None else None
        if cached is not None and cached[0] is text:
            return cached[1]
        value = json.loads(text.strip() or "{}")
        if private is not None:
            private["_parsed"] = (text, value)
        return value


class ToolResult(DomainModel):
    """What a tool call produced. ``error`` is set (to a message) when it failed."""

    tool_call_id: str
    output: str = ""
    error: str | None = None
    tool_name: str | None = None
    execution_time_ms: float | None = None
    metadata: dict[str, Any] = Field(default_factory=dict)

    @field_validator("error", mode="before")
    @classmethod
    def _accept_boolean_error(cls, value: Any) -> Any:
        # The guide writes ``error: true``; keep that spelling working.
        if value is True:
            return "tool error"
        if value is False:
            return None
        return value

    @property
    def is_error(self) -> bool:
        return self.error is not None

    @classmethod
    def failure(
        cls, tool_call: ToolCall, message: str, *, code: str = "tool_error", **metadata: Any
    ) -> ToolResult:
        """An error result whose output tells the model what went wrong."""
        return cls(
            tool_call_id=tool_call.id,
            tool_name=tool_call.function.name,
            output=json.dumps({"error": message, "code": code}),
            error=message,
            metadata={"code": code, **metadata},
        )


class Tool(ABC):
    """A callable tool: a definition the model sees and an async ``execute``."""

    #: Whether results may be cached by a caching executor.
    cacheable: bool = True
    #: Price of one call, in the currency units used by the cost executor.
    cost_per_call: float = 0.0

    @property
    @abstractmethod
    def definition(self) -> FunctionToolDefinition: ...

    @property
    def name(self) -> str:
        return self.definition.function.name

    @abstractmethod
    async def execute(self, arguments: Mapping[str, Any]) -> Any:
        """Run the tool with already-parsed arguments and return a JSON-serialisable result."""

    def validate_arguments(self, arguments: Any) -> Mapping[str, Any]:
        """Check arguments before the call; raise ``ValueError`` with a message the model reads."""
        if not isinstance(arguments, Mapping):
            raise ValueError("arguments must be a JSON object")
        return arguments


class ToolExecutionContext(DomainModel):
    """Everything an executor may need besides the call: tools, who is calling, where."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    tools: Sequence[Tool] = ()
    user_id: str | None = None
    roles: frozenset[str] = frozenset()
    agent_id: str | None = None
    iteration: int = 0
    metadata: dict[str, Any] = Field(default_factory=dict)

    def find_tool(self, name: str) -> Tool | None:
        for tool in self.tools:
            if tool.definition.function.name == name:
                return tool
        return None
