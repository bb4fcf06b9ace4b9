"""Endless streams: each event is bounded (``max_event_bytes``), but a server that never stops
sending valid deltas — text, tool-call arguments, new tool calls — grew the assembled response
without bound (730 MB in 15 s on the CI machine). What a stream keeps is now bounded like a
body, by ``max_response_bytes``: past it, a ``ProviderResponseError`` (found by the adversarial
review, issue #10 class 4)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from oneringai import ProviderResponseError
from oneringai.infrastructure.http.config import HttpSettings
from tests.faults.providers_fixtures import (
    KINDS,
    VENDORS,
    FaultServer,
    fault_server_fixture,  # noqa: F401 - provides the fault_server fixture
    head,
    options,
)

LIMIT = 1024 * 1024


def _endless_frames(kind: str, what: str) -> tuple[bytes, Any]:
    """(what to send first, a function of i giving the i-th repeated frame)."""
    vendor = VENDORS[kind]
    events = vendor.events(tools=what != "text")
    if kind == "openai":
        base = {k: events[0][k] for k in ("id", "object", "created", "model")}

        def frame(i: int) -> bytes:
            if what == "text":
                delta: dict[str, Any] = {"content": "x" * 2000}
            elif what == "arguments":
                delta = {"tool_calls": [{"index": 0, "function": {"arguments": "x" * 2000}}]}
            else:
                delta = {"tool_calls": [{"index": i + 1, "id": f"c{i}", "function": {"name": "f" * 100, "arguments": ""}}]}
            return vendor.frame({**base, "choices": [{"index": 0, "delta": delta, "finish_reason": None}]})

        return (vendor.frame(events[0]) if what != "text" else b""), frame
    if kind == "ollama":
        def frame(i: int) -> bytes:
            message: dict[str, Any] = {"role": "assistant", "content": "x" * 2000}
            if what != "text":
                message = {"role": "assistant", "content": "",
                           "tool_calls": [{"function": {"name": "f" * 100, "arguments": {"pad": "x" * 2000}}}]}
            return vendor.frame({"model": "m", "created_at": "x", "done": False, "message": message})

        return b"", frame

    def frame(i: int) -> bytes:
        if what == "text":
            return vendor.frame({"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": "x" * 2000}})
        if what == "arguments":
            return vendor.frame({"type": "content_block_delta", "index": 0,
                                 "delta": {"type": "input_json_delta", "partial_json": "x" * 2000}})
        return vendor.frame({"type": "content_block_start", "index": i + 1,
                             "content_block": {"type": "tool_use", "id": f"t{i}", "name": "f" * 100, "input": {}}})

    return vendor.frame(events[0]) + vendor.frame(events[2]), frame


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("what", ["text", "arguments", "calls"])
async def test_an_endless_stream_is_cut_at_max_response_bytes(fault_server: FaultServer, kind: str, what: str) -> None:
    vendor = VENDORS[kind]
    first, frame = _endless_frames(kind, what)

    async def steps(writer: asyncio.StreamWriter) -> None:
        writer.write(head(200, vendor.stream_type) + first)
        i = 0
        while True:  # forever, as fast as the client reads
            writer.write(b"".join(frame(i + j) for j in range(50)))
            i += 50
            await writer.drain()

    fault_server.run(steps)
    events = 0
    async with vendor.provider(fault_server.url, http=HttpSettings(max_response_bytes=LIMIT)) as provider:
        with pytest.raises(ProviderResponseError, match="max_response_bytes"):
            async for _ in provider.stream_generate(options()):
                events += 1
                assert events < 100_000, "the stream was not cut"


@pytest.mark.parametrize("kind", KINDS)
async def test_a_long_answer_under_the_limit_is_whole(fault_server: FaultServer, kind: str) -> None:
    vendor = VENDORS[kind]
    body = vendor.stream_body(vendor.events())
    fault_server.answer(200, body, vendor.stream_type)
    async with vendor.provider(fault_server.url, http=HttpSettings(max_response_bytes=LIMIT)) as provider:
        produced = [e async for e in provider.stream_generate(options())]
    assert produced[-1].response.output_text == "Hello there."


@pytest.mark.parametrize("after", ["silence", "more lines"])
async def test_ollama_stops_reading_at_done(fault_server: FaultServer, after: str) -> None:
    """Lines after ``"done": true`` were read as part of the answer (extra tool calls), and a
    server that kept the connection open after it held the stream until the idle timeout."""
    vendor = VENDORS["ollama"]
    events = vendor.events(tools=True)

    async def steps(writer: asyncio.StreamWriter) -> None:
        writer.write(head(200, vendor.stream_type) + vendor.stream_body(events))
        await writer.drain()
        while True:
            if after == "more lines":
                writer.write(vendor.stream_body(events[:1]))
                await writer.drain()
            await asyncio.sleep(0.05)

    fault_server.run(steps)
    async with vendor.provider(fault_server.url, stream_idle_timeout=30) as provider:
        produced = await asyncio.wait_for(_collect(provider), 20)
    assert len(produced[-1].response.tool_calls) == 1


async def _collect(provider: Any) -> list[Any]:
    return [event async for event in provider.stream_generate(options())]
