"""Tools from MCP servers (the official ``mcp`` SDK, extra ``mcp``), over stdio or streamable HTTP.

``McpServerRegistry`` holds one lazily opened ``McpSession`` per ``tools.mcp_servers`` entry;
``McpTool`` is a server's tool as an ordinary ``Tool``, so every call goes through the same
executor stack as a Python tool. Importing this package imports neither the SDK nor the
session machinery (the settings schema imports it for ``McpServerSettings``).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from oneringai.infrastructure.mcp.config import McpServerSettings

if TYPE_CHECKING:
    from oneringai.infrastructure.mcp.registry import McpServerRegistry
    from oneringai.infrastructure.mcp.session import McpSession, TokenSource
    from oneringai.infrastructure.mcp.tool import McpTool, render_result, tool_name_for

__all__ = [
    "McpServerRegistry",
    "McpServerSettings",
    "McpSession",
    "McpTool",
    "TokenSource",
    "render_result",
    "tool_name_for",
]

_HOMES = {
    "McpServerRegistry": "registry",
    "McpSession": "session",
    "TokenSource": "session",
    "McpTool": "tool",
    "render_result": "tool",
    "tool_name_for": "tool",
}


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{home}"), name)
