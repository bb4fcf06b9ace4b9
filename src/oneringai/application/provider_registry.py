"""Named providers: instances registered by the user, and ones built lazily from configuration."""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, Generic, TypeVar

from oneringai.application.guide_spelling import check_guide_spelling
from oneringai.domain.errors import ProviderNotFoundError
from oneringai.domain.redaction import get_logger

__all__ = ["ProviderRegistry"]

logger = get_logger("oneringai")
P = TypeVar("P")

#: Builds the provider named ``name`` from its config; may return an awaitable.
ProviderBuilder = Callable[[str, Any], "P | Awaitable[P]"]
#: Wraps each provider handed out, ``(name, provider, config) -> provider`` (telemetry).
ProviderObserver = Callable[[str, Any, Any], Any]


class ProviderRegistry(Generic[P]):
    """Resolves a provider by name: user instances first, then configured ones (built once).

    Providers it built are closed by ``aclose()``; instances passed in stay the caller's.
    With ``observe`` (telemetry on) every provider, built or registered, is handed out
    wrapped by it; ``register`` and ``get`` return the same wrapped object each time.
    """

    def __init__(
        self,
        *,
        kind: str,
        configs: Mapping[str, Any] | None = None,
        default: str | None = None,
        builder: ProviderBuilder[P] | None = None,
        instances: Mapping[str, P] | None = None,
        observe: ProviderObserver | None = None,
    ) -> None:
        self.kind = kind  # "text" or "images", for messages
        self._configs = dict(configs or {})
        self._builder = builder
        self._observe = observe
        self._instances: dict[str, P] = {name: self._observed(name, p) for name, p in (instances or {}).items()}
        self._built: dict[str, P] = {}
        self._lock = asyncio.Lock()
        self.default_name = default if default is not None else next(iter(self._instances), None)
        if self.default_name is None and self._configs:
            self.default_name = next(iter(self._configs))

    def _observed(self, name: str, provider: P) -> P:
        if self._observe is None:
            return provider
        return self._observe(name, provider, self._configs.get(name))  # type: ignore[no-any-return]

    def register(self, name: str, provider: P, *, default: bool = False) -> None:
        check_guide_spelling(provider, role=f"{self.kind} provider")
        self._instances[name] = self._observed(name, provider)
        if default or self.default_name is None:
            self.default_name = name

    def names(self) -> list[str]:
        return sorted({*self._instances, *self._configs})

    def config_of(self, name: str) -> Any:
        return self._configs.get(name)

    def peek(self, name: str) -> P | None:
        """The provider if it is already available without building anything."""
        return self._instances.get(name) or self._built.get(name)

    async def get(self, name: str | None = None) -> P:
        name = name or self.default_name
        if name is None:
            raise ProviderNotFoundError(
                f"no {self.kind} provider configured: add one under {self.kind}.providers "
                f"or pass providers={{...}} to OneRingAI"
            )
        found = self._instances.get(name) or self._built.get(name)
        if found is not None:
            return found
        if name not in self._configs or self._builder is None:
            raise ProviderNotFoundError(
                f"unknown {self.kind} provider {name!r} (available: {', '.join(self.names()) or 'none'})",
                provider=name,
            )
        async with self._lock:
            found = self._built.get(name)
            if found is None:
                result = self._builder(name, self._configs[name])
                found = await result if inspect.isawaitable(result) else result
                check_guide_spelling(found, role=f"{self.kind} provider")
                found = self._built[name] = self._observed(name, found)
        return found

    async def aclose(self) -> None:
        built, self._built = self._built, {}
        for name, provider in built.items():
            # ``aclose`` first: a BaseProvider's disposes fully (its destroy() may be the guide's
            # synchronous one, which knows nothing of the HTTP client the provider created).
            close = getattr(provider, "aclose", None) or getattr(provider, "destroy", None)
            if close is None:
                continue
            try:
                result = close()
                if inspect.isawaitable(result):
                    await result
            except Exception:  # one failing close must not keep the others open
                logger.exception("closing %s provider %r failed", self.kind, name)
