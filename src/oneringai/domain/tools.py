"""Tool calls, tool results and the context an executor runs them in.

Shapes follow the guide: ``tool_call.function.name`` / ``tool_call.function.arguments``
(a JSON string), ``ToolResult(tool_call_id, output, error)``, and
``context.tools`` holding the tools available to this call, each with
``definition.function.name`` and an async ``execute(arguments)``.

Arguments are the model's text, so they are bounded where they are parsed
(``ToolCall.parsed_arguments``): longer than ``MAX_ARGUMENT_CHARS`` or nested deeper than
``MAX_ARGUMENT_DEPTH`` is a ``ToolArgumentsError`` (a ``ValueError``), never a
``RecursionError`` in some layer that walks them later (audit redaction, cache keys, …).
"""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Literal

from pydantic import ConfigDict, Field, PrivateAttr, ValidationInfo, field_validator

from oneringai.domain._guide_model import GuideModel
from oneringai.domain.json_data import MAX_SCHEMA_DEPTH, json_data
from oneringai.domain.redaction import redact

__all__ = [
    "MAX_ARGUMENT_CHARS",
    "MAX_ARGUMENT_DEPTH",
    "FunctionDefinition",
    "FunctionToolDefinition",
    "Tool",
    "ToolArgumentsError",
    "ToolCall",
    "ToolCallFunction",
    "ToolExecutionContext",
    "ToolResult",
    "json_depth",
    "role_set",
]

#: Longest ``function.arguments`` text parsed, in characters (the default of every layer).
MAX_ARGUMENT_CHARS = 1_000_000
#: Deepest nesting of JSON arrays/objects accepted in arguments.
MAX_ARGUMENT_DEPTH = 64
_MAX_ERROR_CHARS = 4000
#: Read past the cut when scrubbing, so a secret straddling it is still recognised whole.
_SCRUB_MARGIN = 1024


class ToolArgumentsError(ValueError):
    """The model's arguments are not usable: invalid JSON, too long, or nested too deeply.

    A ``ValueError``, so code written against ``parsed_arguments()`` raising ``ValueError``
    keeps working; executors turn it into an ``invalid_arguments`` result.
    """


_CONTAINERS = (dict, list)


def json_depth(value: Any) -> int:
    """Nesting depth of arrays/objects, walked without recursion (the value came from
    ``json.loads``, so it is a tree of dicts, lists and scalars)."""
    if not isinstance(value, _CONTAINERS):
        return 0
    deepest = 1
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        node, level = stack.pop()
        if level > deepest:
            deepest = level
        for child in node.values() if isinstance(node, dict) else node:
            if isinstance(child, _CONTAINERS):
                stack.append((child, level + 1))
    return deepest


class FunctionDefinition(GuideModel):
    name: str = Field(pattern=r"^[A-Za-z0-9_.-]{1,64}$")
    description: str = ""
    parameters: dict[str, Any] = Field(default_factory=lambda: {"type": "object", "properties": {}})
    strict: bool | None = None

    @field_validator("parameters", mode="before")
    @classmethod
    def _json_schema(cls, value: Any, info: ValidationInfo) -> Any:
        """Plain JSON data (see ``json_data``), checked when the tool is defined: a set or NaN in
        a schema was a raw ``TypeError`` or invalid JSON in every request offering the tool."""
        name = info.data.get("name")
        where = f"tool {name!r}" if isinstance(name, str) else "a tool"
        return json_data(value, name="parameters", where=where, max_depth=MAX_SCHEMA_DEPTH)


class FunctionToolDefinition(GuideModel):
    """The definition a model sees: ``{"type": "function", "function": {...}}``."""

    type: Literal["function"] = "function"
    function: FunctionDefinition

    @property
    def name(self) -> str:
        return self.function.name


class ToolCallFunction(GuideModel):
    name: str
    arguments: str = "{}"


