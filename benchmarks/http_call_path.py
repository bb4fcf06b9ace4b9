"""Our HTTP call path vs raw httpx (both transports), raw aiohttp, the openai SDK, in one process.

The stub server runs in its own process; contenders alternate round by round and each figure
is the median of its rounds. Prints the tables, then one line per goal of issue #11 with its
ratio and whether it is met, then the 50 MB vs 5 MB SSE line ratio. No time is asserted. Run:
    .venv/bin/python benchmarks/http_call_path.py [--quick]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import aiohttp
import httpx

sys.path.insert(0, str(Path(__file__).parent))
from _common import CpuTimer, stub_server, table

from oneringai import OneRingAI
from oneringai.config import Settings

PAYLOAD = {"model": "bench", "messages": [{"role": "user", "content": "Say hello"}]}
KEY = "sk-bench-0000000000"
RAW_HTTPX = "raw httpx (httpx transport)"
RAW_HTTPX_AIOHTTP = "raw httpx (aiohttp transport)"
RAW_AIOHTTP = "raw aiohttp (ClientSession)"
OURS_HTTPX = "oneringai (httpx transport)"
OURS_AIOHTTP = "oneringai (aiohttp transport)"
Contenders = dict[str, tuple[Callable[[], Awaitable[Any]], Any]]


def ours(base: str, transport: str, **http: Any) -> OneRingAI:
    return OneRingAI(settings=Settings.model_validate({
        "http": {"transport": transport, "max_connections": 100, "max_keepalive_connections": 100, **http},
        "text": {"default": "b", "providers": {"b": {"kind": "openai", "base_url": f"{base}/v1",
                                                     "api_key": KEY, "max_retries": 0}}},
        "oauth": {"storage": {"kind": "memory"}},
    }))


def raw_client(transport: str) -> httpx.AsyncClient:
    limits = httpx.Limits(max_connections=100, max_keepalive_connections=100)
    if transport == "aiohttp":
        from httpx_aiohttp import AiohttpTransport

        return httpx.AsyncClient(transport=AiohttpTransport(limits=limits), timeout=60)
    return httpx.AsyncClient(limits=limits, timeout=60)


async def build(base: str) -> Contenders:
    url = f"{base}/v1/chat/completions"
    headers = {"authorization": f"Bearer {KEY}", "content-type": "application/json"}
    contenders: Contenders = {}
    for transport in ("httpx", "aiohttp"):
        client = raw_client(transport)

        async def raw_call(client: httpx.AsyncClient = client) -> Any:
            response = await client.post(url, content=json.dumps(PAYLOAD).encode(), headers=headers)
            return json.loads(response.content)

        contenders[RAW_HTTPX if transport == "httpx" else RAW_HTTPX_AIOHTTP] = (raw_call, client)
    session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=100))

    async def aiohttp_call() -> Any:  # the floor: the transport alone
        async with session.post(url, data=json.dumps(PAYLOAD).encode(), headers=headers) as response:
            return json.loads(await response.read())

    contenders[RAW_AIOHTTP] = (aiohttp_call, session)
    for transport in ("httpx", "aiohttp"):
        facade = ours(base, transport)

        async def our_call(facade: OneRingAI = facade) -> Any:
            return await facade.text.generate_raw("Say hello", model="bench")

        contenders[OURS_HTTPX if transport == "httpx" else OURS_AIOHTTP] = (our_call, facade)
    try:
        from openai import AsyncOpenAI

        sdk = AsyncOpenAI(base_url=f"{base}/v1", api_key=KEY, max_retries=0)

        async def sdk_call() -> Any:
            return await sdk.chat.completions.create(model="bench", messages=[{"role": "user", "content": "Say hello"}])

        contenders["openai SDK"] = (sdk_call, sdk)
    except ImportError:
        pass
    try:  # peers, when installed (see docs/benchmarks.md for the venv used)
        import litellm

        async def litellm_call() -> Any:
            return await litellm.acompletion(model="openai/bench", api_base=f"{base}/v1", api_key="sk-bench",
                                             messages=[{"role": "user", "content": "Say hello"}])

        contenders["LiteLLM"] = (litellm_call, None)
    except ImportError:
        pass
    try:
        from pydantic_ai import Agent
        from pydantic_ai.models.openai import OpenAIChatModel
        from pydantic_ai.providers.openai import OpenAIProvider

        agent = Agent(OpenAIChatModel("bench", provider=OpenAIProvider(base_url=f"{base}/v1", api_key="sk-bench")))

        async def pydantic_ai_call() -> Any:
            return await agent.run("Say hello")

        contenders["pydantic-ai"] = (pydantic_ai_call, None)
    except ImportError:
        pass
    return contenders


async def sequential(contenders: Contenders, calls: int, rounds: int) -> dict[str, float]:
    """Client CPU µs per call, median of interleaved rounds."""
    samples: dict[str, list[float]] = {name: [] for name in contenders}
    for call, _ in contenders.values():  # warm up: connections, imports, caches
        for _ in range(20):
            await call()
    for _ in range(rounds):
        for name, (call, _) in contenders.items():
            with CpuTimer() as timer:
                for _ in range(calls):
                    await call()
            samples[name].append(timer.cpu / calls * 1e6)
    return {name: statistics.median(values) for name, values in samples.items()}


async def concurrent(contenders: Contenders, total: int, width: int, rounds: int) -> dict[str, float]:
    """Requests per second with ``width`` in flight, median of interleaved rounds."""
    samples: dict[str, list[float]] = {name: [] for name in contenders}
    semaphore = asyncio.Semaphore(width)

    async def one(call: Callable[[], Awaitable[Any]]) -> None:
        async with semaphore:
            await call()

    for call, _ in contenders.values():  # open each pool to the width
        await asyncio.gather(*(one(call) for _ in range(width)))
    for _ in range(rounds):
        for name, (call, _) in contenders.items():
            with CpuTimer() as timer:
                await asyncio.gather(*(one(call) for _ in range(total)))
            samples[name].append(total / timer.wall)
    return {name: statistics.median(values) for name, values in samples.items()}


_PROBES = [0]


async def connections(base: str) -> int:
    """Connections the server accepted, not counting these probes' own."""
    _PROBES[0] += 1
    async with httpx.AsyncClient() as probe:
        return int((await probe.get(f"{base}/stats")).json()["connections"]) - _PROBES[0]


