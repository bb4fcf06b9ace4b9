"""Base classes for providers: API-key handling, input normalisation, HTTP and retries.

``BaseTextProvider`` is what the guide recommends extending: a subclass writes the
wire mapping (``generate``, ``stream_generate``) and gets key validation,
``get_api_key()``, input helpers, an HTTP client it does not have to manage,
retries with backoff, and error mapping.
"""

from __future__ import annotations

import os
import re
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from types import TracebackType
from typing import TYPE_CHECKING, Any, ClassVar, Self, TypeVar

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
from oneringai.domain.errors import ProviderAuthError, ProviderError
from oneringai.domain.interfaces import IAsyncDisposable, ITextProvider
from oneringai.domain.redaction import get_logger, register_secret
from oneringai.infrastructure.providers.config import ProviderConfig
from oneringai.infrastructure.providers.error_mapper import ProviderErrorMapper
from oneringai.infrastructure.providers.model_registry import ModelRegistry

if TYPE_CHECKING:
    import httpx

__all__ = ["BaseProvider", "BaseTextProvider", "KeyValidationResult"]

_CREDENTIAL_HEADER = re.compile(r"auth|key|token|secret|cookie|session", re.IGNORECASE)
logger = get_logger("oneringai.providers")
T = TypeVar("T")


@dataclass(frozen=True)
class KeyValidationResult:
    is_valid: bool
    warning: str | None = None


class BaseProvider(IAsyncDisposable):
    """Config access, API-key validation, the HTTP client and its lifecycle, for every provider."""

    name: str = "provider"
    capabilities: ProviderCapabilities = ProviderCapabilities()
    #: Environment variable used when no ``api_key`` is configured (e.g. ``OPENAI_API_KEY``).
    api_key_env: ClassVar[str | None] = None
    requires_api_key: ClassVar[bool] = True
    config_model: ClassVar[type[ProviderConfig]] = ProviderConfig

    def __init__(
        self,
        config: ProviderConfig | Mapping[str, Any] | None = None,
        /,
        *,
        http_client: httpx.AsyncClient | None = None,
        **overrides: Any,
    ) -> None:
        self._http_client = http_client
        self._owns_http_client = http_client is None
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
            self.config = self.config_model.model_validate(data)
        self._destroyed = False
        register_secret(self._configured_api_key())
        for header, value in self.config.headers.items():
            if _CREDENTIAL_HEADER.search(header):
                register_secret(value)

    # --- API keys -------------------------------------------------------------------------
    def _configured_api_key(self) -> str | None:
        if self.config.api_key is not None:
            value = self.config.api_key.get_secret_value().strip()
            if value:
                return value
        if self.api_key_env:
            value = os.environ.get(self.api_key_env, "").strip()
            if value:
                return value
        return None

    def get_api_key(self) -> str:
        """The API key; raises ``ProviderAuthError`` saying where to set it when missing."""
        key = self._configured_api_key()
        if key is None:
            hint = f" or the {self.api_key_env} environment variable" if self.api_key_env else ""
            raise ProviderAuthError(
                f"no API key configured: set text.providers.<name>.api_key "
                f'(e.g. "${{{self.api_key_env or "API_KEY"}}}"){hint}',
                provider=self.name,
            )
        return key

    def validate_provider_specific_key_format(self, api_key: str) -> KeyValidationResult:
        """Hook: check the key's shape (prefix, length). Default accepts any non-empty key."""
        return KeyValidationResult(is_valid=True)

    def validate_api_key(self) -> KeyValidationResult:
        key = self._configured_api_key()
        if key is None:
            if not self.requires_api_key:
                return KeyValidationResult(is_valid=True)
            return KeyValidationResult(is_valid=False, warning=f"no API key for {self.name!r}")
        if len(key) < 8 and self.requires_api_key:
            return KeyValidationResult(is_valid=False, warning="API key looks too short")
        return self.validate_provider_specific_key_format(key)

    async def validate_config(self) -> bool:
        result = self.validate_api_key()
        if result.warning:
            logger.warning("provider %s: %s", self.name, result.warning)
        return result.is_valid

    def _secrets(self) -> tuple[str | None, ...]:
        return (self._configured_api_key(),)

    # --- HTTP ------------------------------------------------------------------------------
    @property
    def http(self) -> httpx.AsyncClient:
        """The client given (shared, not ours to close) or, on first use, one from the
        factory set by ``use_shared_http_client``, else one this provider creates and closes."""
        if self._http_client is None:
            factory = self.__dict__.get("_http_factory")
            if factory is not None:
                self._http_client = factory()
                self._owns_http_client = False
            else:
                from oneringai.infrastructure.http.client import build_http_client

                self._http_client = build_http_client()
                self._owns_http_client = True
        return self._http_client

    def use_shared_http_client(self, factory: Callable[[], httpx.AsyncClient]) -> None:
        """Take the HTTP client from ``factory`` (called once, on first use) unless one was given."""
        if self._http_client is None:
            self._http_factory = factory

    def request_timeout(self) -> httpx.Timeout:
        import httpx

        return httpx.Timeout(self.config.timeout, connect=self.config.connect_timeout)

    async def destroy(self) -> None:
        if self._destroyed:
            return
        self._destroyed = True
        if self._owns_http_client and self._http_client is not None:
            await self._http_client.aclose()

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
        await self.destroy()

    def __repr__(self) -> str:  # never show the key
        return f"{type(self).__name__}(name={self.name!r}, base_url={self.config.base_url!r})"


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
