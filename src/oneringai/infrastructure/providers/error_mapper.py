"""Translate HTTP statuses, vendor error bodies and transport exceptions into typed errors.

Every built-in provider funnels failures through ``ProviderErrorMapper`` so that
callers see the same ``ProviderError`` subclasses whoever served the request:

- a status decides first (401/403 auth, 429 rate limit, 404 model, 5xx unavailable…);
- where there is no status (the guide's ``map_error(body, name)``, a mid-stream error
  event) or it says little (a plain 400), the body's own error ``type``/``code`` decides
  (``invalid_api_key`` → auth, ``rate_limit_error`` → rate limit, ``overloaded_error`` →
  unavailable…);
- transport exceptions by what happened: a timeout is a timeout, a reset or refusal is
  "unavailable" (httpx-aiohttp reports both as ``ConnectTimeout``: its cause tells them apart).

Vendor text is scrubbed (``domain.redaction``) before it is cut to length, so a cut never
leaves half a key; URLs are shown without userinfo or query.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterable, Mapping
from email.utils import parsedate_to_datetime
from typing import Any

from pydantic_core import from_json

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
    brief_repr,
)
from oneringai.domain.redaction import redact
from oneringai.infrastructure.providers._foreign_errors import scrub_foreign_chain
from oneringai.infrastructure.providers._mapper_inputs import status_code_of, text_headers

__all__ = ["ProviderErrorMapper", "display_url", "redact_secrets"]

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
_AUTH_CODES = frozenset(
    {
        "invalid_api_key", "authentication_error", "permission_error", "unauthorized", "forbidden",
        "invalid_authentication", "permission_denied", "unauthenticated", "invalid_auth",
        "authentication_failed", "access_denied",
    }
)
_AUTH_MARKERS = ("invalid api key", "incorrect api key", "api key not valid", "invalid x-api-key",
                 "unauthorized", "authentication", "invalid_api_key")
_RATE_CODES = frozenset(
    {"rate_limit", "rate_limit_exceeded", "rate_limit_error", "too_many_requests", "insufficient_quota",
     "quota_exceeded", "resource_exhausted"}
)
_RATE_MARKERS = ("rate limit", "rate_limit", "too many requests", "quota")
_NOT_FOUND_CODES = frozenset({"model_not_found", "not_found_error", "not_found", "model_not_available"})
_UNAVAILABLE_CODES = frozenset(
    {"overloaded", "overloaded_error", "server_error", "api_error", "service_unavailable", "internal_error",
     "internal_server_error", "unavailable", "bad_gateway", "engine_overloaded"}
)
_UNAVAILABLE_MARKERS = ("overloaded", "server error", "service unavailable", "internal error", "try again later")
_TIMEOUT_CODES = frozenset({"timeout", "request_timeout", "timeout_error", "deadline_exceeded"})
_MAX_BODY = 600
_USERINFO = re.compile(r"^([A-Za-z][A-Za-z0-9+.\-]*://)[^/?#@]*@")


def redact_secrets(text: str, secrets: Iterable[str | None] = ()) -> str:
    """Remove known secret values and anything shaped like a credential (see ``domain.redaction``)."""
    return redact(text, secrets)


def display_url(url: str | None) -> str:
    """``url`` fit for a message: no userinfo, no query string or fragment (``?key=...``)."""
    if not url:
        return ""
    shown = _USERINFO.sub(r"\1", str(url))
    return shown.split("?", 1)[0].split("#", 1)[0]


def _cut(text: str) -> str:
    return text if len(text) <= _MAX_BODY else text[: _MAX_BODY - 1] + "…"


class ProviderErrorMapper:
    """Stateless translation into the ``ProviderError`` hierarchy."""

    @staticmethod
    def parse_retry_after(value: str | None, *, now: float | None = None) -> float | None:
        """``Retry-After`` as seconds: accepts delta-seconds or an HTTP-date; None if absent/bad."""
        if not isinstance(value, str):  # a caller's dict of JSON values (a number, a list): not a header
            return None
        value = value.strip()
        if not value:
            return None
        try:
            seconds = float(value)
        except ValueError:
            try:
                when = parsedate_to_datetime(value)
            except (TypeError, ValueError, IndexError, OverflowError):
                return None
            if when is None:
                return None
            seconds = when.timestamp() - (time.time() if now is None else now)
        if seconds != seconds or seconds == float("inf"):  # NaN, inf
            return None
        return max(0.0, seconds)

    @staticmethod
    def extract_message(body: Any) -> tuple[str, str | None]:
        """The vendor's message and error code/type from the usual body shapes (any input)."""
        message, codes = _extract(body)
        return message, codes[0] if codes else None

    @classmethod
    def from_http_response(
        cls,
        status_code: int | None,
        body: Any,
        headers: Mapping[str, str] | None = None,
        *,
        provider: str,
        model: str | None = None,
        secrets: Iterable[str | None] = (),
    ) -> ProviderError:
        """The typed error for a non-2xx response (``status_code`` None: judge by the body alone)."""
        secrets = tuple(secrets)  # read twice: the message and the request id
        status_code, headers = status_code_of(status_code), text_headers(headers)  # a caller's odd values
        raw, codes = _extract(body)
        message = _cut(redact_secrets(raw, secrets)) or (f"HTTP {status_code}" if status_code else "no details")
        retry_after = _retry_after(headers) if headers else None
        common: dict[str, Any] = {
            "provider": provider, "model": model, "status_code": status_code, "body": message,
            "request_id": _request_id(headers, body, secrets),
        }
        should_retry = (headers.get("x-should-retry") or "").strip().lower() if headers else ""
        if should_retry in ("true", "false"):  # the server says, as both vendors' SDKs obey before the status
            common["is_retryable"] = should_retry == "true"
        lowered = f"{message} {' '.join(codes)}".lower()
        if status_code in (401, 403):
            return ProviderAuthError(
                f"authentication failed: {message} (check the API key for provider {provider!r})", **common
            )
        if status_code == 429:
            return _rate_limited(message, lowered, codes, retry_after, common)
        if status_code == 413:
            return ProviderContextLengthError(f"input too long for the model: {message}", **common)
        if status_code == 404:
            if "model" in lowered or _NOT_FOUND_CODES.intersection(codes):
                return ModelNotFoundError(f"model not found: {message}", **common)
            return ProviderResponseError(
                f"endpoint not found: {message} (check base_url of provider {provider!r})", **common
            )
        if status_code == 408:
            return ProviderTimeoutError(f"the provider timed out: {message}", **common)
        if status_code is not None and (status_code < 200 or 300 <= status_code < 400):
            return _not_an_answer(status_code, headers, provider, common)
        if status_code is not None and (status_code >= 500 or status_code in (409, 425, 529)):
            return ProviderUnavailableError(f"provider error: {message}", retry_after=retry_after, **common)
        inferred = _infer(codes, lowered)
        if inferred is ProviderAuthError:
            return ProviderAuthError(
                f"authentication failed: {message} (check the API key for provider {provider!r})", **common
            )
        if inferred is ProviderRateLimitError:
            return _rate_limited(message, lowered, codes, retry_after, common)
        if inferred is ProviderContextLengthError:
            return ProviderContextLengthError(f"input too long for the model: {message}", **common)
        if inferred is ModelNotFoundError:
            return ModelNotFoundError(f"model not found: {message}", **common)
        if inferred is ProviderUnavailableError:
            return ProviderUnavailableError(f"provider error: {message}", retry_after=retry_after, **common)
        if inferred is ProviderTimeoutError:
            return ProviderTimeoutError(f"the provider timed out: {message}", **common)
        if status_code is None:
            return ProviderResponseError(f"the provider reported an error: {message}", **common)
        return ProviderResponseError(f"request rejected: {message}", **common)

    @classmethod
    def map_error(
        cls,
        error: BaseException | Mapping[str, Any] | object,
        provider: str,
        *,
        model: str | None = None,
        url: str | None = None,
        secrets: Iterable[str | None] = (),
    ) -> ProviderError:
        """Any failure (exception or vendor error body) as a ``ProviderError``.

        Provider errors pass through unchanged, so wrapping a whole call in
        ``except Exception as e: raise ProviderErrorMapper.map_error(e, self.name)`` is safe.
        A body without a status is judged by its own error type/code. The guide passes
        ``await response.json()`` here, which may be any JSON value (a list, text, ``null``)
        or raw bytes: each is read as a body, never an ``AttributeError``.
        """
        if isinstance(error, ProviderError):
            if error.provider is None:
                error.provider = provider
                error.args = (error._render(),)
            return error
        if isinstance(error, Mapping):
            return cls.from_http_response(
                _status_of(error), error, provider=provider, model=model, secrets=secrets
            )
        if isinstance(error, BaseException):
            return _map_exception(error, provider, model=model, url=url, secrets=secrets)
        return cls.from_http_response(None, error, provider=provider, model=model, secrets=secrets)


