"""Incremental parsers for the two streaming formats vendors use: SSE and NDJSON.

They work on raw bytes and yield as soon as a complete event or line has arrived.
``_line_batches`` does the one job they share — split the byte stream into lines —
and hands over all lines of a network chunk at once, so the per-line cost stays in
plain loops rather than generator hops.

Bounded in time and memory whatever the server sends:

- assembly is linear: an unterminated line is kept as a list of chunks and joined once,
  when its newline arrives (re-concatenating a growing buffer per chunk is quadratic:
  a 50 MB line cost 440x a 5 MB one);
- a line, or an SSE event's data, longer than ``max_event_bytes`` raises
  ``ProviderResponseError`` as soon as the limit is passed, before more is buffered.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterable, AsyncIterator
from dataclasses import dataclass

from oneringai.domain.errors import ProviderResponseError

__all__ = [
    "DEFAULT_MAX_EVENT_BYTES",
    "SSEEvent",
    "iter_line_batches",
    "iter_lines",
    "iter_sse",
    "iter_sse_data",
    "iter_sse_data_batches",
]

#: The default of ``http.max_event_bytes``.
DEFAULT_MAX_EVENT_BYTES = 8 * 1024 * 1024
_BOM = b"\xef\xbb\xbf"


@dataclass(slots=True)
class SSEEvent:
    event: str | None
    data: str


def _too_large(limit: int, provider: str | None) -> ProviderResponseError:
    return ProviderResponseError(
        f"stream event larger than {limit} bytes (raise http.max_event_bytes, or the provider's "
        "max_event_bytes, if such events are expected)",
        provider=provider,
    )


async def _line_batches(
    chunks: AsyncIterable[bytes], limit: int, provider: str | None
) -> AsyncIterator[list[bytes]]:
    """Complete lines, one list per chunk; a final unterminated line comes last, so a cut
    stream is visible to the caller (it never saw its terminator).

    Lines end as the SSE spec says — ``\\r\\n``, ``\\n`` or a lone ``\\r`` (a ``\\r\\n`` split
    across two chunks still ends one line) — and a UTF-8 byte-order mark opening the stream is
    dropped (it hid the first ``data:`` field, and made the first NDJSON line invalid). A raw
    CR cannot occur inside valid JSON, so splitting on it never cuts an event's value.
    """
    parts: list[bytes] = []  # the unterminated line, as received
    pending = 0
    opening: bytes | None = b""  # the first bytes, until they show whether a BOM opens the stream
    after_cr = False  # the previous chunk ended with a CR: a LF opening this one belongs to it
    async for chunk in chunks:
        if not chunk:
            continue
        if opening is not None:
            opening += chunk
            if len(opening) < len(_BOM) and _BOM.startswith(opening):
                continue
            chunk = opening[len(_BOM):] if opening.startswith(_BOM) else opening
            opening = None
        if after_cr and chunk[:1] == b"\n":
            chunk = chunk[1:]
        after_cr = False
        if b"\r" in chunk:
            after_cr = chunk[-1:] == b"\r"
            chunk = chunk.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
        if not chunk:
            continue
        if b"\n" not in chunk:
            pending += len(chunk)
            if pending > limit:
                raise _too_large(limit, provider)
            parts.append(chunk)
            continue
        if parts:  # the newline ends the pending line: join it once, without re-splitting it
            cut = chunk.index(b"\n")
            if pending + cut > limit:
                raise _too_large(limit, provider)
            parts.append(chunk[:cut])
            first = b"".join(parts)
            parts = []
            lines = chunk[cut + 1 :].split(b"\n")
            tail = lines.pop()
            lines.insert(0, first)
        else:
            lines = chunk.split(b"\n")
            tail = lines.pop()
        if len(chunk) > limit and (len(tail) > limit or any(len(line) > limit for line in lines)):
            raise _too_large(limit, provider)
        if tail:
            parts.append(tail)
        pending = len(tail)
        yield lines
    tail = b"".join(parts) if opening is None else opening
    if tail:
        yield [tail, b""]


def _data_value(raw: bytes) -> bytes:
    return raw[6:] if raw[5:6] == b" " else raw[5:]


async def iter_lines(
    chunks: AsyncIterable[bytes], *, max_line_bytes: int = DEFAULT_MAX_EVENT_BYTES, provider: str | None = None
) -> AsyncIterator[bytes]:
    """Non-empty lines (NDJSON)."""
    async for batch in _line_batches(chunks, max_line_bytes, provider):
        for line in batch:
            if line:
                yield line


async def iter_line_batches(
    chunks: AsyncIterable[bytes], *, max_line_bytes: int = DEFAULT_MAX_EVENT_BYTES, provider: str | None = None
) -> AsyncIterator[list[bytes]]:
    """Non-empty lines (NDJSON), a list per network chunk (one generator hop per chunk)."""
    async for batch in _line_batches(chunks, max_line_bytes, provider):
        lines = [line for line in batch if line]
        if lines:
            yield lines


async def iter_sse(
    chunks: AsyncIterable[bytes], *, max_event_bytes: int = DEFAULT_MAX_EVENT_BYTES, provider: str | None = None
) -> AsyncIterator[SSEEvent]:
    """Server-sent events: ``event:`` and ``data:`` fields, dispatched on a blank line.

    Comments (``:``) and unknown fields are ignored as the SSE spec requires.
    """
    event: str | None = None
    data: list[bytes] = []
    size = 0
    async for batch in _line_batches(chunks, max_event_bytes, provider):
        for raw in batch:
            if not raw:
                if data:
                    yield SSEEvent(event, b"\n".join(data).decode("utf-8", "replace"))
                event, data, size = None, [], 0
            elif raw[:5] == b"data:":
                value = _data_value(raw)
                size += len(value) + 1
                if size > max_event_bytes:
                    raise _too_large(max_event_bytes, provider)
                data.append(value)
            elif raw[:6] == b"event:":
                event = raw[6:].strip().decode("utf-8", "replace")


async def iter_sse_data_batches(
    chunks: AsyncIterable[bytes], *, max_event_bytes: int = DEFAULT_MAX_EVENT_BYTES, provider: str | None = None
) -> AsyncIterator[list[bytes]]:
    """The ``data`` of each complete event, as bytes, a list per network chunk — the fast path
    for APIs whose events carry no meaningful ``event:`` name (OpenAI, Anthropic): one
    generator hop per chunk instead of per event. A JSON error body sent under
    ``text/event-stream`` — on one line, or pretty-printed over several — is passed on as data
    (it was ignored: the error was lost)."""
    data: bytes | None = None  # the event being read: its one data line (the usual case)...
    more: list[bytes] = []  # ...and any further ones
    size = 0
    body: list[bytes] | None = None  # a JSON body opening the stream, over several lines
    fresh = True  # no line read yet
    tries = 0
    async for batch in _line_batches(chunks, max_event_bytes, provider):
        ready: list[bytes] = []
        for raw in batch:
            if body is not None:
                if raw[:5] != b"data:" and raw[:6] != b"event:":
                    size += len(raw) + 1
                    if size > max_event_bytes:
                        raise _too_large(max_event_bytes, provider)
                    body.append(raw)
                    if raw[:1] == b"}":  # the close of a pretty-printed object: complete?
                        tries += 1
                        whole = b"\n".join(body)
                        parsed = _is_json_object(whole)
                        if parsed or tries >= _BODY_TRIES:  # bounded: never quadratic
                            if parsed and b'"error"' in whole:
                                ready.append(whole)
                            body = None
                    continue
                body = None  # SSE after all: read on as SSE
            if raw:
                if raw.startswith(b"data:"):
                    value = raw[6:] if raw.startswith(b"data: ") else raw[5:]
                    if data is None:
                        data, size = value, len(value)
                    else:  # a multi-line event: bound the sum, not only each line
                        size += len(value) + 1
                        if size > max_event_bytes:
                            raise _too_large(max_event_bytes, provider)
                        more.append(value)
                elif raw[:1] == b"{" and data is None:
                    if b'"error"' in raw:
                        ready.append(raw)  # no SSE line starts with "{": a JSON error body under text/event-stream
                    elif fresh:  # perhaps the same body pretty-printed, one key a line
                        body, size, tries = [raw], len(raw), 0
                fresh = False
            elif data is not None:
                if more:
                    ready.append(b"\n".join([data, *more]))
                    more = []
                else:
                    ready.append(data)
                data = None
        if ready:
            yield ready
    if body is not None and b'"error"' in (whole := b"\n".join(body)) and _is_json_object(whole):
        yield [whole]  # its last line had no line end


#: Lines opening with "}" on which a multi-line JSON body is tried as a whole, at most.
_BODY_TRIES = 4


def _is_json_object(text: bytes) -> bool:
    """Whether ``text`` is one JSON object — some OpenAI-compatible servers answer an error
    pretty-printed under ``text/event-stream``: with no ``data:`` line it was ignored, and
    the vendor's error became "stream ended before completion"."""
    try:
        return isinstance(json.loads(text), dict)
    except (ValueError, RecursionError):
        return False


async def iter_sse_data(
    chunks: AsyncIterable[bytes], *, max_event_bytes: int = DEFAULT_MAX_EVENT_BYTES, provider: str | None = None
) -> AsyncIterator[bytes]:
    """Like ``iter_sse_data_batches``, one event at a time."""
    async for ready in iter_sse_data_batches(chunks, max_event_bytes=max_event_bytes, provider=provider):
        for data in ready:
            yield data
