"""A misbehaving HTTP server on loopback, and the three vendor shapes to misbehave with.

``FaultServer`` is a raw asyncio TCP server: each test gives it a *script* (an async
function of the connection) that can do what no well-behaved framework would — drip bytes,
reset the connection before or after the headers, cut a stream mid-event, announce a
1 GB body, send invalid UTF-8 or the wrong content type. ``Vendor`` knows each vendor's
wire format: a valid body, a valid stream, how it frames events and spells errors, and
how to build the provider under test against the server.
"""

from __future__ import annotations

import asyncio
import json
import socket
import struct
import zlib
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import pytest

from oneringai import OneRingAI, OneRingAIError, ProviderError, TextGenerateOptions
from oneringai.domain.events import ResponseCompleteEvent
from oneringai.infrastructure.http.client import build_http_client
from oneringai.infrastructure.http.config import HttpSettings
from oneringai.infrastructure.providers.anthropic import AnthropicTextProvider
from oneringai.infrastructure.providers.base import BaseTextProvider
from oneringai.infrastructure.providers.ollama import OllamaTextProvider
from oneringai.infrastructure.providers.openai import OpenAITextProvider

#: Long enough to be registered globally, shaped like no known vendor key (so only the
#: registered-value net can catch it, not the credential-shape net).
SECRET = "qz7Lm2Xv9Rt4Wb8Kp3Nc6Hd1"
TRANSPORTS = ["aiohttp", "httpx"]
KINDS = ["openai", "ollama", "anthropic"]

Script = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


# --- the server -------------------------------------------------------------------------------
@dataclass
class Request:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes


async def read_request(reader: asyncio.StreamReader) -> Request | None:
    """One HTTP/1.1 request (content-length bodies only, as our clients send); None at EOF."""
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except (asyncio.IncompleteReadError, ConnectionError):
        return None
    lines = head.decode("latin-1").split("\r\n")
    method, path, _ = lines[0].split(" ", 2)
    headers = {}
    for line in lines[1:]:
        if ":" in line:
            name, value = line.split(":", 1)
            headers[name.strip().lower()] = value.strip()
    body = await reader.readexactly(int(headers.get("content-length", "0")))
    return Request(method, path, headers, body)


