"""``client.tools``: the tools a client knows, and one way to run any of them.

* ``await client.tools.from_mcp("github")`` — the tools of ``tools.mcp_servers.github`` as ordinary
  ``Tool``s (name, description, JSON schema), registered here and ready for
  ``client.agents.create(tools=[...])``.
* ``client.tools.register(tool_or_function)`` — a Python tool, known by name from then on.
* ``await client.tools.execute("name", {"arg": 1})`` — runs a registered tool through the YAML
  executor stack (``tools.executor``: audit, permissions, rate limit, cache, timeout, retry),
  exactly as an agent would, and returns a ``ToolResult``; a failure is an error result, never
  an exception.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Protocol

from oneringai.application.tools.registry import DuplicateToolError, as_tool, execute_safely
from oneringai.domain.errors import ConfigError
from oneringai.domain.interfaces import IToolExecutor
from oneringai.domain.tools import (
    Tool,
    ToolCall,
    ToolCallFunction,
    ToolExecutionContext,
    ToolResult,
    role_set,
)

__all__ = ["ToolSource", "ToolsFacade"]


class ToolSource(Protocol):
    """Where named groups of tools come from (the MCP server registry)."""

    def names(self) -> list[str]: ...

    async def tools(self, name: str, *, refresh: bool = False) -> Sequence[Tool]: ...


class ToolsFacade:
    """One per client. ``sources`` is resolved on first use, so a client without MCP servers
    never builds (or imports) the MCP machinery."""

    def __init__(self, executor: IToolExecutor | Callable[[], IToolExecutor], sources: Callable[[], ToolSource] | None = None) -> None:
        self._executor = executor
        self._resolve_sources = sources
        self._sources: ToolSource | None = None
        self._tools: dict[str, Tool] = {}

    @property
    def executor(self) -> IToolExecutor:
        """The executor stack built from ``tools.executor`` (the one agents use); a callable is resolved on each use, so a container override made later applies."""
        executor = self._executor
        return executor if isinstance(executor, IToolExecutor) else executor()

    def _source(self) -> ToolSource:
        if self._sources is None:
            if self._resolve_sources is None:
                raise ConfigError("no MCP servers are configured", path="tools.mcp_servers")
            self._sources = self._resolve_sources()
        return self._sources

    @property
    def mcp_servers(self) -> list[str]:
        """The names under ``tools.mcp_servers``."""
        return self._source().names() if self._resolve_sources is not None else []

    async def from_mcp(self, server: str, *, refresh: bool = False) -> list[Tool]:
        """The tools of MCP server ``server`` (started on first use), registered by name.

        Raises ``ConfigError`` for an unknown server or a missing ``mcp`` extra, and
        ``ToolExecutionError`` when the server cannot be started or reached.
        """
        tools = list(await self._source().tools(server, refresh=refresh))
        for item in tools:
            current = self._tools.get(item.name)
            if current is not None and getattr(current, "server", None) != server:
                raise ConfigError(
                    f"tool {item.name!r} of MCP server {server!r} clashes with an already registered tool; "
                    "set a tool_prefix",
                    path=f"tools.mcp_servers.{server}.tool_prefix",
                )
        for name in [n for n, t in self._tools.items() if getattr(t, "server", None) == server]:
            del self._tools[name]  # a refreshed listing replaces the server's old tools
        for item in tools:
            self._tools[item.name] = item
        return tools

    def register(self, *items: Tool | Callable[..., Any]) -> list[Tool]:
        """Register Python tools (plain functions are wrapped); a name taken by another tool is an error."""
        added = []
        for item in items:
            registered = as_tool(item)
            current = self._tools.get(registered.name)
            if current is not None and current is not registered:
                raise DuplicateToolError(registered.name)
            self._tools[registered.name] = registered
            added.append(registered)
        return added

    def get(self, name: str) -> Tool | None:
        return self._tools.get(name)

    @property
    def tools(self) -> list[Tool]:
        return list(self._tools.values())

    def __contains__(self, name: object) -> bool:
        return name in self._tools

    async def execute(
        self,
        name: str,
        arguments: Mapping[str, Any] | str | bytes | None = None,
        *,
        user_id: str | None = None,
        roles: Sequence[str] = (),
        **metadata: Any,
    ) -> ToolResult:
        """Run tool ``name`` through the executor stack. An unknown tool is an error result
        naming the registered ones."""
        call_id = f"call_{uuid.uuid4().hex[:12]}"
        if not isinstance(name, str):  # ToolCallFunction would raise pydantic's ValidationError
            call = ToolCall(id=call_id, function=ToolCallFunction(name=type(name).__name__, arguments="{}"))
            return ToolResult.failure(
                call, f"the tool name must be a string, not {type(name).__name__}", code="unknown_tool"
            )
        try:
            if isinstance(arguments, str | bytes | bytearray):
                # the guide's raw JSON text (``toolCall.function.arguments``): parsed, bounded and
                # validated by the executor stack like a model's
                text = arguments if isinstance(arguments, str) else bytes(arguments).decode()
            else:
                text = json.dumps(dict(arguments or {}))
        except UnicodeDecodeError:
            call = ToolCall(id=call_id, function=ToolCallFunction(name=name, arguments="{}"))
            return ToolResult.failure(call, "arguments are not UTF-8 text", code="invalid_arguments")
        except (TypeError, ValueError, RecursionError) as exc:
            call = ToolCall(id=call_id, function=ToolCallFunction(name=name, arguments="{}"))
            return ToolResult.failure(call, f"arguments are not JSON-serialisable: {exc}", code="invalid_arguments")
        call = ToolCall(id=call_id, function=ToolCallFunction(name=name, arguments=text))
        context = ToolExecutionContext(
            tools=self.tools, user_id=user_id, roles=role_set(roles), metadata=dict(metadata)
        )
        # a layer that raises (a custom one, a hostile tool definition) is an error result too
        return await execute_safely(self.executor, call, context)

    def __repr__(self) -> str:
        return f"ToolsFacade({sorted(self._tools)})"
