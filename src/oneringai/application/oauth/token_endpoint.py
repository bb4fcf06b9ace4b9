"""Talking to a token endpoint: one POST, a bounded body, one shape check, typed errors.

The promise: ``request_token`` returns a ``StoredToken`` or raises ``OAuthError`` — for a
non-object body, an object without a string ``access_token``, an ``expires_in`` of "abc",
HTML, a 1 GiB body, a nested bomb. No secret of the request (client secret, refresh token,
code, PKCE verifier, JWT assertion, ``extra_token_params`` values) and none of the response
(access, refresh, id tokens) appears in the error, also when the server echoes it in its
``error_description`` — raw, form-encoded or JSON-escaped.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import math
import re
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, quote, quote_plus

import httpx
from pydantic import BaseModel, ConfigDict, ValidationError, field_validator

from oneringai.application.decoding import bounded_encodings, decode_bounded
from oneringai.application.disconnects import is_no_response_disconnect
from oneringai.domain.errors import OAuthError
from oneringai.domain.redaction import get_logger, redact
from oneringai.domain.tokens import StoredToken

if TYPE_CHECKING:
    from oneringai.application.oauth.config import OAuthConnectionSettings

__all__ = [
    "MAX_BODY_BYTES",
    "TokenEndpointResponse",
    "parse_token_response",
    "request_token",
    "revoke_at_server",
    "secret_variants",
]

logger = get_logger("oneringai.oauth")

#: A token response is a few KiB; more than this is not one (and is not read further).
MAX_BODY_BYTES = 256 * 1024
_SECRET_FORM_FIELDS = ("refresh_token", "code", "code_verifier", "assertion", "client_secret", "client_assertion")
_SECRET_RESPONSE_FIELDS = ("access_token", "refresh_token", "id_token")
#: Asked for, and the only content codings read: each is inflated a bounded step at a time.
_ACCEPT_ENCODING = "gzip, deflate"
_READ_ENCODINGS = frozenset({"gzip", "x-gzip", "deflate", "identity"})
#: What a revocation answer is read for: a line of a log.
_REVOCATION_BODY_BYTES = 4096
#: Token types that must travel with a per-request proof (RFC 9449 DPoP, the MAC draft).
_PROOF_OF_POSSESSION = frozenset({"dpop", "mac", "pop"})
#: What RFC 6749 allows in a token or token type (VSCHAR: %x20-7E).
_VSCHAR = re.compile(r"[\x20-\x7e]+")


def secret_variants(values: Iterable[str | None]) -> list[str]:
    """Each secret as a server may echo it: raw, form-encoded, URL-quoted, JSON-escaped."""
    out: list[str] = []
    for value in values:
        if not value:
            continue
        # surrogatepass: a server's "\ud800" must not turn the scrubbing into a UnicodeEncodeError
        encoded = (quote_plus(value, errors="surrogatepass"), quote(value, safe="", errors="surrogatepass"))
        for variant in (value, *encoded, json.dumps(value)[1:-1]):
            if variant not in out:
                out.append(variant)
    return sorted(out, key=len, reverse=True)


class TokenEndpointResponse(BaseModel):
    """RFC 6749 §5.1, lenient where vendors differ: ``expires_in`` may be a numeric string,
    ``scope`` a list; extra fields (``id_token``, ...) are kept."""

    model_config = ConfigDict(extra="allow")

    access_token: str
    token_type: str = "Bearer"
    expires_in: float | None = None
    refresh_token: str | None = None
    scope: str | None = None

    @field_validator("access_token", "token_type", "refresh_token", mode="before")
    @classmethod
    def _text(cls, value: Any) -> Any:
        if value is not None and not isinstance(value, str):
            raise ValueError("must be a string")
        if isinstance(value, str) and (not value.strip() or len(value) > 16384):
            raise ValueError("must be a non-empty string of at most 16384 characters")
        if isinstance(value, str) and not _VSCHAR.fullmatch(value):
            # RFC 6749 A.12/A.13/A.17: printable ASCII. A CR/LF, NUL or lone surrogate would
            # reach an Authorization header (header injection, or a raw error at first use).
            raise ValueError("must hold printable ASCII characters only")
        return value

    @field_validator("expires_in", mode="before")
    @classmethod
    def _seconds(cls, value: Any) -> Any:
        if value is None or value == "":
            return None
        if isinstance(value, bool):
            raise ValueError("must be a number of seconds")
        if isinstance(value, int) and not 0 <= value <= 10**10:  # 10**400 overflows a float
            raise ValueError("must be a non-negative number of seconds")
        if isinstance(value, str):
            try:
                value = float(value.strip())
            except ValueError:
                raise ValueError("must be a number of seconds") from None
        if not isinstance(value, int | float) or not math.isfinite(value) or value < 0 or value > 10**10:
            raise ValueError("must be a non-negative number of seconds")
        return float(value)

    @field_validator("scope", mode="before")
    @classmethod
    def _scope(cls, value: Any) -> Any:
        if isinstance(value, list) and all(isinstance(v, str) for v in value):
            return " ".join(value)
        if value is not None and not isinstance(value, str):
            raise ValueError("must be a string")
        return value


def _response_secrets(payload: Mapping[str, Any]) -> list[str]:
    """Token-like values a server sent: hidden from this response's errors. (A valid token
    registers its own secrets globally when the ``StoredToken`` is built.)"""
    return [
        value
        for name, value in payload.items()
        if isinstance(name, str) and isinstance(value, str) and ("token" in name or "secret" in name)
    ]


def _decode(body: bytes, content_type: str) -> object:
    """The body as JSON, or as a form (some providers answer ``a=b&c=d``); None when neither."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        return None
    try:
        return json.loads(text)
    except (ValueError, RecursionError):
        pass
    if "json" not in content_type and "=" in text and "<" not in text:
        return dict(parse_qsl(text.strip()))
    return None


