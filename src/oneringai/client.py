"""``OneRingAI``: the facade over the container, as in the guide.

client = OneRingAI(providers={"ollama": OllamaTextProvider({"base_url": ...})})
text = await client.text.generate("Hello!", provider="ollama", model="llama3.2")

async with OneRingAI.from_config("config/default.yaml", profile="production") as client:
    ...
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from types import TracebackType
from typing import TYPE_CHECKING, Any, Self

from oneringai.domain.errors import ConfigError, brief_repr
from oneringai.domain.interfaces import IAsyncDisposable, IImageProvider, IOAuthTokenStorage, ITextProvider

if TYPE_CHECKING:
    from oneringai.application.agents.manager import AgentManager
    from oneringai.application.image_manager import ImageManager
    from oneringai.application.oauth.manager import OAuthManager
    from oneringai.application.oauth.registry import OAuthRegistry
    from oneringai.application.text_manager import TextManager
    from oneringai.application.tools_facade import ToolsFacade
    from oneringai.config.schema import Settings
    from oneringai.container import Container

__all__ = ["OneRingAI"]


def _check_arguments(providers: object, settings: object, default_provider: object, token_storage: object) -> None:
    """``OneRingAI(...)``'s arguments, checked before anything is built: ``providers=5`` was an
    ``AttributeError`` here, ``providers={"a": 5}`` one at the first ``generate``, and
    ``settings={...}`` one from deep inside the container. Each is a ``ConfigError`` now.
    A provider is an ``ITextProvider``/``IImageProvider`` or any object with their ``generate``
    / ``generate_image`` (a port of the guide that does not subclass them keeps working)."""
    from oneringai.config.schema import Settings

    if settings is not None and not isinstance(settings, Settings):
        raise ConfigError(
            f"settings must be a Settings (oneringai.load_settings(...)), not {type(settings).__name__}: "
            "use OneRingAI.from_config(overrides=...) for a mapping"
        )
    if token_storage is not None:
        missing = [m for m in ("store_token", "get_token", "delete_token") if not callable(getattr(token_storage, m, None))]
        if missing:
            raise ConfigError(
                f"token_storage must be a token storage (IOAuthTokenStorage); {type(token_storage).__name__} "
                f"has no {', '.join(missing)}"
            )
    if default_provider is not None and not isinstance(default_provider, str):
        raise ConfigError(f"default_provider must be a provider name (str), not {type(default_provider).__name__}")
    if providers is None:
        return
    if not isinstance(providers, Mapping):
        raise ConfigError(f"providers must be a mapping of names to provider instances, not {type(providers).__name__}")
    for name, provider in providers.items():
        if not isinstance(name, str) or not name:
            raise ConfigError(f"providers: a provider name must be a non-empty string, not {brief_repr(name)}")
        if not (
            isinstance(provider, ITextProvider | IImageProvider)
            or callable(getattr(provider, "generate", None))
            or callable(getattr(provider, "generate_image", None))
        ):
            raise ConfigError(
                f"providers[{name!r}] must be a text or image provider (ITextProvider / IImageProvider), "
                f"not {type(provider).__name__}"
            )


class OneRingAI(IAsyncDisposable):
    """Entry point of the kit. Owns a container; closing the client closes what it opened."""

    def __init__(
        self,
        providers: Mapping[str, ITextProvider | IImageProvider] | None = None,
        *,
        settings: Settings | None = None,
        default_provider: str | None = None,
        token_storage: IOAuthTokenStorage | None = None,
    ) -> None:
        from oneringai.container import build_container

        _check_arguments(providers, settings, default_provider, token_storage)
        if settings is None:
            from oneringai.config.env import reading_environment
            from oneringai.config.schema import Settings as _Settings

            # Instances only: configured by code, so neither YAML nor ONERINGAI_* variables
            # (a variable meant for a YAML setup must not break or change this client).
            with reading_environment({}):
                settings = _Settings.model_validate(
                    {"text": {"default": None, "providers": {}}, "oauth": {"storage": {"kind": "memory"}}}
                )
        self._settings = settings
        self._container = build_container(settings)
        self._destroyed = False
        if token_storage is not None:
            from dependency_injector import providers as di

            from oneringai.application.guide_spelling import check_guide_spelling

            check_guide_spelling(token_storage, role="token storage")
            self._container.token_storage.override(di.Object(token_storage))
        text_registry = self._container.text_providers()
        image_registry = self._container.image_providers()
        self._instances_http: Any = None
        for name, provider in (providers or {}).items():
            share = getattr(provider, "use_shared_http_client", None)
            if share is not None:  # instances honour http: settings and share one pool
                share(self._shared_http_client)
            if isinstance(provider, IImageProvider) and not isinstance(provider, ITextProvider):
                image_registry.register(name, provider)
            else:
                text_registry.register(name, provider, default=name == default_provider)

    @classmethod
    def from_config(
        cls,
        path: str | os.PathLike[str] | None = None,
        *,
        profile: str | None = None,
        providers: Mapping[str, ITextProvider | IImageProvider] | None = None,
        env: Mapping[str, str] | None = None,
        overrides: Mapping[str, Any] | None = None,
    ) -> OneRingAI:
        """Build from YAML (+ profile, .env, environment); instances are added beside them."""
        from oneringai.config.loading import load_settings

        settings = load_settings(path, profile=profile, env=env, overrides=overrides)
        return cls(providers, settings=settings)

    def _shared_http_client(self) -> Any:
        """One pool (from ``http:`` settings) for provider instances passed in; closed by us."""
        if self._instances_http is None:
            from oneringai.infrastructure.http.pool import HttpPool

            self._instances_http = HttpPool(self._settings.http)
        return self._instances_http

    # --- the slots -------------------------------------------------------------------------
    @property
    def settings(self) -> Settings:
        return self._settings

    @property
    def container(self) -> Container:
        return self._container

    @property
    def text(self) -> TextManager:
        return self._container.text()  # type: ignore[no-any-return]

    @property
    def images(self) -> ImageManager:
        return self._container.images()  # type: ignore[no-any-return]

    @property
    def agents(self) -> AgentManager:
        return self._container.agents()  # type: ignore[no-any-return]

    @property
    def tools(self) -> ToolsFacade:
        """Tools from MCP servers (``await client.tools.from_mcp(name)``) and Python, run through
        the ``tools.executor`` stack (``await client.tools.execute(name, arguments)``)."""
        return self._container.tools()  # type: ignore[no-any-return]

    @property
    def token_storage(self) -> IOAuthTokenStorage:
        """The bound store (resolved on first use; overrides apply)."""
        return self._container.token_storage_proxy()  # type: ignore[no-any-return]

    @property
    def oauth_connections(self) -> OAuthRegistry:
        return self._container.oauth()  # type: ignore[no-any-return]

    def oauth(self, name: str) -> OAuthManager:
        """The ``OAuthManager`` of ``oauth.connections.<name>``."""
        return self.oauth_connections.get(name)

    # --- lifecycle -----------------------------------------------------------------------------
    @property
    def is_destroyed(self) -> bool:
        return self._destroyed

    async def destroy(self) -> None:
        """Close every resource this client opened. Idempotent."""
        if self._destroyed:
            return
        self._destroyed = True
        from oneringai.container import shutdown_container

        await shutdown_container(self._container)
        if self._instances_http is not None:
            await self._instances_http.aclose()
            self._instances_http = None

    aclose = destroy

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.destroy()

    def __repr__(self) -> str:
        return f"OneRingAI(text_providers={self._container.text_providers().names()})"
