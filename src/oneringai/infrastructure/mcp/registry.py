"""``tools.mcp_servers``: one lazily opened ``McpSession`` per configured server, closed together.

The container builds one registry per client (per worker process) and closes it on shutdown;
``tools(name)`` lists a server's tools once and keeps them (``refresh=True`` lists again).
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any

from oneringai.domain.errors import ConfigError, RequestOptionsError
from oneringai.domain.redaction import get_logger
from oneringai.infrastructure.mcp.config import McpServerSettings
from oneringai.infrastructure.mcp.session import McpSession, TokenSource
from oneringai.infrastructure.mcp.tool import McpTool

__all__ = ["McpServerRegistry"]

_LOG = get_logger("oneringai.mcp")


class McpServerRegistry:
    def __init__(
        self, servers: Mapping[str, McpServerSettings], *, token_source: TokenSource | None = None
    ) -> None:
        self._settings = dict(servers)
        self._token_source = token_source
        self._sessions: dict[str, McpSession] = {}
        self._tools: dict[str, list[McpTool]] = {}
        self._locks: dict[str, asyncio.Lock] = {}

    def names(self) -> list[str]:
        return sorted(self._settings)

    def session(self, name: str) -> McpSession:
        """The session of ``tools.mcp_servers.<name>`` (not opened until used)."""
        session = self._sessions.get(name)
        if session is None:
            settings = self._settings.get(name)
            if settings is None:
                raise ConfigError(
                    f"no MCP server {name!r} (configured: {', '.join(self.names()) or 'none'})",
                    path=f"tools.mcp_servers.{name}",
                )
            session = self._sessions[name] = McpSession(name, settings, token_source=self._token_source)
        return session

    async def tools(self, name: str, *, refresh: bool = False) -> list[McpTool]:
        """The server's tools as ``Tool``s (after ``include``/``exclude``), listed once."""
        session = self.session(name)
        lock = self._locks.setdefault(name, asyncio.Lock())
        async with lock:
            if refresh or name not in self._tools:
                settings = session.settings
                specs = await session.list_tools()
                chosen = [
                    spec
                    for spec in specs
                    if (settings.include is None or spec.name in settings.include)
                    and spec.name not in settings.exclude
                ]
                self._tools[name] = self._unique(name, self._usable(name, session, chosen))
            return list(self._tools[name])

    @staticmethod
    def _usable(server: str, session: McpSession, specs: list[Any]) -> list[McpTool]:
        """A tool whose ``inputSchema`` no JSON request can carry (NaN, nested deeper than 64
        levels: ``RequestOptionsError`` from its definition) is left out with a warning: offered
        to a model, it would fail every request; the server's other tools stay usable."""
        made: list[McpTool] = []
        for spec in specs:
            try:
                made.append(McpTool(session, spec))
            except RequestOptionsError as error:
                _LOG.warning("MCP server %r: tool left out, its input schema is not JSON data: %s", server, error)
        return made

    @staticmethod
    def _unique(server: str, tools: list[McpTool]) -> list[McpTool]:
        """One tool per model-facing name: a server that lists a name twice (or two names that
        become one) keeps its first; the model could not choose between them, and a registry
        refuses duplicates."""
        seen: dict[str, McpTool] = {}
        for made in tools:
            if made.name in seen:
                _LOG.warning(
                    "MCP server %r lists tool %r more than once; the first listing is used", server, made.name
                )
                continue
            seen[made.name] = made
        return list(seen.values())

    async def aclose(self) -> None:
        """Stop every server that was started (in parallel: each stop is bounded)."""
        sessions, self._sessions = list(self._sessions.values()), {}
        self._tools.clear()
        await asyncio.gather(*(session.aclose() for session in sessions), return_exceptions=True)

    def __repr__(self) -> str:
        return f"McpServerRegistry({self.names()})"