def parse_token_response(
    status: int,
    body: bytes,
    content_type: str = "application/json",
    *,
    connection: str | None = None,
    secrets: Iterable[str] = (),
) -> StoredToken:
    """The token in a token endpoint's answer, or ``OAuthError`` (scrubbed of ``secrets``)."""
    payload = _decode(body, content_type) if len(body) <= MAX_BODY_BYTES else None
    hidden = secret_variants([*secrets, *(_response_secrets(payload) if isinstance(payload, dict) else [])])

    def fail(message: str, error: str | None = None) -> OAuthError:
        return OAuthError(
            redact(message, secrets=hidden), error=error, status_code=status, connection=connection
        )

    if len(body) > MAX_BODY_BYTES:
        raise fail(f"token endpoint answered more than {MAX_BODY_BYTES} bytes: not a token response")
    if isinstance(payload, dict) and (status >= 400 or "access_token" not in payload):
        error = payload.get("error")
        description = payload.get("error_description")
        code = redact(error[:100], secrets=hidden) if isinstance(error, str) and error else None
        detail = description[:500] if isinstance(description, str) and description else None
        if code or detail:
            raise fail(f"token request failed: {detail or code}", error=code)
    if status >= 400:
        raise fail(f"token endpoint answered HTTP {status} without an OAuth error body")
    if not 200 <= status < 300:
        raise fail(f"token endpoint answered HTTP {status} (expected 200)")
    if not isinstance(payload, dict):
        kind = "not JSON" if payload is None else f"JSON {type(payload).__name__}, not an object"
        raise fail(f"token response is {kind}")
    if "access_token" not in payload:
        raise fail("token response has no access_token")
    try:
        parsed = TokenEndpointResponse.model_validate(payload)
    except ValidationError as exc:
        fields = ", ".join(
            f"{'.'.join(str(p) for p in err['loc'])} {err['msg'].removeprefix('Value error, ')}"
            for err in exc.errors(include_input=False, include_url=False)[:5]
        )
        raise fail(f"token response is malformed: {fields}") from None
    if parsed.token_type.strip().lower() in _PROOF_OF_POSSESSION:
        # RFC 6749 §7.1: a token of a type not understood must not be used. Sent as a bearer
        # token it is refused at best — and leaks a token meant to travel with a proof.
        raise fail(
            f"token endpoint issued a {parsed.token_type[:20]!r} token, which needs a proof of possession "
            "with each request; only bearer tokens are supported"
        )
    data = parsed.model_dump(exclude_none=True)
    for ours in ("obtained_at", "needs_login"):  # our bookkeeping, never the server's to set
        data.pop(ours, None)
    try:
        return StoredToken.from_token_response(data)
    except (ValidationError, ValueError):
        raise fail("token response is malformed") from None


