"""Helpers of the vendor wire-fidelity tests: replay a recorded-shape transcript from a real
loopback server (``FaultServer``) and read back the typed result and the request we sent."""

from __future__ import annotations

import asyncio
import itertools
import json
from typing import Any

from oneringai import ProviderError
from oneringai.domain.events import ResponseCompleteEvent
from oneringai.domain.options import TextGenerateOptions
from oneringai.domain.response import LLMResponse
from oneringai.infrastructure.providers.base import BaseTextProvider
from tests.faults.providers_fixtures import VENDORS, FaultServer, head, read_request


def sse(events: list[Any], *, named: bool = False) -> bytes:
    """``data:`` lines as the vendor frames them (Anthropic also names each event)."""
    out = []
    for event in events:
        payload = event if isinstance(event, str) else json.dumps(event, separators=(",", ":"), ensure_ascii=False)
        name = f"event: {event['type']}\n" if named and isinstance(event, dict) and "type" in event else ""
        out.append(f"{name}data: {payload}\n\n")
    return "".join(out).encode()


def ndjson(lines: list[Any]) -> bytes:
    return b"".join(json.dumps(line).encode() + b"\n" for line in lines)


def replay(server: FaultServer, body: bytes, *, status: int = 200, content_type: str = "application/json",
           headers: dict[str, str] | None = None, pieces: list[int] | None = None) -> None:
    """Answer every request with ``body``; ``pieces`` cuts it at those byte offsets, each written on
    its own (a TCP boundary inside a UTF-8 character, an escape, a ``data:`` line)."""

    async def script(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while (request := await read_request(reader)) is not None:
            server.requests.append(request)
            writer.write(head(status, content_type, len(body), headers))
            await writer.drain()
            cuts = [0, *sorted(pieces or ()), len(body)]
            for start, end in itertools.pairwise(cuts):
                writer.write(body[start:end])
                await writer.drain()
                if pieces:
                    await asyncio.sleep(0.01)

    server.script = script


def provider(kind: str, server: FaultServer, **config: Any) -> BaseTextProvider:
    return VENDORS[kind].provider(server.url, **config)


async def generate(kind: str, server: FaultServer, options: TextGenerateOptions | None = None,
                   **config: Any) -> LLMResponse:
    async with provider(kind, server, **config) as p:
        return await p.generate(options or TextGenerateOptions(model="m", input="hi"))


async def stream(kind: str, server: FaultServer, options: TextGenerateOptions | None = None,
                 **config: Any) -> tuple[list[Any], LLMResponse]:
    async with provider(kind, server, **config) as p:
        events = [e async for e in p.stream_generate(options or TextGenerateOptions(model="m", input="hi"))]
    last = events[-1]
    assert isinstance(last, ResponseCompleteEvent)
    return events, last.response


async def failure(kind: str, server: FaultServer, *, streaming: bool = False,
                  options: TextGenerateOptions | None = None, **config: Any) -> ProviderError:
    try:
        if streaming:
            await stream(kind, server, options, **config)
        else:
            await generate(kind, server, options, **config)
    except ProviderError as error:
        return error
    raise AssertionError("no ProviderError raised")


def sent(server: FaultServer) -> dict[str, Any]:
    """The JSON body of the last request the server read."""
    return json.loads(server.requests[-1].body)  # type: ignore[no-any-return]


def kinds(events: list[Any]) -> list[str]:
    return [event.type for event in events]