async def streaming(base: str, streams: int, chunks: int, rounds: int) -> tuple[dict[str, float], dict[str, float]]:
    """Chunks per client CPU-second into events (median of interleaved rounds), and new TCP
    connections per stream."""
    url = f"{base}/v1/chat/completions?chunks={chunks}"
    body = {**PAYLOAD, "stream": True, "stream_options": {"include_usage": True}}
    raws = {t: raw_client(t) for t in ("httpx", "aiohttp")}

    async def raw_stream(transport: str) -> int:
        count = 0
        async with raws[transport].stream("POST", url, json=body) as response:
            async for line in response.aiter_lines():
                if line.startswith("data: ") and line != "data: [DONE]":
                    json.loads(line[6:])
                    count += 1
        return count

    facades = {t: ours(base, t) for t in ("httpx", "aiohttp")}

    async def our_stream(transport: str) -> int:
        count = 0
        facade = facades[transport]
        provider = await facade.text.resolve()
        provider._url = url  # type: ignore[attr-defined]  # same server knob as the raw client
        async for _event in facade.text.stream("Say hello", model="bench"):
            count += 1
        return count

    contenders: dict[str, Callable[[], Awaitable[int]]] = {
        "raw httpx, httpx transport (line parsing + json.loads)": lambda: raw_stream("httpx"),
        "raw httpx, aiohttp transport (line parsing + json.loads)": lambda: raw_stream("aiohttp"),
        "oneringai typed events (httpx)": lambda: our_stream("httpx"),
        "oneringai typed events (aiohttp)": lambda: our_stream("aiohttp"),
    }
    try:
        from openai import AsyncOpenAI

        sdk = AsyncOpenAI(base_url=f"{base}/v1", api_key="sk-bench", max_retries=0)

        async def sdk_stream() -> int:
            count = 0
            stream = await sdk.chat.completions.create(model="bench", messages=PAYLOAD["messages"], stream=True,
                                                       extra_query={"chunks": chunks})
            async for _ in stream:
                count += 1
            return count

        contenders["openai SDK"] = sdk_stream
    except ImportError:
        pass
    samples: dict[str, list[float]] = {name: [] for name in contenders}
    new_connections: dict[str, float] = {}
    for run in contenders.values():
        await run()  # warm up and open one connection
    for _ in range(rounds):
        for name, run in contenders.items():
            before = await connections(base)
            with CpuTimer() as timer:
                total = 0
                for _ in range(streams):
                    total += await run()
            samples[name].append(total / timer.cpu)
            new_connections[name] = (await connections(base) - before) / streams
    for facade in facades.values():
        await facade.destroy()
    for raw in raws.values():
        await raw.aclose()
    return {name: statistics.median(values) for name, values in samples.items()}, new_connections


