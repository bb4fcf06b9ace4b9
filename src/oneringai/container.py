"""The composition root: the one place that chooses implementations.

Every interface is bound here from ``Settings``; a ``kind`` in YAML selects a branch
of an ``Aggregate`` or ``Selector``. Resources (the HTTP client, database pools,
AWS and Redis clients, MCP server sessions) open lazily — only when the selected branch is first used
(never ``init_resources()``: it would open unselected branches too) — and
``await shutdown_container(container)`` closes everything that was opened.

Tests override bindings::

    with container.text_provider.override(providers.Object(FakeTextProvider())):
        ...
"""

from __future__ import annotations

import importlib
import inspect
from collections.abc import Callable
from typing import Any, cast

from dependency_injector import containers, providers

from oneringai import plugins
from oneringai.config.schema import OAuthSettings, Settings
from oneringai.domain.errors import ConfigError

__all__ = ["Container", "build_container", "shutdown_container"]


def _lazy(path: str) -> Callable[..., Any]:
    """A factory for ``module:attr`` that imports only when first called (fast start-up)."""
    module_name, _, attr = path.partition(":")
    target: list[Any] = []

    def make(*args: Any, **kwargs: Any) -> Any:
        if not target:
            target.append(getattr(importlib.import_module(module_name), attr))
        return target[0](*args, **kwargs)

    make.__qualname__ = make.__name__ = f"lazy[{attr}]"
    return make


async def _http_pool_resource(settings: Any) -> Any:
    """Resource: the shared connection pool (an ``HttpPool``: the aiohttp session, and an
    ``httpx.AsyncClient`` on it when something asks for one), closed on shutdown."""
    from oneringai.infrastructure.http.pool import HttpPool

    pool = HttpPool(settings)
    try:
        yield pool
    finally:
        await pool.aclose()


async def _httpx_client_resource(pool: Any) -> Any:
    """Resource: an ``httpx.AsyncClient`` on the shared pool, for what needs httpx (OAuth,
    plugin providers); built (and httpx imported) only when asked for. The pool closes it."""
    yield pool.httpx_client()


async def _storage_resource(opener_path: str, **kwargs: Any) -> Any:
    """Resource: a token store that owns a client (pool, session), closed on shutdown;
    ``opener_path`` names an async context manager, imported only when selected."""
    module_name, _, attr = opener_path.partition(":")
    opener = getattr(importlib.import_module(module_name), attr)
    async with opener(**kwargs) as storage:
        yield storage


_P = "oneringai.infrastructure.providers"
_S = "oneringai.infrastructure.token_storage"
_E = "oneringai.infrastructure.tool_executors"


def _key_ring(oauth: OAuthSettings, *, required: bool) -> Any:
    from oneringai.infrastructure.token_storage.encryption import KeyRing, derive_key_from_passphrase

    keys = [k.get_secret_value() for k in oauth.encryption_keys]
    if keys:
        return KeyRing.from_strings(keys)
    if oauth.passphrase is not None:
        return KeyRing([derive_key_from_passphrase(oauth.passphrase.get_secret_value(), _passphrase_salt(oauth))])
    if required:
        raise ConfigError(
            f"token storage {oauth.storage.kind!r} needs an encryption key: set oauth.encryption_keys "
            "(ONERINGAI_OAUTH__ENCRYPTION_KEYS; make one with `oneringai tokens generate-key`)",
            path="oauth.encryption_keys",
        )
    return None


def _passphrase_salt(oauth: OAuthSettings) -> bytes:
    """The stored salt: ``oauth.passphrase_salt``, or a ``.salt`` file the file store keeps."""
    import base64
    import binascii
    import secrets
    from pathlib import Path

    if oauth.passphrase_salt:
        try:
            return base64.b64decode(oauth.passphrase_salt, validate=True)
        except (binascii.Error, ValueError):
            raise ConfigError("is not valid base64", path="oauth.passphrase_salt") from None
    if oauth.storage.kind != "file":
        raise ConfigError(
            "a passphrase needs a stored salt: set oauth.passphrase_salt (base64 of >= 16 random bytes, "
            "e.g. from `oneringai tokens generate-key`)",
            path="oauth.passphrase_salt",
        )
    from oneringai.infrastructure.token_storage.file import create_once

    directory = Path(oauth.storage.file.directory).expanduser()
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    path = directory / ".salt"
    salt = create_once(path, lambda: secrets.token_bytes(16))  # atomic across processes
    if len(salt) < 16:
        raise ConfigError(f"the passphrase salt {path} is truncated: restore it from a backup", path="oauth.passphrase")
    return salt


