"""The shared ``httpx.AsyncClient``: pool limits, timeouts and transport from configuration.

Two transports: httpx's own, and aiohttp's through ``httpx-aiohttp``, which keeps
its throughput under high concurrency where httpx's pool collapses (see
``benchmarks/http_transport.py``). The container opens one client per process as a
``Resource`` and closes it on shutdown.

The client carries its ``HttpSettings`` (``ConfiguredHttpClient.settings``) so that a
provider handed the shared client inherits the limits that are not httpx's own
(maximum event and body sizes) without another channel through the container.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import TYPE_CHECKING, Any, Literal

import httpx

from oneringai.domain.errors import ConfigError
from oneringai.infrastructure.http.config import HttpSettings

if TYPE_CHECKING:
    import aiohttp

__all__ = ["ConfiguredHttpClient", "build_http_client", "http_settings_of", "open_http_client"]

Transport = Literal["aiohttp", "httpx"]
_DEFAULTS = HttpSettings()


class _Cookies(httpx.Cookies):
    """httpx's cookie jar, minus the cost of wrapping every response for ``http.cookiejar``
    when it sets no cookie (the usual API answer): ~10 % of a call's client CPU otherwise."""

    def extract_cookies(self, response: httpx.Response) -> None:
        if "set-cookie" in response.headers:
            super().extract_cookies(response)


class ConfiguredHttpClient(httpx.AsyncClient):
    """An ``httpx.AsyncClient`` that remembers the ``http:`` settings it was built from."""

    def __init__(self, settings: HttpSettings, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.settings = settings
        self._cookies = _Cookies(self._cookies)


def http_settings_of(client: httpx.AsyncClient) -> HttpSettings:
    """The settings a client was built from; the defaults for a client built elsewhere."""
    settings = getattr(client, "settings", None)
    return settings if isinstance(settings, HttpSettings) else _DEFAULTS


def build_http_client(
    settings: HttpSettings | None = None, *, session: Callable[[], aiohttp.ClientSession] | None = None
) -> ConfiguredHttpClient:
    """A client configured from ``http:`` settings (defaults when None); with the aiohttp
    transport, ``session`` gives the aiohttp session to send on (an ``HttpPool``'s, so both
    share one pool) instead of one of its own."""
    if settings is None:
        settings = _DEFAULTS
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
        return ConfiguredHttpClient(
            settings,
            transport=AiohttpTransport(limits=limits, trust_env=settings.trust_env, client=session),
            timeout=timeout,
            headers=headers,
            trust_env=settings.trust_env,
        )
    return ConfiguredHttpClient(
        settings, limits=limits, timeout=timeout, headers=headers, trust_env=settings.trust_env
    )


async def open_http_client(settings: HttpSettings) -> AsyncIterator[httpx.AsyncClient]:
    """Container ``Resource``: yields the client and closes it on shutdown."""
    client = build_http_client(settings)
    try:
        yield client
    finally:
        await client.aclose()
