"""What the built-in providers send on: aiohttp's session directly, or an httpx client.

``HttpCalls`` needs four things from a response — status, headers, a bounded body, a
chunk iterator — and one from a connection: send a request with per-operation timeouts.
``AiohttpWire`` does that on the ``aiohttp.ClientSession`` under the pool, without
building an ``httpx.Request``/``Response`` pair per call (which was ~40 % of a call's client
CPU with the aiohttp transport); ``HttpcoreWire`` the same on the httpcore pool under a client
we built with the ``httpx`` transport; ``HttpxWire`` through any other ``httpx.AsyncClient``
(one a user passed in: its hooks, auth and headers apply).

All keep the same behaviour: no redirects followed, the same connect/read/pool
timeouts, bodies bounded, a response closed on every path (an unread one drops its
connection). aiohttp's and httpcore's exceptions are translated into the ones
httpx-aiohttp and httpx raised (on the error path only), so error mapping and messages are
unchanged.
"""

from __future__ import annotations

import asyncio
import contextlib
import weakref
from collections.abc import AsyncIterator, Callable, Mapping
from typing import TYPE_CHECKING, Any, Protocol

from oneringai.application.decoding import bounded_encodings, decode_bounded
from oneringai.infrastructure.http.bodies import collect, prefix
from oneringai.infrastructure.http.httpcore_pool import (
    close_shielded,
    forget_other_loops,
    reap_unstarted,
    redact_http_logs,
)

if TYPE_CHECKING:
    import aiohttp
    import httpx

__all__ = ["AiohttpWire", "HttpcoreWire", "HttpxWire", "Wire", "WireResponse", "aiohttp_timeout", "as_httpx_error"]


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
    special = _aiohttp_parse_error(error)
    if special is not None:
        return special
    from httpx_aiohttp.transport import map_aiohttp_exceptions

    return _translated(error, map_aiohttp_exceptions)


def _aiohttp_parse_error(error: BaseException) -> BaseException | None:
    """What httpx raises for the same fault, where httpx-aiohttp has no mapping: aiohttp reports a
    response it cannot parse as ``ClientResponseError`` with status 400 (a status the server never
    sent: it was shown as "unexpected ClientResponseError: 400"), and a body it cannot decode
    as a payload error; httpx raises ``RemoteProtocolError`` and ``DecodingError``."""
    import httpx

    causes: list[BaseException] = []
    link: BaseException | None = error
    while link is not None and len(causes) < 8:
        causes.append(link)
        link = link.__cause__ or link.__context__
    names = {type(cause).__name__ for cause in causes}
    mapped: BaseException | None = None
    if "ContentEncodingError" in names:
        mapped = httpx.DecodingError(f"cannot decode the body ({_first_line(causes[-1])})")
    elif type(error).__name__ == "ClientResponseError" and any(
        isinstance(getattr(cause, "message", None), str) and type(cause).__module__ == "aiohttp.http_exceptions"
        for cause in causes
    ):
        mapped = httpx.RemoteProtocolError(f"invalid HTTP response ({_first_line(causes[-1])})")
    if mapped is not None:
        mapped.__cause__ = error
    return mapped


def _first_line(error: BaseException) -> str:
    """The gist of an aiohttp parser message (its later lines quote the offending bytes)."""
    message = getattr(error, "message", None)
    text = message if isinstance(message, str) else str(error)
    return text.strip().split("\n", 1)[0].strip().rstrip(":")[:160] or type(error).__name__


def _translated(error: BaseException, mapping: Callable[[], contextlib.AbstractContextManager[None]]) -> BaseException:
    """What ``mapping`` (a library's own exception-translating context manager) turns ``error``
    into, without re-implementing its table."""
    try:
        with mapping():
            raise error
    except Exception as mapped:
        return mapped
    raise AssertionError("unreachable")  # pragma: no cover


