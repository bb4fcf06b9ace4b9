"""Incremental parsers for the two streaming formats vendors use: SSE and NDJSON.

They work on raw bytes (no per-line decoding of the whole stream) and yield as
soon as a complete event or line has arrived.
"""

from __future__ import annotations

from collections.abc import AsyncIterable, AsyncIterator
from dataclasses import dataclass

__all__ = ["SSEEvent", "iter_lines", "iter_sse", "iter_sse_data"]


@dataclass(slots=True)
class SSEEvent:
    event: str | None
    data: str


async def iter_lines(chunks: AsyncIterable[bytes]) -> AsyncIterator[bytes]:
    """Split a byte stream on ``\\n`` (``\\r\\n`` tolerated); yields non-empty lines only.

    A final line without a newline is yielded too, so a cut stream can be detected by
    the caller (it never saw its terminator).
    """
    buffer = b""
    async for chunk in chunks:
        if not chunk:
            continue
        buffer = buffer + chunk if buffer else chunk
        if b"\n" not in chunk:
            continue
        lines = buffer.split(b"\n")
        buffer = lines.pop()
        for line in lines:
            if line.endswith(b"\r"):
                line = line[:-1]
            if line:
                yield line
    buffer = buffer.rstrip(b"\r")
    if buffer:
        yield buffer


async def iter_sse(chunks: AsyncIterable[bytes]) -> AsyncIterator[SSEEvent]:
    """Server-sent events: ``event:`` and ``data:`` fields, dispatched on a blank line.

    Comments (``:``) and unknown fields are ignored as the SSE spec requires.
    """
    buffer = b""
    event: str | None = None
    data: list[str] = []
    async for chunk in chunks:
        if not chunk:
            continue
        buffer = buffer + chunk if buffer else chunk
        if b"\n" not in chunk:
            continue
        lines = buffer.split(b"\n")
        buffer = lines.pop()
        for raw in lines:
            if raw.endswith(b"\r"):
                raw = raw[:-1]
            if not raw:
                if data:
                    yield SSEEvent(event, "\n".join(data))
                event, data = None, []
                continue
            if raw.startswith(b"data:"):
                value = raw[5:]
                data.append((value[1:] if value.startswith(b" ") else value).decode("utf-8", "replace"))
            elif raw.startswith(b"event:"):
                event = raw[6:].strip().decode("utf-8", "replace")
    if buffer.startswith(b"data:"):
        value = buffer[5:].rstrip(b"\r")
        data.append((value[1:] if value.startswith(b" ") else value).decode("utf-8", "replace"))
    if data:
        yield SSEEvent(event, "\n".join(data))


async def iter_sse_data(chunks: AsyncIterable[bytes]) -> AsyncIterator[bytes]:
    """Only the ``data`` of each event, as bytes (``json.loads`` takes them as they are).

    The fast path for APIs whose events carry no meaningful ``event:`` name (OpenAI).
    """
    buffer = b""
    data: list[bytes] = []
    async for chunk in chunks:
        if not chunk:
            continue
        buffer = buffer + chunk if buffer else chunk
        if b"\n" not in chunk:
            continue
        lines = buffer.split(b"\n")
        buffer = lines.pop()
        for raw in lines:
            if raw[:5] == b"data:":
                value = raw[6:] if raw[5:6] == b" " else raw[5:]
                data.append(value[:-1] if value[-1:] == b"\r" else value)
            elif (not raw or raw == b"\r") and data:
                yield data[0] if len(data) == 1 else b"\n".join(data)
                data = []
    if buffer[:5] == b"data:":
        data.append((buffer[6:] if buffer[5:6] == b" " else buffer[5:]).rstrip(b"\r"))
    if data:
        yield b"\n".join(data)
