"""The bearer token of an OAuth connection on every request to a streamable-HTTP MCP server.

The token comes from ``client.oauth(name)`` (through a ``TokenSource``), so it is refreshed
single-flight like any other use of that connection; after a 401 the rejected token is
replaced once (``force_refresh``) and the request resent.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Awaitable, Callable, Generator

import httpx2

from oneringai.domain.redaction import register_secret

__all__ = ["BearerAuth"]


class BearerAuth(httpx2.Auth):
    def __init__(
        self, source: Callable[[str, str | None, bool], Awaitable[str]], connection: str, user_id: str | None
    ) -> None:
        self._source = source
        self._connection = connection
        self._user_id = user_id

    def sync_auth_flow(self, request: httpx2.Request) -> Generator[httpx2.Request, httpx2.Response, None]:
        raise RuntimeError("BearerAuth needs an httpx2.AsyncClient")

    async def _token(self, force: bool) -> str:
        token = await self._source(self._connection, self._user_id, force)
        register_secret(token)
        return token

    async def async_auth_flow(self, request: httpx2.Request) -> AsyncGenerator[httpx2.Request, httpx2.Response]:
        request.headers["authorization"] = f"Bearer {await self._token(False)}"
        response = yield request
        if response.status_code == 401:
            request.headers["authorization"] = f"Bearer {await self._token(True)}"
            yield request
