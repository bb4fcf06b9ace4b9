"""Deadlines are deadlines: a request's timeout bounds the whole attempt, streams have an idle
and an optional total timeout, ``http.timeout`` reaches every provider that sets none, and a
reset is "unavailable", not a timeout. All three vendor shapes, both transports where the
transport decides the exception.

Bounds are generous (a loaded 2-core machine): "finished within 5x the deadline", never an
exact time.
"""

from __future__ import annotations

import asyncio
import json
import time

import pytest

from oneringai import ProviderTimeoutError, ProviderUnavailableError
from oneringai.infrastructure.http.config import HttpSettings
from tests.faults.providers_fixtures import (
    KINDS,
    TRANSPORTS,
    VENDORS,
    FaultServer,
    collect,
    drip,
    fault_server_fixture,  # noqa: F401 - provides the fault_server fixture
    head,
    options,
    reset,
)

DEADLINE = 0.5
ENDLESS = b" " * 400  # 100 s of drip at one byte per 0.25 s


async def _timed(call) -> tuple[BaseException | None, float]:
    started = time.monotonic()
    try:
        await call
    except Exception as error:
        return error, time.monotonic() - started
    return None, time.monotonic() - started


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("transport", TRANSPORTS)
@pytest.mark.parametrize("phase", ["headers", "body"])
async def test_a_dripping_server_cannot_stretch_a_request(fault_server: FaultServer, kind, transport, phase):
    vendor = VENDORS[kind]

    async def steps(writer):
        if phase == "headers":
            await drip(writer, b"HTTP/1.1 200 OK\r\nx-pad: " + ENDLESS, every=0.1)
        else:
            writer.write(head(200, "application/json", 10_000) + b'{"id": "')
            await drip(writer, ENDLESS, every=0.1)

    fault_server.run(steps)
    async with vendor.provider(fault_server.url, transport=transport, timeout=DEADLINE) as provider:
        error, took = await _timed(provider.generate(options()))
    assert isinstance(error, ProviderTimeoutError), error
    assert took < 5 * DEADLINE, took
    assert "within" in str(error)


@pytest.mark.parametrize("kind", KINDS)
async def test_http_timeout_reaches_a_provider_that_sets_none(fault_server: FaultServer, kind):
    """The provider's own default no longer silently wins over ``http.timeout``."""
    vendor = VENDORS[kind]
    fault_server.run(lambda writer: drip(writer, b"HTTP/1.1 200 OK\r\nx-pad: " + ENDLESS, every=0.1))
    provider = vendor.provider(fault_server.url, http=HttpSettings(timeout=DEADLINE))
    assert provider.config.timeout is None and provider.attempt_timeout() == DEADLINE
    async with provider:
        error, took = await _timed(provider.generate(options()))
    assert isinstance(error, ProviderTimeoutError) and took < 5 * DEADLINE, (error, took)


async def test_a_provider_timeout_wins_over_http_timeout():
    provider = VENDORS["openai"].provider("http://127.0.0.1:9", http=HttpSettings(timeout=50), timeout=3)
    assert provider.attempt_timeout() == 3 and provider.request_timeout().read == 3
    assert provider.stream_timeouts() == (3, None)
    await provider.aclose()
    inherited = VENDORS["openai"].provider("http://127.0.0.1:9", http=HttpSettings(timeout=7, connect_timeout=2))
    assert inherited.request_timeout().read == 7 and inherited.request_timeout().connect == 2
    await inherited.aclose()


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_a_stream_that_drips_without_completing_an_event_times_out(fault_server: FaultServer, kind,
                                                                         transport):
    vendor = VENDORS[kind]
    first = vendor.frame(vendor.events()[0])

    async def steps(writer):
        writer.write(head(200, vendor.stream_type) + first)
        await writer.drain()
        await drip(writer, b": " + ENDLESS if kind != "ollama" else b'{"pad": "' + ENDLESS, every=0.1)

    fault_server.run(steps)
    async with vendor.provider(fault_server.url, transport=transport, timeout=DEADLINE) as provider:
        error, took = await _timed(collect(provider))
    assert isinstance(error, ProviderTimeoutError), error
    assert took < 5 * DEADLINE and "stream event" in str(error), (took, error)


@pytest.mark.parametrize("kind", KINDS)
async def test_stream_idle_timeout_is_its_own_setting(fault_server: FaultServer, kind):
    """A long request timeout, a short idle timeout: a server that goes silent mid-stream."""
    vendor = VENDORS[kind]
    events = vendor.events()

    async def steps(writer):
        writer.write(head(200, vendor.stream_type) + vendor.frame(events[0]) + vendor.frame(events[1]))
        await writer.drain()
        await asyncio.sleep(30)

    fault_server.run(steps)
    async with vendor.provider(fault_server.url, timeout=30, stream_idle_timeout=DEADLINE) as provider:
        error, took = await _timed(collect(provider))
    assert isinstance(error, ProviderTimeoutError) and took < 5 * DEADLINE, (error, took)


