"""One way to build Redis clients: a blocking pool, so bursts wait for a connection
instead of failing with "Too many connections"."""

from __future__ import annotations

from typing import Any

__all__ = ["make_redis_client"]


def make_redis_client(url: str, *, max_connections: int = 64, timeout: float = 20.0) -> Any:
    import redis.asyncio as aioredis

    pool = aioredis.BlockingConnectionPool.from_url(url, max_connections=max_connections, timeout=timeout)
    return aioredis.Redis(connection_pool=pool)
