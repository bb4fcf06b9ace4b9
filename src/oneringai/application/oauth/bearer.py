"""``httpx.Auth`` that adds an ``OAuthManager``'s bearer token, with one retry after a 401."""

from __future__ import annotations

from collections.abc import AsyncGenerator, Generator
from typing import Any, Protocol

import httpx

__all__ = ["OAuthBearerAuth"]


class _TokenSource(Protocol):
    """What the auth needs of an ``OAuthManager`` (a protocol: no import cycle)."""

    config: Any

    async def get_token(self, user_id: str | None = None, *, force_refresh: bool = False) -> str: ...


class OAuthBearerAuth(httpx.Auth):
    def __init__(self, manager: _TokenSource, user_id: str | None = None) -> None:
        self.manager = manager
        self.user_id = user_id

    def sync_auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        raise RuntimeError("OAuthBearerAuth needs an httpx.AsyncClient")

    async def async_auth_flow(self, request: httpx.Request) -> AsyncGenerator[httpx.Request, httpx.Response]:
        token = await self.manager.get_token(self.user_id)
        request.headers["authorization"] = f"Bearer {token}"
        response = yield request
        if response.status_code == 401 and self.manager.config.flow != "static_token":
            token = await self.manager.get_token(self.user_id, force_refresh=True)
            request.headers["authorization"] = f"Bearer {token}"
            yield request
