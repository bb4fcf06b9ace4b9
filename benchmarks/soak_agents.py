"""Agent path soak: 200 concurrent agent runs, each answered by a stub model that asks for
3 parallel tool calls, through the full YAML executor stack (audit to Postgres, permissions,
rate limit and cache on Redis, timeout, retry). Every run's history must answer every tool
call exactly once, with the right value; the same runs with no executor layer give the
stack's overhead per tool call (client CPU; Redis, Postgres and the stub are other processes)."""

from __future__ import annotations

import asyncio
import json
import os
import sys
import time
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))
from soak_common import Histogram, Report, Sampler, mib, ms, percentile, soak_stub

from oneringai import OneRingAI, OneRingAIError, tool
from oneringai.config import Settings
from oneringai.domain.content import MessageRole, ToolResultContent, ToolUseContent

CONCURRENCY, TOOL_CALLS = 200, 3
POSTGRES_DSN = os.environ.get("ONERINGAI_TEST_POSTGRES_DSN", "postgresql://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("ONERINGAI_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


@tool
async def lookup(key: str) -> str:
    """Look a key up (a short wait stands for the I/O of a real tool)."""
    await asyncio.sleep(0.005)
    return f"value-{key}"


def stack(tag: str) -> list[dict[str, Any]]:
    return [
        {"kind": "audit", "sink": "postgres", "dsn": POSTGRES_DSN, "table": f"soak_audit_{tag}"},
        {"kind": "permissions", "deny": ["shell"]},
        {"kind": "rate_limit", "backend": "redis", "redis_url": REDIS_URL, "prefix": f"soak:{tag}:rl:",
         "per_minute": 10**9, "scope": "tool"},
        {"kind": "cache", "backend": "redis", "redis_url": REDIS_URL, "prefix": f"soak:{tag}:cache:", "ttl": 60},
        {"kind": "timeout", "default": 10},
        {"kind": "retry", "attempts": 2},
    ]


def audit_of(history: list[Any]) -> tuple[int, int, int, int]:
    """(calls, answered exactly once, lost or doubled, wrong value) of one run's history."""
    calls: dict[str, str] = {}
    answers: Counter[str] = Counter()
    wrong = 0
    for message in history:
        for part in message.content:
            if isinstance(part, ToolUseContent) and message.role == MessageRole.ASSISTANT:
                calls[part.id] = str(json.loads(part.arguments).get("key"))
            elif isinstance(part, ToolResultContent):
                answers[part.tool_use_id] += 1
                expected = f"value-{calls.get(part.tool_use_id)}"
                if part.error or expected not in str(part.content):
                    wrong += 1
    once = sum(1 for c in calls if answers[c] == 1)
    bad = sum(1 for c in calls if answers[c] != 1) + sum(1 for a in answers if a not in calls)
    return len(calls), once, bad, wrong


async def drive(base: str, executor: list[dict[str, Any]], seconds: float, sampler: Sampler | None) -> dict[str, Any]:
    client = OneRingAI(settings=Settings.model_validate({
        "text": {"default": "b", "providers": {"b": {"kind": "openai", "base_url": f"{base}/v1",
                                                     "api_key": "sk-bench-0000000000", "max_retries": 0}}},
        "oauth": {"storage": {"kind": "memory"}},
        "agents": {"max_parallel_tools": TOOL_CALLS},
        "tools": {"executor": executor},
    }))
    totals: Counter[str] = Counter()
    errors: Counter[str] = Counter()
    latencies = Histogram()

    async def one_run() -> None:
        agent = await client.agents.create(model="bench", tools=[lookup])
        started = time.perf_counter()
        try:
            await agent.run("look these up")
        except OneRingAIError as exc:
            errors[type(exc).__name__ + ": " + str(exc)[:100]] += 1
            return
        except Exception as exc:
            errors["UNTYPED " + type(exc).__name__ + ": " + str(exc)[:100]] += 1
            return
        latencies.add(time.perf_counter() - started)
        calls, once, bad, wrong = audit_of(agent.messages)
        totals.update(runs=1, calls=calls, once=once, bad=bad, wrong=wrong)

    await asyncio.gather(*(one_run() for _ in range(CONCURRENCY)))  # warm up: pools, imports
    warm_up_calls = totals["calls"]
    totals.clear()
    latencies = Histogram()
    deadline = time.perf_counter() + seconds
    stop = asyncio.Event()

    async def worker() -> None:
        while time.perf_counter() < deadline:
            await one_run()

    sampling = asyncio.create_task(sampler.run(stop)) if sampler else None
    cpu = time.process_time()
    await asyncio.gather(*(worker() for _ in range(CONCURRENCY)))
    cpu = time.process_time() - cpu
    stop.set()
    if sampling:
        await sampling
    await client.destroy()
    return {"totals": totals, "errors": errors, "latencies": latencies, "cpu": cpu, "warm_up_calls": warm_up_calls}


async def _audit_rows(table: str) -> int:
    import asyncpg

    conn = await asyncpg.connect(POSTGRES_DSN)
    try:
        return int(await conn.fetchval(f'SELECT count(*) FROM "{table}"'))
    finally:
        await conn.execute(f'DROP TABLE IF EXISTS "{table}"')
        await conn.close()


async def run(seconds: float) -> Report:
    report = Report(f"agents ({CONCURRENCY} concurrent runs x {TOOL_CALLS} parallel tool calls, "
                    "executor: audit(postgres) permissions rate_limit(redis) cache(redis) timeout retry)")
    tag = uuid.uuid4().hex[:8]
    baseline_seconds = max(5.0, seconds / 4)
    with soak_stub("--tool-calls", str(TOOL_CALLS)) as base:
        direct = await drive(base, [], baseline_seconds, None)
        sampler = Sampler()
        full = await drive(base, stack(tag), seconds, sampler)
    rows = await _audit_rows(f"soak_audit_{tag}")
    t = full["totals"]
    report.figure("runs, tool calls", f"{t['runs']} runs, {t['calls']} tool calls in {seconds:.0f} s "
                  f"({t['runs'] / seconds:.0f} runs/s)")
    report.check("runs failed", str(sum(full["errors"].values()))
                 + "".join(f"; {k} x{v}" for k, v in full["errors"].most_common(2)), "0", not full["errors"])
    report.check("tool calls answered exactly once", f"{t['once']} / {t['calls']}", "all",
                 t["once"] == t["calls"] and t["calls"] == t["runs"] * TOOL_CALLS)
    report.check("tool results lost, doubled or orphaned", str(t["bad"]), "0", t["bad"] == 0)
    report.check("tool results wrong or failed (cache, retry)", str(t["wrong"]), "0", t["wrong"] == 0)
    audited = t["calls"] + full["warm_up_calls"]
    report.check("audit rows in Postgres (warm-up included)", f"{rows} / {audited}", "one per call",
                 rows == audited)
    warm_up = min(10.0, seconds / 4)
    rss = sampler.growth(1, warm_up)
    report.check(f"RSS growth after {warm_up:.0f} s warm-up", mib(rss), "< 5 MiB", rss < 5 * 2**20)
    fds = sampler.growth(2, warm_up)
    report.check("open fds growth after warm-up", f"{fds:+.0f}", "<= 8", fds <= 8)
    d = direct["totals"]
    per_call_direct = direct["cpu"] / max(1, d["calls"])
    per_call_full = full["cpu"] / max(1, t["calls"])
    report.figure("client CPU per tool call (incl. its share of the run)",
                  f"direct {per_call_direct * 1e6:.0f} µs, stack {per_call_full * 1e6:.0f} µs")
    report.figure("stack overhead per tool call (client CPU)",
                  f"{(per_call_full - per_call_direct) * 1e6:.0f} µs ({per_call_full / per_call_direct:.2f}x)")
    report.figure("run latency p50 / p99: direct vs stack",
                  f"{ms(percentile(direct['latencies'], 50))} / {ms(percentile(direct['latencies'], 99))} vs "
                  f"{ms(percentile(full['latencies'], 50))} / {ms(percentile(full['latencies'], 99))}")
    await _cleanup_redis(tag)
    return report


async def _cleanup_redis(tag: str) -> None:
    import redis.asyncio as aioredis

    client = aioredis.from_url(REDIS_URL)
    async for key in client.scan_iter(match=f"soak:{tag}:*"):
        await client.delete(key)
    await client.aclose()
