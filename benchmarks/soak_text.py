"""Text path soak: concurrency 256 of generate and stream calls against the stub, first clean,
then with 1 % injected faults; the raw transport (httpx on httpx_aiohttp's transport, the
kit's default) at the same concurrency is the latency baseline."""

from __future__ import annotations

import asyncio
import json
import statistics
import sys
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).parent))
from soak_common import Histogram, Report, Sampler, mib, ms, percentile, soak_stub

from oneringai import OneRingAI, OneRingAIError
from oneringai.config import Settings

CONCURRENCY = 256
# http.max_connections = the concurrency, for the kit and the raw client alike, so the latency
# comparison is like for like: at 100, the raw httpx-aiohttp client starves the callers beyond the
# pool (aiohttp's connector gives a released keep-alive connection to whoever asks next — the caller
# that just released it — not to the longest waiter: 156 of 256 workers wait for the whole run).
# The kit admits requests in arrival order (``http.wire``); the third phase runs it at the default
# pool of 100 and checks that every worker is served.
POOL = 256
DEFAULT_POOL = 100
PAYLOAD = {"model": "bench", "messages": [{"role": "user", "content": "Say hello"}]}


def kit(base: str, pool: int = POOL) -> OneRingAI:
    return OneRingAI(settings=Settings.model_validate({
        "http": {"transport": "aiohttp", "max_connections": pool, "max_keepalive_connections": pool},
        "text": {"default": "b", "providers": {"b": {"kind": "openai", "base_url": f"{base}/v1",
                                                     "api_key": "sk-bench-0000000000", "max_retries": 0}}},
        "oauth": {"storage": {"kind": "memory"}},
    }))


def raw_calls(base: str) -> tuple[httpx.AsyncClient, Callable[[int], Awaitable[None]]]:
    from httpx_aiohttp import AiohttpTransport

    limits = httpx.Limits(max_connections=POOL, max_keepalive_connections=POOL)
    client = httpx.AsyncClient(transport=AiohttpTransport(limits=limits), timeout=60)
    url = f"{base}/v1/chat/completions"
    headers = {"authorization": "Bearer sk-bench-0000000000", "content-type": "application/json"}

    async def call(i: int) -> None:
        if i % 2:
            body = json.dumps({**PAYLOAD, "stream": True, "stream_options": {"include_usage": True}}).encode()
            async with client.stream("POST", url, content=body, headers=headers) as response:
                async for line in response.aiter_lines():
                    if line.startswith("data: ") and line != "data: [DONE]":
                        json.loads(line[6:])
        else:
            response = await client.post(url, content=json.dumps(PAYLOAD).encode(), headers=headers)
            json.loads(response.content)["choices"][0]["message"]["content"]

    return client, call


def kit_calls(client: OneRingAI) -> Callable[[int], Awaitable[None]]:
    async def call(i: int) -> None:
        if i % 2:
            async for _event in client.text.stream("Say hello", model="bench"):
                pass
        else:
            await client.text.generate("Say hello", model="bench")

    return call


async def drive(call: Callable[[int], Awaitable[None]], seconds: float, sampler: Sampler | None) -> dict[str, Any]:
    """``CONCURRENCY`` workers calling for ``seconds``; latencies of successes, errors by type."""
    latencies = Histogram()
    errors: Counter[str] = Counter()
    untyped: Counter[str] = Counter()
    samples: dict[str, str] = {}
    served = [0] * CONCURRENCY
    deadline = time.perf_counter() + seconds
    stop = asyncio.Event()

    async def worker(w: int) -> None:
        i = w
        while time.perf_counter() < deadline:
            started = time.perf_counter()
            try:
                await call(i)
                latencies.add(time.perf_counter() - started)
                served[w] += 1
            except OneRingAIError as exc:
                errors[type(exc).__name__] += 1
                samples.setdefault(type(exc).__name__, str(exc)[:160])
            except Exception as exc:
                untyped[f"{type(exc).__module__}.{type(exc).__name__}: {str(exc)[:80]}"] += 1
            i += 1

    sampling = asyncio.create_task(sampler.run(stop)) if sampler else None
    await asyncio.gather(*(worker(w) for w in range(CONCURRENCY)))
    stop.set()
    if sampling:
        await sampling
    return {"latencies": latencies, "errors": errors, "untyped": untyped, "samples": samples, "served": served}


async def _stats(base: str) -> dict[str, Any]:
    async with httpx.AsyncClient() as probe:
        return dict((await probe.get(f"{base}/stats")).json())


