"""The shared ``httpx.AsyncClient``: pool limits, timeouts and transport from configuration.

Two transports: httpx's own, and aiohttp's through ``httpx-aiohttp``, which keeps
its throughput under high concurrency where httpx's pool collapses (see
``benchmarks/http_transport.py``). The container opens one client per process as a
``Resource`` and closes it on shutdown.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Literal

import httpx

from oneringai.domain.errors import ConfigError

if TYPE_CHECKING:
    from oneringai.infrastructure.http.config import HttpSettings

__all__ = ["build_http_client", "open_http_client"]

Transport = Literal["aiohttp", "httpx"]


def build_http_client(settings: HttpSettings | None = None) -> httpx.AsyncClient:
    """A client configured from ``http:`` settings (defaults when None)."""
    if settings is None:
        from oneringai.infrastructure.http.config import HttpSettings

        settings = HttpSettings()
    limits = httpx.Limits(
        max_connections=settings.max_connections,
        max_keepalive_connections=settings.max_keepalive_connections,
        keepalive_expiry=settings.keepalive_expiry,
    )
    timeout = httpx.Timeout(settings.timeout, connect=settings.connect_timeout)
    headers = {"user-agent": settings.user_agent}
    if settings.transport == "aiohttp":
        try:
            from httpx_aiohttp import AiohttpTransport
        except ImportError as exc:  # pragma: no cover - a declared dependency
            raise ConfigError(
                "transport 'aiohttp' needs the httpx-aiohttp package: pip install httpx-aiohttp",
                path="http.transport",
            ) from exc
        return httpx.AsyncClient(
            transport=AiohttpTransport(limits=limits, trust_env=settings.trust_env),
            timeout=timeout,
            headers=headers,
            trust_env=settings.trust_env,
        )
    return httpx.AsyncClient(limits=limits, timeout=timeout, headers=headers, trust_env=settings.trust_env)


async def open_http_client(settings: HttpSettings) -> AsyncIterator[httpx.AsyncClient]:
    """Container ``Resource``: yields the client and closes it on shutdown."""
    client = build_http_client(settings)
    try:
        yield client
    finally:
        await client.aclose()
