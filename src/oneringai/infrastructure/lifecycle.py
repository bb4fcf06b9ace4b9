"""What the container opens and closes: its ``Resource`` generators and ``Closers``.

An outer container (``providers.Container(Container, ...)`` in a service's own) shuts down our
Resources but never calls our ``shutdown_resources``; so each Resource here first closes what
the container built (``Closers``), and ``lifetime_resource`` closes it when no pool was opened.
No configuration schema or container import here: the container binds these.
"""

from __future__ import annotations

import importlib
from typing import Any

__all__ = [
    "Closers",
    "http_pool_resource",
    "httpx_client_resource",
    "in_lifetime",
    "lifetime_resource",
    "open_lifetime",
    "storage_resource",
    "tracked",
]


class Closers(list[Any]):
    """Objects the container created that need an async ``aclose()`` at shutdown.

    ``aclose()`` closes them last built first, once: a second caller while it runs (each of our
    Resources calls it before closing its pool, and an outer container shuts several down at
    once) waits for the same pass, so no pool closes under a provider still closing."""

    _closing: Any = None

    async def aclose(self) -> None:
        import asyncio

        running = self._closing
        if running is not None and not running.done() and running.get_loop() is asyncio.get_running_loop():
            await asyncio.shield(running)
            return
        if not self:
            return
        self._closing = asyncio.ensure_future(self._close_all())
        await asyncio.shield(self._closing)

    async def _close_all(self) -> None:
        from oneringai.domain.redaction import get_logger

        while self:
            owner = self.pop()
            close = getattr(owner, "aclose", None)
            if close is None:
                continue
            try:
                await close()
            except Exception:
                get_logger("oneringai").exception("closing %r failed", owner)


def open_lifetime(lifetime: Any) -> None:
    """Opens the ``lifetime`` Resource when an event loop runs (an async Resource opens as a
    task on it: nothing to await); outside a loop it waits for the next use inside one."""
    if lifetime.initialized:
        return
    import asyncio

    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return
    lifetime()


def tracked(closers: Closers, lifetime: Any, instance: Any) -> Any:
    closers.append(instance)
    open_lifetime(lifetime)
    return instance


def in_lifetime(lifetime: Any, instance: Any) -> Any:
    """``instance`` (a built executor stack), opening ``lifetime`` first: a stack built outside
    any loop (at import) opens its Redis client on first use, inside one — closed by an outer
    container's shutdown too."""
    open_lifetime(lifetime)
    return instance


async def http_pool_resource(settings: Any, closers: Closers) -> Any:
    """Resource: the shared connection pool (an ``HttpPool``: the aiohttp session, and an
    ``httpx.AsyncClient`` on it when something asks for one), closed on shutdown — after what
    the container built on it (``closers``), whoever shuts it down: our ``shutdown_resources``
    or an outer container's, which reaches our Resources but not our override."""
    from oneringai.infrastructure.http.pool import HttpPool

    pool = HttpPool(settings)
    try:
        yield pool
    finally:
        try:
            await closers.aclose()
        finally:
            await pool.aclose()


async def httpx_client_resource(pool: Any) -> Any:
    """Resource: an ``httpx.AsyncClient`` on the shared pool, for what needs httpx (OAuth,
    plugin providers); built (and httpx imported) only when asked for. The pool closes it."""
    yield pool.httpx_client()


async def storage_resource(opener_path: str, closers: Closers, **kwargs: Any) -> Any:
    """Resource: a token store that owns a client (pool, session), closed on shutdown (after
    what the container built: ``closers``); ``opener_path`` names an async context manager,
    imported only when selected."""
    module_name, _, attr = opener_path.partition(":")
    opener = getattr(importlib.import_module(module_name), attr)
    async with opener(**kwargs) as storage:
        try:
            yield storage
        finally:
            await closers.aclose()


async def lifetime_resource(closers: Closers) -> Any:
    """Resource: closes what the container built (``closers``) when shut down. Opened by
    ``tracked`` as soon as something that needs closing is built inside a running event loop,
    so an outer container's ``shutdown_resources()`` — which walks our Resources, never our
    override — closes an executor stack's Redis client or an MCP server even when no HTTP pool
    or token store was opened."""
    try:
        yield closers
    finally:
        await closers.aclose()
