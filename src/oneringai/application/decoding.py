"""Content decoding whose memory is bounded per step, whatever the compression ratio.

httpx decodes each received chunk whole: one 64 KiB gzip chunk of zeros becomes ~64 MiB
before any size check can run, and ``content-encoding: gzip, gzip`` nests the ratio — an
822-byte body took 831 MiB with ``http.max_response_bytes`` at 1 MiB. Here each
``decompress`` call returns at most ``STEP`` bytes, so ``read(limit)`` and the stream's
event limit stop the body after at most one step past them. aiohttp (3.13+) already bounds
its own decompression; this is for the httpx paths (the httpx transport, a user's client).
"""

from __future__ import annotations

import zlib
from collections.abc import AsyncIterator, Iterator, Mapping

__all__ = ["STEP", "bounded_encodings", "decode_bounded"]

#: The most one decompression step may produce.
STEP = 64 * 1024
_ZLIB = {"gzip": zlib.MAX_WBITS | 16, "x-gzip": zlib.MAX_WBITS | 16, "deflate": zlib.MAX_WBITS}


def bounded_encodings(headers: Mapping[str, str]) -> list[str] | None:
    """The body's encodings, outermost first, when all are ones decoded here (gzip, deflate,
    identity); None when there is nothing to decode or one is not (left to httpx as before)."""
    value = headers.get("content-encoding")
    if not value:
        return None
    names = [name.strip().lower() for name in value.split(",") if name.strip()]
    names = [name for name in names if name != "identity"]
    if not names or any(name not in _ZLIB for name in names):
        return None
    return names[::-1]  # listed in the order applied: undo the last one first


class _Inflater:
    __slots__ = ("_deflate", "_object", "_started")

    def __init__(self, encoding: str) -> None:
        self._deflate = encoding == "deflate"
        self._object = zlib.decompressobj(_ZLIB[encoding])
        self._started = False

    def feed(self, data: bytes) -> Iterator[bytes]:
        if self._deflate and not self._started and data:
            self._started = True
            probe = zlib.decompressobj(zlib.MAX_WBITS)
            try:  # as httpx: zlib-wrapped deflate, else raw deflate (what some servers send)
                probe.decompress(data[:2])
            except zlib.error:
                self._object = zlib.decompressobj(-zlib.MAX_WBITS)
        decompressor = self._object
        while True:
            if decompressor.eof:
                return  # trailing bytes after the end of the stream are ignored, as httpx does
            out = decompressor.decompress(data, STEP)
            data = decompressor.unconsumed_tail
            if out:
                yield out
            if not data and len(out) < STEP:
                return

    def finish(self) -> Iterator[bytes]:
        yield from self.feed(b"")


def _error(exc: zlib.error) -> Exception:
    import httpx

    return httpx.DecodingError(str(exc))


async def decode_bounded(raw: AsyncIterator[bytes], encodings: list[str]) -> AsyncIterator[bytes]:
    """``raw`` decoded through ``encodings`` (innermost last), at most ``STEP`` bytes a chunk."""
    inflaters = [_Inflater(encoding) for encoding in encodings]

    def through(data: bytes, level: int) -> Iterator[bytes]:
        if level == len(inflaters):
            if data:
                yield data
            return
        for piece in inflaters[level].feed(data):
            yield from through(piece, level + 1)

    def finish(level: int) -> Iterator[bytes]:
        if level == len(inflaters):
            return
        for piece in inflaters[level].finish():
            yield from through(piece, level + 1)
        yield from finish(level + 1)

    try:
        async for chunk in raw:
            for piece in through(chunk, 0):
                yield piece
        for piece in finish(0):
            yield piece
    except zlib.error as exc:
        raise _error(exc) from exc