async def request_token(
    client: httpx.AsyncClient,
    url: str,
    form: Mapping[str, str],
    *,
    client_id: str,
    client_secret: str | None,
    extra_secrets: Iterable[str] = (),
    connection: str | None = None,
) -> StoredToken:
    """POST ``form`` to ``url`` (client secret as HTTP Basic when there is one) and parse."""
    secrets = [v for k, v in form.items() if k in _SECRET_FORM_FIELDS]
    secrets += [*extra_secrets]
    auth: httpx.Auth | httpx._client.UseClientDefault = httpx.USE_CLIENT_DEFAULT
    data = dict(form)
    if client_secret is not None:
        auth = httpx.BasicAuth(client_id, client_secret)
        secrets += [client_secret, base64.b64encode(f"{client_id}:{client_secret}".encode()).decode()]
    else:
        data["client_id"] = client_id
    # Not registered globally here: each value is registered where it enters (settings, the
    # stored token, the PKCE pair, the callback, the assertion); variants stay local to this call.
    hidden = secret_variants(secrets)
    seconds = whole_exchange_seconds(client)
    try:
        # httpx's timeouts bound each read, not the exchange: a server dripping a byte a second
        # would hold a refresh (and every waiter sharing it) forever.
        async with asyncio.timeout(seconds), contextlib.AsyncExitStack() as stack:
            for attempt in (1, 2):
                try:
                    # Never a redirect, whatever the client's default: a 307/308 would re-send the
                    # form (refresh token, code, verifier, extra_token_params) to wherever the
                    # server points.
                    response = await stack.enter_async_context(client.stream(
                        "POST", url, data=data, auth=auth,
                        headers={"accept": "application/json", "accept-encoding": _ACCEPT_ENCODING},
                        follow_redirects=False,
                    ))
                    break
                except httpx.HTTPError as exc:
                    # A kept-alive connection the server closed as the request went out (no
                    # answer, the request unread): sent once more, as the providers do — a token
                    # endpoint's idle timeout failed that refresh before.
                    if attempt == 2 or not is_no_response_disconnect(exc):
                        raise
            body = await read_bounded(response, MAX_BODY_BYTES, connection=connection)
            status, content_type = response.status_code, response.headers.get("content-type", "")
    except TimeoutError:
        raise OAuthError(
            redact(f"token endpoint {url} did not answer within {seconds:g}s", secrets=hidden),
            connection=connection,
        ) from None
    except httpx.HTTPError as exc:
        raise OAuthError(
            redact(f"token endpoint {url} unreachable: {type(exc).__name__}: {exc}", secrets=hidden),
            connection=connection,
        ) from None
    return parse_token_response(status, body, content_type, connection=connection, secrets=secrets)