async def phase(
    report: Report, label: str, seconds: float, fault_every: int, raw_seconds: float, pool: int = POOL
) -> None:
    warm_up = min(10.0, seconds / 4)
    args = ["--fault-every", str(fault_every)] if fault_every else []
    with soak_stub(*args) as base:
        client = kit(base, pool)
        compared: dict[str, list[tuple[float, float]]] = {"raw": [], "kit": []}
        if raw_seconds:  # alternating rounds: the machine's load moves both alike
            raw, call = raw_calls(base)
            contenders = {"raw": call, "kit": kit_calls(client)}
            for run in contenders.values():
                await drive(run, 2, None)  # warm up: connections, imports
            for _ in range(3):
                for name, run in contenders.items():
                    lat = (await drive(run, raw_seconds / 3, None))["latencies"]
                    compared[name].append((percentile(lat, 50), percentile(lat, 99)))
            await raw.aclose()
        probe = httpx.AsyncClient()

        async def open_connections() -> int:  # the stub's open connections, less the probe's own
            return int((await probe.get(f"{base}/stats")).json()["open"]) - 1

        sampler = Sampler(extra=open_connections)
        before = await _stats(base)
        result = await drive(kit_calls(client), seconds, sampler)
        after = await _stats(base)
        await client.destroy()
        await probe.aclose()
    calls = len(result["latencies"]) + sum(result["errors"].values()) + sum(result["untyped"].values())
    faults = {k: after["faults"][k] - before["faults"][k] for k in after["faults"]}
    injected = sum(faults.values())
    typed = sum(result["errors"].values())
    report.figure(f"{label}: calls (generate + stream), rate", f"{calls} in {seconds:.0f} s, {calls / seconds:.0f}/s")
    report.figure(f"{label}: typed errors", ", ".join(f"{k} {v}" for k, v in sorted(result["errors"].items())) or "none")
    if not fault_every:
        for name, message in result["samples"].items():
            report.figure(f"{label}: e.g. {name}", message)
    if fault_every:
        report.figure(f"{label}: faults injected", ", ".join(f"{k} {v}" for k, v in faults.items()))
        report.figure(f"{label}: recovered (a resend of an unread request, or the provider's retries)",
                      str(injected - faults.get("slow", 0) - typed))
    report.check(f"{label}: untyped errors", str(sum(result["untyped"].values()))
                 + "".join(f"; {k} x{v}" for k, v in result["untyped"].most_common(3)), "0",
                 not result["untyped"])
    allowed = injected - faults.get("slow", 0)  # a slow body still answers
    report.check(f"{label}: typed errors vs failing faults injected", f"{typed} / {allowed}", "<= injected",
                 typed <= allowed)
    rss = sampler.growth(1, warm_up)
    report.check(f"{label}: RSS growth after {warm_up:.0f} s warm-up", mib(rss), "< 5 MiB", rss < 5 * 2**20)
    fds_low, fds_high = sampler.span(2, warm_up)
    low, high = sampler.span(3, warm_up)
    beside = sampler.growth(4, warm_up)  # descriptors that are not the pool's sockets
    report.check(f"{label}: open fds (min..max) and fds beside the pool's sockets (growth)",
                 f"{fds_low}..{fds_high}, {beside:+.0f}", "growth <= 8", beside <= 8)
    report.check(f"{label}: pooled connections (min..max after warm-up)", f"{low}..{high}", f"<= {pool}",
                 high <= pool)
    served = sorted(result["served"])
    report.check(f"{label}: calls answered per worker (min / median / max)",
                 f"{served[0]} / {served[len(served) // 2]} / {served[-1]}", "every worker served", served[0] > 0)
    p50, p99 = percentile(result["latencies"], 50), percentile(result["latencies"], 99)
    report.figure(f"{label}: latency p50 / p99 over the whole run", f"{ms(p50)} / {ms(p99)}")
    if compared["raw"]:
        (r50, r99), (k50, k99) = ((statistics.median(p[0] for p in compared[n]), statistics.median(p[1] for p in compared[n]))
                                  for n in ("raw", "kit"))
        report.figure(f"{label}: p50 / p99, raw transport vs kit (3 alternating rounds of {raw_seconds / 3:.0f} s, medians)",
                      f"{ms(r50)} / {ms(r99)} vs {ms(k50)} / {ms(k99)}")
        report.figure(f"{label}: latency overhead p50 / p99 vs raw",
                      f"{ms(k50 - r50)} ({k50 / r50:.2f}x) / {ms(k99 - r99)} ({k99 / r99:.2f}x)")


async def run(seconds: float) -> Report:
    report = Report("text (concurrency 256, generate + stream, aiohttp transport)")
    await phase(report, "clean", seconds, 0, raw_seconds=max(6.0, seconds / 2))
    await phase(report, "1% faults", seconds, 100, raw_seconds=0)
    await phase(report, f"pool {DEFAULT_POOL} (default) < 256 callers", seconds / 2, 0, raw_seconds=0, pool=DEFAULT_POOL)
    return report
