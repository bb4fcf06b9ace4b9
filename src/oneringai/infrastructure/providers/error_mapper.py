"""Translate HTTP statuses, vendor error bodies and transport exceptions into typed errors.

Every built-in provider funnels failures through ``ProviderErrorMapper`` so that
callers see the same ``ProviderError`` subclasses whoever served the request. The
mapper also scrubs anything that looks like a credential out of vendor messages
(OpenAI, for one, echoes part of a wrong key back).
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable, Mapping
from email.utils import parsedate_to_datetime
from typing import Any

from oneringai.domain.errors import (
    ModelNotFoundError,
    OneRingAIError,
    ProviderAuthError,
    ProviderContextLengthError,
    ProviderError,
    ProviderRateLimitError,
    ProviderResponseError,
    ProviderTimeoutError,
    ProviderUnavailableError,
)
from oneringai.domain.redaction import redact

__all__ = ["ProviderErrorMapper", "redact_secrets"]

_CONTEXT_MARKERS = (
    "context length",
    "context_length",
    "context window",
    "maximum context",
    "too many tokens",
    "prompt is too long",
    "input is too long",
    "reduce the length",
    "exceeds the context",
    "num_ctx",
)
_MAX_BODY = 600


def redact_secrets(text: str, secrets: Iterable[str | None] = ()) -> str:
    """Remove known secret values and anything shaped like a credential (see ``domain.redaction``)."""
    return redact(text, secrets)


class ProviderErrorMapper:
    """Stateless translation into the ``ProviderError`` hierarchy."""

    @staticmethod
    def parse_retry_after(value: str | None, *, now: float | None = None) -> float | None:
        """``Retry-After`` as seconds: accepts delta-seconds or an HTTP-date; None if absent/bad."""
        if value is None:
            return None
        value = value.strip()
        if not value:
            return None
        try:
            seconds = float(value)
        except ValueError:
            try:
                when = parsedate_to_datetime(value)
            except (TypeError, ValueError, IndexError):
                return None
            if when is None:
                return None
            seconds = when.timestamp() - (time.time() if now is None else now)
        return max(0.0, seconds)

    @staticmethod
    def extract_message(body: Any) -> tuple[str, str | None]:
        """The vendor's message and error code/type from the usual body shapes."""
        if isinstance(body, bytes | bytearray):
            body = body.decode("utf-8", "replace")
        if isinstance(body, str):
            try:
                body = json.loads(body) if body.strip() else {}
            except ValueError:
                return body.strip()[:_MAX_BODY], None
        if isinstance(body, Mapping):
            error = body.get("error", body)
            if isinstance(error, str):  # Ollama: {"error": "..."}
                return error, None
            if isinstance(error, Mapping):  # OpenAI / Anthropic
                message = error.get("message") or body.get("message") or json.dumps(error)[:_MAX_BODY]
                code = error.get("code") or error.get("type")
                return str(message), None if code is None else str(code)
            if "message" in body:
                return str(body["message"]), None
        return (json.dumps(body)[:_MAX_BODY] if body else ""), None

    @classmethod
    def from_http_response(
        cls,
        status_code: int,
        body: Any,
        headers: Mapping[str, str] | None = None,
        *,
        provider: str,
        model: str | None = None,
        secrets: Iterable[str | None] = (),
    ) -> ProviderError:
        """The typed error for a non-2xx response."""
        message, code = cls.extract_message(body)
        message = redact_secrets(message, secrets)[:_MAX_BODY] or f"HTTP {status_code}"
        lowered = f"{message} {code or ''}".lower()
        headers = headers or {}
        retry_after = cls.parse_retry_after(headers.get("retry-after") or headers.get("Retry-After"))
        common: dict[str, Any] = {
            "provider": provider,
            "model": model,
            "status_code": status_code,
            "body": message,
        }
        if status_code in (401, 403):
            return ProviderAuthError(
                f"authentication failed: {message} (check the API key for provider {provider!r})",
                **common,
            )
        if status_code == 429:
            kind = "quota exceeded" if "quota" in lowered else "rate limited"
            return ProviderRateLimitError(f"{kind}: {message}", retry_after=retry_after, **common)
        if status_code == 413 or (
            status_code in (400, 422) and any(marker in lowered for marker in _CONTEXT_MARKERS)
        ):
            return ProviderContextLengthError(f"input too long for the model: {message}", **common)
        if status_code == 404:
            if "model" in lowered or code == "model_not_found" or code == "not_found_error":
                return ModelNotFoundError(f"model not found: {message}", **common)
            return ProviderResponseError(
                f"endpoint not found: {message} (check base_url of provider {provider!r})", **common
            )
        if status_code == 408:
            return ProviderTimeoutError(f"request timed out: {message}", **common)
        if status_code >= 500 or status_code in (409, 425, 529):
            return ProviderUnavailableError(f"provider error: {message}", retry_after=retry_after, **common)
        return ProviderResponseError(f"request rejected: {message}", **common)

    @classmethod
    def map_error(
        cls,
        error: BaseException | Mapping[str, Any],
        provider: str,
        *,
        model: str | None = None,
        url: str | None = None,
        secrets: Iterable[str | None] = (),
    ) -> ProviderError:
        """Any failure (exception or vendor error body) as a ``ProviderError``.

        Provider errors pass through unchanged, so wrapping a whole call in
        ``except Exception as e: raise ProviderErrorMapper.map_error(e, self.name)`` is safe.
        """
        if isinstance(error, ProviderError):
            if error.provider is None:
                error.provider = provider
            return error
        if isinstance(error, Mapping):
            status = error.get("status") or error.get("status_code") or 400
            return cls.from_http_response(
                int(status), dict(error), provider=provider, model=model, secrets=secrets
            )
        where = f" {url}" if url else ""
        name = type(error).__name__
        cause = type(error.__cause__).__name__ if error.__cause__ is not None else ""
        text = redact_secrets(str(error), secrets)
        common: dict[str, Any] = {"provider": provider, "model": model}
        try:
            import httpx
        except ImportError:  # pragma: no cover - httpx is a hard dependency
            httpx = None  # type: ignore[assignment]
        if "ServerDisconnected" in cause or "ServerDisconnected" in name:
            return ProviderUnavailableError(f"server{where} disconnected: {text}", **common)
        if httpx is not None:
            # httpx-aiohttp reports a refused connection as ConnectTimeout caused by a ClientConnectorError
            if isinstance(error, httpx.ConnectTimeout) and "Connector" not in cause:
                return ProviderTimeoutError(f"timed out connecting to{where}", **common)
            if isinstance(error, httpx.ConnectError | httpx.ConnectTimeout):
                return ProviderUnavailableError(
                    f"cannot connect to{where}: {text or 'connection refused'}"
                    f" (is the {provider} server running and the base_url right?)",
                    **common,
                )
            if isinstance(error, httpx.TimeoutException):
                return ProviderTimeoutError(f"request to{where} timed out ({name})", **common)
            if isinstance(error, httpx.RemoteProtocolError | httpx.ReadError | httpx.WriteError):
                return ProviderUnavailableError(f"connection to{where} broke: {text or name}", **common)
            if isinstance(error, httpx.HTTPStatusError):
                response = error.response
                return cls.from_http_response(
                    response.status_code,
                    response.content if response.is_closed else b"",
                    response.headers,
                    provider=provider,
                    model=model,
                    secrets=secrets,
                )
            if isinstance(error, httpx.TransportError):
                return ProviderUnavailableError(f"transport error on{where}: {text or name}", **common)
        if isinstance(error, TimeoutError):
            return ProviderTimeoutError(f"request to{where} timed out", **common)
        if isinstance(error, ConnectionError | OSError):
            return ProviderUnavailableError(f"network error on{where}: {text or name}", **common)
        if isinstance(error, ValueError):
            return ProviderResponseError(f"malformed response{where}: {text}", **common)
        if isinstance(error, OneRingAIError):
            return ProviderResponseError(str(error), **common)
        return ProviderResponseError(f"unexpected {name}: {text}", **common)
