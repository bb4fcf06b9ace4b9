"""The process's HTTP connection pool, without paying for the HTTP stack nobody uses.

With ``http.transport: aiohttp`` (the default) the built-in providers send on an
``aiohttp.ClientSession`` directly (see ``http.wire``): httpx's request/response
wrapping cost ~40 % of a call's client CPU and importing httpx ~70 ms of a cold
first call. An ``httpx.AsyncClient`` is still there for whoever asks
(``BaseProvider.http``, custom providers, plugins): built on first use, over the same
aiohttp session, so there is one pool either way.

With ``http.transport: httpx`` the pool is that httpx client (the built-in providers send on
the httpcore pool under it) and aiohttp is never imported.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from oneringai.infrastructure.http.config import HttpSettings

if TYPE_CHECKING:
    import aiohttp
    import httpx

    from oneringai.infrastructure.http.wire import Wire

__all__ = ["HttpPool", "aiohttp_session_of", "httpcore_client_of", "open_session", "wire_for"]


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
        if session is None or session.closed or not _of_running_loop(session):
            if self.is_closed:  # as a closed httpx client does; never a new pool after shutdown
                raise RuntimeError("Cannot send a request, as the HTTP pool has been closed.")
            _drop(session)
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
            from oneringai.infrastructure.http.httpcore_pool import fail_queued

            fail_queued(getattr(getattr(client, "_transport", None), "_pool", None))  # before its readers fail
            await client.aclose()
        session, self._session = self._session, None
        if session is not None and not session.closed:
            _fail_in_flight(session)
            await session.close()

    async def __aenter__(self) -> HttpPool:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()


def _fail_in_flight(session: aiohttp.ClientSession) -> None:
    """End the bodies being read on ``session`` with a connection error. aiohttp closes a
    connection in use without telling its reader (the protocol drops the payload first), so a
    stream read through a pool's shutdown hung until its idle timeout, holding its admission
    slot while the callers queued behind it waited as long."""
    import aiohttp

    connector = session.connector
    with contextlib.suppress(Exception):  # aiohttp internals: best effort
        for protocol in list(getattr(connector, "_acquired", ())):
            payload = getattr(protocol, "_payload", None)
            if payload is not None:
                payload.set_exception(aiohttp.ClientConnectionError("the HTTP pool was closed"))


def _of_running_loop(session: aiohttp.ClientSession) -> bool:
    """Whether ``session`` belongs to the running event loop. A provider used from a second
    ``asyncio.run`` would otherwise send on the first loop's session and fail with "Event loop
    is closed" on every call from then on; the old session is dropped with its loop (its
    connections cannot be closed from another loop)."""
    import asyncio

    return getattr(session, "_loop", None) is asyncio.get_running_loop()


def _drop(session: Any) -> None:
    """Mark a session of another (usually closed) loop closed, so nothing warns about it; its
    connections are closed on their own loop's next turn, if it has one."""
    connector = getattr(session, "connector", None)
    if connector is not None and not connector.closed:
        with contextlib.suppress(Exception):
            connector._close()


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


def aiohttp_session_of(target: Any) -> Callable[[], aiohttp.ClientSession] | None:
    """A getter of the aiohttp session under ``target`` when the built-in calls may send on it
    directly: an ``HttpPool`` with the aiohttp transport, or a client ``build_http_client`` made
    with it (which adds nothing to a request but its user-agent); None for any other client —
    one a user built is used as given, with its own hooks, auth and headers. (httpx mounts no
    environment proxy over a transport it is given, so the aiohttp transport never used one.)"""
    if isinstance(target, HttpPool):
        return target.session if target.uses_aiohttp else None
    if type(target).__name__ != "ConfiguredHttpClient" or target._mounts:
        return None
    transport: Any = getattr(target, "_transport", None)
    if type(transport).__name__ != "AiohttpTransport":
        return None

    def session() -> aiohttp.ClientSession:
        import aiohttp

        client = transport.client
        if not isinstance(client, aiohttp.ClientSession) or client.closed or not _of_running_loop(client):
            if target.is_closed:  # httpx's own refusal, not a new session behind a closed client
                raise RuntimeError("Cannot send a request, as the client has been closed.")
            if isinstance(client, aiohttp.ClientSession):  # get_client would hand it back
                _drop(client)
                transport.client = None
            client = transport.client = transport.get_client()
        return client  # type: ignore[no-any-return]

    return session


def httpcore_client_of(target: Any) -> httpx.AsyncClient | None:
    """The client whose httpcore pool the built-in calls may send on directly: one
    ``build_http_client`` made with the httpx transport, no proxy mounted (an ``HttpPool``'s
    included); None for any other client."""
    if isinstance(target, HttpPool):
        if target.uses_aiohttp:
            return None
        target = target.httpx_client()
    if type(target).__name__ != "ConfiguredHttpClient" or target._mounts:
        return None
    transport: Any = getattr(target, "_transport", None)
    if type(transport).__name__ != "AsyncHTTPTransport" or type(transport._pool).__name__ != "AsyncConnectionPool":
        return None
    return target  # type: ignore[no-any-return]


def wire_for(target: Any, httpx_client: Callable[[], httpx.AsyncClient]) -> Wire:
    """What the built-in calls send on for ``target`` (an ``HttpPool`` or an httpx client):
    aiohttp's session directly with the aiohttp transport, the httpcore pool of a client we built
    with the httpx transport, else ``httpx_client()`` as it is."""
    from oneringai.infrastructure.http import wire

    session = aiohttp_session_of(target)
    if session is not None:  # an HttpPool or a ConfiguredHttpClient: both carry their settings
        return wire.AiohttpWire(session, target.settings.user_agent)
    direct = httpcore_client_of(target)
    if direct is not None:
        return wire.HttpcoreWire(direct)
    return wire.HttpxWire(httpx_client())
