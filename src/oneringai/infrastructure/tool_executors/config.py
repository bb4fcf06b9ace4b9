"""YAML schema of ``tools.executor``: one settings model per decorator ``kind``."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import ConfigDict, Field, SecretStr, field_validator

from oneringai.domain._base import ConfigModel

__all__ = [
    "AuditExecutorConfig",
    "CacheExecutorConfig",
    "CostExecutorConfig",
    "ExecutorLayerConfig",
    "PermissionsExecutorConfig",
    "RateLimitExecutorConfig",
    "RetryExecutorConfig",
    "TimeoutExecutorConfig",
]


#: Seconds or calls per minute: a zero, negative or non-finite value is a ``ConfigError`` at load
#: time (``per_tool: {x: 0}`` was accepted, then every call was "rate limiter unavailable").
_Positive = Annotated[float, Field(gt=0, allow_inf_nan=False)]
_Price = Annotated[float, Field(ge=0, allow_inf_nan=False)]


class ExecutorLayerConfig(ConfigModel):
    """A layer of a custom kind (entry point ``oneringai.tool_executors``): any keys allowed."""

    model_config = ConfigDict(extra="allow", allow_inf_nan=False)
    kind: str


class _Layer(ConfigModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)


class RetryExecutorConfig(_Layer):
    kind: Literal["retry"] = "retry"
    attempts: int = Field(default=3, ge=1, le=20, description="total attempts, first included")
    initial_delay: float = Field(default=0.2, ge=0)
    max_delay: float = Field(default=10.0, ge=0)


class TimeoutExecutorConfig(_Layer):
    kind: Literal["timeout"] = "timeout"
    default: float = Field(default=30.0, gt=0, description="seconds per call")
    per_tool: dict[str, _Positive] = Field(default_factory=dict)


class RateLimitExecutorConfig(_Layer):
    kind: Literal["rate_limit"] = "rate_limit"
    per_minute: float = Field(default=60, gt=0)
    burst: int | None = Field(default=None, ge=1, description="bucket size; default per_minute")
    scope: Literal["tool", "user", "user_tool", "global"] = "tool"
    per_tool: dict[str, _Positive] = Field(default_factory=dict, description="per-minute overrides")
    backend: Literal["memory", "redis"] = Field(
        default="memory",
        description="redis fails closed: with Redis down or slow (3 s) a call is refused "
        "(rate_limiter_unavailable, retryable), never run unlimited",
    )
    redis_url: SecretStr = SecretStr("redis://127.0.0.1:6379/0")
    prefix: str = "oneringai:ratelimit:"
    on_limit: Literal["error", "wait"] = "error"
    max_wait: float = Field(default=30.0, ge=0)


class CacheExecutorConfig(_Layer):
    """Identical calls in flight are coalesced in-process (one run, shared result) with either
    backend; with ``redis`` results are shared across processes, but concurrent misses in
    different processes each run the tool."""

    kind: Literal["cache"] = "cache"
    ttl: float = Field(default=300, gt=0)
    max_entries: int = Field(default=1024, ge=1)
    backend: Literal["memory", "redis"] = Field(
        default="memory",
        description="identical calls in flight run once per process (single flight); redis shares "
        "results across processes, but concurrent misses in two processes each run the tool; redis "
        "fails open: with Redis down or slow (3 s) a call is a miss and the tool runs",
    )
    redis_url: SecretStr = SecretStr("redis://127.0.0.1:6379/0")
    prefix: str = "oneringai:toolcache:"
    per_user: bool = Field(
        default=True,
        description="results are kept per caller (user id and roles); false shares them between callers — "
        "then keep the cache inside (below) any permissions layer, or it answers calls permissions would refuse",
    )


class AuditExecutorConfig(_Layer):
    kind: Literal["audit"] = "audit"
    sink: Literal["logger", "postgres"] = "logger"
    logger: str = "oneringai.audit"
    dsn: SecretStr | None = None
    table: str = Field(
        default="tool_audit_log",
        pattern=r"^[A-Za-z_][A-Za-z0-9_]{0,62}(\.[A-Za-z_][A-Za-z0-9_]{0,62})?$",
        description="table (or schema.table) for sink postgres",
    )
    redact_keys: list[str] = Field(
        default_factory=lambda: ["password", "secret", "token", "api_key", "authorization", "key"]
    )
    write_timeout: float = Field(
        default=10.0,
        gt=0,
        le=600,
        description="sink postgres: seconds one record may take (a locked table or a silent server); "
        "past it the record is logged as lost and the call goes on",
    )


class PermissionsExecutorConfig(_Layer):
    kind: Literal["permissions"] = "permissions"
    allow: list[str] | None = Field(default=None, description="if set, only these tools")
    deny: list[str] = Field(default_factory=list)
    users: dict[str, dict[str, list[str]]] = Field(
        default_factory=dict, description="user id -> {allow: [...], deny: [...]}"
    )
    roles: dict[str, dict[str, list[str]]] = Field(default_factory=dict)
    require_approval: list[str] = Field(default_factory=list)

    @field_validator("users", "roles")
    @classmethod
    def _rule_keys(cls, rules: dict[str, dict[str, list[str]]]) -> dict[str, dict[str, list[str]]]:
        """A misspelt rule key (``alow:``) was ignored, so the user or role had no restriction."""
        for who, rule in rules.items():
            for key in rule:
                if key not in ("allow", "deny"):
                    raise ValueError(f"@{who}.{key}@unknown key (allowed: allow, deny)")
        return rules


class CostExecutorConfig(_Layer):
    kind: Literal["cost"] = "cost"
    budget_per_user: float | None = Field(default=None, ge=0)
    prices: dict[str, _Price] = Field(
        default_factory=dict,
        description="tool -> price per call; calls that never ran the tool (refused, or answered by a cache layer inside this one) are not charged",
    )
