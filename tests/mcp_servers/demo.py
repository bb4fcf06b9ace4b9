"""An MCP server for tests, built with the official SDK.

    python -m tests.mcp_servers.demo stdio
    python -m tests.mcp_servers.demo http PORT

Tools: ``add``, ``get_weather`` (the tool the vendor server's ``tools`` model calls), ``echo``,
``calls`` (how many times each tool ran in this process), ``fail`` (an error result),
``crash`` (the process exits), ``hang`` (a slow tool; the server stays responsive), ``freeze``
(the whole server stops: SIGSTOP) and ``whoami`` (HTTP: who the bearer token belongs to).

Environment: ``DEMO_EXIT_ON_START=1`` exits at once; over HTTP ``DEMO_API_KEY`` requires that
``x-api-key`` header and ``DEMO_INTROSPECT_URL`` requires a bearer token that URL accepts
(the test OAuth server's ``/api/me``).
"""

from __future__ import annotations

import os
import signal
import sys
from collections import Counter
from typing import Any

import anyio
import httpx
from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ToolError

server = MCPServer("demo", instructions="A server for oneringai's tests.")
CALLS: Counter[str] = Counter()


@server.tool()
def add(a: int, b: int) -> int:
    """Add two integers."""
    CALLS["add"] += 1
    return a + b


@server.tool()
def get_weather(city: str) -> dict[str, str]:
    """Current weather for a city."""
    CALLS["get_weather"] += 1
    return {"city": city, "sky": "sunny", "pid": str(os.getpid())}


@server.tool()
def echo(text: str) -> str:
    """Echo the text back."""
    CALLS["echo"] += 1
    return text


@server.tool()
def calls() -> dict[str, int]:
    """How many times each tool ran in this server process."""
    return dict(CALLS)


@server.tool()
def fail(message: str) -> str:
    """Always fails with the given message."""
    CALLS["fail"] += 1
    raise ToolError(message)


@server.tool()
def crash() -> str:
    """The server process exits without answering."""
    os._exit(3)


@server.tool()
async def hang(seconds: float = 3600.0) -> str:
    """Sleeps (the server keeps answering other requests)."""
    CALLS["hang"] += 1
    await anyio.sleep(seconds)
    return "woke up"


@server.tool()
def freeze() -> str:
    """The whole server process stops (SIGSTOP): it answers nothing any more."""
    os.kill(os.getpid(), signal.SIGSTOP)
    return "unreachable"


@server.tool()
async def whoami(ctx: Context) -> dict[str, Any]:
    """Who the bearer token of this request belongs to (HTTP only)."""
    headers = ctx.headers or {}
    url = os.environ.get("DEMO_INTROSPECT_URL")
    authorization = headers.get("authorization", "")
    if not url or not authorization:
        return {"authenticated": False}
    async with httpx.AsyncClient() as client:
        response = await client.get(url, headers={"authorization": authorization})
    return {"authenticated": response.status_code == 200, **response.json()}


class _RequireCredentials:
    """ASGI middleware: 401 unless the configured API key / bearer token is presented."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.api_key = os.environ.get("DEMO_API_KEY")
        self.introspect = os.environ.get("DEMO_INTROSPECT_URL")

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            headers = {k.decode().lower(): v.decode() for k, v in scope["headers"]}
            if not await self._allowed(headers):
                await send({"type": "http.response.start", "status": 401,
                            "headers": [(b"content-type", b"application/json")]})
                await send({"type": "http.response.body", "body": b'{"error": "unauthorized"}'})
                return
        await self.app(scope, receive, send)

    async def _allowed(self, headers: dict[str, str]) -> bool:
        if self.api_key and headers.get("x-api-key") != self.api_key:
            return False
        if self.introspect:
            async with httpx.AsyncClient() as client:
                response = await client.get(self.introspect, headers={"authorization": headers.get("authorization", "")})
            return response.status_code == 200
        return True


def main(argv: list[str]) -> None:
    if os.environ.get("DEMO_EXIT_ON_START") == "1":
        sys.exit(7)
    if argv[:1] == ["http"]:
        import uvicorn

        app = _RequireCredentials(server.streamable_http_app(host="127.0.0.1"))
        uvicorn.run(app, host="127.0.0.1", port=int(argv[1]), log_level="warning", lifespan="on")
        return
    server.run("stdio")


if __name__ == "__main__":
    main(sys.argv[1:])