def head(status: int = 200, content_type: str = "application/json", length: int | None = None,
         extra: dict[str, str] | None = None) -> bytes:
    lines = [f"HTTP/1.1 {status} X", f"content-type: {content_type}"]
    if length is not None:
        lines.append(f"content-length: {length}")
    lines += [f"{k}: {v}" for k, v in (extra or {}).items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def reset(writer: asyncio.StreamWriter) -> None:
    """Close with RST (SO_LINGER 0) instead of FIN."""
    sock = writer.get_extra_info("socket")
    if sock is not None:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    writer.transport.abort()


@dataclass
class FaultServer:
    """Runs ``script`` for every connection; records the requests it read."""

    script: Script | None = None
    requests: list[Request] = field(default_factory=list)
    connections: int = 0
    url: str = ""
    _server: asyncio.AbstractServer | None = None
    _tasks: set[asyncio.Task[None]] = field(default_factory=set)

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        port = self._server.sockets[0].getsockname()[1]
        self.url = f"http://127.0.0.1:{port}"

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._server is not None:
            await self._server.wait_closed()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        try:
            if self.script is not None:
                await self.script(reader, writer)
        except (ConnectionError, asyncio.IncompleteReadError):
            pass  # the client went away: that is often the point
        finally:
            self._tasks.discard(task)
            writer.transport.abort()

    # --- scripts ---------------------------------------------------------------------------
    def answer(self, status: int, body: bytes, content_type: str = "application/json",
               extra: dict[str, str] | None = None) -> None:
        """Answer every request on a kept-alive connection with one whole body."""

        async def script(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            while (request := await read_request(reader)) is not None:
                self.requests.append(request)
                writer.write(head(status, content_type, len(body), extra) + body)
                await writer.drain()

        self.script = script

    def run(self, steps: Callable[[asyncio.StreamWriter], Awaitable[None]]) -> None:
        """Read the request, then hand the writer to ``steps`` (one request per connection)."""

        async def script(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            request = await read_request(reader)
            if request is None:
                return
            self.requests.append(request)
            await steps(writer)

        self.script = script


async def drip(writer: asyncio.StreamWriter, data: bytes, every: float = 0.25) -> None:
    """One byte every ``every`` seconds, forever if ``data`` is long enough."""
    for index in range(len(data)):
        writer.write(data[index:index + 1])
        await writer.drain()
        await asyncio.sleep(every)


@pytest.fixture(name="fault_server")
async def fault_server_fixture() -> AsyncIterator[FaultServer]:
    """Import ``fault_server_fixture`` into a test module to use ``fault_server``."""
    server = FaultServer()
    await server.start()
    try:
        yield server
    finally:
        await server.stop()


# --- the vendors ------------------------------------------------------------------------------
TEXT = "Hello there."


@dataclass(frozen=True)
class Vendor:
    kind: str

    @property
    def stream_type(self) -> str:
        return "application/x-ndjson" if self.kind == "ollama" else "text/event-stream"

    def provider(self, url: str, *, transport: str = "aiohttp", http: HttpSettings | None = None,
                 **config: Any) -> BaseTextProvider:
        """The provider under test, on a client of its own (closed by ``aclose``/``async with``)."""
        settings = http or HttpSettings(transport=transport)
        client = build_http_client(settings)
        base: dict[str, Any] = {"max_retries": 0, "api_key": SECRET, **config}
        provider: BaseTextProvider
        if self.kind == "openai":
            provider = OpenAITextProvider({"base_url": f"{url}/v1", **base}, http_client=client)
        elif self.kind == "ollama":
            provider = OllamaTextProvider({"base_url": url, **base}, http_client=client)
        else:
            provider = AnthropicTextProvider({"base_url": url, **base}, http_client=client)
        original = getattr(provider, "aclose", None) or provider.destroy

        async def aclose() -> None:  # the client was given: close it too
            await original()
            await client.aclose()

        provider.aclose = aclose  # type: ignore[method-assign]
        return provider

    # bodies --------------------------------------------------------------------------------
    def body(self, tools: bool = False) -> dict[str, Any]:
        if self.kind == "openai":
            message: dict[str, Any] = {"role": "assistant", "content": None if tools else TEXT}
            if tools:
                message["tool_calls"] = [{"id": "call_1", "type": "function",
                                          "function": {"name": "get_weather", "arguments": '{"city": "Paris"}'}}]
            return {"id": "chatcmpl-1", "object": "chat.completion", "created": 1, "model": "m",
                    "choices": [{"index": 0, "message": message, "finish_reason": "tool_calls" if tools else "stop"}],
                    "usage": {"prompt_tokens": 3, "completion_tokens": 2, "total_tokens": 5}}
        if self.kind == "ollama":
            message = {"role": "assistant", "content": "" if tools else TEXT}
            if tools:
                message["tool_calls"] = [{"function": {"name": "get_weather", "arguments": {"city": "Paris"}}}]
            return {"model": "m", "created_at": "2026-01-01T00:00:00Z", "message": message, "done": True,
                    "done_reason": "stop", "prompt_eval_count": 3, "eval_count": 2}
        blocks: list[dict[str, Any]] = (
            [{"type": "tool_use", "id": "toolu_1", "name": "get_weather", "input": {"city": "Paris"}}]
            if tools else [{"type": "text", "text": TEXT}]
        )
        return {"id": "msg_1", "type": "message", "role": "assistant", "model": "m", "content": blocks,
                "stop_reason": "tool_use" if tools else "end_turn", "stop_sequence": None,
                "usage": {"input_tokens": 3, "output_tokens": 2}}

    def events(self, tools: bool = False) -> list[Any]:
        """A valid stream, event by event (the ``[DONE]`` sentinel as a plain string)."""
        if self.kind == "openai":
            base = {"id": "chatcmpl-2", "object": "chat.completion.chunk", "created": 1, "model": "m"}
            if tools:
                deltas: list[dict[str, Any]] = [
                    {"tool_calls": [{"index": 0, "id": "call_1", "type": "function",
                                     "function": {"name": "get_weather", "arguments": ""}}]},
                    {"tool_calls": [{"index": 0, "function": {"arguments": '{"city": "Paris"}'}}]},
                ]
            else:
                deltas = [{"role": "assistant", "content": ""}, {"content": "Hello "}, {"content": "there."}]
            chunks = [{**base, "choices": [{"index": 0, "delta": d, "finish_reason": None}]} for d in deltas]
            chunks.append({**base, "choices": [{"index": 0, "delta": {},
                                                "finish_reason": "tool_calls" if tools else "stop"}]})
            chunks.append({**base, "choices": [], "usage": {"prompt_tokens": 3, "completion_tokens": 2,
                                                            "total_tokens": 5}})
            return [*chunks, "[DONE]"]
        if self.kind == "ollama":
            if tools:
                lines: list[Any] = [{"model": "m", "created_at": "x", "done": False, "message": {
                    "role": "assistant", "content": "",
                    "tool_calls": [{"function": {"name": "get_weather", "arguments": {"city": "Paris"}}}]}}]
            else:
                lines = [{"model": "m", "created_at": "x", "done": False,
                          "message": {"role": "assistant", "content": word}} for word in ("Hello ", "there.")]
            lines.append({"model": "m", "created_at": "x", "done": True, "done_reason": "stop",
                          "message": {"role": "assistant", "content": ""}, "prompt_eval_count": 3, "eval_count": 2})
            return lines
        events: list[Any] = [
            {"type": "message_start", "message": {"id": "msg_2", "type": "message", "role": "assistant",
                                                  "model": "m", "content": [], "stop_reason": None,
                                                  "usage": {"input_tokens": 3, "output_tokens": 1}}},
            {"type": "ping"},
        ]
        if tools:
            events += [
                {"type": "content_block_start", "index": 0,
                 "content_block": {"type": "tool_use", "id": "toolu_1", "name": "get_weather", "input": {}}},
                {"type": "content_block_delta", "index": 0,
                 "delta": {"type": "input_json_delta", "partial_json": '{"city": '}},
                {"type": "content_block_delta", "index": 0,
                 "delta": {"type": "input_json_delta", "partial_json": '"Paris"}'}},
            ]
        else:
            events += [
                {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}},
                {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": "Hello "}},
                {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": "there."}},
            ]
        events += [
            {"type": "content_block_stop", "index": 0},
            {"type": "message_delta", "delta": {"stop_reason": "tool_use" if tools else "end_turn",
                                                "stop_sequence": None}, "usage": {"output_tokens": 2}},
            {"type": "message_stop"},
        ]
        return events

    def frame(self, event: Any) -> bytes:
        """One event on the wire (``bytes`` pass through as the raw payload)."""
        payload = event if isinstance(event, bytes) else (
            event.encode() if isinstance(event, str) else json.dumps(event).encode())
        if self.kind == "ollama":
            return payload + b"\n"
        name = b""
        if self.kind == "anthropic" and isinstance(event, dict) and isinstance(event.get("type"), str):
            name = b"event: " + event["type"].encode() + b"\n"
        return name + b"data: " + payload + b"\n\n"

    def stream_body(self, events: list[Any]) -> bytes:
        return b"".join(self.frame(event) for event in events)

    def error_body(self, message: str, code: str = "invalid_request_error") -> dict[str, Any]:
        if self.kind == "anthropic":
            return {"type": "error", "error": {"type": code, "message": message}}
        if self.kind == "ollama":
            return {"error": message}
        return {"error": {"message": message, "type": code, "param": None, "code": code}}

    def stream_error_event(self, message: str, code: str = "server_error") -> dict[str, Any]:
        """How each vendor reports a failure in the middle of a stream."""
        if self.kind == "anthropic":
            return {"type": "error", "error": {"type": code, "message": message}}
        if self.kind == "ollama":
            return {"error": message}
        return {"error": {"message": message, "type": code, "code": code}}


VENDORS = {kind: Vendor(kind) for kind in KINDS}


def options(model: str = "m") -> TextGenerateOptions:
    return TextGenerateOptions(model=model, input="hi")


async def collect(provider: BaseTextProvider, model: str = "m") -> list[Any]:
    return [event async for event in provider.stream_generate(options(model))]


async def outcome(call: Awaitable[Any]) -> Any:
    """The result, or the ``ProviderError`` raised; anything else fails the test."""
    try:
        return await call
    except ProviderError as error:
        return error


async def stream_outcome(provider: BaseTextProvider) -> list[Any] | ProviderError:
    try:
        events = await collect(provider)
    except ProviderError as error:
        return error
    assert isinstance(events[-1], ResponseCompleteEvent)
    return events


def shows_secret(*texts: object) -> bool:
    return any(SECRET in str(text) or SECRET[:12] in str(text) for text in texts)


def configured_client(kind: str, url: str, transport: str) -> OneRingAI:
    """A client whose default provider ``p`` of ``kind`` talks to ``url`` with the key ``SECRET``."""
    provider = {"kind": kind, "api_key": SECRET, "max_retries": 0, "timeout": 10,
                "base_url": f"{url}/v1" if kind == "openai" else url}
    return OneRingAI.from_config(None, env={}, overrides={
        "http": {"transport": transport}, "text": {"default": "p", "providers": {"p": provider}}})


async def call_failure(kind: str, url: str, transport: str, stream: bool,
                       expected: type[OneRingAIError] = OneRingAIError) -> Any:
    """The ``expected`` error a generate (or a whole stream) through ``configured_client`` raised."""
    async with configured_client(kind, url, transport) as client:
        with pytest.raises(expected) as raised:
            if stream:
                async for _event in client.text.stream("hi", provider="p", model="m"):
                    pass
            else:
                await client.text.generate_raw("hi", provider="p", model="m")
    return raised.value


def replying(data: bytes) -> Callable[[asyncio.StreamWriter], Awaitable[None]]:
    """A ``FaultServer.run`` script: write ``data`` as it is, then hold the connection briefly."""
    async def steps(writer: asyncio.StreamWriter) -> None:
        writer.write(data)
        await writer.drain()
        await asyncio.sleep(0.05)

    return steps


MIB = 1024 * 1024


def gzip_of_zeros(size: int) -> bytes:
    """A gzip stream of ``size`` zero bytes (a decompression bomb), built without holding them."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, zlib.MAX_WBITS | 16)
    block = b"\0" * MIB
    parts = [compressor.compress(block) for _ in range(size // MIB)]
    parts.append(compressor.flush())
    return b"".join(parts)
