"""Stub OpenAI-compatible server for benchmarks, run in its own process so client CPU time
is measured alone; a bare asyncio protocol, so it is not the bottleneck. Counts TCP
connections (GET /stats).

    python benchmarks/_stub_server.py  -> prints the port on stdout
"""

from __future__ import annotations

import asyncio
import json
import sys

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


def big_line(size: int) -> bytes:
    event = {"id": "c", "object": "chat.completion.chunk", "model": "bench",
             "choices": [{"index": 0, "delta": {"content": "x" * size}, "finish_reason": None}]}
    return b"data: " + json.dumps(event).encode() + b"\n\n"


class _HTTPProtocol(asyncio.Protocol):
    """A minimal HTTP/1.1 keep-alive server: the stub must not be the bottleneck it measures."""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        global CONNECTIONS
        CONNECTIONS += 1
        self.transport: asyncio.Transport = transport  # type: ignore[assignment]
        self.buffer = b""

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while True:
            head_end = self.buffer.find(b"\r\n\r\n")
            if head_end < 0:
                return
            head = self.buffer[:head_end].decode("latin-1")
            length = 0
            for line in head.split("\r\n")[1:]:
                name, _, value = line.partition(":")
                if name.strip().lower() == "content-length":
                    length = int(value)
            if len(self.buffer) < head_end + 4 + length:
                return
            body = self.buffer[head_end + 4 : head_end + 4 + length]
            self.buffer = self.buffer[head_end + 4 + length :]
            self.respond(head.split(" ", 2)[:2], body)

    def respond(self, method_path: list[str], body: bytes) -> None:
        method, path = method_path
        if method == "GET" and path.startswith("/stats"):
            payload, kind = json.dumps({"connections": CONNECTIONS}).encode(), b"application/json"
        else:
            request = json.loads(body or b"{}")
            if request.get("stream"):
                query = path.partition("?")[2]
                if "big=" in query:  # one SSE line carrying a delta of that many bytes
                    payload, kind = big_line(int(query.split("big=")[1].split("&")[0])) + TAIL, b"text/event-stream"
                else:
                    chunks = int(query.split("chunks=")[1].split("&")[0]) if "chunks=" in query else 200
                    payload, kind = CHUNK * chunks + TAIL, b"text/event-stream"
            else:
                messages = request.get("messages") or [{}]
                wants_tool = bool(request.get("tools")) and messages[-1].get("role") != "tool"
                payload, kind = (TOOL_BODY if wants_tool else BODY), b"application/json"
        self.transport.write(
            b"HTTP/1.1 200 OK\r\ncontent-type: " + kind + b"\r\ncontent-length: "
            + str(len(payload)).encode() + b"\r\n\r\n" + payload
        )


async def main() -> None:
    loop = asyncio.get_running_loop()
    server = await loop.create_server(_HTTPProtocol, "127.0.0.1", 0, backlog=1024)
    print(server.sockets[0].getsockname()[1], flush=True)
    await asyncio.Event().wait()


if __name__ == "__main__":
    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        sys.exit(0)
