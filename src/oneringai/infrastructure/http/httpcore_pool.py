"""Repairs to httpcore's connection pool that the built-in calls make on their error paths
(httpcore internals, so each is best effort and never a new failure)."""

from __future__ import annotations

import asyncio
import contextlib
import weakref
from collections.abc import Coroutine
from typing import Any

from oneringai.domain.redaction import get_logger

__all__ = ["close_shielded", "fail_queued", "forget_other_loops", "reap_unstarted", "redact_http_logs"]

_CLOSING: set[asyncio.Task[None]] = set()


def reap_unstarted(pool: Any) -> None:
    """Drop the connections httpcore's pool created for a request that then left (cancelled, or
    timed out, as its connection was assigned): they stay "CONNECTING" forever and count against
    ``max_connections`` — a few cancelled callers and every later request waited for the pool
    timeout (the old httpx path too). Such a connection is claimed by no queued request; the
    queue is then served again."""
    if type(pool).__name__ != "AsyncConnectionPool":
        return
    with contextlib.suppress(Exception):  # httpcore internals: best effort, never a new failure
        claimed = {id(queued.connection) for queued in pool._requests if queued.connection is not None}
        orphans = [
            connection for connection in pool._connections
            if type(connection).__name__ == "AsyncHTTPConnection" and id(connection) not in claimed
            and connection._connection is None and not connection._connect_failed
        ]
        if not orphans:
            return
        for connection in orphans:
            pool._connections.remove(connection)
        closing = pool._assign_requests_to_connections()
        if closing:
            task = asyncio.get_running_loop().create_task(pool._close_connections(closing))
            _CLOSING.add(task)
            task.add_done_callback(_CLOSING.discard)


def fail_queued(pool: Any) -> None:
    """End the requests queued for a connection of ``pool`` with a connection error, before the
    pool is closed. httpcore's ``aclose`` closes the connections (their readers wake with a
    read error) but leaves the queue waiting, and as each failed reader gives its connection
    back the pool opens a new one for the next queued request — on a pool being shut down: those
    callers sent their requests anyway and waited for a whole stream idle timeout. Each queued
    request is handed a connection that refuses it; none is left to be served."""
    if type(pool).__name__ != "AsyncConnectionPool":
        return
    with contextlib.suppress(Exception):  # httpcore internals: best effort, never a new failure
        closed = _ClosedPoolConnection()
        for queued in list(pool._requests):
            if queued.is_queued():
                queued.assign_to_connection(closed)


class _ClosedPoolConnection:
    """What a request queued on a closing pool is given: a connection that refuses it."""

    async def handle_async_request(self, request: Any) -> Any:
        import httpcore

        raise httpcore.ReadError("the HTTP pool was closed")


def forget_other_loops(pool: Any) -> None:
    """Forget the connections a previous event loop opened (a provider used from a second
    ``asyncio.run``): sending on one fails with "Event loop is closed", once per stale
    connection. Marked on the pool, which providers share, so only its first call in the new
    loop does this; what a dead loop opened goes with it (and the GC)."""
    loop = asyncio.get_running_loop()
    seen = pool.__dict__.get("_oneringai_loop")
    if seen is not None and seen() is loop:
        return
    if seen is not None:
        pool._connections = []
        pool._requests = []
    pool._oneringai_loop = weakref.ref(loop)


async def close_shielded(close: Coroutine[Any, Any, None]) -> None:
    """Run a response's ``aclose`` to its end even if the caller is cancelled meanwhile.

    httpcore marks a response closed, then awaits its connection's lock to put the connection
    back: a cancellation there (an attempt's deadline, ``wait_for``) left the connection ACTIVE
    and its request queued forever — one connection fewer each time until every call waited
    for the pool timeout. The caller still sees its cancellation at once; the close finishes
    in a task of its own (bounded: the body is read or the connection is dropped)."""
    task = asyncio.ensure_future(close)
    try:
        await asyncio.shield(task)
    except asyncio.CancelledError:
        if not task.done():
            _CLOSING.add(task)
            task.add_done_callback(_finished)
        raise


def _finished(task: asyncio.Task[None]) -> None:
    _CLOSING.discard(task)
    if not task.cancelled():
        task.exception()  # retrieved: a failed close only costs its connection


#: The loggers httpx and httpcore write to (a filter applies to its own logger only, not children).
_HTTP_LOGGERS = ("httpx", "httpcore.connection", "httpcore.http11", "httpcore.http2", "httpcore.proxy", "httpcore.socks")


def redact_http_logs() -> None:
    """Scrub httpx's and httpcore's log records as the kit's own: at DEBUG httpcore logs every
    response's headers and each protocol error with the offending line, so a server echoing the
    key (a reflected header, a malformed status line) put it in the logs. A disabled level
    costs nothing: the filter runs only for records that are made."""
    for name in _HTTP_LOGGERS:
        get_logger(name)
