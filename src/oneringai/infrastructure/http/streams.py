"""Incremental parsers for the two streaming formats vendors use: SSE and NDJSON.

They work on raw bytes and yield as soon as a complete event or line has arrived.
``_line_batches`` does the one job they share — split the byte stream into lines —
and hands over all lines of a network chunk at once, so the per-line cost stays in
plain loops rather than generator hops.
"""

from __future__ import annotations

from collections.abc import AsyncIterable, AsyncIterator
from dataclasses import dataclass

__all__ = ["SSEEvent", "iter_lines", "iter_sse", "iter_sse_data", "iter_sse_data_batches"]


@dataclass(slots=True)
class SSEEvent:
    event: str | None
    data: str


async def _line_batches(chunks: AsyncIterable[bytes]) -> AsyncIterator[list[bytes]]:
    """Complete lines (``\\r`` stripped), one list per chunk; a final unterminated line
    comes last, so a cut stream is visible to the caller (it never saw its terminator)."""
    buffer = b""
    async for chunk in chunks:
        if not chunk:
            continue
        buffer = buffer + chunk if buffer else chunk
        if b"\n" not in chunk:
            continue
        lines = buffer.split(b"\n")
        buffer = lines.pop()
        yield [line[:-1] if line[-1:] == b"\r" else line for line in lines]
    buffer = buffer.rstrip(b"\r")
    if buffer:
        yield [buffer, b""]


def _data_value(raw: bytes) -> bytes:
    return raw[6:] if raw[5:6] == b" " else raw[5:]


async def iter_lines(chunks: AsyncIterable[bytes]) -> AsyncIterator[bytes]:
    """Non-empty lines (NDJSON)."""
    async for batch in _line_batches(chunks):
        for line in batch:
            if line:
                yield line


async def iter_sse(chunks: AsyncIterable[bytes]) -> AsyncIterator[SSEEvent]:
    """Server-sent events: ``event:`` and ``data:`` fields, dispatched on a blank line.

    Comments (``:``) and unknown fields are ignored as the SSE spec requires.
    """
    event: str | None = None
    data: list[bytes] = []
    async for batch in _line_batches(chunks):
        for raw in batch:
            if not raw:
                if data:
                    yield SSEEvent(event, b"\n".join(data).decode("utf-8", "replace"))
                event, data = None, []
            elif raw[:5] == b"data:":
                data.append(_data_value(raw))
            elif raw[:6] == b"event:":
                event = raw[6:].strip().decode("utf-8", "replace")


async def iter_sse_data_batches(chunks: AsyncIterable[bytes]) -> AsyncIterator[list[bytes]]:
    """The ``data`` of each complete event, as bytes, a list per network chunk — the fast path
    for APIs whose events carry no meaningful ``event:`` name (OpenAI): one generator hop per
    chunk instead of per event."""
    data: list[bytes] = []
    async for batch in _line_batches(chunks):
        ready: list[bytes] = []
        for raw in batch:
            if raw[:5] == b"data:":
                data.append(_data_value(raw))
            elif not raw and data:
                ready.append(data[0] if len(data) == 1 else b"\n".join(data))
                data = []
        if ready:
            yield ready


async def iter_sse_data(chunks: AsyncIterable[bytes]) -> AsyncIterator[bytes]:
    """Like ``iter_sse_data_batches``, one event at a time."""
    async for ready in iter_sse_data_batches(chunks):
        for data in ready:
            yield data