class _AiohttpResponse:
    __slots__ = ("_admission", "_response", "status_code")

    def __init__(self, response: aiohttp.ClientResponse, admission: asyncio.Semaphore | None) -> None:
        self._response = response
        self._admission = admission  # held from the send until this response lets its connection go
        self.status_code = response.status

    def _leave(self) -> None:
        admission, self._admission = self._admission, None
        if admission is not None:
            admission.release()

    def __del__(self) -> None:  # a response dropped unclosed still gives its place back
        with contextlib.suppress(Exception):  # a closed loop at interpreter exit
            self._leave()

    @property
    def headers(self) -> Mapping[str, str]:
        return self._response.headers

    async def read(self, limit: int) -> bytes | None:
        response = self._response
        length = response.content_length
        if length is not None and length <= limit and "content-encoding" not in response.headers:
            return await response.read()  # one call; the declared size is within bounds
        return await collect(response.content.iter_any(), limit)

    async def read_prefix(self, limit: int) -> bytes:
        return await prefix(self._response.content.iter_any(), limit)

    def chunks(self) -> AsyncIterator[bytes]:
        return self._response.content.iter_any()

    async def aclose(self) -> None:
        try:
            self._response.release()  # back to the pool when read to the end, else the connection is dropped
        finally:
            self._leave()


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
        session = self._session()
        admission = _admission_of(session)
        if admission is not None:
            await admission.acquire()
        try:
            response = await session.request(
                method, url, data=content, headers=headers, timeout=timeouts, allow_redirects=False
            )
        except BaseException as exc:
            if admission is not None:
                admission.release()
            if isinstance(exc, Exception):
                raise as_httpx_error(exc)  # noqa: B904 - the mapped error chains the original itself
            raise
        return _AiohttpResponse(response, admission)


#: One admission queue per aiohttp connector (weakly held: it goes with its session).
_ADMISSIONS: weakref.WeakKeyDictionary[Any, asyncio.Semaphore] = weakref.WeakKeyDictionary()


def _admission_of(session: aiohttp.ClientSession) -> asyncio.Semaphore | None:
    """The arrival-order queue in front of ``session``'s connection limit, None when unlimited.

    aiohttp's connector gives a released kept-alive connection to whoever asks next, before
    the callers already waiting: a caller that loops takes its own connection back every time,
    and callers beyond the limit starve until they time out (the soak benchmark: 256 callers,
    ``max_connections: 100``, 156 never served in 60 s). asyncio's semaphore wakes waiters in
    order and makes newcomers queue behind them, so holding one slot from the send until the
    response is closed keeps the connector below its limit and serves everyone in turn. The
    wait is bounded by the attempt's deadline like the rest of the send."""
    connector = session.connector
    if connector is None or not connector.limit:
        return None
    admission = _ADMISSIONS.get(connector)
    if admission is None:
        admission = _ADMISSIONS[connector] = asyncio.Semaphore(connector.limit)
    return admission


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
        return await collect(self._decoded(), limit)

    def _decoded(self) -> AsyncIterator[bytes]:
        """The decoded body; gzip/deflate decoded here a bounded step at a time (httpx decodes
        a whole received chunk at once: a compression bomb's size is only seen afterwards)."""
        response = self._response
        encodings = bounded_encodings(response.headers)
        if encodings is None:
            return response.aiter_bytes()
        return decode_bounded(response.aiter_raw(), encodings)

    async def read_prefix(self, limit: int) -> bytes:
        return await prefix(self._decoded(), limit)

    def chunks(self) -> AsyncIterator[bytes]:
        return self._decoded()

    async def aclose(self) -> None:
        await close_shielded(self._response.aclose())


class HttpxWire:
    __slots__ = ("_client",)

    def __init__(self, client: httpx.AsyncClient) -> None:
        redact_http_logs()
        self._client = client

    def timeouts(self, connect: float | None, read: float | None, pool: float | None) -> Any:
        import httpx

        return httpx.Timeout(connect=connect, read=read, write=read, pool=pool)

    async def send(
        self, method: str, url: str, content: bytes | None, headers: Mapping[str, str], timeouts: Any
    ) -> WireResponse:
        client = self._client
        request = client.build_request(method, url, content=content, headers=headers, timeout=timeouts)
        try:
            return _HttpxResponse(await client.send(request, stream=True))
        except BaseException:
            reap_unstarted(getattr(getattr(client, "_transport", None), "_pool", None))
            raise


def _httpcore_error(error: BaseException) -> BaseException:
    """The httpx exception httpx raised for an httpcore one (error path only)."""
    from httpx._transports.default import map_httpcore_exceptions

    return _translated(error, map_httpcore_exceptions)


