"""The benchmark stub (``_stub_server.py``) with what a soak needs, in its own process:

* faults, deterministic by request counter: with ``--fault-every N`` the request numbered
  ``k*N + N//2`` gets the next of ``503`` (a JSON error, connection kept), ``reset`` (the
  connection aborted before any byte of the answer), ``cut`` (headers and half the body or
  stream, then aborted) and ``slow`` (the body dribbled over ~0.3 s, then complete);
* ``GET /stats``: connections accepted, open now, requests, faults injected by kind;
* an agent mode: a request offering tools gets ``--tool-calls`` parallel calls of the first
  tool (ids unique per request); the request after the tool results gets the answer.

    python benchmarks/soak_stub.py [--fault-every 100] [--chunks 20] [--tool-calls 3]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))
from _stub_server import BODY, CHUNK, TAIL, _HTTPProtocol

KINDS = ("503", "reset", "cut", "slow")
STATE: dict[str, Any] = {"accepted": 0, "open": 0, "requests": 0, "faults": dict.fromkeys(KINDS, 0)}
OPTIONS = argparse.Namespace(fault_every=0, chunks=20, tool_calls=3)
ERROR_503 = json.dumps({"error": {"message": "overloaded (injected)", "type": "server_error"}}).encode()


def _head(status: str, kind: bytes, length: int) -> bytes:
    return (f"HTTP/1.1 {status}\r\ncontent-type: ".encode() + kind
            + b"\r\ncontent-length: " + str(length).encode() + b"\r\n\r\n")


def _tool_answer(request: dict[str, Any], number: int) -> bytes:
    name = request["tools"][0]["function"]["name"]
    calls = [{"id": f"call_{number}_{i}", "type": "function",
              "function": {"name": name, "arguments": json.dumps({"key": f"k{(number + i) % 50}"})}}
             for i in range(OPTIONS.tool_calls)]
    return json.dumps({
        "id": f"chatcmpl-{number}", "object": "chat.completion", "created": 1, "model": "bench",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": None, "tool_calls": calls},
                     "finish_reason": "tool_calls"}],
        "usage": {"prompt_tokens": 12, "completion_tokens": 9, "total_tokens": 21},
    }).encode()


class SoakProtocol(_HTTPProtocol):
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)
        STATE["accepted"] += 1
        STATE["open"] += 1

    def connection_lost(self, exc: Exception | None) -> None:
        STATE["open"] -= 1

    def respond(self, method_path: list[str], body: bytes) -> None:
        method, path = method_path
        if method == "GET" and path.startswith("/stats"):
            self._send(b"200 OK", b"application/json", json.dumps(STATE).encode())
            return
        STATE["requests"] += 1
        number = STATE["requests"]
        request = json.loads(body or b"{}")
        streaming = bool(request.get("stream"))
        if streaming:
            payload, kind = CHUNK * OPTIONS.chunks + TAIL, b"text/event-stream"
        else:
            messages = request.get("messages") or [{}]
            wants_tool = bool(request.get("tools")) and messages[-1].get("role") != "tool"
            payload, kind = (_tool_answer(request, number) if wants_tool else BODY), b"application/json"
        every = OPTIONS.fault_every
        if every and number % every == every // 2:
            fault = KINDS[(number // every) % len(KINDS)]
            STATE["faults"][fault] += 1
            self._fault(fault, kind, payload)
            return
        self._send(b"200 OK", kind, payload)

    def _send(self, status: bytes, kind: bytes, payload: bytes) -> None:
        self.transport.write(_head(status.decode(), kind, len(payload)) + payload)

    def _fault(self, fault: str, kind: bytes, payload: bytes) -> None:
        if fault == "503":
            self._send(b"503 Service Unavailable", b"application/json", ERROR_503)
        elif fault == "reset":
            self.transport.abort()
        elif fault == "cut":
            self.transport.write(_head("200 OK", kind, len(payload)) + payload[: len(payload) // 2])
            self.transport.abort()
        else:  # slow: ten pieces, 30 ms apart
            loop = asyncio.get_running_loop()
            self.transport.write(_head("200 OK", kind, len(payload)))
            step = max(1, len(payload) // 10 + 1)
            for i, start in enumerate(range(0, len(payload), step)):
                loop.call_later(0.03 * (i + 1), self._write_if_open, payload[start : start + step])

    def _write_if_open(self, data: bytes) -> None:
        if not self.transport.is_closing():
            self.transport.write(data)


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--fault-every", type=int, default=0)
    parser.add_argument("--chunks", type=int, default=20)
    parser.add_argument("--tool-calls", type=int, default=3)
    parser.parse_args(namespace=OPTIONS)
    server = await asyncio.get_running_loop().create_server(SoakProtocol, "127.0.0.1", 0, backlog=4096)
    print(server.sockets[0].getsockname()[1], flush=True)
    await asyncio.Event().wait()


if __name__ == "__main__":
    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        sys.exit(0)
