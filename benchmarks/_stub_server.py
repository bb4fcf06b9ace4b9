"""Stub OpenAI-compatible server for benchmarks, run in its own process so client CPU time
is measured alone. Counts TCP connections (GET /stats).

    python benchmarks/_stub_server.py  -> prints the port on stdout
"""

from __future__ import annotations

import asyncio
import json
import sys

from aiohttp import web

CONNECTIONS = 0
BODY = json.dumps({
    "id": "chatcmpl-bench", "object": "chat.completion", "created": 1, "model": "bench",
    "choices": [{"index": 0, "message": {"role": "assistant", "content": "Hello there, this is a benchmark answer."},
                 "finish_reason": "stop"}],
    "usage": {"prompt_tokens": 12, "completion_tokens": 9, "total_tokens": 21},
}).encode()
TOOL_BODY = json.dumps({
    "id": "chatcmpl-bench", "object": "chat.completion", "created": 1, "model": "bench",
    "choices": [{"index": 0, "message": {"role": "assistant", "content": None, "tool_calls": [
        {"id": "call_1", "type": "function", "function": {"name": "add", "arguments": "{\"a\": 1, \"b\": 2}"}}]},
        "finish_reason": "tool_calls"}],
    "usage": {"prompt_tokens": 12, "completion_tokens": 9, "total_tokens": 21},
}).encode()
CHUNK = b"data: " + json.dumps({"id": "c", "object": "chat.completion.chunk", "model": "bench",
                                "choices": [{"index": 0, "delta": {"content": "tok "}, "finish_reason": None}]}).encode() + b"\n\n"
TAIL = (b"data: " + json.dumps({"id": "c", "object": "chat.completion.chunk", "model": "bench",
                                "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}],
                                "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2}}).encode()
        + b"\n\ndata: [DONE]\n\n")


async def chat(request: web.Request) -> web.StreamResponse:
    body = await request.json()
    if body.get("stream"):
        chunks = int(request.query.get("chunks", body.get("n_chunks", 200)))
        response = web.StreamResponse(headers={"content-type": "text/event-stream"})
        await response.prepare(request)
        payload = CHUNK * chunks + TAIL
        for start in range(0, len(payload), 8192):
            await response.write(payload[start:start + 8192])
        await response.write_eof()
        return response
    wants_tool = bool(body.get("tools")) and body["messages"][-1]["role"] != "tool"
    return web.Response(body=TOOL_BODY if wants_tool else BODY, content_type="application/json")


async def stats(request: web.Request) -> web.Response:
    return web.json_response({"connections": CONNECTIONS})


async def main() -> None:
    app = web.Application()
    app.router.add_post("/v1/chat/completions", chat)
    app.router.add_get("/stats", stats)
    runner = web.AppRunner(app, access_log=None, keepalive_timeout=75)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0, backlog=1024)
    await site.start()
    server = site._server  # count accepted connections
    original = server._protocol_factory  # type: ignore[union-attr]

    def counting_factory():  # type: ignore[no-untyped-def]
        global CONNECTIONS
        CONNECTIONS += 1
        return original()

    server._protocol_factory = counting_factory  # type: ignore[union-attr]
    print(server.sockets[0].getsockname()[1], flush=True)  # type: ignore[union-attr]
    await asyncio.Event().wait()


if __name__ == "__main__":
    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        sys.exit(0)
