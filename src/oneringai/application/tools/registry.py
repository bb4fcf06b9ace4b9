"""``ToolRegistry``: the guide's registry — a set of tools by name plus the executor that runs them."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from pydantic import ValidationError

from oneringai.application.tools.direct_executor import DirectToolExecutor, cancel_requested
from oneringai.application.tools.function_tool import FunctionTool, ToolDefinitionError
from oneringai.application.tools.output import describe_exception
from oneringai.domain.errors import ConfigError
from oneringai.domain.interfaces import IToolExecutor
from oneringai.domain.tools import (
    FunctionToolDefinition,
    Tool,
    ToolCall,
    ToolExecutionContext,
    ToolResult,
    role_set,
)

__all__ = ["DuplicateToolError", "ToolRegistry", "answer_of", "as_tool", "execute_safely"]


def as_tool(item: Tool | Callable[..., Any]) -> Tool:
    """``item`` as a ``Tool`` (a plain function wrapped); a ``Tool`` whose ``definition`` is no
    ``FunctionToolDefinition`` (a port of the guide returning its object literal, ``5``) is a
    ``ToolDefinitionError`` here, not an ``AttributeError`` reading ``definition.function``."""
    added = item if isinstance(item, Tool) else FunctionTool(item)
    definition = added.definition
    if not isinstance(definition, FunctionToolDefinition):
        raise ToolDefinitionError(
            f"tool {type(added).__name__}: definition must be a FunctionToolDefinition("
            f"function=FunctionDefinition(name=..., parameters=...)), not {type(definition).__name__}"
        )
    return added


class DuplicateToolError(ConfigError, ValueError):
    """Two tools under one name (two functions, or a local tool and an MCP server's): the
    model could not say which it calls. A ``ConfigError`` of ours, and still the
    ``ValueError`` earlier versions raised."""

    def __init__(self, name: str) -> None:
        super().__init__(f"a tool named {name!r} is already registered (rename one, or set the MCP server's tool_prefix)")
        self.tool_name = name


class ToolRegistry:
    """A set of tools by name plus the executor that runs them — each agent has its own.

    ``registry.execute(tool_call)`` builds the ``ToolExecutionContext`` (tools, user) and
    goes through the executor stack, so code outside an agent can run tools the same way.
    """

    def __init__(self, tools: Sequence[Tool | Callable[..., Any]] = (), executor: IToolExecutor | None = None) -> None:
        self._tools: dict[str, Tool] = {}
        if executor is not None and not callable(getattr(executor, "execute_tool", None)):
            # ``agents.create(executor=5)`` ran, every tool call answered "AttributeError: 'int' object
            # has no attribute 'execute_tool'" to the model
            raise ConfigError(f"executor must be a tool executor (IToolExecutor), not {type(executor).__name__}")
        self.executor: IToolExecutor = executor or DirectToolExecutor()
        for item in tools:
            self.register(item)

    def register(self, item: Tool | Callable[..., Any]) -> Tool:
        """Add a tool (a plain function is wrapped); a duplicate name is an error."""
        added = as_tool(item)
        if added.name in self._tools:
            raise DuplicateToolError(added.name)
        self._tools[added.name] = added
        return added

    def unregister(self, name: str) -> None:
        self._tools.pop(name, None)

    def get(self, name: str) -> Tool | None:
        return self._tools.get(name)

    @property
    def tools(self) -> list[Tool]:
        return list(self._tools.values())

    @property
    def definitions(self) -> list[FunctionToolDefinition]:
        return [tool.definition for tool in self._tools.values()]

    def __len__(self) -> int:
        return len(self._tools)

    def __contains__(self, name: object) -> bool:
        return name in self._tools

    async def execute(
        self, tool_call: ToolCall, *, user_id: str | None = None, roles: Sequence[str] = (), **metadata: Any
    ) -> ToolResult:
        """Run ``tool_call`` through the executor stack; always a ``ToolResult`` (a layer that
        raises becomes an ``executor_error`` result), except cancellation of the caller,
        ``KeyboardInterrupt``/``SystemExit`` and ``ConfigError`` (a stack that cannot work)."""
        context = ToolExecutionContext(tools=self.tools, user_id=user_id, roles=role_set(roles), metadata=metadata)
        return await execute_safely(self.executor, tool_call, context)


async def execute_safely(executor: IToolExecutor, tool_call: ToolCall, context: ToolExecutionContext) -> ToolResult:
    """``executor.execute_tool`` whose every outcome is a ``ToolResult`` answering ``tool_call``.

    Custom executors and hooks are user code: an exception, a ``CancelledError`` nobody asked
    for, a return value that is not a ``ToolResult`` or answers another call id — each becomes
    an error result (or the right id) here, so an agent's history always pairs every call
    with exactly one result.
    """
    try:
        result: object = await executor.execute_tool(tool_call, context)
    except (KeyboardInterrupt, SystemExit, ConfigError):
        raise
    except asyncio.CancelledError:
        if cancel_requested():
            raise
        return ToolResult.failure(
            tool_call, "the executor raised CancelledError (nobody cancelled the call)", code="executor_error"
        )
    except BaseException as exc:
        return ToolResult.failure(tool_call, describe_exception(exc), code="executor_error")
    return answer_of(tool_call, result)


def answer_of(tool_call: ToolCall, result: object, source: str = "the executor") -> ToolResult:
    """``result`` as the answer to ``tool_call``: a ``ToolResult`` with its id, or an error.

    A mapping is read as a ``ToolResult``: the guide's executors return the object literal
    ``{tool_call_id, output, error: true}``, and its message must reach the model. ``source``
    names who returned ``result`` in the error (an executor, a hook)."""
    problem = ""
    if isinstance(result, Mapping):
        try:
            result = ToolResult.model_validate(dict(result))
        except ValidationError as exc:  # not a ToolResult's fields: reported below, where
            errors = exc.errors(include_input=False)
            if errors:
                where = ".".join(str(part) for part in errors[0]["loc"]) or "the mapping"
                problem = f" ({where}: {errors[0]['msg'][:200]})"
    if not isinstance(result, ToolResult):
        return ToolResult.failure(
            tool_call,
            f"{source} returned {type(result).__name__}, not a ToolResult{problem}",
            code="executor_error",
        )
    if result.tool_call_id != tool_call.id:
        result = result.model_copy(update={"tool_call_id": tool_call.id})
    return result
