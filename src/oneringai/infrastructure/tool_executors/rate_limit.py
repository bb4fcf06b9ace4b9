"""Rate limits per tool, per user, per user+tool or global; in memory or shared through Redis.

Memory uses aiolimiter's leaky bucket. Redis uses a sliding-window log in one Lua
script (atomic), so any number of replicas share one limit.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from typing import Any
from urllib.parse import quote

from oneringai.domain.errors import ConfigError
from oneringai.domain.interfaces import IToolExecutor
from oneringai.domain.telemetry import span_event
from oneringai.domain.tools import ToolCall, ToolExecutionContext, ToolResult
from oneringai.infrastructure.redis_client import REDIS_REPLY_TIMEOUT, make_redis_client
from oneringai.infrastructure.tool_executors.config import RateLimitExecutorConfig
from oneringai.infrastructure.tool_executors.wrapper import WrapperToolExecutor

__all__ = ["RateLimitingToolExecutor"]

_WINDOW = 60.0
_MAX_BUCKETS = 10_000
# KEYS[1] = zset; ARGV = now_ms, window_ms, limit, member. Returns {allowed, wait_ms}.
_SLIDING_WINDOW = """
local now = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local limit = tonumber(ARGV[3])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
local count = redis.call('ZCARD', KEYS[1])
if count < limit then
  redis.call('ZADD', KEYS[1], now, ARGV[4])
  redis.call('PEXPIRE', KEYS[1], window)
  return {1, 0}
end
local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
return {0, math.max(1, tonumber(oldest[2]) + window - now)}
"""


class RateLimitingToolExecutor(WrapperToolExecutor):
    config: RateLimitExecutorConfig
    config_model = RateLimitExecutorConfig

    def __init__(
        self, wrapped: IToolExecutor, config: RateLimitExecutorConfig | None = None, **kwargs: Any
    ) -> None:
        super().__init__(wrapped, config, **kwargs)
        self._limiters: dict[str, Any] = {}
        self._redis: Any = None
        self._script: Any = None

    def _scope_key(self, tool_call: ToolCall, context: ToolExecutionContext) -> str:
        # each part percent-encoded: user "a:tool:b" calling "c" and user "a" calling "b:tool:c"
        # (any text the model writes as a name) must not share one bucket
        tool = quote(tool_call.function.name, safe="")
        user = quote(context.user_id, safe="") if context.user_id else "anonymous"
        return {
            "tool": f"tool:{tool}",
            "user": f"user:{user}",
            "user_tool": f"user:{user}:tool:{tool}",
            "global": "global",
        }[self.config.scope]

    def _rate(self, tool_call: ToolCall) -> float:
        return self.config.per_tool.get(tool_call.function.name, self.config.per_minute)

    async def _acquire_memory(self, key: str, rate: float) -> float:
        """0 when allowed now, else seconds until a slot frees."""
        from aiolimiter import AsyncLimiter

        limiter = self._limiters.get(key)
        if limiter is None:
            if len(self._limiters) >= _MAX_BUCKETS:  # many users: forget idle (full) buckets
                for idle in [k for k, v in self._limiters.items() if v.has_capacity(v.max_rate)]:
                    del self._limiters[idle]
            # A bucket holds at least one call: per_minute 0.5 is one call per two minutes
            # (a bucket of 0.5 never had room for a call, so the tool never ran).
            size = self.config.burst or max(1.0, rate)
            limiter = self._limiters[key] = AsyncLimiter(size, _WINDOW * size / rate)
        if limiter.has_capacity():
            await limiter.acquire()
            return 0.0
        if self.config.on_limit == "wait":
            try:
                await asyncio.wait_for(limiter.acquire(), self.config.max_wait)
                return 0.0
            except TimeoutError:
                pass
        return _WINDOW / rate

    async def _redis_client(self) -> Any:
        if self._redis is None:
            self._redis = make_redis_client(
                self.config.redis_url.get_secret_value(), config_path="tools.executor.rate_limit.backend",
                socket_timeout=REDIS_REPLY_TIMEOUT,
            )
            self._script = self._redis.register_script(_SLIDING_WINDOW)
        return self._redis

    async def _acquire_redis(self, key: str, rate: float) -> float:
        await self._redis_client()
        deadline = time.monotonic() + (self.config.max_wait if self.config.on_limit == "wait" else 0)
        # ``limit`` calls per window of ``limit / rate`` minutes: at least one call per window
        # (int(0.5) == 0 refused every call), and 10.5/minute is 10 per 57 s, not 10 per 60 s.
        limit = max(1, int(rate))
        window_ms = max(1, int(_WINDOW * 1000 * limit / rate))
        while True:
            now_ms = int(time.time() * 1000)
            allowed, wait_ms = await self._script(
                keys=[self.config.prefix + key],
                args=[now_ms, window_ms, limit, f"{now_ms}-{uuid.uuid4().hex}"],
            )
            if int(allowed) == 1:
                return 0.0
            wait = int(wait_ms) / 1000
            if time.monotonic() + wait > deadline:
                return wait
            await asyncio.sleep(wait)

    async def execute_tool(self, tool_call: ToolCall, context: ToolExecutionContext) -> ToolResult:
        if context.tools and context.find_tool(tool_call.function.name) is None:
            # a name the model made up runs nothing (the direct executor answers unknown_tool):
            # no bucket for it, or one invented name per call would grow the buckets for ever
            return await self.call_wrapped(tool_call, context)
        key = self._scope_key(tool_call, context)
        rate = self._rate(tool_call)
        try:
            if self.config.backend == "redis":
                wait = await self._acquire_redis(key, rate)
            else:
                wait = await self._acquire_memory(key, rate)
        except ConfigError:
            raise
        except Exception as exc:  # the limiter store is down: refuse rather than run unlimited
            span_event("oneringai.tool.rate_limiter_unavailable", {"error.type": type(exc).__name__})
            return ToolResult.failure(
                tool_call, f"rate limiter unavailable: {exc}", code="rate_limiter_unavailable", retryable=True
            )
        if wait > 0:
            span_event(
                "oneringai.tool.rate_limited",
                {"oneringai.rate_limit.scope": self.config.scope, "oneringai.rate_limit.retry_after": round(wait, 3)},
            )
            return ToolResult.failure(
                tool_call,
                f"rate limit exceeded ({rate:g}/minute, scope {self.config.scope}); retry in {wait:.1f}s",
                code="rate_limited",
                retry_after=round(wait, 3),
            )
        return await self.call_wrapped(tool_call, context)

    async def aclose(self) -> None:
        if self._redis is not None:
            await self._redis.aclose()
            self._redis = None
        await super().aclose()
