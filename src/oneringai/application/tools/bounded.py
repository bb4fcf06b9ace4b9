"""A time limit that holds even for a tool that ignores cancellation.

``asyncio.timeout`` cancels the task once and then waits for it: a tool that catches the
``CancelledError`` and keeps going (``except CancelledError: pass`` in a retry loop, a
library that swallows it) holds the caller until it decides to stop — forever, for a loop.
``bounded`` runs the work in a task of its own: when the limit passes it cancels that task,
gives it ``grace`` seconds to finish cancelling, then abandons it (as a hung synchronous tool's
thread is abandoned) and raises ``TimeoutError``. A cancelled caller cancels the work the same
way and is still cancelled. Abandoned tasks are kept referenced until they end, and whatever
they end with is consumed, so nothing warns about a task never retrieved.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any, TypeVar

__all__ = ["CANCEL_GRACE", "bounded"]

T = TypeVar("T")

#: Seconds a cancelled tool gets to finish its cleanup before it is abandoned.
CANCEL_GRACE = 1.0
_ABANDONED: set[asyncio.Task[Any]] = set()


def _forget(task: asyncio.Task[Any]) -> None:
    _ABANDONED.discard(task)
    if not task.cancelled():
        task.exception()  # retrieved: no "exception was never retrieved" at exit


async def _stop(task: asyncio.Task[Any], grace: float) -> None:
    """Cancel ``task``; wait at most ``grace`` for it; abandon it if it does not stop."""
    task.cancel()
    try:
        await asyncio.wait([task], timeout=grace)
    finally:  # also when our caller is cancelled (again) meanwhile: that propagates
        if task.done():
            _forget(task)
        else:
            _ABANDONED.add(task)
            task.add_done_callback(_forget)


async def _carried(work: Coroutine[Any, Any, T]) -> tuple[bool, Any]:
    """``KeyboardInterrupt`` / ``SystemExit`` raised in a task would stop the event loop itself;
    carried out as a value, they are re-raised in the caller, as an ``await`` would have."""
    try:
        return True, await work
    except (KeyboardInterrupt, SystemExit) as exc:
        return False, exc


async def bounded(work: Coroutine[Any, Any, T], limit: float | None, *, grace: float = CANCEL_GRACE) -> T:
    """``await work``, or ``TimeoutError`` once ``limit`` seconds (None: no limit) have passed
    and the work was cancelled — at most ``limit + grace`` seconds whatever the work does."""
    if limit is None:
        return await work
    task = asyncio.ensure_future(_carried(work))
    try:
        await asyncio.wait([task], timeout=limit)
    except asyncio.CancelledError:  # our caller was cancelled: stop the work, stay cancelled
        await _stop(task, grace)
        raise
    if task.done():
        finished, value = task.result()
        if not finished:
            raise value
        return value  # type: ignore[no-any-return]
    await _stop(task, grace)
    raise TimeoutError(f"the call did not finish within {limit:g}s")
