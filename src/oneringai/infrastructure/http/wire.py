"""What the built-in providers send on: aiohttp's session directly, or an httpx client.

``HttpCalls`` needs four things from a response — status, headers, a bounded body, a
chunk iterator — and one from a connection: send a request with per-operation timeouts.
``AiohttpWire`` does that on the ``aiohttp.ClientSession`` under the pool, without
building an ``httpx.Request``/``Response`` pair per call (which was ~40 % of a call's client
CPU with the aiohttp transport); ``HttpxWire`` on any ``httpx.AsyncClient`` — ours with the
``httpx`` transport, or one a user passed in.

Both keep the same behaviour: no redirects followed, the same connect/read/pool
timeouts, bodies bounded, a response closed on every path (an unread one drops its
connection). aiohttp's exceptions are translated into the ones httpx-aiohttp raised
(``as_httpx_error``, on the error path only), so error mapping and messages are unchanged.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Mapping
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    import aiohttp
    import httpx

__all__ = [
    "AiohttpWire", "HttpxWire", "Wire", "WireResponse", "aiohttp_session_of", "aiohttp_timeout", "as_httpx_error",
]


class WireResponse(Protocol):
    status_code: int

    @property
    def headers(self) -> Mapping[str, str]: ...

    async def read(self, limit: int) -> bytes | None:
        """The whole (decoded) body; None as soon as it passes ``limit`` bytes."""

    async def read_prefix(self, limit: int) -> bytes: ...

    def chunks(self) -> AsyncIterator[bytes]: ...

    async def aclose(self) -> None: ...


class Wire(Protocol):
    async def send(
        self, method: str, url: str, content: bytes | None, headers: Mapping[str, str], timeouts: Any
    ) -> WireResponse: ...

    def timeouts(self, connect: float | None, read: float | None, pool: float | None) -> Any:
        """This wire's per-request timeout object, built once per provider."""


def aiohttp_timeout(connect: float | None, read: float | None, pool: float | None) -> aiohttp.ClientTimeout:
    """httpx's per-operation timeouts as httpx-aiohttp mapped them: connect → socket connect,
    read → each socket read, pool → getting a connection; no total (the caller bounds that)."""
    from aiohttp import ClientTimeout

    return ClientTimeout(total=None, sock_connect=connect, sock_read=read, connect=pool)


def as_httpx_error(error: BaseException) -> BaseException:
    """The httpx exception httpx-aiohttp raised for an aiohttp one (cause chained), so error
    mapping sees what it always saw; other exceptions unchanged."""
    if not type(error).__module__.startswith("aiohttp"):
        return error
    from httpx_aiohttp.transport import map_aiohttp_exceptions

    try:
        with map_aiohttp_exceptions():
            raise error
    except Exception as mapped:
        return mapped
    raise AssertionError("unreachable")  # pragma: no cover


class _AiohttpResponse:
    __slots__ = ("_response", "status_code")

    def __init__(self, response: aiohttp.ClientResponse) -> None:
        self._response = response
        self.status_code = response.status

    @property
    def headers(self) -> Mapping[str, str]:
        return self._response.headers

    async def read(self, limit: int) -> bytes | None:
        response = self._response
        length = response.content_length
        if length is not None and length <= limit and "content-encoding" not in response.headers:
            return await response.read()  # one call; the declared size is within bounds
        parts: list[bytes] = []
        size = 0
        async for chunk in response.content.iter_any():
            size += len(chunk)
            if size > limit:
                return None
            parts.append(chunk)
        return parts[0] if len(parts) == 1 else b"".join(parts)

    async def read_prefix(self, limit: int) -> bytes:
        parts: list[bytes] = []
        size = 0
        async for chunk in self._response.content.iter_any():
            parts.append(chunk)
            size += len(chunk)
            if size >= limit:
                break
        return b"".join(parts)[:limit]

    def chunks(self) -> AsyncIterator[bytes]:
        return self._response.content.iter_any()

    async def aclose(self) -> None:
        self._response.release()  # back to the pool when read to the end, else the connection is dropped


