"""The HTTP call path shared by the built-in providers: JSON calls and streams with
retries, one resend after a connection that closed without any response, typed
errors for every failure, and no leaked connection on any path.

Bounded whatever the server does:

- **time**: one attempt — connect, send, every byte of the answer — finishes within
  ``attempt_timeout()`` (httpx's own timeouts restart with each byte, so a dripping
  server would defeat them); a stream gets that long to answer with headers, then an idle
  timeout per event and an optional total (``guard_stream``);
- **memory**: bodies stop at ``max_response_bytes`` (typed error), error bodies are read
  to 64 KiB and the rest is dropped with the connection; stream events stop at
  ``max_event_bytes`` (see ``http.streams``).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager
from typing import Any, Literal, Protocol, TypeVar

from pydantic_core import from_json

from oneringai.application.disconnects import is_no_response_disconnect
from oneringai.domain.errors import (
    ProviderError,
    ProviderResponseError,
    ProviderTimeoutError,
    RequestOptionsError,
)
from oneringai.domain.json_data import json_problem
from oneringai.infrastructure.http.bodies import ERROR_BODY_BYTES
from oneringai.infrastructure.http.deadlines import guard_stream
from oneringai.infrastructure.http.wire import Wire, WireResponse, as_httpx_error
from oneringai.infrastructure.providers.error_mapper import ProviderErrorMapper, display_url

__all__ = ["HttpCalls", "is_no_response_disconnect"]

T = TypeVar("T")
StreamFormat = Literal["sse", "ndjson"]
#: How long a finished stream's connection may take to end before it is dropped instead of pooled.
END_DRAIN_SECONDS = 1.0
#: Request bodies: compact, and no ``NaN``/``Infinity`` (invalid JSON no vendor parses). One
#: encoder for every call (``json.dumps(..., separators=...)`` built a new one per call).
_BODY_ENCODER = json.JSONEncoder(separators=(",", ":"), allow_nan=False)


def encode_body(body: Mapping[str, Any], provider: str, model: str | None) -> bytes:
    """``body`` as JSON bytes, or a ``RequestOptionsError`` naming what in it JSON cannot carry.

    The values a caller gives are checked where they enter (``TextGenerateOptions``, tool
    definitions); this catches one changed in place after that (a hook writing a set into
    ``options.provider_options``, a tool's schema edited) — before, a raw ``TypeError`` /
    ``ValueError`` / ``RecursionError`` from the encoder, or NaN sent as invalid JSON."""
    try:
        return _BODY_ENCODER.encode(body).encode()
    except (TypeError, ValueError, RecursionError):
        problem = json_problem(body, name="body") or "body cannot be written as JSON"
        raise RequestOptionsError(f"request to provider {provider!r} (model {model!r}): {problem}") from None


class _Provider(Protocol):
    name: str

    def _wire(self) -> tuple[Wire, Any]: ...

    def attempt_timeout(self) -> float | None: ...

    def stream_timeouts(self) -> tuple[float | None, float | None]: ...

    def max_response_bytes(self) -> int: ...

    def _secrets(self) -> tuple[str | None, ...]: ...

    def scrub(self, text: str) -> str: ...

    def map_error(
        self, error: BaseException, *, model: str | None = None, url: str | None = None
    ) -> ProviderError: ...

    async def with_retries(self, call: Callable[[], Awaitable[Any]], *, model: str | None = None) -> Any: ...


def _attempt_timed_out(provider: str, model: str | None, url: str, seconds: float, what: str) -> ProviderTimeoutError:
    return ProviderTimeoutError(
        f"no {what} from {display_url(url)} within {seconds:g}s (the request's timeout: "
        f"text.providers.<name>.timeout, else http.timeout)",
        provider=provider,
        model=model,
    )


def _json_headers(headers: Mapping[str, str] | None, user_agent: str | None) -> dict[str, str]:
    sent = {"user-agent": user_agent} if user_agent else {}
    if headers:
        sent.update(headers)
    sent["content-type"] = "application/json"
    return sent


class HttpCalls:
    """Mixin for ``BaseTextProvider`` subclasses that talk JSON over HTTP."""

    async def _send(
        self: _Provider,
        method: str,
        url: str,
        content: bytes | None,
        headers: Mapping[str, str],
        model: str | None,
    ) -> WireResponse:
        wire, timeouts = self._wire()
        for attempt in (1, 2):
            try:
                return await wire.send(method, url, content, headers, timeouts)
            except Exception as exc:
                if attempt == 1 and is_no_response_disconnect(exc):
                    continue
                raise self.map_error(exc, model=model, url=url) from _cause(exc, self)
        raise AssertionError("unreachable")  # pragma: no cover

    def _error_for(self: _Provider, response: WireResponse, body: bytes, model: str | None) -> ProviderError:
        return ProviderErrorMapper.from_http_response(
            response.status_code,
            body,
            response.headers,
            provider=self.name,
            model=model,
            secrets=self._secrets(),
        )

    async def _read_error(self: Any, response: WireResponse, model: str | None) -> ProviderError:
        """The typed error of a non-2xx response, from at most 64 KiB of its body."""
        try:
            body = await response.read_prefix(ERROR_BODY_BYTES)
        except Exception:  # the error is the status; a broken body adds nothing
            body = b""
        finally:
            await response.aclose()
        return self._error_for(response, body, model)  # type: ignore[no-any-return]

    def _request_headers(self: Any, headers: Mapping[str, str] | None, json_body: bool) -> Mapping[str, str]:
        """The headers sent: the user-agent (the aiohttp path adds no default), the caller's,
        the JSON content type; built once per headers mapping a provider reuses."""
        cache = self.__dict__.get("_headers_sent")
        if cache is not None and cache[0] is headers and cache[1] is json_body:
            return cache[2]  # type: ignore[no-any-return]
        user_agent = self._user_agent()
        if json_body:
            sent = _json_headers(headers, user_agent)
        else:
            sent = {"user-agent": user_agent, **(headers or {})} if user_agent else dict(headers or {})
        self._headers_sent = (headers, json_body, sent)
        return sent

    def _user_agent(self: Any) -> str | None:
        return getattr(self._wire()[0], "user_agent", None)

    async def request_bytes(
        self: Any,
        method: str,
        url: str,
        *,
        model: str | None,
        headers: Mapping[str, str] | None = None,
        body: Mapping[str, Any] | None = None,
    ) -> bytes:
        """One call with retries; the raw 2xx body, or a ``ProviderError``."""
        content = encode_body(body, self.name, model) if body is not None else None
        send_headers = self._request_headers(headers, content is not None)
        seconds = self.attempt_timeout()
        limit = self.max_response_bytes()

        async def attempt() -> bytes:
            deadline = asyncio.timeout(seconds)
            try:
                async with deadline:
                    response = await self._send(method, url, content, send_headers, model)
                    if not 200 <= response.status_code < 300:  # an error, a redirect (never followed), 1xx
                        raise await self._read_error(response, model)
                    try:
                        data = await response.read(limit)
                    except Exception as exc:
                        raise self.map_error(as_httpx_error(exc), model=model, url=url) from _cause(exc, self)
                    finally:
                        await response.aclose()
                    if data is None:
                        raise ProviderResponseError(
                            f"response body larger than {limit} bytes (raise http.max_response_bytes if expected)",
                            provider=self.name,
                            model=model,
                            status_code=response.status_code,
                        )
                    return data  # type: ignore[no-any-return]
            except TimeoutError:
                if deadline.expired():
                    raise _attempt_timed_out(self.name, model, url, seconds or 0.0, "complete response") from None
                raise

        return await self.with_retries(attempt, model=model)  # type: ignore[no-any-return]

    async def request_json(
        self: Any,
        method: str,
        url: str,
        *,
        model: str | None,
        headers: Mapping[str, str] | None = None,
        body: Mapping[str, Any] | None = None,
    ) -> Any:
        """One JSON call with retries; returns the decoded body or raises a ``ProviderError``."""
        raw = await self.request_bytes(method, url, model=model, headers=headers, body=body)
        try:
            return from_json(raw)
        except ValueError as exc:
            raise ProviderResponseError(
                f"malformed JSON body from {display_url(url)} ({len(raw)} bytes)",
                provider=self.name,
                model=model,
            ) from exc

    @asynccontextmanager
    async def open_stream(
        self: Any,
        url: str,
        *,
        model: str | None,
        headers: Mapping[str, str] | None = None,
        body: Mapping[str, Any],
        expect: StreamFormat = "sse",
    ) -> AsyncIterator[AsyncIterator[bytes]]:
        """POST and yield the decoded body chunks; connection errors become typed errors.

        Retries cover only getting a 2xx response; once bytes flow, a failure is raised.
        The response is closed on every exit, including a consumer that stops early.
        The caller bounds the wait for each event with ``guard`` (idle/total timeouts).
        """
        content = encode_body(body, self.name, model)
        send_headers = self._request_headers(headers, True)
        seconds = self.attempt_timeout()

        async def attempt() -> WireResponse:
            deadline = asyncio.timeout(seconds)
            try:
                async with deadline:
                    response = await self._send("POST", url, content, send_headers, model)
                    if not 200 <= response.status_code < 300:  # an error, a redirect (never followed), 1xx
                        raise await self._read_error(response, model)
                    problem = _content_type_problem(response, expect)
                    if problem is not None:
                        raise await self._wrong_content_type(response, problem, model)
                    return response  # type: ignore[no-any-return]
            except TimeoutError:
                if deadline.expired():
                    raise _attempt_timed_out(self.name, model, url, seconds or 0.0, "response headers") from None
                raise

        opened: WireResponse = await self.with_retries(attempt, model=model)
        try:
            yield self._chunks(opened, model, url)
        finally:
            await opened.aclose()

    async def _wrong_content_type(
        self: Any, response: WireResponse, content_type: str, model: str | None
    ) -> ProviderError:
        """A stream answered with JSON or HTML: an error body in disguise, or a wrong endpoint."""
        try:
            body = await response.read_prefix(ERROR_BODY_BYTES)
        except Exception:
            body = b""
        finally:
            await response.aclose()
        if "json" in content_type and b'"error"' in body:
            return ProviderErrorMapper.from_http_response(  # status 200 says nothing: judge by the body
                None, body, response.headers, provider=self.name, model=model, secrets=self._secrets()
            )
        return ProviderResponseError(
            f"expected a stream, got {content_type} (is base_url the vendor's API?)",
            provider=self.name,
            model=model,
            status_code=response.status_code,
        )

    async def _chunks(self: Any, response: WireResponse, model: str | None, url: str) -> AsyncIterator[bytes]:
        """The body's chunks as the transport hands them over (aiohttp: all that has arrived)."""
        try:
            async for chunk in response.chunks():
                yield chunk
        except ProviderError:
            raise
        except Exception as exc:
            raise self.map_error(as_httpx_error(exc), model=model, url=url) from _cause(exc, self)

    @staticmethod
    async def drain_after_end(chunks: AsyncIterator[bytes]) -> None:
        """Read what follows a stream's end marker (``[DONE]``, ``message_stop``) so the
        connection can go back to the pool — for at most ``END_DRAIN_SECONDS`` and
        ``ERROR_BODY_BYTES``: the answer is complete, so a server that holds the connection open
        after it, or keeps sending, only costs that connection (dropped on close), never the
        answer (it was a ``ProviderTimeoutError`` once the idle timeout fired)."""
        size = 0
        with contextlib.suppress(TimeoutError, ProviderError):  # the connection is dropped on close
            async with asyncio.timeout(END_DRAIN_SECONDS):
                async for chunk in chunks:
                    size += len(chunk)
                    if size > ERROR_BODY_BYTES:
                        return

    def guard(self: Any, items: AsyncIterator[T], model: str | None) -> AsyncIterator[T]:
        """``items`` (events or batches of them) bounded by the stream idle and total timeouts."""
        idle, total = self.stream_timeouts()
        name = self.name

        def timed_out(reason: str, seconds: float) -> ProviderTimeoutError:
            if reason == "total":
                text = f"stream still running after {seconds:g}s (stream_total_timeout)"
            else:
                text = (
                    f"no complete stream event for {seconds:g}s (stream_idle_timeout, else the request's "
                    "timeout: text.providers.<name>.timeout or http.timeout)"
                )
            return ProviderTimeoutError(text, provider=name, model=model)

        return guard_stream(items, idle=idle, total=total, timeout_error=timed_out)


def _content_type_problem(response: WireResponse, expect: StreamFormat) -> str | None:
    """The content type when it is clearly not a stream (JSON for SSE, HTML for either)."""
    content_type: str | None = response.headers.get("content-type")
    if not content_type:
        return None
    lowered = content_type.lower()
    if "html" in lowered or (expect == "sse" and "json" in lowered):  # application/problem+json too
        return lowered.split(";", 1)[0].strip()
    return None


def _cause(exc: BaseException, provider: Any) -> BaseException | None:
    """The exception to chain: none when its own text would show a secret."""
    text = str(exc)
    return exc if provider.scrub(text) == text else None
