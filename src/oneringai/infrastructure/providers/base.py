"""Base classes for providers: API-key handling, input normalisation, HTTP and retries.

``BaseTextProvider`` is what the guide recommends extending: a subclass writes the
wire mapping (``generate``, ``stream_generate``) and gets key validation,
``get_api_key()``, input helpers, an HTTP client it does not have to manage,
retries with backoff, and error mapping.

Promises every subclass inherits:

- **The key is checked once, before any network I/O.** ``validate_api_key`` (the guide's
  ``validate_provider_specific_key_format`` hook, returning a ``KeyValidationResult`` or the
  guide's ``{"isValid": ..., "warning": ...}``) runs on first use — the first ``generate``,
  ``stream_generate``, ``generate_image``, ``list_models`` or ``self.http`` — its warning is
  logged once, and an invalid key is refused with ``ProviderAuthError`` naming the provider.
- **Secrets stay in.** The API key, credential headers and base-URL userinfo are registered
  with ``domain.redaction``; ``repr`` shows none of them; userinfo leaves the URL for an
  ``authorization: Basic`` header (a URL is logged by httpx and quoted by errors).
- **Timeouts inherit.** ``timeout``/``connect_timeout``/``max_event_bytes`` left unset take the
  shared client's ``http:`` settings; ``timeout`` bounds a whole attempt.
- **Disposal either way.** ``destroy()`` may be ``async`` (ours) or plain (the guide's);
  ``async with`` and ``aclose()`` await it only when it returns an awaitable, then close the
  HTTP client the provider created.
"""

from __future__ import annotations

import functools
import inspect
import os
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from types import TracebackType
from typing import TYPE_CHECKING, Any, ClassVar, Self, TypeVar

from pydantic import ValidationError

from oneringai.domain.capabilities import ModelCapabilities, ProviderCapabilities
from oneringai.domain.content import (
    InputImageContent,
    InputItem,
    InputTextContent,
    Message,
    OutputTextContent,
    ToolResultContent,
    ToolUseContent,
)
from oneringai.domain.errors import ConfigError, ProviderAuthError, ProviderError
from oneringai.domain.interfaces import IAsyncDisposable, ITextProvider
from oneringai.domain.redaction import get_logger, redact, register_secret
from oneringai.infrastructure.providers._keys import (
    KeyValidationResult,
    normalize_key_validation,
    userinfo_to_header,
)
from oneringai.infrastructure.providers.config import _CREDENTIAL_HEADER, ProviderConfig
from oneringai.infrastructure.providers.error_mapper import ProviderErrorMapper, display_url
from oneringai.infrastructure.providers.literal_options import literal_options
from oneringai.infrastructure.providers.model_registry import ModelRegistry

if TYPE_CHECKING:
    import httpx

__all__ = ["BaseProvider", "BaseTextProvider", "KeyValidationResult"]

logger = get_logger("oneringai.providers")
T = TypeVar("T")
_OK = "ok"
_CHECKING = "checking"
#: Methods that do network I/O: the key is checked before the first of them runs.
_KEY_CHECKED = ("generate", "stream_generate", "generate_image", "list_models")


def _guard_call(method: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[Any]]:
    @functools.wraps(method)
    async def guarded(self: BaseProvider, *args: Any, **kwargs: Any) -> Any:
        if self._key_state is not _OK:
            self._check_key()
        return await method(self, *literal_options(method.__name__, args), **kwargs)

    guarded.__key_checked__ = True  # type: ignore[attr-defined]
    return guarded


async def _refused(error: BaseException) -> AsyncIterator[Any]:
    raise error
    yield  # pragma: no cover - makes this an async generator


def _guard_stream(method: Callable[..., AsyncIterator[Any]]) -> Callable[..., AsyncIterator[Any]]:
    """Returns the method's own generator (no per-event hop); a refused key surfaces on the
    first ``__anext__`` like any other stream failure."""

    @functools.wraps(method)
    def guarded(self: BaseProvider, *args: Any, **kwargs: Any) -> AsyncIterator[Any]:
        try:
            if self._key_state is not _OK:
                self._check_key()
            args = literal_options("stream_generate", args)
        except (ProviderError, ValueError) as error:  # ValueError: the options dict is invalid
            return _refused(error)
        return method(self, *args, **kwargs)

    guarded.__key_checked__ = True  # type: ignore[attr-defined]
    return guarded


