"""Cache tool results by tool name + canonical JSON arguments (+ user); errors are never cached.

Identical calls in flight are coalesced (single flight per cache key): while the first call
of a key runs, later ones wait for it and receive its result (under their own
``tool_call_id``, ``metadata["cache"] == "coalesced"``) instead of running the tool again.
If the first call fails (an error result), the waiters receive that error too; if it is
cancelled or its executor raises, one waiter runs the tool itself. Coalescing is
in-process for both backends: with ``backend: redis`` the *results* are shared between
processes, but two processes that miss the same key at the same moment each run the tool
once (there is no cross-process lock; a tool that must not run twice needs its own).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import time
from collections import OrderedDict
from typing import Any

from oneringai.domain.errors import ConfigError
from oneringai.domain.interfaces import IToolExecutor
from oneringai.domain.telemetry import span_event
from oneringai.domain.tools import ToolCall, ToolExecutionContext, ToolResult
from oneringai.infrastructure.redis_client import REDIS_REPLY_TIMEOUT, make_redis_client
from oneringai.infrastructure.tool_executors.config import CacheExecutorConfig
from oneringai.infrastructure.tool_executors.wrapper import WrapperToolExecutor

__all__ = ["CachingToolExecutor"]


class CachingToolExecutor(WrapperToolExecutor):
    config: CacheExecutorConfig
    config_model = CacheExecutorConfig

    def __init__(
        self, wrapped: IToolExecutor, config: CacheExecutorConfig | None = None, **kwargs: Any
    ) -> None:
        super().__init__(wrapped, config, **kwargs)
        self._entries: OrderedDict[str, tuple[float, str]] = OrderedDict()
        self._redis: Any = None
        self._in_flight: dict[str, asyncio.Future[ToolResult | None]] = {}
        self.hits = 0
        self.misses = 0
        self.coalesced = 0

    def cache_key(self, tool_call: ToolCall, context: ToolExecutionContext) -> str | None:
        try:
            arguments = tool_call.parsed_arguments()
        except ValueError:
            return None  # invalid, too long or too deep: let the inner executor report it
        # ensure_ascii: a lone surrogate (valid in JSON text) must not break the hashing
        canonical = json.dumps(arguments, sort_keys=True, separators=(",", ":"))
        # per caller: the user and the roles, which permission rules also decide by — a cache
        # outside a ``permissions`` layer must not hand a result to a role that is denied it
        scope = (
            json.dumps([context.user_id or "", sorted(context.roles)]) if self.config.per_user else ""
        )
        material = f"{tool_call.function.name}\0{canonical}\0{scope}".encode("utf-8", "surrogatepass")
        digest = hashlib.sha256(material).hexdigest()
        return f"{tool_call.function.name}:{digest}"

    async def _get(self, key: str) -> str | None:
        if self.config.backend == "redis":
            value = await (await self._client()).get(self.config.prefix + key)
            return value.decode() if isinstance(value, bytes) else value
        entry = self._entries.get(key)
        if entry is None:
            return None
        expires, output = entry
        if expires <= time.monotonic():
            del self._entries[key]
            return None
        self._entries.move_to_end(key)
        return output

    async def _set(self, key: str, output: str) -> None:
        if self.config.backend == "redis":
            await (await self._client()).set(self.config.prefix + key, output, px=int(self.config.ttl * 1000))
            return
        self._entries[key] = (time.monotonic() + self.config.ttl, output)
        self._entries.move_to_end(key)
        while len(self._entries) > self.config.max_entries:
            self._entries.popitem(last=False)

    async def _client(self) -> Any:
        if self._redis is None:
            self._redis = make_redis_client(
                self.config.redis_url.get_secret_value(), config_path="tools.executor.cache.backend",
                socket_timeout=REDIS_REPLY_TIMEOUT,
            )
        return self._redis

    async def execute_tool(self, tool_call: ToolCall, context: ToolExecutionContext) -> ToolResult:
        tool = context.find_tool(tool_call.function.name)
        key = self.cache_key(tool_call, context) if tool is not None and tool.cacheable else None
        if key is None:
            return await self.call_wrapped(tool_call, context)
        while True:
            try:
                cached = await self._get(key)
            except ConfigError:
                raise
            except Exception:  # a cache that is down is a miss, never a failure
                cached = None
            if cached is not None:
                self.hits += 1
                span_event("oneringai.tool.cache_hit")
                return ToolResult(
                    tool_call_id=tool_call.id,
                    tool_name=tool_call.function.name,
                    output=cached,
                    metadata={"cache": "hit"},
                )
            flight = self._in_flight.get(key)
            if flight is None:
                return await self._lead(key, tool_call, context)
            # shield: a waiter that is cancelled must not cancel the call others wait for
            shared = await asyncio.shield(flight)
            if shared is not None:
                self.coalesced += 1
                span_event("oneringai.tool.cache_coalesced")
                metadata = {**shared.metadata, "cache": "coalesced"}
                return shared.model_copy(update={"tool_call_id": tool_call.id, "metadata": metadata})
            # the leader was cancelled or its executor raised: look again, maybe lead

    async def _lead(self, key: str, tool_call: ToolCall, context: ToolExecutionContext) -> ToolResult:
        flight: asyncio.Future[ToolResult | None] = asyncio.get_running_loop().create_future()
        self._in_flight[key] = flight
        result: ToolResult | None = None
        try:
            self.misses += 1
            span_event("oneringai.tool.cache_miss")
            result = await self.call_wrapped(tool_call, context)
            if not result.is_error:
                try:
                    await self._set(key, result.output)
                except ConfigError:
                    raise
                except Exception:  # noqa: S110 - caching is best effort
                    pass
            return result
        finally:
            if self._in_flight.get(key) is flight:
                del self._in_flight[key]
            if not flight.done():  # None (cancelled, raised, not a ToolResult): a waiter retries
                flight.set_result(result if isinstance(result, ToolResult) else None)

    async def aclose(self) -> None:
        if self._redis is not None:
            await self._redis.aclose()
            self._redis = None
        await super().aclose()
