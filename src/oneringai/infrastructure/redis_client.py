"""One way to build Redis clients: a blocking pool, so bursts wait for a connection
instead of failing with "Too many connections"; and a command that meets a connection the
server closed (``CLIENT KILL``, a Redis restarted, an idle timeout) is sent once more on a new
connection — redis-py's default for a pool it is given is no retry, so the first call after a
restart failed (a token read, a tool refused as "rate limiter unavailable", a cache miss)."""

from __future__ import annotations

from typing import Any

__all__ = ["REDIS_REPLY_TIMEOUT", "make_redis_client"]

#: Seconds the tool executors' Redis (cache, rate limit) may take to connect or reply; past it
#: the cache is a miss and the rate limiter "unavailable" — never a call that hangs.
REDIS_REPLY_TIMEOUT = 3.0


def make_redis_client(
    url: str,
    *,
    max_connections: int = 64,
    timeout: float = 20.0,
    config_path: str | None = None,
    socket_timeout: float | None = None,
) -> Any:
    """``config_path`` names the YAML key that chose Redis, for the missing-extra error.
    ``socket_timeout`` bounds connecting and each reply (None: redis-py's default, unbounded):
    a Redis that accepts connections and never answers must not hang its callers."""
    try:
        import redis.asyncio as aioredis
    except ImportError as exc:
        from oneringai.domain.errors import ConfigError, install_extra_hint

        raise ConfigError(
            f"the Redis backend needs the redis extra: {install_extra_hint('redis')}", path=config_path
        ) from exc

    from redis.asyncio.retry import Retry
    from redis.backoff import NoBackoff
    from redis.exceptions import ConnectionError as RedisConnectionError

    bounds: dict[str, float] = (
        {} if socket_timeout is None else {"socket_timeout": socket_timeout, "socket_connect_timeout": socket_timeout}
    )
    # Once, at once, and on connection errors only: a reply timeout (a silent server) is not
    # retried — that would double the wait ``socket_timeout`` bounds.
    retry = Retry(NoBackoff(), 1, supported_errors=(RedisConnectionError,))
    pool = aioredis.BlockingConnectionPool.from_url(
        url, max_connections=max_connections, timeout=timeout, retry=retry, **bounds
    )
    client = aioredis.Redis(connection_pool=pool)
    # The client owns the pool: ``aclose()`` disconnects it. ``Redis(connection_pool=...)``
    # alone leaves the pool (and its sockets) open at close (``Redis.from_pool``'s flag, set
    # here so redis-py 5.0.0 has it too).
    client.auto_close_connection_pool = True
    return client