class AiohttpWire:
    """Sends on the aiohttp session of a pool (``session`` is called per request: the pool
    opens it lazily, in the running loop)."""

    __slots__ = ("_session", "user_agent")

    def __init__(self, session: Callable[[], aiohttp.ClientSession], user_agent: str) -> None:
        self._session = session
        self.user_agent = user_agent  # httpx sent it as a client default; here each request does

    def timeouts(self, connect: float | None, read: float | None, pool: float | None) -> Any:
        return aiohttp_timeout(connect, read, pool)

    async def send(
        self, method: str, url: str, content: bytes | None, headers: Mapping[str, str], timeouts: Any
    ) -> WireResponse:
        try:
            response = await self._session().request(
                method, url, data=content, headers=headers, timeout=timeouts, allow_redirects=False
            )
        except Exception as exc:
            raise as_httpx_error(exc)  # noqa: B904 - the mapped error chains the original itself
        return _AiohttpResponse(response)


class _HttpxResponse:
    __slots__ = ("_response", "status_code")

    def __init__(self, response: httpx.Response) -> None:
        self._response = response
        self.status_code = response.status_code

    @property
    def headers(self) -> Mapping[str, str]:
        return self._response.headers

    async def read(self, limit: int) -> bytes | None:
        response = self._response
        length = response.headers.get("content-length")
        if length is not None and length.isdigit() and int(length) <= limit and "content-encoding" not in response.headers:
            return await response.aread()
        parts: list[bytes] = []
        size = 0
        async for chunk in response.aiter_bytes():
            size += len(chunk)
            if size > limit:
                return None
            parts.append(chunk)
        return parts[0] if len(parts) == 1 else b"".join(parts)

    async def read_prefix(self, limit: int) -> bytes:
        parts: list[bytes] = []
        size = 0
        async for chunk in self._response.aiter_bytes():
            parts.append(chunk)
            size += len(chunk)
            if size >= limit:
                break
        return b"".join(parts)[:limit]

    def chunks(self) -> AsyncIterator[bytes]:
        return self._response.aiter_bytes()

    async def aclose(self) -> None:
        await self._response.aclose()


class HttpxWire:
    __slots__ = ("_client",)

    def __init__(self, client: httpx.AsyncClient) -> None:
        self._client = client

    def timeouts(self, connect: float | None, read: float | None, pool: float | None) -> Any:
        import httpx

        return httpx.Timeout(connect=connect, read=read, write=read, pool=pool)

    async def send(
        self, method: str, url: str, content: bytes | None, headers: Mapping[str, str], timeouts: Any
    ) -> WireResponse:
        client = self._client
        request = client.build_request(method, url, content=content, headers=headers, timeout=timeouts)
        return _HttpxResponse(await client.send(request, stream=True))


def aiohttp_session_of(target: Any) -> Callable[[], aiohttp.ClientSession] | None:
    """A getter of the aiohttp session under ``target`` when the built-in calls may send on it
    directly: an ``HttpPool`` with the aiohttp transport, or a client ``build_http_client`` made
    with it (which adds nothing to a request but its user-agent); None for any other client —
    one a user built is used as given, with its own hooks, auth and headers."""
    from oneringai.infrastructure.http.pool import HttpPool

    if isinstance(target, HttpPool):
        return target.session if target.uses_aiohttp else None
    if type(target).__name__ != "ConfiguredHttpClient":
        return None
    transport: Any = getattr(target, "_transport", None)
    if type(transport).__name__ != "AiohttpTransport":
        return None

    def session() -> aiohttp.ClientSession:
        import aiohttp

        client = transport.client
        if not isinstance(client, aiohttp.ClientSession) or client.closed:
            client = transport.client = transport.get_client()
        return client  # type: ignore[no-any-return]

    return session