async def long_line(base: str, small: int, large: int, rounds: int) -> tuple[float, float]:
    """Client CPU seconds to stream one SSE line of ``small`` and of ``large`` bytes into a typed
    event and the final response (median of interleaved rounds), through the whole path:
    transport chunks, line assembly, event bound, JSON parse, assembly."""
    facade = ours(base, "aiohttp", max_event_bytes=2 * large)
    provider = await facade.text.resolve()
    samples: dict[int, list[float]] = {small: [], large: []}

    async def run(size: int) -> None:
        provider._url = f"{base}/v1/chat/completions?big={size}"  # type: ignore[attr-defined]
        text = 0
        async for event in facade.text.stream("Say hello", model="bench"):
            text += len(getattr(event, "delta", ""))
        assert text == size, (text, size)

    await run(small)
    for _ in range(rounds):
        for size in (small, large):
            with CpuTimer() as timer:
                await run(size)
            samples[size].append(timer.cpu)
    await facade.destroy()
    return statistics.median(samples[small]), statistics.median(samples[large])


def goal(label: str, ratio: float, met: bool, note: str = "") -> str:
    return f"{'✔' if met else '✘'} {label}: {ratio:.2f}x{note} — goal {'met' if met else 'NOT met'}"


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    if args.quick:
        calls, rounds, total, streams, chunks = 100, 3, 800, 5, 500
    else:
        calls, rounds, total, streams, chunks = 300, 5, 2000, 10, 2000
    with stub_server() as base:
        contenders = await build(base)
        seq = await sequential(contenders, calls, rounds)
        conc = await concurrent(contenders, total, 64, rounds)
        for _, owner in contenders.values():
            close = getattr(owner, "destroy", None) or getattr(owner, "aclose", None) or getattr(owner, "close", None)
            if close is not None:
                await close()
        rates, conns = await streaming(base, streams, chunks, rounds)
        small_s, large_s = await long_line(base, 5_000_000, 50_000_000, 3)
    base_cpu = seq[RAW_HTTPX]
    base_rps = conc[RAW_HTTPX]
    print("Sequential CPU per call (lower is better), ratio vs raw httpx default transport")
    print(table([("client", "µs CPU/call", "ratio")] + [(n, f"{v:.0f}", f"{v / base_cpu:.2f}x") for n, v in seq.items()]))
    print("\nConcurrency 64, requests/s (higher is better), ratio vs raw httpx default transport")
    print(table([("client", "req/s", "ratio")] + [(n, f"{v:.0f}", f"{v / base_rps:.2f}x") for n, v in conc.items()]))
    base_rate = rates["raw httpx, httpx transport (line parsing + json.loads)"]
    print("\nStreaming, chunks per client CPU-second into events (higher is better), new TCP connections per stream")
    print(table([("client", "chunks/s", "ratio", "new conns/stream")] +
                [(n, f"{v:.0f}", f"{v / base_rate:.2f}x", f"{conns[n]:.2f}") for n, v in rates.items()]))
    print(f"\nOne SSE line into a typed event: 5 MB {small_s * 1000:.0f} ms CPU, 50 MB {large_s * 1000:.0f} ms CPU")

    c64 = conc[OURS_AIOHTTP] / conc[RAW_HTTPX_AIOHTTP]
    stream = rates["oneringai typed events (aiohttp)"] / rates["raw httpx, aiohttp transport (line parsing + json.loads)"]
    stream_httpx = rates["oneringai typed events (httpx)"] / base_rate
    httpx_cpu = seq[OURS_HTTPX] / base_cpu
    aiohttp_cpu = seq[OURS_AIOHTTP] / base_cpu
    floor = seq[RAW_AIOHTTP] / base_cpu
    line = large_s / small_s
    print("\nGoals (issue #11), each a ratio within this run:")
    print(goal("req/s at concurrency 64, aiohttp transport, vs raw httpx + the same aiohttp transport", c64, c64 >= 0.9,
               " (goal ≥ 0.9x)"))
    print(goal("streamed chunks per client CPU-second into typed events (aiohttp) vs raw httpx+aiohttp line parsing",
               stream, stream >= 1.0, f" (goal ≥ 1.0x; httpx transport vs raw httpx: {stream_httpx:.2f}x)"))
    print(goal("CPU per call, httpx transport, vs raw httpx", httpx_cpu, httpx_cpu <= 1.1, " (goal ≤ 1.1x)"))
    print(goal("CPU per call, aiohttp transport (default), vs raw httpx", aiohttp_cpu, aiohttp_cpu <= 0.6,
               f" (goal ≤ 0.6x; the floor, raw aiohttp: {floor:.2f}x; we are {seq[OURS_AIOHTTP] / seq[RAW_AIOHTTP]:.2f}x"
               " of it)"))
    print(goal("one 50 MB SSE line vs one 5 MB line, client CPU", line, line <= 15, " (goal ~10x, linear; ✔ ≤ 15x)"))
    print("cold first call, HTTP stack import included: see benchmarks/startup.py")


if __name__ == "__main__":
    asyncio.run(main())
