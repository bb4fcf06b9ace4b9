"""Stream deadlines that hold against a server that drips.

httpx's read timeout restarts with every byte, so a server sending one byte every
0.25 s keeps a read alive forever. ``guard_stream`` bounds what matters instead:

- **idle**: the wait for the next item (an event or a batch of events, not a byte);
- **total**: the whole stream, from the first wait.

One timer per stream, re-armed lazily (only when it fires early), so a fast stream pays a
clock read per batch, not a timer per chunk. The timer cancels the task only while it is
waiting inside this generator, never while the consumer holds an item, and the
cancellation is turned into the caller's timeout error — nothing is held across a
``yield``, so the generator is safe to abandon at any point.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from typing import TypeVar

__all__ = ["guard_stream"]

T = TypeVar("T")
_INF = float("inf")
_EARLY = 0.0005  # a timer may fire this much early; treat as due


class _Watch:
    __slots__ = (
        "cancelling", "end", "fired", "handle", "idle", "loop", "reason", "start", "task", "total", "waiting",
    )

    def __init__(self, idle: float | None, total: float | None) -> None:
        self.loop = asyncio.get_running_loop()
        now = self.loop.time()
        self.idle = idle if idle is not None else _INF
        self.total = total
        self.end = now + total if total is not None else _INF
        self.start = now
        self.waiting = False
        self.fired = False
        self.reason = "idle"
        self.cancelling = 0
        self.task: asyncio.Task[object] | None = None
        self.handle: asyncio.TimerHandle | None = None

    def due(self) -> float:
        return min(self.start + self.idle, self.end)

    def begin(self) -> bool:
        """Start a wait; False when the total deadline has already passed."""
        now = self.loop.time()
        if now >= self.end:
            self.reason = "total"
            return False
        self.start = now
        task = asyncio.current_task()
        self.task = task
        self.cancelling = task.cancelling() if task is not None else 0
        self.waiting = True
        if self.handle is None:
            self.handle = self.loop.call_at(self.due(), self.check)
        return True

    def check(self) -> None:
        self.handle = None
        if not self.waiting or self.task is None:
            return  # the consumer holds an item: re-armed by the next wait
        due = self.due()
        if self.loop.time() < due - _EARLY:
            self.handle = self.loop.call_at(due, self.check)
            return
        self.fired = True
        self.reason = "total" if due >= self.end else "idle"
        self.task.cancel()

    def close(self) -> None:
        self.waiting = False
        if self.handle is not None:
            self.handle.cancel()
            self.handle = None


async def guard_stream(
    source: AsyncIterator[T],
    *,
    idle: float | None,
    total: float | None,
    timeout_error: Callable[[str, float], BaseException],
) -> AsyncIterator[T]:
    """``source``'s items; ``timeout_error("idle" | "total", seconds)`` is raised when a
    wait for the next item passes ``idle`` seconds or the stream passes ``total``."""
    if idle is None and total is None:
        async for item in source:
            yield item
        return
    watch = _Watch(idle, total)
    next_item = source.__anext__
    try:
        while True:
            if not watch.begin():
                raise timeout_error("total", total or 0.0)
            try:
                item = await next_item()
            except StopAsyncIteration:
                return
            except asyncio.CancelledError:
                task = watch.task
                if watch.fired and task is not None and task.uncancel() <= watch.cancelling:
                    seconds = (idle if watch.reason == "idle" else total) or 0.0
                    raise timeout_error(watch.reason, seconds) from None
                raise
            finally:
                watch.waiting = False
            if watch.fired:  # the source swallowed the cancellation: the time is still up
                if watch.task is not None:
                    watch.task.uncancel()
                raise timeout_error(watch.reason, (idle if watch.reason == "idle" else total) or 0.0)
            yield item
    finally:
        watch.close()