def _memory_key_ring(oauth: OAuthSettings) -> Any:
    from oneringai.infrastructure.token_storage.encryption import KeyRing

    return _key_ring(oauth, required=False) or KeyRing.generate()


def _provider_builder(
    group: str, factories: Any, http_client: Callable[[], Any]
) -> Callable[[str, Any], Any]:
    """Builds a named provider: a built-in kind via its factory, else an entry point."""

    async def build(name: str, config: Any) -> Any:
        factory = factories.providers.get({"openai_compatible": "openai"}.get(config.kind, config.kind))  # alias
        if factory is not None:
            result = factory(config, name=name)
            return await result if inspect.isawaitable(result) else result
        where = f"{group}.providers.{name}.kind"
        cls = plugins.load_plugin(plugins.GROUPS[group], config.kind, path=where)
        if cls is None or not callable(cls):
            raise ConfigError(f"unknown kind {config.kind!r}", path=where)
        from oneringai.infrastructure.providers.base import BaseProvider

        if isinstance(cls, type) and issubclass(cls, BaseProvider):
            client = http_client()
            client = await client if inspect.isawaitable(client) else client
            instance = cls(config, http_client=client)
        else:
            instance = cls(config)
        if getattr(instance, "name", None) in (None, "provider"):
            instance.name = name
        return instance

    return build


def _plugin_storage(kind: str, settings: Settings, key_ring: Any) -> Any:
    cls = plugins.load_plugin(plugins.GROUPS["storage"], kind, path="oauth.storage.kind")
    if cls is None:
        raise ConfigError(f"unknown kind {kind!r}", path="oauth.storage.kind")
    params = inspect.signature(cls).parameters
    kwargs: dict[str, Any] = dict(settings.oauth.storage.options)
    if "key_ring" in params:
        kwargs["key_ring"] = key_ring
    return cls(**kwargs)


def _telemetry(settings: Any) -> Any:
    """``observability:``: the OpenTelemetry implementation when it records anything, else the
    no-op (then nothing is wrapped and ``opentelemetry`` is not even imported)."""
    if not (settings.tracing or settings.metrics):
        from oneringai.domain.telemetry import NOOP_TELEMETRY

        return NOOP_TELEMETRY
    from oneringai.infrastructure.observability.otel import OpenTelemetry

    return OpenTelemetry(settings)


def _text_observer(telemetry: Any) -> Any:
    if not telemetry.enabled:  # nothing to wrap: don't import the wrapper (~8 ms of a cold first call)
        return None
    from oneringai.application.observability.provider import observe_text_provider

    return observe_text_provider(telemetry)


def _executor_stack(layers: Any, factories: Any, inner: Any, telemetry: Any = None) -> Any:
    """Wraps ``inner`` in the ``tools.executor`` layers, outermost first in the list; with
    telemetry on, an ``execute_tool`` span around the whole stack (the layers add events to it)."""
    executor = inner
    for index in range(len(layers) - 1, -1, -1):
        layer = layers[index]
        where = f"tools.executor[{index}]"
        factory = factories.providers.get(layer.kind)
        executor = factory(executor, layer) if factory else plugins.build_layer(layer, executor, where)
    if telemetry is not None and telemetry.enabled:
        from oneringai.infrastructure.tool_executors.observed import ObservedToolExecutor

        executor = ObservedToolExecutor(executor, telemetry=telemetry)
    return executor


class Closers(list[Any]):
    """Objects the container created that need an async ``aclose()`` at shutdown."""


def _tracked(closers: Closers, instance: Any) -> Any:
    closers.append(instance)
    return instance


def _oauth_token_source(oauth: Callable[[], Any]) -> Callable[..., Any]:
    """``(connection, user_id, force_refresh) -> token`` from ``client.oauth(connection)``:
    an MCP server's bearer is refreshed single-flight like every other use of the connection."""

    async def token(connection: str, user_id: str | None, force_refresh: bool) -> str:
        manager = oauth().get(connection)
        return await manager.get_token(user_id, force_refresh=force_refresh)  # type: ignore[no-any-return]

    return token


async def _default_text_provider(registry: Any) -> Any:
    return await registry.get()


def _default_models(settings: Settings) -> dict[str, str | None]:
    from oneringai.application.fallback.config import default_models

    return default_models(settings.text.providers)