class _HttpcoreResponse:
    __slots__ = ("_headers", "_response", "status_code")

    def __init__(self, response: Any) -> None:
        self._response = response
        self.status_code: int = response.status
        self._headers: httpx.Headers | None = None

    @property
    def headers(self) -> Mapping[str, str]:
        if self._headers is None:
            import httpx

            self._headers = httpx.Headers(self._response.headers)
        return self._headers

    async def read(self, limit: int) -> bytes | None:
        try:
            return await collect(self._response.aiter_stream(), limit)
        except Exception as exc:
            raise _httpcore_error(exc)  # noqa: B904 - chained by the mapping

    async def read_prefix(self, limit: int) -> bytes:
        try:
            return await prefix(self._response.aiter_stream(), limit)
        except Exception as exc:
            raise _httpcore_error(exc)  # noqa: B904 - chained by the mapping

    async def chunks(self) -> AsyncIterator[bytes]:
        try:
            async for chunk in self._response.aiter_stream():
                yield chunk
        except Exception as exc:
            raise _httpcore_error(exc)  # noqa: B904 - chained by the mapping

    async def aclose(self) -> None:
        await close_shielded(self._response.aclose())


class HttpcoreWire:
    """Sends on the httpcore pool under a client ``build_http_client`` made with the httpx
    transport (no proxy mounted): the request httpx would send — its default headers, then
    the caller's — without building an ``httpx.Request``/``Response`` per call. A response
    with a ``content-encoding`` is handed to httpx to decode. Cookies are not kept."""

    __slots__ = ("_client", "_defaults", "_encoded", "_pool", "_urls")

    def __init__(self, client: httpx.AsyncClient) -> None:
        redact_http_logs()
        self._client = client
        self._pool: Any = client._transport._pool  # type: ignore[attr-defined]
        self._defaults = {name.lower(): value for name, value in client.headers.items()}
        self._urls: dict[str, tuple[Any, bytes]] = {}
        self._encoded: tuple[Mapping[str, str] | None, list[tuple[bytes, bytes]]] = (None, [])

    def timeouts(self, connect: float | None, read: float | None, pool: float | None) -> Any:
        return {"timeout": {"connect": connect, "read": read, "write": read, "pool": pool}}

    def _target(self, url: str) -> tuple[Any, bytes]:
        target = self._urls.get(url)
        if target is None:
            import httpcore
            import httpx

            parsed = httpx.URL(url)
            target = (
                httpcore.URL(scheme=parsed.raw_scheme, host=parsed.raw_host, port=parsed.port, target=parsed.raw_path),
                parsed.netloc,
            )
            if len(self._urls) < 64:
                self._urls[url] = target
        return target

    def _headers(self, headers: Mapping[str, str]) -> list[tuple[bytes, bytes]]:
        cached, encoded = self._encoded
        if cached is not headers:
            merged = dict(self._defaults)
            merged.update((name.lower(), value) for name, value in headers.items())
            encoded = [(name.encode("ascii"), value.encode("latin-1")) for name, value in merged.items()]
            self._encoded = (headers, encoded)
        return encoded

    async def send(
        self, method: str, url: str, content: bytes | None, headers: Mapping[str, str], timeouts: Any
    ) -> WireResponse:
        import httpcore

        if self._client.is_closed:  # httpx's own refusal: its pool would reopen connections
            raise RuntimeError("Cannot send a request, as the client has been closed.")
        forget_other_loops(self._pool)
        target, host = self._target(url)
        raw = [(b"host", host), *self._headers(headers)]
        if content is not None:
            raw.append((b"content-length", str(len(content)).encode()))
        elif method in ("POST", "PUT", "PATCH"):
            raw.append((b"content-length", b"0"))
        request = httpcore.Request(method, target, headers=raw, content=content or b"", extensions=timeouts)
        try:
            response = await self._pool.handle_async_request(request)
        except BaseException as exc:
            reap_unstarted(self._pool)
            if isinstance(exc, Exception):
                raise _httpcore_error(exc)  # noqa: B904 - chained by the mapping
            raise
        for name, _value in response.headers:
            if name.lower() == b"content-encoding":
                import httpx
                from httpx._transports.default import AsyncResponseStream

                return _HttpxResponse(
                    httpx.Response(response.status, headers=response.headers, stream=AsyncResponseStream(response.stream))
                )
        return _HttpcoreResponse(response)
