"""One agent turn (model call -> tool -> model call) vs a hand-written raw-httpx loop doing
the same two requests and the tool call. Client CPU time per turn; server in another process."""

from __future__ import annotations

import asyncio
import json
import sys
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).parent))
from _common import stub_server

from oneringai import OneRingAI, tool
from oneringai.config import Settings

TOOLS = [{"type": "function", "function": {"name": "add", "description": "Add", "parameters": {
    "type": "object", "properties": {"a": {"type": "integer"}, "b": {"type": "integer"}}, "required": ["a", "b"]}}}]


@tool
async def add(a: int, b: int) -> int:
    """Add."""
    return a + b


async def raw_turn(client: httpx.AsyncClient, url: str) -> str:
    messages: list[dict[str, object]] = [{"role": "user", "content": "add 1 and 2"}]
    while True:
        response = await client.post(url, content=json.dumps({"model": "bench", "messages": messages, "tools": TOOLS}).encode(),
                                     headers={"content-type": "application/json", "authorization": "Bearer sk-bench"})
        message = json.loads(response.content)["choices"][0]["message"]
        if not message.get("tool_calls"):
            return str(message["content"])
        messages.append(message)
        for call in message["tool_calls"]:
            args = json.loads(call["function"]["arguments"])
            messages.append({"role": "tool", "tool_call_id": call["id"], "content": json.dumps(await add.execute(args))})


async def main() -> None:
    turns = 300
    with stub_server() as base:
        url = f"{base}/v1/chat/completions"
        from httpx_aiohttp import AiohttpTransport

        raw = httpx.AsyncClient(transport=AiohttpTransport())
        raw_default = httpx.AsyncClient()
        client = OneRingAI(settings=Settings.model_validate({
            "http": {"transport": "aiohttp"},
            "text": {"default": "b", "providers": {"b": {"kind": "openai", "base_url": f"{base}/v1", "api_key": "sk-bench-0000000000", "max_retries": 0}}},
            "oauth": {"storage": {"kind": "memory"}},
            "tools": {"executor": []},
        }))
        agent = await client.agents.create(model="bench", tools=[add])

        async def ours() -> str:
            agent.reset()
            return (await agent.run("add 1 and 2")).output_text

        contenders = (
            ("raw httpx loop (default transport)", lambda: raw_turn(raw_default, url)),
            ("raw httpx loop (aiohttp transport)", lambda: raw_turn(raw, url)),
            ("oneringai agent.run (aiohttp)", ours),
        )
        results: dict[str, list[float]] = {name: [] for name, _ in contenders}
        for _name, run in contenders:
            for _ in range(30):
                await run()
        for _ in range(5):
            for name, run in contenders:
                started = time.process_time()
                for _ in range(turns):
                    await run()
                results[name].append((time.process_time() - started) / turns * 1e6)
        await raw.aclose()
        await raw_default.aclose()
        await client.destroy()
    base_cpu = min(results["raw httpx loop (default transport)"])
    print("ratios vs the raw httpx loop on httpx's default transport (least-disturbed of 5 rounds)")
    for name, values in results.items():
        print(f"{name:36} {min(values):8.0f} µs CPU/turn  {min(values) / base_cpu:.2f}x")


if __name__ == "__main__":
    import argparse

    argparse.ArgumentParser(description=__doc__).parse_args()  # --help describes, never runs
    asyncio.run(main())