class BaseProvider(IAsyncDisposable):
    """Config access, API-key validation, the HTTP client and its lifecycle, for every provider."""

    name: str = "provider"
    capabilities: ProviderCapabilities = ProviderCapabilities()
    #: Environment variable used when no ``api_key`` is configured (e.g. ``OPENAI_API_KEY``).
    api_key_env: ClassVar[str | None] = None
    #: Refuse a request without a key? ``None``: only if ``api_key_env`` is set (a keyed provider
    #: also calls ``get_api_key()``; the guide's keyless Ollama provider works as written).
    requires_api_key: ClassVar[bool | None] = None
    config_model: ClassVar[type[ProviderConfig]] = ProviderConfig
    _key_state: str | None = None  # None: not checked yet; _OK; else the refusal

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        for method_name in _KEY_CHECKED:
            method = cls.__dict__.get(method_name)
            if method is None or getattr(method, "__key_checked__", False):
                continue
            if method_name == "stream_generate" and callable(method):
                setattr(cls, method_name, _guard_stream(method))
            elif inspect.iscoroutinefunction(method):
                setattr(cls, method_name, _guard_call(method))

    def __init__(
        self,
        config: ProviderConfig | Mapping[str, Any] | None = None,
        /,
        *,
        http_client: httpx.AsyncClient | None = None,
        **overrides: Any,
    ) -> None:
        self._http_client: Any = http_client
        self._owns_http_client = http_client is None
        self._limits: tuple[float | None, float | None, float | None, float | None, int, int] | None = None
        if isinstance(config, ProviderConfig) and not overrides:
            self.config = config
        else:
            data: dict[str, Any] = (
                config.model_dump(exclude_unset=True)
                if isinstance(config, ProviderConfig)
                else dict(config or {})
            )
            data.update(overrides)
            for camel, snake in (("apiKey", "api_key"), ("baseURL", "base_url")):
                if camel in data:  # the guide's spelling
                    data.setdefault(snake, data.pop(camel))
            try:
                self.config = self.config_model.model_validate(data)
            except ValidationError as exc:
                problems = "; ".join(
                    f"{'.'.join(str(p) for p in error['loc']) or '(root)'}: {error['msg']}" for error in exc.errors()
                )
                raise ConfigError(f"invalid settings for provider {self.name!r}: {problems}") from None
        self._destroyed = False
        register_secret(self._configured_api_key())
        secrets: list[str] = []
        self.config, userinfo = userinfo_to_header(self.config)
        secrets += userinfo
        for header, value in self.config.headers.items():
            if _CREDENTIAL_HEADER.search(header):
                secrets.append(value)
        for secret in secrets:
            register_secret(secret)
        self._static_secrets = tuple(secrets)

    def __getattr__(self, name: str) -> Any:
        # Only reached when normal lookup fails: a guide port calling ``self.getApiKey()``
        # learns the Python spelling instead of a bare AttributeError.
        if not name.startswith("_") and not name.islower():
            from oneringai.application.guide_spelling import snake_case

            python = snake_case(name)
            if python != name and hasattr(type(self), python):
                raise AttributeError(
                    f"{type(self).__name__!r} has no attribute {name!r} (the guide's TypeScript spelling): "
                    f"use {python!r}"
                )
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    # --- API keys -------------------------------------------------------------------------
    def _configured_api_key(self) -> str | None:
        if self.config.api_key is not None:
            value = self.config.api_key.get_secret_value().strip()
            if value:
                return value
        if self.api_key_env:
            value = os.environ.get(self.api_key_env, "").strip()
            if value:
                register_secret(value)
                return value
        return None

    def key_required(self) -> bool:
        """``requires_api_key``, or when unset: a key is required if ``api_key_env`` names one."""
        return self.api_key_env is not None if self.requires_api_key is None else self.requires_api_key

    def _missing_key_message(self) -> str:
        hint = f" or the {self.api_key_env} environment variable" if self.api_key_env else ""
        return (
            f"no API key configured: set text.providers.<name>.api_key "
            f'(e.g. "${{{self.api_key_env or "API_KEY"}}}"){hint}'
        )

    def get_api_key(self) -> str:
        """The API key; raises ``ProviderAuthError`` saying where to set it when missing."""
        key = self._configured_api_key()
        if key is None:
            raise ProviderAuthError(self._missing_key_message(), provider=self.name)
        return key

    def validate_provider_specific_key_format(self, api_key: str) -> KeyValidationResult:
        """Hook: check the key's shape (prefix, length). Default accepts any non-empty key.

        May return a ``KeyValidationResult`` or the guide's ``{"isValid": bool, "warning": str}``.
        """
        return KeyValidationResult(is_valid=True)

    def validate_api_key(self) -> KeyValidationResult:
        key = self._configured_api_key()
        if key is None:
            if not self.key_required():
                return KeyValidationResult(is_valid=True)
            return KeyValidationResult(is_valid=False, warning=self._missing_key_message())
        if len(key) < 8 and self.requires_api_key is not False:
            return KeyValidationResult(is_valid=False, warning="API key looks too short")
        return normalize_key_validation(self.validate_provider_specific_key_format(key), provider=self.name)

    async def validate_config(self) -> bool:
        result = self.validate_api_key()
        if result.warning:
            logger.warning("provider %s: %s", self.name, result.warning)
        return result.is_valid

    def _check_key(self) -> None:
        """Validate the key once; raise ``ProviderAuthError`` (every time) when it was refused."""
        state = self._key_state
        if state is None:
            self._key_state = _CHECKING  # a hook that calls back into us must not recurse
            try:
                result = self.validate_api_key()
            except BaseException:
                self._key_state = None
                raise
            if result.is_valid and result.warning:  # a refusal says it in the error instead
                logger.warning("provider %s: %s", self.name, result.warning)
            state = _OK if result.is_valid else (result.warning or "the API key has the wrong format")
            self._key_state = state
        if state is not _OK and state is not _CHECKING:
            if state == self._missing_key_message():
                raise ProviderAuthError(state, provider=self.name)
            raise ProviderAuthError(
                f"API key refused before any request was sent: {state}", provider=self.name
            )

    def _secrets(self) -> tuple[str | None, ...]:
        return (self._configured_api_key(), *self._static_secrets)

    def scrub(self, text: str) -> str:
        """``text`` without this provider's secrets (also ones too short to register globally)."""
        return redact(text, self._secrets())

    # --- HTTP ------------------------------------------------------------------------------
    def _http_target(self) -> Any:
        """What calls go through: the client or pool given, else the factory's (set by
        ``use_shared_http_client``), else a pool this provider creates and closes. An
        ``HttpPool`` builds no httpx client (nor imports httpx) until ``http`` is asked for."""
        if self._key_state is not _OK:
            self._check_key()
        target = self._http_client
        if target is None:
            factory = self.__dict__.get("_http_factory")
            if factory is not None:
                target = factory()
                self._owns_http_client = False
            else:
                from oneringai.infrastructure.http.pool import HttpPool

                target = HttpPool()
                self._owns_http_client = True
            self._http_client = target
        return target

    @property
    def http(self) -> httpx.AsyncClient:
        """The ``httpx.AsyncClient`` of this provider: the one given (shared, not ours to
        close), or one on the shared pool, else on a pool this provider creates and closes."""
        from oneringai.infrastructure.http.pool import HttpPool

        target = self._http_target()
        return target.httpx_client() if isinstance(target, HttpPool) else target

    def use_shared_http_client(self, factory: Callable[[], Any]) -> None:
        """Take the HTTP client (an ``httpx.AsyncClient`` or an ``HttpPool``) from ``factory``
        (called once, on first use) unless one was given."""
        if self._http_client is None:
            self._http_factory = factory

    def _resolved_limits(self) -> tuple[float | None, float | None, float | None, float | None, int, int]:
        """(connect, read/write, pool, attempt seconds, max event bytes, max body bytes), from
        this provider's settings where set, else the client's ``http:`` settings."""
        limits = self._limits
        if limits is None:
            from oneringai.infrastructure.http.pool import HttpPool

            target = self._http_target()
            if isinstance(target, HttpPool):
                shared = target.settings
                connect, read, pool = shared.connect_timeout, shared.timeout, shared.timeout
            else:
                from oneringai.infrastructure.http.client import http_settings_of

                shared = http_settings_of(target)
                base = target.timeout
                connect, read, pool = base.connect, base.read, base.pool
            timeout = self.config.timeout
            if self.config.connect_timeout is not None:
                connect = self.config.connect_timeout
            if timeout is not None:
                read = pool = timeout
            events = self.config.max_event_bytes or shared.max_event_bytes
            limits = self._limits = (connect, read, pool, read, events, shared.max_response_bytes)
        return limits

    def _wire(self) -> tuple[Any, Any]:
        """(the wire the built-in calls send on, its timeout object), chosen once (``wire_for``):
        a client a user passed in is always used as given."""
        path = self.__dict__.get("_wire_path")
        if path is None:
            from oneringai.infrastructure.http.pool import wire_for

            sender = wire_for(self._http_target(), lambda: self.http)
            connect, read, pool = self._resolved_limits()[:3]
            path = self._wire_path = (sender, sender.timeouts(connect, read, pool))
        return path

    def request_timeout(self) -> httpx.Timeout:
        """httpx's per-operation timeouts for a request (the client's unless this provider sets them)."""
        import httpx

        connect, read, pool = self._resolved_limits()[:3]
        return httpx.Timeout(connect=connect, read=read, write=read, pool=pool)

    def attempt_timeout(self) -> float | None:
        """Seconds one attempt may take, whole: ``timeout`` here, else ``http.timeout``."""
        return self._resolved_limits()[3]

    def stream_timeouts(self) -> tuple[float | None, float | None]:
        """(idle, total) seconds for a stream: the wait for each event, and the whole stream."""
        idle = self.config.stream_idle_timeout
        return (idle if idle is not None else self.attempt_timeout(), self.config.stream_total_timeout)

    def max_event_bytes(self) -> int:
        return self._resolved_limits()[4]

    def max_response_bytes(self) -> int:
        return self._resolved_limits()[5]

    async def destroy(self) -> None:
        if self._destroyed:
            return
        self._destroyed = True
        await self._release_http()

    async def _release_http(self) -> None:
        client = self._http_client
        if self._owns_http_client and client is not None and not client.is_closed:
            await client.aclose()

    async def aclose(self) -> None:
        """Dispose: ``destroy()`` (awaited only if it returns an awaitable — the guide's
        ``destroy`` is synchronous), then close the HTTP client this provider created."""
        result: Any = self.destroy()
        if inspect.isawaitable(result):
            await result
        await self._release_http()

    async def with_retries(self, call: Callable[[], Awaitable[T]], *, model: str | None = None) -> T:
        """Run ``call`` with retries for retryable errors (backoff + jitter, Retry-After)."""
        from oneringai.infrastructure.providers.retry import call_with_retries

        return await call_with_retries(
            call,
            max_retries=self.config.max_retries,
            max_wait=self.config.retry_max_wait,
            description=f"{self.name} {model or ''}".strip(),
        )

    def map_error(
        self, error: BaseException, *, model: str | None = None, url: str | None = None
    ) -> ProviderError:
        return ProviderErrorMapper.map_error(error, self.name, model=model, url=url, secrets=self._secrets())

    # --- lifecycle -------------------------------------------------------------------------
    @property
    def is_destroyed(self) -> bool:
        return self._destroyed

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()

    def __repr__(self) -> str:  # never show the key or URL userinfo
        return f"{type(self).__name__}(name={self.name!r}, base_url={display_url(self.config.base_url)!r})"


