"""Reading response bodies with a bound: a server cannot make us hold more than we allow."""

from __future__ import annotations

from collections.abc import AsyncIterable
from typing import TYPE_CHECKING

from oneringai.domain.errors import ProviderResponseError

if TYPE_CHECKING:
    import httpx

__all__ = ["ERROR_BODY_BYTES", "collect", "prefix", "read_body", "read_prefix"]

#: How much of an error body is read: the message we show is 600 characters.
ERROR_BODY_BYTES = 64 * 1024


async def collect(chunks: AsyncIterable[bytes], limit: int) -> bytes | None:
    """All of ``chunks`` joined once; None as soon as they pass ``limit`` bytes (nothing more is
    read: the caller closes the response, which drops the connection)."""
    parts: list[bytes] = []
    size = 0
    async for chunk in chunks:
        size += len(chunk)
        if size > limit:
            return None
        parts.append(chunk)
    return parts[0] if len(parts) == 1 else b"".join(parts)


async def prefix(chunks: AsyncIterable[bytes], limit: int) -> bytes:
    """At most ``limit`` bytes from the start of ``chunks``; the rest is never read."""
    parts: list[bytes] = []
    size = 0
    async for chunk in chunks:
        parts.append(chunk)
        size += len(chunk)
        if size >= limit:
            break
    return b"".join(parts)[:limit]


async def read_body(
    response: httpx.Response,
    limit: int,
    *,
    provider: str | None = None,
    model: str | None = None,
    what: str = "response body",
    remedy: str = "raise http.max_response_bytes if expected",
) -> bytes:
    """The whole (decoded) body; ``ProviderResponseError`` as soon as it passes ``limit`` bytes.
    ``what`` and ``remedy`` word the error for a body whose limit is not the setting's."""
    body = await collect(response.aiter_bytes(), limit)
    if body is None:
        raise ProviderResponseError(
            f"{what} larger than {limit} bytes ({remedy})",
            provider=provider,
            model=model,
            status_code=response.status_code,
        )
    return body


async def read_prefix(response: httpx.Response, limit: int = ERROR_BODY_BYTES) -> bytes:
    """At most ``limit`` bytes of the body; the rest is never read (the caller closes the
    response, which drops the connection instead of draining it)."""
    return await prefix(response.aiter_bytes(), limit)
