"""Tools from plain Python functions: name, description and JSON Schema from the signature."""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Callable, Mapping, Sequence
from typing import Any, get_type_hints, overload

from pydantic import BaseModel, ConfigDict, ValidationError, create_model

from oneringai.domain.interfaces import IToolExecutor
from oneringai.domain.tools import (
    FunctionDefinition,
    FunctionToolDefinition,
    Tool,
    ToolCall,
    ToolExecutionContext,
    ToolResult,
)

__all__ = ["FunctionTool", "ToolRegistry", "tool"]


class FunctionTool(Tool):
    """Wraps a sync or async function. Arguments are validated by a pydantic model built
    from the type hints before the function runs; sync functions run in a thread so a
    timeout executor can abandon them."""

    def __init__(
        self,
        func: Callable[..., Any],
        *,
        name: str | None = None,
        description: str | None = None,
        cacheable: bool = True,
        cost_per_call: float = 0.0,
        parameters: Mapping[str, Any] | None = None,
    ) -> None:
        self.func = func
        self.cacheable = cacheable
        self.cost_per_call = cost_per_call
        self._is_async = inspect.iscoroutinefunction(func)
        self._model = _arguments_model(func)
        schema = (
            dict(parameters) if parameters is not None else _clean_schema(self._model.model_json_schema())
        )
        doc = inspect.getdoc(func) or ""
        self._definition = FunctionToolDefinition(
            function=FunctionDefinition(
                name=name or func.__name__,
                description=description if description is not None else doc.split("\n\n")[0].strip(),
                parameters=schema,
            )
        )

    @property
    def definition(self) -> FunctionToolDefinition:
        return self._definition

    def validate_arguments(self, arguments: Any) -> Mapping[str, Any]:
        if not isinstance(arguments, Mapping):
            raise ValueError("arguments must be a JSON object")
        try:
            model = self._model.model_validate(dict(arguments))
        except ValidationError as exc:
            problems = "; ".join(
                f"{'.'.join(str(p) for p in e['loc']) or 'arguments'}: {e['msg']}" for e in exc.errors()
            )
            raise ValueError(f"invalid arguments: {problems}") from None
        return dict(model.__dict__)

    async def execute(self, arguments: Mapping[str, Any]) -> Any:
        if self._is_async:
            return await self.func(**arguments)
        return await asyncio.to_thread(self.func, **arguments)

    def __repr__(self) -> str:
        return f"FunctionTool({self.name!r})"


def _arguments_model(func: Callable[..., Any]) -> type[BaseModel]:
    signature = inspect.signature(func)
    hints = get_type_hints(func)
    fields: dict[str, Any] = {}
    for param in signature.parameters.values():
        if param.kind in (param.VAR_POSITIONAL, param.VAR_KEYWORD):
            continue
        annotation = hints.get(param.name, Any)
        default = ... if param.default is inspect.Parameter.empty else param.default
        fields[param.name] = (annotation, default)
    return create_model(
        f"{func.__name__}_arguments", __config__=ConfigDict(extra="forbid"), **fields
    )


def _clean_schema(schema: dict[str, Any]) -> dict[str, Any]:
    schema.pop("title", None)
    for prop in schema.get("properties", {}).values():
        if isinstance(prop, dict):
            prop.pop("title", None)
    schema.setdefault("properties", {})
    schema["type"] = "object"
    return schema


@overload
def tool(func: Callable[..., Any], /) -> FunctionTool: ...


@overload
def tool(
    *, name: str | None = None, description: str | None = None, cacheable: bool = True, cost: float = 0.0
) -> Callable[[Callable[..., Any]], FunctionTool]: ...


def tool(
    func: Callable[..., Any] | None = None,
    /,
    *,
    name: str | None = None,
    description: str | None = None,
    cacheable: bool = True,
    cost: float = 0.0,
) -> FunctionTool | Callable[[Callable[..., Any]], FunctionTool]:
    """``@tool`` or ``@tool(name=..., cacheable=False, cost=0.01)`` over a function."""

    def wrap(target: Callable[..., Any]) -> FunctionTool:
        return FunctionTool(
            target, name=name, description=description, cacheable=cacheable, cost_per_call=cost
        )

    return wrap(func) if func is not None else wrap


class ToolRegistry:
    """A set of tools by name plus the executor that runs them — each agent has its own.

    ``registry.execute(tool_call)`` builds the ``ToolExecutionContext`` (tools, user) and
    goes through the executor stack, so code outside an agent can run tools the same way.
    """

    def __init__(self, tools: Sequence[Tool | Callable[..., Any]] = (), executor: IToolExecutor | None = None) -> None:
        from oneringai.infrastructure.tool_executors.direct import DirectToolExecutor

        self._tools: dict[str, Tool] = {}
        self.executor: IToolExecutor = executor or DirectToolExecutor()
        for item in tools:
            self.register(item)

    def register(self, item: Tool | Callable[..., Any]) -> Tool:
        """Add a tool (a plain function is wrapped); a duplicate name is an error."""
        added = item if isinstance(item, Tool) else FunctionTool(item)
        if added.name in self._tools:
            raise ValueError(f"a tool named {added.name!r} is already registered")
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
        context = ToolExecutionContext(tools=self.tools, user_id=user_id, roles=frozenset(roles), metadata=metadata)
        return await self.executor.execute_tool(tool_call, context)