class BaseTextProvider(BaseProvider, ITextProvider):
    """Extend this to add a text provider; see ``docs/extensibility.md``."""

    capabilities = ProviderCapabilities(text=True)
    #: Per-model capabilities and prices; subclasses set their own table.
    model_registry: ClassVar[ModelRegistry] = ModelRegistry({})

    # --- input helpers -----------------------------------------------------------------------
    @staticmethod
    def normalize_input_to_items(input: str | list[InputItem]) -> list[InputItem]:
        """A plain string becomes one user message; items pass through."""
        if isinstance(input, str):
            return [Message.user(input)]
        return list(input)

    @staticmethod
    def normalize_input_to_string(input: str | list[InputItem]) -> str:
        """Flatten items into text for APIs that take one prompt string."""
        if isinstance(input, str):
            return input
        lines: list[str] = []
        for item in input:
            for part in item.content:
                if isinstance(part, InputTextContent | OutputTextContent):
                    lines.append(part.text)
                elif isinstance(part, ToolResultContent):
                    lines.append(f"[tool result {part.tool_use_id}] {part.content}")
                elif isinstance(part, ToolUseContent):
                    lines.append(f"[tool call {part.name}({part.arguments})]")
                elif isinstance(part, InputImageContent):
                    lines.append("[image]")
        return "\n".join(lines)

    def get_model_capabilities(self, model: str) -> ModelCapabilities:
        return self.model_registry.get(model)
