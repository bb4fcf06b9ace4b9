"""Tools from plain Python functions: name, description and JSON Schema from the signature."""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable, Mapping
from typing import Any, get_type_hints, overload

from pydantic import BaseModel, ConfigDict, PydanticUserError, ValidationError, create_model

from oneringai.application.tools.threads import current_tool_threads
from oneringai.domain.errors import ConfigError, brief_repr
from oneringai.domain.tools import (
    FunctionDefinition,
    FunctionToolDefinition,
    Tool,
)

__all__ = ["FunctionTool", "ToolDefinitionError", "tool"]

_VALID_NAME = re.compile(r"[A-Za-z0-9_.-]{1,64}")


class ToolDefinitionError(ConfigError, ValueError):
    """A function that cannot be a tool: not callable, a type hint that names nothing
    (``NameError``) or that pydantic cannot turn into a JSON Schema, a parameter name pydantic
    reserves, a price that is no finite number, a name vendors refuse. Raised when the tool is
    built, never at the model's first call; still a ``ValueError`` as before."""


#: The highest ``cost_per_call``: any finite float (an int beyond it cannot be one).
_MAX_COST = 1.7976931348623157e308


class _Validated(dict[str, Any]):
    """Arguments that went through ``validate_arguments``: not validated a second time."""


class FunctionTool(Tool):
    """Wraps a sync or async function. Arguments are validated by a pydantic model built
    from the type hints before the function runs; sync functions run on the tools' own
    bounded thread pool (``ToolThreadPool``), so a timeout can abandon them without
    starving the event loop's default executor."""

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
        if isinstance(cost_per_call, bool) or not isinstance(cost_per_call, int | float) or not (
            0 <= cost_per_call <= _MAX_COST
        ):  # a NaN price disabled every budget of the cost executor; 10**400 is no float
            raise ToolDefinitionError(f"tool cost must be a finite number >= 0, not {brief_repr(cost_per_call)}")
        if not callable(func):
            raise ToolDefinitionError(f"a tool wraps a function, not {type(func).__name__}")
        if parameters is not None and not isinstance(parameters, Mapping):
            raise ToolDefinitionError(
                f"tool parameters must be a JSON Schema object (a mapping), not {type(parameters).__name__}"
            )
        self.func = func
        self.cacheable = cacheable
        self.cost_per_call = float(cost_per_call)
        self._is_async = inspect.iscoroutinefunction(func)
        try:
            self._model = _arguments_model(func)
            schema = (
                dict(parameters) if parameters is not None else _clean_schema(self._model.model_json_schema())
            )
        except (NameError, PydanticUserError, ValueError, TypeError) as exc:  # a hint naming nothing, no schema
            raise ToolDefinitionError(
                f"cannot build the arguments of tool {brief_repr(getattr(func, '__name__', func))} from its signature: "
                f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''} "
                "(give every parameter a type pydantic knows, or pass parameters=... and validate yourself)"
            ) from exc
        doc = inspect.getdoc(func) or ""
        tool_name = name or str(getattr(func, "__name__", ""))
        if not isinstance(tool_name, str) or not _VALID_NAME.fullmatch(tool_name):
            raise ToolDefinitionError(
                f"tool name {brief_repr(tool_name)} is not one vendors accept (1-64 of A-Z a-z 0-9 _ . -): "
                "pass tool(name=...) / FunctionTool(func, name=...)"
            )
        self._definition = FunctionToolDefinition(
            function=FunctionDefinition(
                name=tool_name,
                description=description if description is not None else doc.split("\n\n")[0].strip(),
                parameters=schema,
            )
        )

    @property
    def definition(self) -> FunctionToolDefinition:
        return self._definition

    def validate_arguments(self, arguments: Any) -> Mapping[str, Any]:
        if isinstance(arguments, _Validated):
            return arguments
        if not isinstance(arguments, Mapping):
            raise ValueError("arguments must be a JSON object")
        try:
            model = self._model.model_validate(dict(arguments))
        except ValidationError as exc:
            problems = "; ".join(
                f"{'.'.join(str(p) for p in e['loc']) or 'arguments'}: {e['msg']}" for e in exc.errors()
            )
            raise ValueError(f"invalid arguments: {problems}") from None
        return _Validated(model.__dict__)

    async def execute(self, arguments: Mapping[str, Any] | str) -> Any:
        """Run the function. Executors pass validated arguments; called directly it also
        takes a plain mapping or the guide's raw JSON text (``tool_call.function.arguments``),
        both validated first (``ValueError`` with what is wrong)."""
        if not isinstance(arguments, _Validated):
            arguments = self.coerce_arguments(arguments)
        if self._is_async:
            return await self.func(**arguments)
        return await current_tool_threads().run(self.func, **arguments)

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