class _ShuttingDownContainer(containers.DynamicContainer):
    """``await container.shutdown_resources()`` (DESIGN.md's spelling) is ``shutdown_container``:
    it closes registries, executor stacks (their Redis clients), managed servers too."""

    def shutdown_resources(self, resource_type: Any = providers.BaseResource) -> Any:
        full = resource_type is providers.BaseResource  # else narrowed: dependency-injector's own
        return shutdown_container(cast("Container", self)) if full else super().shutdown_resources(resource_type)


class Container(containers.DeclarativeContainer):
    """Bindings of every port. Build with ``build_container(settings)``."""

    instance_type = _ShuttingDownContainer

    settings = providers.Dependency(instance_of=Settings)
    closers = providers.Singleton(Closers)
    #: The observability port (``observability:``): no-op, or OpenTelemetry.
    telemetry = providers.Singleton(_telemetry, settings.provided.observability)

    # --- shared HTTP pool and client (Resources) --------------------------------------------
    #: The built-in providers send on the pool (aiohttp directly, with the default transport).
    http_pool = providers.Resource(_http_pool_resource, settings.provided.http)
    #: An ``httpx.AsyncClient`` on that pool, built on first use.
    http_client = providers.Resource(_httpx_client_resource, http_pool)

    # --- text providers: one factory per kind ------------------------------------------------
    text_provider_factories = providers.Aggregate(
        openai=providers.Factory(_lazy(f"{_P}.openai:OpenAITextProvider"), http_client=http_pool),
        ollama=providers.Factory(_lazy(f"{_P}.ollama:OllamaTextProvider"), http_client=http_pool),
        anthropic=providers.Factory(_lazy(f"{_P}.anthropic:AnthropicTextProvider"), http_client=http_pool),
        llamacpp=providers.Factory(_lazy(f"{_P}.llamacpp:LlamaCppTextProvider"), http_client=http_pool),
    )
    text_providers = providers.Singleton(
        _tracked,
        closers,
        providers.Factory(
            _lazy("oneringai.application.provider_registry:ProviderRegistry"),
            kind="text",
            configs=settings.provided.text.providers,
            default=settings.provided.text.default,
            builder=providers.Callable(
                _provider_builder, "text", text_provider_factories, http_client.provider
            ),
            observe=providers.Callable(_text_observer, telemetry),
        ),
    )
    #: ``kind: fallback`` resolves its members from the registry it belongs to.
    text_provider_factories.set_providers(
        text_provider_factories.providers,
        fallback=providers.Factory(
            _lazy("oneringai.application.fallback.provider:FallbackTextProvider"),
            registry=text_providers.provider,
            telemetry=telemetry,
        )
    )
    #: The default text provider — the binding tests override.
    text_provider = providers.Factory(_default_text_provider, text_providers)
    text = providers.Singleton(
        _lazy("oneringai.application.text_manager:TextManager"),
        registry=text_providers,
        default_provider=text_provider.provider,
        default_models=providers.Callable(_default_models, settings),
    )

    # --- images ------------------------------------------------------------------------------
    image_provider_factories = providers.Aggregate(
        openai=providers.Factory(_lazy(f"{_P}.openai_images:OpenAIImageProvider"), http_client=http_pool),
    )
    image_providers = providers.Singleton(
        _tracked,
        closers,
        providers.Factory(
            _lazy("oneringai.application.provider_registry:ProviderRegistry"),
            kind="images",
            configs=settings.provided.images.providers,
            default=settings.provided.images.default,
            builder=providers.Callable(
                _provider_builder, "image", image_provider_factories, http_client.provider
            ),
        ),
    )
    images = providers.Singleton(
        _lazy("oneringai.application.image_manager:ImageManager"), registry=image_providers
    )

    # --- OAuth token storage: Selector on oauth.storage.kind -------------------------------------
    optional_key_ring = providers.Singleton(_key_ring, settings.provided.oauth, required=False)
    key_ring = providers.Singleton(_key_ring, settings.provided.oauth, required=True)
    token_storage = providers.Selector(
        settings.provided.oauth.storage.kind,
        memory=providers.Singleton(
            _lazy(f"{_S}.memory:MemoryTokenStorage"),
            key_ring=providers.Singleton(_memory_key_ring, settings.provided.oauth),
        ),
        file=providers.Singleton(
            _lazy(f"{_S}.file:FileTokenStorage"),
            directory=settings.provided.oauth.storage.file.directory,
            key_ring=optional_key_ring,
        ),
        postgres=providers.Resource(
            _storage_resource,
            f"{_S}.postgres:open_postgres_storage",
            settings=settings.provided.oauth.storage.postgres,
            key_ring=key_ring,
        ),
        aws_secrets_manager=providers.Resource(
            _storage_resource,
            f"{_S}.aws_secrets_manager:open_aws_secrets_manager_storage",
            settings=settings.provided.oauth.storage.aws_secrets_manager,
            key_ring=key_ring,
        ),
        redis=providers.Resource(
            _storage_resource,
            f"{_S}.redis:open_redis_storage",
            settings=settings.provided.oauth.storage.redis,
            key_ring=key_ring,
        ),
    )
    #: What managers hold: resolves ``token_storage`` on each use, so overrides apply.
    token_storage_proxy = providers.Singleton(_lazy(f"{_S}.lazy:LazyTokenStorage"), token_storage.provider)
    oauth = providers.Singleton(
        _lazy("oneringai.application.oauth.registry:OAuthRegistry"),
        settings=settings.provided.oauth,
        storage=token_storage_proxy,
        http_client=http_client.provider,
        telemetry=telemetry,
    )

    # --- tools: the direct executor wrapped by the YAML stack -----------------------------------
    tool_executor_layers = providers.Aggregate(
        retry=providers.Factory(_lazy(f"{_E}.retry:RetryingToolExecutor")),
        timeout=providers.Factory(_lazy(f"{_E}.timeout:TimeoutToolExecutor")),
        rate_limit=providers.Factory(_lazy(f"{_E}.rate_limit:RateLimitingToolExecutor")),
        cache=providers.Factory(_lazy(f"{_E}.cache:CachingToolExecutor")),
        audit=providers.Factory(_lazy(f"{_E}.audit:AuditingToolExecutor")),
        permissions=providers.Factory(_lazy(f"{_E}.permissions:PermissionToolExecutor")),
        cost=providers.Factory(_lazy(f"{_E}.cost:CostTrackingToolExecutor")),
    )
    #: The innermost executor, with the ``agents:`` limits (tool threads, argument/output sizes).
    direct_tool_executor = providers.Singleton(
        _lazy("oneringai.application.tools.direct_executor:DirectToolExecutor"),
        max_threads=settings.provided.agents.tool_threads,
        max_argument_chars=settings.provided.agents.max_tool_argument_chars,
        max_output_chars=settings.provided.agents.max_tool_output_chars,
    )
    tool_executor = providers.Singleton(
        _tracked,
        closers,
        providers.Factory(
            _executor_stack,
            layers=settings.provided.tools.executor,
            factories=tool_executor_layers,
            inner=direct_tool_executor,
            telemetry=telemetry,
        ),
    )

    # --- MCP servers (opened on first use, stopped on shutdown) and the client.tools facade -------
    mcp_servers = providers.Singleton(
        _tracked,
        closers,
        providers.Factory(
            _lazy("oneringai.infrastructure.mcp.registry:McpServerRegistry"),
            servers=settings.provided.tools.mcp_servers,
            token_source=providers.Callable(_oauth_token_source, oauth.provider),
        ),
    )
    tools = providers.Singleton(
        _lazy("oneringai.application.tools_facade:ToolsFacade"),
        executor=tool_executor.provider,
        sources=mcp_servers.provider,
    )

    # --- agents ------------------------------------------------------------------------------
    agents = providers.Singleton(
        _lazy("oneringai.application.agents.manager:AgentManager"),
        text=text,
        executor=tool_executor.provider,
        settings=settings.provided.agents,
        telemetry=telemetry,
    )


def build_container(settings: Settings | None = None) -> Container:
    """A container bound to ``settings`` (loaded from the default places when None)."""
    if settings is None:
        from oneringai.config.loading import load_settings

        settings = load_settings()
    container = Container(settings=settings)
    kind = settings.oauth.storage.kind
    if kind not in container.token_storage.providers:
        container.token_storage.set_providers(
            **{kind: providers.Singleton(_plugin_storage, kind, settings, container.optional_key_ring)}
        )
    return container


async def shutdown_container(container: Container) -> None:
    """Close what the container built (registries, executor stacks), then every opened Resource.
    Safe to call twice; a failing close is logged and the rest still close."""
    from oneringai.domain.redaction import get_logger

    closers: Closers = container.closers()
    while closers:
        owner = closers.pop()
        close = getattr(owner, "aclose", None)
        if close is None:
            continue
        try:
            await close()
        except Exception:
            get_logger("oneringai").exception("closing %r failed", owner)
    result = containers.DynamicContainer.shutdown_resources(container)
    if inspect.isawaitable(result):
        await result
