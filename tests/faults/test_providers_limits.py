"""Bounded resources: stream lines/events stop at ``max_event_bytes`` with a typed error, line
assembly is linear, response bodies stop at ``max_response_bytes``, and an error body is read
to 64 KiB whatever size it announces."""

from __future__ import annotations

import asyncio
import time

import pytest

from oneringai import ProviderError, ProviderResponseError
from oneringai.infrastructure.http.config import HttpSettings
from oneringai.infrastructure.http.streams import iter_lines, iter_sse, iter_sse_data
from tests.faults.providers_fixtures import (
    KINDS,
    TRANSPORTS,
    VENDORS,
    FaultServer,
    collect,
    fault_server_fixture,  # noqa: F401 - provides the fault_server fixture
    head,
    options,
)

MIB = 1024 * 1024


async def _endless(writer, prefix: bytes, piece: bytes, limit: int) -> None:
    """``prefix``, then ``piece`` repeatedly until ``limit`` bytes or the client leaves."""
    writer.write(prefix)
    sent = 0
    while sent < limit:
        writer.write(piece)
        sent += len(piece)
        await writer.drain()


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_a_huge_stream_line_is_refused_at_the_limit(fault_server: FaultServer, kind, transport):
    vendor = VENDORS[kind]
    first = vendor.frame(vendor.events()[0])
    opening = b'{"pad": "' if kind == "ollama" else b'data: {"pad": "'

    fault_server.run(lambda w: _endless(w, head(200, vendor.stream_type) + first + opening, b"x" * 65536, 40 * MIB))
    async with vendor.provider(fault_server.url, transport=transport, max_event_bytes=1 * MIB) as provider:
        with pytest.raises(ProviderResponseError, match="max_event_bytes") as caught:
            await collect(provider)
    assert caught.value.provider == provider.name


@pytest.mark.parametrize("kind", ["openai", "anthropic"])
async def test_an_sse_event_of_endless_data_lines_is_refused(fault_server: FaultServer, kind):
    """Each line is short; the event never ends: the sum is bounded, not only each line."""
    vendor = VENDORS[kind]
    fault_server.run(lambda w: _endless(w, head(200, vendor.stream_type), b"data: " + b"y" * 1000 + b"\n", 40 * MIB))
    async with vendor.provider(fault_server.url, http=HttpSettings(max_event_bytes=MIB)) as provider:
        with pytest.raises(ProviderResponseError, match="max_event_bytes"):
            await collect(provider)


async def test_http_max_event_bytes_is_inherited_and_a_provider_may_raise_it():
    inherited = VENDORS["openai"].provider("http://127.0.0.1:9", http=HttpSettings(max_event_bytes=2 * MIB))
    own = VENDORS["openai"].provider("http://127.0.0.1:9", http=HttpSettings(max_event_bytes=2 * MIB),
                                     max_event_bytes=16 * MIB)
    assert inherited.max_event_bytes() == 2 * MIB and own.max_event_bytes() == 16 * MIB
    await inherited.aclose()
    await own.aclose()


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("status", [400, 500])
async def test_a_1_gb_error_body_is_not_read_whole(fault_server: FaultServer, kind, status):
    vendor = VENDORS[kind]
    sent = [0]

    async def steps(writer):
        writer.write(head(status, "application/json", 1024 * MIB) + b'{"error": {"message": "' )
        piece = b"z" * 65536
        while sent[0] < 1024 * MIB:
            writer.write(piece)
            sent[0] += len(piece)
            await writer.drain()

    fault_server.run(steps)
    async with vendor.provider(fault_server.url) as provider:
        for call in (provider.generate(options()), collect(provider)):
            sent[0] = 0
            with pytest.raises(ProviderError) as caught:
                await call
            assert caught.value.status_code == status and len(str(caught.value)) < 2000
            await asyncio.sleep(0.05)
            assert sent[0] < 64 * MIB, sent[0]  # the client stopped reading long before


@pytest.mark.parametrize("kind", KINDS)
async def test_a_body_over_max_response_bytes_is_refused(fault_server: FaultServer, kind):
    vendor = VENDORS[kind]
    fault_server.run(lambda w: _endless(w, head(200, "application/json", 200 * MIB) + b'{"pad": "',
                                        b"p" * 65536, 200 * MIB))
    async with vendor.provider(fault_server.url, http=HttpSettings(max_response_bytes=2 * MIB)) as provider:
        with pytest.raises(ProviderResponseError, match="max_response_bytes"):
            await provider.generate(options())


async def _feed(data: bytes, piece: int):
    for start in range(0, len(data), piece):
        yield data[start:start + piece]


async def _assemble(line: bytes, size: int) -> float:
    started = time.process_time()
    events = [e async for e in iter_sse_data(_feed(line, 16384), max_event_bytes=size + 16)]
    took = time.process_time() - started
    assert len(events) == 1 and len(events[0]) == size
    return took


def _join_once(line: bytes) -> float:
    """The floor: joining the line's network chunks once (same sizes, same allocator regime)."""
    parts = [line[start:start + 16384] for start in range(0, len(line), 16384)]
    started = time.process_time()
    b"".join(parts).split(b"\n")
    return time.process_time() - started


async def test_line_assembly_is_linear():
    """A 20 MB line costs a few times one join of its chunks (re-concatenating per chunk, as
    before, cost ~600x: 1,280 chunks copying 10 MB each on average). A ratio to a baseline
    measured in the same process with the same block sizes, never a time."""
    size = 20 * MIB
    line = b"data: " + b"a" * size + b"\n\n"
    floor = min(_join_once(line) for _ in range(3))
    assembly = min([await _assemble(line, size) for _ in range(3)])
    assert assembly / max(floor, 1e-4) < 60, (floor, assembly)


async def test_the_limit_also_holds_for_direct_parser_users():
    async def chunks():
        yield b"x" * (9 * MIB)

    with pytest.raises(ProviderResponseError):
        [line async for line in iter_lines(chunks())]
    with pytest.raises(ProviderResponseError):
        [event async for event in iter_sse(chunks(), max_event_bytes=MIB)]
