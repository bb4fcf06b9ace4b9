"""The one error hierarchy of oneringai.

Every failure a caller can handle has a type here, so that application code can
catch the *kind* of failure without knowing which provider or store produced it::

    OneRingAIError
    ├── ConfigError                     bad YAML, unknown key or kind, missing ${VAR}
    ├── ProviderError                   anything a model provider did wrong
    │   ├── ProviderAuthError           401/403, missing or malformed API key
    │   ├── ProviderRateLimitError      429 (retry_after from Retry-After)
    │   ├── ProviderContextLengthError  prompt too long for the model
    │   ├── ProviderTimeoutError        connect/read timeout
    │   ├── ProviderUnavailableError    5xx, connection refused/reset, cut stream
    │   ├── ProviderResponseError       a body we cannot understand, other 4xx
    │   ├── ProviderNotFoundError       no provider registered under that name
    │   └── ModelNotFoundError          the provider does not know the model
    ├── TokenStorageError               a token store is down or misconfigured
    │   └── TokenDecryptionError        tampered record, wrong key, unknown envelope
    ├── OAuthError                      state/PKCE failures, token endpoint errors
    │   └── LoginRequiredError          no usable token: only a new login helps
    ├── RequestOptionsError             a request's free-form value is no JSON (also a ValueError)
    └── ToolExecutionError              a tool failed (normally turned into a ToolResult)

Messages never contain secrets: every message (and a provider error's ``body``) passes
through ``oneringai.domain.redaction.redact`` when the error is built, which removes every
registered secret value and anything shaped like a credential — also text a server echoed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from oneringai.domain._error_base import OneRingAIError, RequestOptionsError
from oneringai.domain.redaction import redact

if TYPE_CHECKING:
    from oneringai.domain.response import Usage


def install_extra_hint(extra: str) -> str:
    """How to install an optional extra, for error messages. oneringai is installed from its
    checkout (it is not on PyPI), where ``pip install 'oneringai[x]'`` finds no such package."""
    return f".venv/bin/pip install -e '.[{extra}]' in the oneringai checkout"

__all__ = [
    "ConfigError",
    "LoginRequiredError",
    "ModelNotFoundError",
    "OAuthError",
    "OneRingAIError",
    "ProviderAuthError",
    "ProviderContextLengthError",
    "ProviderError",
    "ProviderNotFoundError",
    "ProviderRateLimitError",
    "ProviderResponseError",
    "ProviderTimeoutError",
    "ProviderUnavailableError",
    "RequestOptionsError",
    "TokenDecryptionError",
    "TokenStorageError",
    "ToolExecutionError",
    "brief_repr",
    "install_extra_hint",
]


def brief_repr(value: object, limit: int = 80) -> str:
    """``repr(value)`` for an error message about a caller's value: at most ``limit`` characters,
    and never an error of its own (``repr(10**5000)`` is a ``ValueError``; a caller's object may
    raise from its ``__repr__``)."""
    if isinstance(value, int) and not isinstance(value, bool) and not -(10**limit) < value < 10**limit:
        return f"an integer of {len(format(abs(value), 'x')) * 4} bits"
    try:
        text = repr(value)
    except Exception:  # the caller's own __repr__ failed: its type still says what it is
        return f"a {type(value).__name__}"
    return text if len(text) <= limit else text[: limit - 1] + "…"


class ConfigError(OneRingAIError):
    """The configuration is invalid; the message names the file, YAML path and what is allowed."""

    def __init__(self, message: str, *, path: str | None = None, source: str | None = None):
        prefix = ""
        if source:
            prefix += f"{source}: "
        if path:
            prefix += f"{path}: "
        super().__init__(prefix + message)
        self.path = path
        self.source = source


class ProviderError(OneRingAIError):
    """A model provider failed. Carries enough context to decide what to do next.

    An error that ends a stream after part of the answer arrived (a cut connection or chunked
    body, a stream without its end marker, an idle timeout, an error event mid-stream) carries
    what had arrived: ``partial_output_text`` (the text deltas, joined; ``""`` when none) and
    ``partial_usage`` (the usage the server had reported by then; ``None`` when it reported
    none). Neither is part of the message.
    """

    default_retryable = False
    partial_output_text: str = ""
    partial_usage: Usage | None = None

    def __init__(
        self,
        message: str,
        *,
        provider: str | None = None,
        model: str | None = None,
        status_code: int | None = None,
        retry_after: float | None = None,
        is_retryable: bool | None = None,
        body: str | None = None,
        request_id: str | None = None,
    ) -> None:
        self.message = redact(message)
        #: The vendor's id of the failed request (``request-id``, ``x-request-id``): what its support asks for.
        #: Text only: a port's ``request_id=5`` (or bytes) was a raw ``TypeError`` from ``redact``.
        self.request_id = redact(request_id) if isinstance(request_id, str) and request_id else None
        self.provider = provider
        self.model = model
        self.status_code = status_code
        self.retry_after = retry_after
        self.is_retryable = self.default_retryable if is_retryable is None else is_retryable
        self.body = redact(body) if body else body
        super().__init__(self._render())

    def _render(self) -> str:
        context = []
        if self.provider:
            context.append(f"provider={self.provider}")
        if self.model:
            context.append(f"model={self.model}")
        if self.status_code is not None:
            context.append(f"status={self.status_code}")
        if self.retry_after is not None:
            context.append(f"retry_after={self.retry_after:g}s")
        if self.request_id:
            context.append(f"request_id={self.request_id}")
        suffix = f" [{', '.join(context)}]" if context else ""
        return f"{self.message}{suffix}"

    def __reduce__(self) -> tuple[object, ...]:  # keep errors picklable across processes
        partial = {
            name: self.__dict__[name] for name in ("partial_output_text", "partial_usage") if name in self.__dict__
        }
        return (
            _rebuild_provider_error,
            (
                type(self),
                self.message,
                {
                    "provider": self.provider,
                    "model": self.model,
                    "status_code": self.status_code,
                    "retry_after": self.retry_after,
                    "is_retryable": self.is_retryable,
                    "body": self.body,
                    "request_id": self.request_id,
                },
            ),
            partial or None,
        )


def _rebuild_provider_error(
    cls: type[ProviderError], message: str, kwargs: dict[str, object]
) -> ProviderError:
    return cls(message, **kwargs)  # type: ignore[arg-type]


class ProviderAuthError(ProviderError):
    """The provider refused the credentials (401/403) or none were configured."""


class ProviderRateLimitError(ProviderError):
    """429: too many requests. `retry_after` says how long the provider asked us to wait."""

    default_retryable = True


class ProviderContextLengthError(ProviderError):
    """The input (plus requested output) does not fit the model's context window."""