class ToolCall(GuideModel):
    """A call the model asked for. ``function.arguments`` is the model's raw JSON text."""

    id: str
    type: Literal["function"] = "function"
    function: ToolCallFunction
    _parsed: tuple[str, Any, int] | None = PrivateAttr(default=None)

    @property
    def name(self) -> str:
        return self.function.name

    def parsed_arguments(
        self, *, max_chars: int = MAX_ARGUMENT_CHARS, max_depth: int = MAX_ARGUMENT_DEPTH
    ) -> Any:
        """The arguments as JSON (parsed once per text; treat the result as read-only).

        Raises ``ToolArgumentsError`` (a ``ValueError``) when the model wrote invalid JSON,
        more than ``max_chars`` characters, or arrays/objects nested deeper than ``max_depth``.
        """
        text = self.function.arguments
        if not isinstance(text, str):  # only reachable through model_construct or assignment
            raise ToolArgumentsError(
                f"function.arguments must be a JSON string, not {type(text).__name__}"
            )
        if len(text) > max_chars:
            raise ToolArgumentsError(
                f"arguments are {len(text)} characters long; the limit is {max_chars}"
            )
        private = self.__pydantic_private__  # direct: attribute access to privates is slow
        cached = private.get("_parsed") if private is not None else None
        if cached is not None and cached[0] is text:
            value, depth = cached[1], cached[2]
        else:
            try:
                value = json.loads(text.strip() or "{}")
            except RecursionError:
                raise ToolArgumentsError(
                    f"arguments are nested too deeply (the limit is {max_depth} levels)"
                ) from None
            except ValueError as exc:  # JSONDecodeError, integer digit limit
                raise ToolArgumentsError(f"arguments are not valid JSON: {exc}") from None
            depth = json_depth(value)
            if private is not None:
                private["_parsed"] = (text, value, depth)
        if depth > max_depth:
            raise ToolArgumentsError(
                f"arguments are nested {depth} levels deep; the limit is {max_depth}"
            )
        return value


class ToolResult(GuideModel):
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
        """An error result whose output tells the model what went wrong.

        The message is scrubbed (registered secrets, credential shapes): it is sent to the model
        vendor and kept in the agent's history, and an exception a tool raised — an HTTP client
        quoting its ``Authorization`` header, a driver quoting its DSN — is not the tool's answer.
        Scrubbed before it is cut, so no cut leaves half a secret behind."""
        length = len(message)
        if length > _MAX_ERROR_CHARS:
            message = redact(message[: _MAX_ERROR_CHARS + _SCRUB_MARGIN])[:_MAX_ERROR_CHARS]
            message += f"… [{length - _MAX_ERROR_CHARS} more characters]"
        else:
            message = redact(message)
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
        """Run the tool with already-parsed arguments and return a JSON-serialisable result.

        Executors pass the mapping ``validate_arguments`` returned. Implementations that
        want the guide's ``tool.execute(tool_call.function.arguments)`` (the raw JSON text)
        to work too can start with ``arguments = self.coerce_arguments(arguments)``.
        """

    def coerce_arguments(self, arguments: Any) -> Mapping[str, Any]:
        """Arguments as ``execute`` needs them: the JSON text of ``tool_call.function.arguments``
        is parsed (bounded, see ``ToolCall.parsed_arguments``) and validated; a mapping is
        validated; anything else is a ``TypeError`` naming the two accepted spellings."""
        if isinstance(arguments, str):
            probe = ToolCall(id="", function=ToolCallFunction(name=self.name, arguments=arguments))
            return self.validate_arguments(probe.parsed_arguments())
        if isinstance(arguments, Mapping):
            return self.validate_arguments(arguments)
        raise TypeError(
            f"tool {self.name!r}: execute() takes the arguments as a mapping "
            "(tool_call.parsed_arguments()) or as the JSON text (tool_call.function.arguments), "
            f"not {type(arguments).__name__}"
        )

    def validate_arguments(self, arguments: Any) -> Mapping[str, Any]:
        """Check arguments before the call; raise ``ValueError`` with a message the model reads."""
        if not isinstance(arguments, Mapping):
            raise ValueError("arguments must be a JSON object")
        return arguments


def role_set(roles: str | Iterable[str] | None) -> frozenset[str]:
    """Roles as a set: one string is one role. ``frozenset("admin")`` is five one-letter
    roles — a rule for role ``a`` would then apply to an admin, and ``admin``'s would not."""
    if roles is None:
        return frozenset()
    if isinstance(roles, str):
        return frozenset({roles})
    return frozenset(roles)


class ToolExecutionContext(GuideModel):
    """Everything an executor may need besides the call: tools, who is calling, where."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    tools: Sequence[Tool] = ()
    user_id: str | None = None
    roles: frozenset[str] = frozenset()
    agent_id: str | None = None
    iteration: int = 0
    metadata: dict[str, Any] = Field(default_factory=dict)

    @field_validator("roles", mode="before")
    @classmethod
    def _one_role(cls, value: Any) -> Any:
        return frozenset({value}) if isinstance(value, str) else value

    def find_tool(self, name: str) -> Tool | None:
        for tool in self.tools:
            if tool.definition.function.name == name:
                return tool
        return None
