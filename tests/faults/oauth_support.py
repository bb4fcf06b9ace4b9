"""A hostile token endpoint on 127.0.0.1: answers whatever a test scripts, counts requests,
and can echo back everything it was sent (form, Authorization header) as a server might in
an ``error_description``."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote_plus

from aiohttp import web

from oneringai import OAuthManager
from oneringai.testing import MemoryTokenStorage

Responder = Callable[[dict[str, str], str, str], web.Response]


def echo_everything(status: int = 400, error: str = "invalid_request") -> Responder:
    """An error whose description repeats the request: raw, form-encoded and JSON-escaped."""

    def respond(form: dict[str, str], raw_body: str, authorization: str) -> web.Response:
        values = list(form.values())
        description = (
            f"bad request {raw_body} | auth {authorization} | values {' '.join(values)} | "
            f"encoded {' '.join(quote_plus(v) for v in values)} | json {json.dumps(form)}"
        )
        return web.json_response({"error": error, "error_description": description}, status=status)

    return respond


def reply(status: int = 200, body: Any = None, *, raw: bytes | None = None, content_type: str = "application/json") -> Responder:
    def respond(form: dict[str, str], raw_body: str, authorization: str) -> web.Response:
        payload = raw if raw is not None else json.dumps(body).encode()
        return web.Response(status=status, body=payload, content_type=content_type)

    return respond


@dataclass
class HostileTokenServer:
    responder: Responder = field(default_factory=lambda: reply(200, {"access_token": "fresh-access-token-1", "expires_in": 3600}))
    delay: float = 0.0
    requests: int = 0
    url: str = ""
    forms: list[dict[str, str]] = field(default_factory=list)

    async def handle(self, request: web.Request) -> web.Response:
        self.requests += 1
        raw = await request.text()
        form = {k: v for k, v in (await request.post()).items() if isinstance(v, str)}
        self.forms.append(form)
        if self.delay:
            await asyncio.sleep(self.delay)
        return self.responder(form, raw, request.headers.get("authorization", ""))


async def start_hostile_server() -> tuple[HostileTokenServer, web.AppRunner]:
    server = HostileTokenServer()
    app = web.Application()
    app.router.add_post("/token", server.handle)
    app.router.add_post("/revoke", server.handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    server.url = f"http://127.0.0.1:{port}"
    return server, runner


async def hostile_server() -> AsyncIterator[HostileTokenServer]:
    server, runner = await start_hostile_server()
    try:
        yield server
    finally:
        await runner.cleanup()


def manager_for(server: HostileTokenServer, flow: str = "authorization_code", **extra: Any) -> OAuthManager:
    config: dict[str, Any] = {
        "flow": flow,
        "client_id": "hostile-client",
        "client_secret": "client-secret-value-123",
        "token_url": f"{server.url}/token",
        "revocation_url": f"{server.url}/revoke",
        "authorization_url": f"{server.url}/authorize",
        "redirect_uri": "http://127.0.0.1:8765/callback",
        **extra,
    }
    return OAuthManager(config, storage=MemoryTokenStorage(), name="hostile")
