"""``oneringai oauth login``: open the authorization URL and catch the redirect on 127.0.0.1."""

from __future__ import annotations

import asyncio
import html
import sys
import webbrowser
from urllib.parse import urlsplit

from oneringai.application.oauth.manager import OAuthManager
from oneringai.domain.errors import OAuthError
from oneringai.domain.tokens import StoredToken

__all__ = ["run_login"]

_PAGE = b"<html><body><h3>%s</h3><p>You can close this window.</p></body></html>"


async def run_login(
    manager: OAuthManager, *, user_id: str | None = None, open_browser: bool = True, timeout: float = 300.0
) -> StoredToken:
    redirect = urlsplit(manager.config.redirect_uri or "")
    if redirect.hostname not in ("127.0.0.1", "localhost") or not redirect.port:
        raise OAuthError(
            "oauth login needs redirect_uri like http://127.0.0.1:8765/callback", connection=manager.name
        )
    url, _state = manager.get_authorization_url(user_id)
    result: asyncio.Future[StoredToken] = asyncio.get_running_loop().create_future()

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            request_line = (await reader.readline()).decode("latin-1")
            while (await reader.readline()) not in (b"\r\n", b"\n", b""):
                pass
            target = request_line.split(" ")[1] if " " in request_line else "/"
            if urlsplit(target).path != (redirect.path or "/"):
                writer.write(b"HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\n\r\n")
                return
            try:
                token = await manager.handle_callback(target)
            except OAuthError as exc:
                # The message may quote the server's (or a stranger's) error_description: escaped.
                body = _PAGE % html.escape(f"Login failed: {exc}").encode()
                writer.write(b"HTTP/1.1 400 Bad Request\r\ncontent-type: text/html; charset=utf-8\r\n\r\n" + body)
                # A request with a state that is not this login's (another page, a replay) does
                # not end the login: the real redirect may still come.
                if not result.done() and exc.error != "invalid_state":
                    result.set_exception(exc)
                return
            writer.write(b"HTTP/1.1 200 OK\r\ncontent-type: text/html\r\n\r\n" + _PAGE % b"Logged in.")
            if not result.done():
                result.set_result(token)
        finally:
            await writer.drain()
            writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", redirect.port)
    try:
        print(f"Open this URL to authorize {manager.name}:\n{url}", file=sys.stderr)
        if open_browser:
            webbrowser.open(url)
        return await asyncio.wait_for(result, timeout)
    except TimeoutError:
        raise OAuthError(f"no redirect received within {timeout:g}s", connection=manager.name) from None
    finally:
        server.close()
        await server.wait_closed()