async def read_bounded(response: httpx.Response, limit: int, *, connection: str | None) -> bytes:
    """At most ``limit + 1`` bytes of the decoded body. httpx inflates each received chunk
    whole (a 64 KiB gzip chunk of zeros is 64 MiB, ``gzip, gzip`` nests the ratio) before a
    size check could run: gzip and deflate are inflated here a bounded step at a time, and a
    coding that cannot be (``br``, ``zstd``: never asked for) is refused unread."""
    value = response.headers.get("content-encoding", "")
    names = [name.strip().lower() for name in value.split(",") if name.strip()]
    unread = [name for name in names if name not in _READ_ENCODINGS]
    if unread:
        raise OAuthError(
            f"token endpoint answered with content-encoding {unread[0][:40]!r}, which is not read "
            f"(asked for {_ACCEPT_ENCODING})",
            status_code=response.status_code,
            connection=connection,
        )
    encodings = bounded_encodings(response.headers)
    chunks = response.aiter_bytes() if encodings is None else decode_bounded(response.aiter_raw(), encodings)
    body = bytearray()
    async with contextlib.aclosing(chunks) as stream:  # type: ignore[type-var]
        async for chunk in stream:
            body += chunk
            if len(body) > limit:
                break
    return bytes(body[: limit + 1])


#: The whole token exchange when the client sets no read timeout.
_DEFAULT_EXCHANGE_SECONDS = 60.0


def whole_exchange_seconds(client: httpx.AsyncClient) -> float:
    """The bound on one whole exchange: the client's read timeout (its per-read bound, applied
    to the whole answer, as the providers do), else 60 s."""
    timeout = getattr(client, "timeout", None)
    read = getattr(timeout, "read", None)
    return float(read) if isinstance(read, int | float) and read > 0 else _DEFAULT_EXCHANGE_SECONDS


async def revoke_at_server(
    client: httpx.AsyncClient, config: OAuthConnectionSettings, token: StoredToken, *, connection: str
) -> None:
    """RFC 7009: revoke the refresh and the access token. A refusal or an unreachable server
    is logged (scrubbed, also of what the server echoed) — the caller deletes locally anyway."""
    auth: httpx.Auth | httpx._client.UseClientDefault = httpx.USE_CLIENT_DEFAULT
    secret = config.client_secret.get_secret_value() if config.client_secret is not None else None
    if secret is not None:
        auth = httpx.BasicAuth(config.client_id, secret)
    for value, hint in ((token.refresh_token, "refresh_token"), (token.access_token, "access_token")):
        if value is None:
            continue
        basic = base64.b64encode(f"{config.client_id}:{secret}".encode()).decode() if secret else None
        hidden = secret_variants([value.get_secret_value(), secret, basic])  # a server may quote the header
        try:
            async with asyncio.timeout(whole_exchange_seconds(client)):
                # streamed: the answer is only logged, and a 1 GiB (or inflating) one is not held
                async with client.stream(
                    "POST",
                    config.revocation_url or "",
                    data={"token": value.get_secret_value(), "token_type_hint": hint},
                    auth=auth,
                    headers={"accept-encoding": _ACCEPT_ENCODING},
                    follow_redirects=False,  # the token must not follow a redirect elsewhere
                ) as response:
                    status = response.status_code
                    body = b"" if status < 400 else await read_bounded(
                        response, _REVOCATION_BODY_BYTES, connection=connection
                    )
        except OAuthError as exc:  # an answer in a coding not read: logged like any refusal
            logger.warning("oauth %s: revocation of the %s: %s", connection, hint, exc)
            continue
        except TimeoutError:
            logger.warning("oauth %s: revocation of the %s did not finish in time", connection, hint)
            continue
        except httpx.HTTPError as exc:
            logger.warning(
                "oauth %s: revocation failed: %s", connection, redact(f"{type(exc).__name__}: {exc}", secrets=hidden)
            )
            continue
        if status >= 400:
            text = body.decode("utf-8", errors="replace")[:300]
            logger.warning(
                "oauth %s: revocation of the %s answered HTTP %d: %s",
                connection, hint, status, redact(text, secrets=hidden),
            )