def _rate_limited(
    message: str, lowered: str, codes: list[str], retry_after: float | None, common: dict[str, Any]
) -> ProviderRateLimitError:
    """A 429. OpenAI's ``insufficient_quota`` is billing, not load: no wait makes the next attempt
    succeed, so it is not retryable (retrying only spent ``max_retries`` backoffs on the same refusal)."""
    kind = "quota exceeded" if "quota" in lowered else "rate limited"
    if "insufficient_quota" in codes and "is_retryable" not in common:
        common = {**common, "is_retryable": False}
    return ProviderRateLimitError(f"{kind}: {message}", retry_after=retry_after, **common)


def _not_an_answer(status: int, headers: Mapping[str, str] | None, provider: str, common: dict[str, Any]) -> ProviderError:
    """A redirect (not followed: it would resend the key to wherever it points) or an
    informational status as the final answer — it was read as a body ("malformed JSON")."""
    location = display_url((headers or {}).get("location") or (headers or {}).get("Location"))
    if 300 <= status < 400:
        where = f" to {location}" if location else ""
        return ProviderResponseError(
            f"the server redirected{where} (HTTP {status}); redirects are not followed: "
            f"set base_url of provider {provider!r} to the final address",
            **common,
        )
    return ProviderResponseError(f"unexpected HTTP {status} as the final answer", **common)