@pytest.mark.parametrize("kind", KINDS)
async def test_stream_total_timeout_bounds_a_stream_of_slow_complete_events(fault_server: FaultServer, kind):
    vendor = VENDORS[kind]
    events = vendor.events()
    slow = events[1]

    async def steps(writer):
        writer.write(head(200, vendor.stream_type) + vendor.frame(events[0]))
        for _ in range(200):  # a complete event every 0.1 s: the idle timeout never fires
            writer.write(vendor.frame(slow))
            await writer.drain()
            await asyncio.sleep(0.1)

    fault_server.run(steps)
    async with vendor.provider(fault_server.url, timeout=5, stream_total_timeout=DEADLINE) as provider:
        error, took = await _timed(collect(provider))
    assert isinstance(error, ProviderTimeoutError) and "stream_total_timeout" in str(error), error
    assert took < 5 * DEADLINE, took


@pytest.mark.parametrize("kind", KINDS)
async def test_a_slow_consumer_is_not_an_idle_server(fault_server: FaultServer, kind):
    """The idle timeout measures waits for the server, not the time the caller holds an event."""
    vendor = VENDORS[kind]
    fault_server.answer(200, vendor.stream_body(vendor.events()), vendor.stream_type)
    async with vendor.provider(fault_server.url, stream_idle_timeout=0.1) as provider:
        count = 0
        async for _event in provider.stream_generate(options()):
            count += 1
            await asyncio.sleep(0.15)
    assert count >= 4


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_a_reset_before_any_response_byte_is_unavailable(fault_server: FaultServer, kind, transport, caplog):
    vendor = VENDORS[kind]

    async def steps(writer):
        reset(writer)

    fault_server.run(steps)
    async with vendor.provider(fault_server.url, transport=transport, max_retries=1, retry_max_wait=0.01) as provider:
        for call in (provider.generate(options()), collect(provider)):
            with pytest.raises(ProviderUnavailableError) as caught:
                await call
            assert "timed out" not in str(caught.value)
    assert not any("timed out" in r.getMessage() for r in caplog.records)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_a_reset_after_the_headers_is_unavailable(fault_server: FaultServer, kind, transport):
    vendor = VENDORS[kind]

    async def body_reset(writer):
        writer.write(head(200, "application/json", 5000) + b'{"id": "x", ')
        await writer.drain()
        await asyncio.sleep(0.05)
        reset(writer)

    async def stream_reset(writer):
        writer.write(head(200, vendor.stream_type) + vendor.frame(vendor.events()[0]))
        await writer.drain()
        await asyncio.sleep(0.05)
        reset(writer)

    async with vendor.provider(fault_server.url, transport=transport) as provider:
        fault_server.run(body_reset)
        with pytest.raises(ProviderUnavailableError):
            await provider.generate(options())
        fault_server.run(stream_reset)
        with pytest.raises(ProviderUnavailableError):
            await collect(provider)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_a_stream_cut_mid_event_is_a_typed_error(fault_server: FaultServer, kind, transport):
    vendor = VENDORS[kind]
    events = vendor.events()
    whole = vendor.frame(events[0]) + vendor.frame(events[1])
    half = vendor.frame(events[2])[: len(vendor.frame(events[2])) // 2]

    async def steps(writer):
        writer.write(head(200, vendor.stream_type) + whole + half)
        await writer.drain()
        writer.close()

    fault_server.run(steps)
    async with vendor.provider(fault_server.url, transport=transport) as provider:
        with pytest.raises((ProviderUnavailableError, *_response_error())) as caught:
            await collect(provider)
    assert caught.value.provider == provider.name


@pytest.mark.parametrize("kind", KINDS)
async def test_a_stream_that_ends_cleanly_but_early_is_unavailable(fault_server: FaultServer, kind):
    vendor = VENDORS[kind]
    fault_server.answer(200, vendor.stream_body(vendor.events()[:2]), vendor.stream_type)
    async with vendor.provider(fault_server.url) as provider:
        with pytest.raises(ProviderUnavailableError, match="stream ended"):
            await collect(provider)


async def test_deadline_applies_to_each_retry_attempt(fault_server: FaultServer):
    """Two attempts, each cut at the deadline, then the typed error: not one long hang."""
    vendor = VENDORS["openai"]
    fault_server.run(lambda writer: drip(writer, b"HTTP/1.1 200 OK\r\nx-pad: " + ENDLESS, every=0.1))
    async with vendor.provider(fault_server.url, timeout=0.5, max_retries=1, retry_max_wait=0.01) as provider:
        error, took = await _timed(provider.generate(options()))
    assert isinstance(error, ProviderTimeoutError) and fault_server.connections == 2
    assert took < 5 * 2 * 0.5


def _response_error() -> tuple[type[BaseException], ...]:
    from oneringai import ProviderResponseError

    return (ProviderResponseError,)


async def test_error_body_with_echo_of_json_never_breaks_the_timeout_path(fault_server: FaultServer):
    """A 500 whose body drips: the error path is bounded by the same deadline."""
    vendor = VENDORS["anthropic"]

    async def steps(writer):
        writer.write(head(500, "application/json", 100_000) + json.dumps({"error": {"type": "x"}}).encode()[:5])
        await drip(writer, ENDLESS, every=0.1)

    fault_server.run(steps)
    async with vendor.provider(fault_server.url, timeout=DEADLINE) as provider:
        error, took = await _timed(provider.generate(options()))
    assert isinstance(error, ProviderTimeoutError) and took < 5 * DEADLINE, (error, took)
