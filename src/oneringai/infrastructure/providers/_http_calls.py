"""The HTTP call path shared by the built-in providers: JSON calls and streams with
retries, one resend after a connection that closed without any response, typed
errors for every failure, and no leaked connection on any path."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any, Protocol

from oneringai.domain.errors import ProviderError, ProviderResponseError
from oneringai.infrastructure.providers.error_mapper import ProviderErrorMapper

if TYPE_CHECKING:
    import httpx

__all__ = ["HttpCalls", "is_no_response_disconnect"]


def is_no_response_disconnect(error: BaseException) -> bool:
    """True when the server closed a kept-alive connection before sending anything.

    Such a request never reached the application, so resending it once is safe
    (seen with llama.cpp after a streamed response; httpx and aiohttp spell it differently).
    """
    text = str(error)
    if "without sending" in text or "Server disconnected" in text:
        return True
    cause = error.__cause__
    return cause is not None and type(cause).__name__ == "ServerDisconnectedError"


class _Provider(Protocol):
    name: str

    @property
    def http(self) -> httpx.AsyncClient: ...

    def request_timeout(self) -> httpx.Timeout: ...

    def _secrets(self) -> tuple[str | None, ...]: ...

    def map_error(
        self, error: BaseException, *, model: str | None = None, url: str | None = None
    ) -> ProviderError: ...

    async def with_retries(self, call: Callable[[], Awaitable[Any]], *, model: str | None = None) -> Any: ...


class HttpCalls:
    """Mixin for ``BaseTextProvider`` subclasses that talk JSON over HTTP."""

    async def _send(
        self: _Provider, request: httpx.Request, *, stream: bool, model: str | None
    ) -> httpx.Response:
        for attempt in (1, 2):
            try:
                return await self.http.send(request, stream=stream)
            except Exception as exc:
                if attempt == 1 and is_no_response_disconnect(exc):
                    continue
                raise self.map_error(exc, model=model, url=str(request.url)) from exc
        raise AssertionError("unreachable")  # pragma: no cover

    def _error_for(
        self: _Provider, response: httpx.Response, body: bytes, model: str | None
    ) -> ProviderError:
        return ProviderErrorMapper.from_http_response(
            response.status_code,
            body,
            response.headers,
            provider=self.name,
            model=model,
            secrets=self._secrets(),
        )

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
        content = json.dumps(body, separators=(",", ":")).encode() if body is not None else None
        send_headers = dict(headers or {})
        if content is not None:
            send_headers["content-type"] = "application/json"

        async def attempt() -> Any:
            request = self.http.build_request(
                method, url, content=content, headers=send_headers, timeout=self.request_timeout()
            )
            response = await self._send(request, stream=False, model=model)
            if response.status_code >= 400:
                raise self._error_for(response, response.content, model)
            try:
                return json.loads(response.content)
            except ValueError as exc:
                raise ProviderResponseError(
                    f"malformed JSON body from {url} ({len(response.content)} bytes)",
                    provider=self.name,
                    model=model,
                    status_code=response.status_code,
                ) from exc

        return await self.with_retries(attempt, model=model)

    @asynccontextmanager
    async def open_stream(
        self: Any,
        url: str,
        *,
        model: str | None,
        headers: Mapping[str, str] | None = None,
        body: Mapping[str, Any],
    ) -> AsyncIterator[AsyncIterator[bytes]]:
        """POST and yield the decoded body chunks; connection errors become typed errors.

        Retries cover only getting a 2xx response; once bytes flow, a failure is raised.
        The response is closed on every exit, including a consumer that stops early.
        """
        content = json.dumps(body, separators=(",", ":")).encode()
        send_headers = {**(headers or {}), "content-type": "application/json"}

        async def attempt() -> httpx.Response:
            request = self.http.build_request(
                "POST", url, content=content, headers=send_headers, timeout=self.request_timeout()
            )
            response = await self._send(request, stream=True, model=model)
            if response.status_code >= 400:
                try:
                    error_body = await response.aread()
                except Exception:  # the error is the status; a broken body adds nothing
                    error_body = b""
                finally:
                    await response.aclose()
                raise self._error_for(response, error_body, model)
            return response  # type: ignore[no-any-return]

        response: httpx.Response = await self.with_retries(attempt, model=model)
        try:
            yield self._chunks(response, model, url)
        finally:
            await response.aclose()

    async def _chunks(
        self: Any, response: httpx.Response, model: str | None, url: str
    ) -> AsyncIterator[bytes]:
        try:
            async for chunk in response.aiter_bytes():
                yield chunk
        except ProviderError:
            raise
        except Exception as exc:
            raise self.map_error(exc, model=model, url=url) from exc
