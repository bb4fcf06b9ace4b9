"""A tiny OpenAI-compatible chat server for the examples, so they run on a fresh machine.

It plays a model that calls the first tool offered (arguments from the prompt's last
capitalised word) and then answers from the tool results. Start it with
``async with local_llm() as base_url:``, or on its own (docs/scaling.md):
``.venv/bin/python examples/_local_llm.py --port 8080`` serves ``http://127.0.0.1:8080/v1``.
"""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from aiohttp import web


def _answer(body: dict[str, Any]) -> dict[str, Any]:
    messages = body["messages"]
    last = messages[-1]
    tools = body.get("tools") or []
    if tools and last["role"] == "user":
        words = re.findall(r"\b[A-Z][a-z]+\b", last["content"] if isinstance(last["content"], str) else "")
        name = tools[0]["function"]["name"]
        params = list(tools[0]["function"].get("parameters", {}).get("properties", {}))
        arguments = {params[0]: words[-1] if words else "Paris"} if params else {}
        return {"role": "assistant", "content": None, "tool_calls": [
            {"id": f"call_{len(messages)}", "type": "function", "function": {"name": name, "arguments": json.dumps(arguments)}}
        ]}
    if last["role"] == "tool":
        results = [m["content"] for m in messages if m["role"] == "tool"][-3:]
        return {"role": "assistant", "content": f"Here is what the tools said: {'; '.join(results)}"}
    return {"role": "assistant", "content": f"You said: {last['content']}"}


async def _chat(request: web.Request) -> web.StreamResponse:
    body = await request.json()
    message = _answer(body)
    finish = "tool_calls" if message.get("tool_calls") else "stop"
    usage = {"prompt_tokens": 20, "completion_tokens": 10, "total_tokens": 30}
    if not body.get("stream"):
        return web.json_response({"id": "chatcmpl-local", "object": "chat.completion", "model": body["model"],
                                  "choices": [{"index": 0, "message": message, "finish_reason": finish}], "usage": usage})
    response = web.StreamResponse(headers={"content-type": "text/event-stream"})
    await response.prepare(request)
    base = {"id": "chatcmpl-local", "object": "chat.completion.chunk", "model": body["model"]}
    delta: dict[str, Any] = {"role": "assistant"}
    if message.get("tool_calls"):
        delta["tool_calls"] = [{"index": 0, **message["tool_calls"][0]}]
        chunks = [delta]
    else:
        chunks = [{"content": word + " "} for word in (message["content"] or "").split(" ")]
    for chunk in chunks:
        await response.write(f"data: {json.dumps({**base, 'choices': [{'index': 0, 'delta': chunk, 'finish_reason': None}]})}\n\n".encode())
    await response.write(f"data: {json.dumps({**base, 'choices': [{'index': 0, 'delta': {}, 'finish_reason': finish}], 'usage': usage})}\n\n".encode())
    await response.write(b"data: [DONE]\n\n")
    return response


#: The chat handler, for examples that mount it beside their own routes.
chat_completions = _chat


@asynccontextmanager
async def serve(app: web.Application) -> AsyncIterator[str]:
    """Runs ``app`` on a free port of 127.0.0.1; yields ``http://127.0.0.1:PORT``."""
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    try:
        yield f"http://127.0.0.1:{runner.addresses[0][1]}"
    finally:
        await runner.cleanup()


@asynccontextmanager
async def local_llm() -> AsyncIterator[str]:
    """Yields the base URL (``http://127.0.0.1:PORT/v1``) of a running local server."""
    app = web.Application()
    app.router.add_post("/v1/chat/completions", _chat)
    async with serve(app) as url:
        yield f"{url}/v1"


if __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser(description="a stand-in OpenAI-compatible model on 127.0.0.1")
    parser.add_argument("--port", type=int, default=8080)
    port = parser.parse_args().port
    app = web.Application()
    app.router.add_post("/v1/chat/completions", _chat)
    print(f"serving http://127.0.0.1:{port}/v1 (Ctrl-C stops it)", flush=True)
    web.run_app(app, host="127.0.0.1", port=port, print=None, access_log=None)
