"""A bound on every HTTP response body an MCP server sends.

The SDK reads a JSON answer whole (``response.aread()``) and bounds only SSE events (1 MiB): a
server that answers ``application/json`` with an endless body filled ~100 MB of memory a second
until ``timeout`` ran out (852 MB in 8 s on loopback; a 30 s call on a fast link is gigabytes).
The transport below counts the bytes of every response and fails the read past
``MAX_RESPONSE_BYTES``, as the kit's provider wire does for model answers.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

__all__ = ["MAX_RESPONSE_BYTES", "bounded_transport"]

#: Larger than any sane JSON-RPC answer (tool output is cut at ``max_output_chars`` anyway).
MAX_RESPONSE_BYTES = 64 * 1024 * 1024


def bounded_transport(limit: int = MAX_RESPONSE_BYTES) -> Any:
    """An ``httpx2`` transport whose responses fail with ``ReadError`` past ``limit`` bytes."""
    import httpx2

    class _BoundedStream(httpx2.AsyncByteStream):
        def __init__(self, stream: Any) -> None:
            self._stream = stream

        async def __aiter__(self) -> AsyncIterator[bytes]:
            seen = 0
            async for chunk in self._stream:
                seen += len(chunk)
                if seen > limit:
                    raise httpx2.ReadError(f"the response body exceeds {limit} bytes")
                yield chunk

        async def aclose(self) -> None:
            await self._stream.aclose()

    class _BoundedTransport(httpx2.AsyncHTTPTransport):
        async def handle_async_request(self, request: Any) -> Any:
            response = await super().handle_async_request(request)
            response.stream = _BoundedStream(response.stream)
            return response

    return _BoundedTransport()