def _retry_after(headers: Mapping[str, str]) -> float | None:
    """Seconds to wait: OpenAI's ``retry-after-ms`` (more precise, and what its own SDK reads
    first) when it is a number, else ``Retry-After`` (seconds or an HTTP-date)."""
    millis = headers.get("retry-after-ms") or headers.get("Retry-After-Ms")
    if millis:
        try:
            value = float(millis)
        except ValueError:
            value = float("nan")
        if abs(value) != float("inf") and value == value:  # finite: not NaN, not 1e400
            return max(0.0, value) / 1000
    return ProviderErrorMapper.parse_retry_after(headers.get("retry-after") or headers.get("Retry-After"))


_REQUEST_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.:\-]{0,127}")


def _request_id(headers: Mapping[str, str] | None, body: Any, secrets: Iterable[str | None]) -> str | None:
    """The vendor's request id: Anthropic's ``request-id`` header (and ``request_id`` in its error
    bodies and stream ``error`` events), OpenAI's ``x-request-id``; None unless it looks like an id
    (a header is untrusted text: no spaces, no control characters, at most 128 characters)."""
    value: Any = None
    if headers:
        value = headers.get("request-id") or headers.get("x-request-id") or headers.get("Request-Id") or headers.get(
            "X-Request-Id"
        )
    if not value and isinstance(body, Mapping):
        value = body.get("request_id")
    if isinstance(value, str) and _REQUEST_ID.fullmatch(value) and redact_secrets(value, secrets) == value:
        return value  # (a server echoing a key there must not put it in the message)
    return None


def _status_of(body: Mapping[str, Any]) -> int | None:
    for key in ("status", "status_code", "statusCode"):
        value = body.get(key)
        if isinstance(value, int) and not isinstance(value, bool) and 100 <= value <= 599:
            return value
        if isinstance(value, str) and value.isdigit() and 100 <= int(value) <= 599:
            return int(value)
    return None


def _extract(body: Any) -> tuple[str, list[str]]:
    """(message, [code, type, ...]) from bytes, text, or a decoded body of any shape."""
    if isinstance(body, bytes | bytearray | memoryview):
        body = bytes(body).decode("utf-8", "replace")
    if isinstance(body, str):
        if not body.strip():
            return "", []
        try:
            body = from_json(body)
        except ValueError:  # not JSON (or nested too deep): the text itself
            return body.strip(), []
    codes: list[str] = []
    if isinstance(body, Mapping):
        error = body.get("error", body)
        if isinstance(error, str):  # Ollama: {"error": "..."}
            return error, _codes(body)
        if isinstance(error, Mapping):  # OpenAI / Anthropic
            codes = _codes(error) + _codes(body)
            message = error.get("message") or body.get("message") or body.get("detail")
            if message is None or message == "":
                return _dump(error), codes
            return (message if isinstance(message, str) else _dump(message)), codes
        if isinstance(error, list) and error:  # Google-style batches: the first one
            return _extract(error[0])
        return _dump(body), codes
    if body is None or body == "" or body == [] or body == {}:
        return "", []
    if isinstance(body, list) and body:
        return _extract(body[0])
    return _dump(body), []


def _codes(mapping: Mapping[str, Any]) -> list[str]:
    found = []
    for key in ("code", "type", "status"):
        value = mapping.get(key)
        if isinstance(value, str) and value and value != "error":
            found.append(value.lower())
    return found


def _dump(value: Any) -> str:
    try:
        return json.dumps(value, default=str)[: _MAX_BODY * 8]
    except Exception:  # 10**5000 (no str of it), an object whose __str__ raises, a cycle, too deep
        return brief_repr(value, 200)