class ProviderTimeoutError(ProviderError):
    """The request timed out while connecting, writing or reading."""

    default_retryable = True


class ProviderUnavailableError(ProviderError):
    """The provider could not be reached or failed on its side (5xx, refused, reset, cut)."""

    default_retryable = True


class ProviderResponseError(ProviderError):
    """The provider answered something we cannot use (bad request, malformed body)."""


class ProviderNotFoundError(ProviderError):
    """No provider is registered under the requested name."""


class ModelNotFoundError(ProviderError):
    """The provider does not know the requested model (usually a 404)."""


class TokenStorageError(OneRingAIError):
    """A token store failed: backend down, misconfigured, or missing its extra."""

    def __init__(self, message: str, *, backend: str | None = None):
        super().__init__(f"{backend} token storage: {message}" if backend else message)
        self.backend = backend


class TokenDecryptionError(TokenStorageError):
    """A stored token could not be decrypted: tampered, wrong key, moved or unknown format.

    Never returned as garbage and never a reason to delete the record.
    """


class OAuthError(OneRingAIError):
    """An OAuth flow failed (state mismatch, PKCE failure, error callback, token endpoint)."""

    def __init__(
        self,
        message: str,
        *,
        error: str | None = None,
        status_code: int | None = None,
        connection: str | None = None,
    ):
        parts = [message]
        if error:
            parts.append(f"(error={error})")
        if status_code is not None:
            parts.append(f"(status={status_code})")
        text = " ".join(parts)
        super().__init__(f"oauth connection {connection!r}: {text}" if connection else text)
        self.error = error
        self.status_code = status_code
        self.connection = connection


class LoginRequiredError(OAuthError):
    """No usable token: nothing stored, no refresh token, or the server rejected the refresh
    token (``invalid_grant``: expired or revoked). Only a new authorization helps; the
    message says how (``oneringai oauth login <connection>`` or the authorization URL; only the
    URL for a manager built in code, which the command cannot reach: ``cli=False``).
    ``error`` is ``"login_required"``; ``reason`` says why."""

    def __init__(self, *, connection: str, user_id: str | None = None, reason: str, cli: bool = True) -> None:
        user = f" --user {user_id}" if user_id else ""
        who = f" for user {user_id!r}" if user_id else ""
        how = (
            f"Run `oneringai oauth login {connection}{user}` "
            "(or send the user to manager.get_authorization_url() / start_authorization())"
            if cli
            else "Send the user to manager.get_authorization_url() / start_authorization() "
            "(`oneringai oauth login` reaches only connections under oauth.connections)"
        )
        super().__init__(
            f"a new login is needed{who}: {reason}. {how}",
            error="login_required",
            connection=connection,
        )
        self.reason = reason
        self.user_id = user_id


class ToolExecutionError(OneRingAIError):
    """A tool failed. Executors turn it into an error `ToolResult`; `is_retryable` guides retry."""

    def __init__(self, message: str, *, tool_name: str | None = None, is_retryable: bool = False):
        super().__init__(f"tool {tool_name!r}: {message}" if tool_name else message)
        self.tool_name = tool_name
        self.is_retryable = is_retryable
