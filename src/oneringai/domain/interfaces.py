"""The ports: abstract contracts the application depends on and infrastructure implements.

They are ABCs so a custom implementation gets a clear ``TypeError`` naming the
method it forgot; ``ITextProvider.register(cls)`` also accepts duck-typed classes.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import AsyncIterator
from types import TracebackType
from typing import Self

from oneringai.domain.capabilities import ModelCapabilities, ProviderCapabilities
from oneringai.domain.events import StreamEvent
from oneringai.domain.images import ImageGenerateOptions, ImageResponse
from oneringai.domain.options import TextGenerateOptions
from oneringai.domain.response import LLMResponse
from oneringai.domain.tokens import StoredToken
from oneringai.domain.tools import ToolCall, ToolExecutionContext, ToolResult

__all__ = [
    "IAsyncDisposable",
    "IDisposable",
    "IImageProvider",
    "IOAuthTokenStorage",
    "IProvider",
    "ITextProvider",
    "IToolExecutor",
]


class IDisposable(ABC):
    """Something that holds resources and releases them in ``destroy()`` (idempotent)."""

    @property
    @abstractmethod
    def is_destroyed(self) -> bool: ...

    @abstractmethod
    def destroy(self) -> None: ...

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.destroy()


class IAsyncDisposable(ABC):
    """Like ``IDisposable`` for resources whose release is I/O (connections, pools)."""

    @property
    @abstractmethod
    def is_destroyed(self) -> bool: ...

    @abstractmethod
    async def destroy(self) -> None: ...

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.destroy()


class IProvider(ABC):
    """Any model provider: a name, what it can do, and a way to check its configuration."""

    name: str
    capabilities: ProviderCapabilities

    @abstractmethod
    async def validate_config(self) -> bool:
        """Return True when the configuration looks usable (no network call required)."""


class ITextProvider(IProvider):
    """Text generation: one-shot, streaming, and model metadata."""

    @abstractmethod
    async def generate(self, options: TextGenerateOptions) -> LLMResponse: ...

    @abstractmethod
    def stream_generate(self, options: TextGenerateOptions) -> AsyncIterator[StreamEvent]:
        """An async iterator of typed events ending with ``response.complete``.

        Implement as an ``async def`` generator. Stopping iteration early (``break``,
        ``aclose()``) must release the connection.
        """

    @abstractmethod
    def get_model_capabilities(self, model: str) -> ModelCapabilities: ...

    async def list_models(self) -> list[str]:
        """Model ids the provider serves. Optional: the default says it is not supported."""
        raise NotImplementedError(f"provider {self.name!r} cannot list its models")


class IImageProvider(IProvider):
    """Image generation."""

    @abstractmethod
    async def generate_image(self, options: ImageGenerateOptions) -> ImageResponse: ...


class IToolExecutor(ABC):
    """Runs one tool call. Failures come back as an error ``ToolResult``, never an exception
    (cancellation excepted), so an agent loop always continues."""

    @abstractmethod
    async def execute_tool(self, tool_call: ToolCall, context: ToolExecutionContext) -> ToolResult: ...


class IOAuthTokenStorage(ABC):
    """Where OAuth tokens live. Implementations MUST encrypt tokens at rest.

    Keys are ``provider:client_id`` or ``provider:client_id:user_id``; a store treats
    them as opaque strings, so multi-user works without extra code.
    """

    @abstractmethod
    async def store_token(self, key: str, token: StoredToken) -> None: ...

    @abstractmethod
    async def get_token(self, key: str) -> StoredToken | None: ...

    @abstractmethod
    async def delete_token(self, key: str) -> None: ...

    @abstractmethod
    async def has_token(self, key: str) -> bool: ...

    async def list_keys(self, prefix: str = "") -> list[str]:
        """Keys starting with ``prefix``. Optional (needed by migrate/rotate and admin)."""
        raise NotImplementedError(f"{type(self).__name__} cannot list its keys")