def _infer(codes: list[str], lowered: str) -> type[ProviderError] | None:
    """The error class a body's codes (first) or message markers (then) point to."""
    for code in codes:
        if code in _AUTH_CODES:
            return ProviderAuthError
        if code in _RATE_CODES:
            return ProviderRateLimitError
        if code == "context_length_exceeded":
            return ProviderContextLengthError
        if code in _NOT_FOUND_CODES and ("model" in lowered or code == "model_not_found"):
            return ModelNotFoundError
        if code in _UNAVAILABLE_CODES:
            return ProviderUnavailableError
        if code in _TIMEOUT_CODES:
            return ProviderTimeoutError
    if any(marker in lowered for marker in _CONTEXT_MARKERS):
        return ProviderContextLengthError
    if any(marker in lowered for marker in _RATE_MARKERS):
        return ProviderRateLimitError
    if any(marker in lowered for marker in _AUTH_MARKERS):
        return ProviderAuthError
    if "model" in lowered and ("not found" in lowered or "does not exist" in lowered):
        return ModelNotFoundError
    if any(marker in lowered for marker in _UNAVAILABLE_MARKERS):
        return ProviderUnavailableError
    return None


def _is_timeout(error: BaseException | None) -> bool:
    return error is not None and (isinstance(error, TimeoutError) or "Timeout" in type(error).__name__)


def _map_exception(
    error: BaseException,
    provider: str,
    *,
    model: str | None,
    url: str | None,
    secrets: Iterable[str | None],
) -> ProviderError:
    secrets = tuple(secrets)
    if type(error).__module__.startswith("aiohttp"):  # raised through an httpx client on aiohttp (self.http)
        from oneringai.infrastructure.http.wire import as_httpx_error

        error = as_httpx_error(error)
    scrub_foreign_chain(error, lambda text: redact_secrets(text, secrets))  # it stays chained to ours
    shown = display_url(url)
    to = f" to {shown}" if shown else ""
    name = type(error).__name__
    cause = error.__cause__
    cause_name = type(cause).__name__ if cause is not None else ""
    text = _cut(redact_secrets(str(error), secrets))
    detail = text or cause_name or name
    common: dict[str, Any] = {"provider": provider, "model": model}
    import httpx

    if "ServerDisconnected" in cause_name or "ServerDisconnected" in name:
        return ProviderUnavailableError(f"the server closed the connection{to} before answering", **common)
    if isinstance(error, httpx.ConnectTimeout):
        # httpx-aiohttp reports every aiohttp connection error as ConnectTimeout: the cause says
        # whether it was a timeout (httpcore / aiohttp timeout) or a reset / refusal.
        if cause is None or _is_timeout(cause):
            return ProviderTimeoutError(f"timed out connecting{to} ({cause_name or name})", **common)
        if "Connector" in cause_name:
            return _cannot_connect(shown, detail, provider, common)
        return ProviderUnavailableError(f"connection{to} failed: {detail}", **common)
    if isinstance(error, httpx.ConnectError):
        return _cannot_connect(shown, detail, provider, common)
    if isinstance(error, httpx.TimeoutException):
        return ProviderTimeoutError(f"request{to} timed out ({name})", **common)
    if isinstance(error, httpx.RemoteProtocolError | httpx.ReadError | httpx.WriteError):
        return ProviderUnavailableError(f"connection{to} broke: {detail}", **common)
    if isinstance(error, httpx.HTTPStatusError):
        response = error.response
        return ProviderErrorMapper.from_http_response(
            response.status_code,
            response.content if response.is_closed else b"",
            response.headers,
            provider=provider,
            model=model,
            secrets=secrets,
        )
    if isinstance(error, httpx.DecodingError):  # both transports: a content-encoding that does not decode
        return ProviderResponseError(f"undecodable response body{' from ' + shown if shown else ''}: {detail}", **common)
    if isinstance(error, httpx.TransportError):
        return ProviderUnavailableError(f"transport error{to}: {detail}", **common)
    if isinstance(error, TimeoutError):
        return ProviderTimeoutError(f"request{to} timed out", **common)
    if isinstance(error, ConnectionError | OSError):
        return ProviderUnavailableError(f"network error{to}: {detail}", **common)
    if isinstance(error, ValueError):
        return ProviderResponseError(f"malformed response{' from ' + shown if shown else ''}: {detail}", **common)
    if isinstance(error, OneRingAIError):
        return ProviderResponseError(str(error), **common)
    return ProviderResponseError(f"unexpected {name}: {text}", **common)


def _cannot_connect(shown: str, detail: str, provider: str, common: dict[str, Any]) -> ProviderError:
    return ProviderUnavailableError(
        f"cannot connect to {shown or 'the server'}: {detail} "
        f"(is the {provider} server running and the base_url right?)",
        **common,
    )
