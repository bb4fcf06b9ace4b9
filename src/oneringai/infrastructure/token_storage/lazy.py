"""A storage that resolves its backend on first use (async container resources)."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from oneringai.domain.interfaces import IOAuthTokenStorage
from oneringai.domain.tokens import StoredToken

__all__ = ["LazyTokenStorage"]


class LazyTokenStorage(IOAuthTokenStorage):
    """Delegates to whatever the resolver returns now, so container overrides apply.

    The resolver is a container provider: a ``Singleton`` returns the same store, a
    ``Resource`` opens its client on first use and returns the same one after.
    """

    def __init__(self, resolver: Callable[[], Any]) -> None:
        self._resolver = resolver
        self._target: IOAuthTokenStorage | None = None

    async def resolve(self) -> IOAuthTokenStorage:
        result = self._resolver()
        target: IOAuthTokenStorage = await result if inspect.isawaitable(result) else result
        self._target = target
        return target

    async def store_token(self, key: str, token: StoredToken) -> None:
        await (await self.resolve()).store_token(key, token)

    async def get_token(self, key: str) -> StoredToken | None:
        return await (await self.resolve()).get_token(key)

    async def delete_token(self, key: str) -> None:
        await (await self.resolve()).delete_token(key)

    async def has_token(self, key: str) -> bool:
        return await (await self.resolve()).has_token(key)

    async def list_keys(self, prefix: str = "") -> list[str]:
        return await (await self.resolve()).list_keys(prefix)

    def __getattr__(self, name: str) -> Any:
        # admin helpers (rotate_key, cleanup_expired, ...) of an already-resolved target
        target = self.__dict__.get("_target")
        if target is None:
            raise AttributeError(f"{name} (storage not resolved yet: await storage.resolve())")
        return getattr(target, name)
