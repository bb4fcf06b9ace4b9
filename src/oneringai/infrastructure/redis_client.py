"""One way to build Redis clients: a blocking pool, so bursts wait for a connection
instead of failing with "Too many connections"."""

from __future__ import annotations

from typing import Any

__all__ = ["make_redis_client"]


def make_redis_client(
    url: str, *, max_connections: int = 64, timeout: float = 20.0, config_path: str | None = None
) -> Any:
    """``config_path`` names the YAML key that chose Redis, for the missing-extra error."""
    try:
        import redis.asyncio as aioredis
    except ImportError as exc:
        from oneringai.domain.errors import ConfigError, install_extra_hint

        raise ConfigError(
            f"the Redis backend needs the redis extra: {install_extra_hint('redis')}", path=config_path
        ) from exc

    pool = aioredis.BlockingConnectionPool.from_url(url, max_connections=max_connections, timeout=timeout)
    return aioredis.Redis(connection_pool=pool)
