"""The process's HTTP connection pool, without paying for the HTTP stack nobody uses.

With ``http.transport: aiohttp`` (the default) the built-in providers send on an
``aiohttp.ClientSession`` directly (see ``http.wire``): httpx's request/response
wrapping cost ~40 % of a call's client CPU and importing httpx ~70 ms of a cold
first call. An ``httpx.AsyncClient`` is still there for whoever asks
(``BaseProvider.http``, custom providers, plugins): built on first use, over the same
aiohttp session, so there is one pool either way.

With ``http.transport: httpx`` the pool is that httpx client and aiohttp is never imported.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from oneringai.infrastructure.http.config import HttpSettings

if TYPE_CHECKING:
    import aiohttp
    import httpx

__all__ = ["HttpPool", "open_session"]


class HttpPool:
    """One pool per container (or per provider that was given none); ``aclose`` closes it."""

    __slots__ = ("_httpx", "_session", "is_closed", "settings")

    def __init__(self, settings: HttpSettings | None = None) -> None:
        self.settings = settings if settings is not None else HttpSettings()
        self._session: aiohttp.ClientSession | None = None
        self._httpx: httpx.AsyncClient | None = None
        self.is_closed = False

    @property
    def uses_aiohttp(self) -> bool:
        return self.settings.transport == "aiohttp"

    def session(self) -> aiohttp.ClientSession:
        """The aiohttp session (transport ``aiohttp`` only), opened on first use in the running loop."""
        session = self._session
        if session is None or session.closed:
            session = self._session = open_session(self.settings)
        return session

    def httpx_client(self) -> httpx.AsyncClient:
        """An ``httpx.AsyncClient`` on this pool (built, and httpx imported, on first use)."""
        client = self._httpx
        if client is None:
            from oneringai.infrastructure.http.client import build_http_client

            client = self._httpx = build_http_client(
                self.settings, session=self.session if self.uses_aiohttp else None
            )
        return client

    async def aclose(self) -> None:
        self.is_closed = True
        client, self._httpx = self._httpx, None
        if client is not None:
            await client.aclose()
        session, self._session = self._session, None
        if session is not None and not session.closed:
            await session.close()

    async def __aenter__(self) -> HttpPool:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()


def open_session(settings: HttpSettings) -> aiohttp.ClientSession:
    """An aiohttp session with the limits httpx-aiohttp's transport gave it (so both paths share
    one behaviour): ``max_connections``, ``keepalive_expiry``; TLS verified with the default
    trust store (``SSL_CERT_FILE``/``SSL_CERT_DIR`` honoured). Proxies and ``.netrc`` are not
    read (aiohttp's ``trust_env`` reads ``.netrc`` on every request), as before. No default
    headers: each path sends its own user-agent."""
    import aiohttp

    from oneringai.infrastructure.http.wire import aiohttp_timeout

    connector = aiohttp.TCPConnector(limit=settings.max_connections, keepalive_timeout=settings.keepalive_expiry)
    return aiohttp.ClientSession(
        connector=connector,
        timeout=aiohttp_timeout(settings.connect_timeout, settings.timeout, settings.timeout),
        auto_decompress=True,
    )
