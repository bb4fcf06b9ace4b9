"""A stream cut after some text keeps that text on the error it raises.

A connection closed or reset after a few deltas, a chunked body cut short, an error event in
the middle, an idle timeout: each was a typed ``ProviderError`` already, but the text received
was gone for a caller that did not gather the events itself (``async for`` inside a helper, an
agent run). Now the error carries ``partial_output_text`` and ``partial_usage``."""

from __future__ import annotations

import asyncio
import pickle
from typing import Any

import pytest

from oneringai import (
    OneRingAI,
    ProviderError,
    ProviderTimeoutError,
    ProviderUnavailableError,
)
from oneringai.domain.events import OutputTextDeltaEvent
from oneringai.domain.response import Usage
from tests.faults.providers_fixtures import (
    KINDS,
    SECRET,
    TRANSPORTS,
    VENDORS,
    FaultServer,
    configured_client,
    fault_server_fixture,  # noqa: F401 - provides the fault_server fixture
    head,
    reset,
)


def _partial_events(kind: str) -> list[Any]:
    """The vendor's valid stream up to and including the last text delta (no end, no usage
    sent at the end: Anthropic's ``message_start`` usage only)."""
    events = VENDORS[kind].events()
    last = max(i for i, event in enumerate(events) if "there." in str(event))
    return events[: last + 1]


async def _cut(writer: asyncio.StreamWriter, kind: str, how: str) -> None:
    vendor = VENDORS[kind]
    body = vendor.stream_body(_partial_events(kind))
    if how == "chunked":  # a chunk announced longer than what is sent, then FIN
        writer.write(head(200, vendor.stream_type, extra={"transfer-encoding": "chunked"}))
        writer.write(f"{len(body) + 100:x}\r\n".encode() + body)
    else:  # close-delimited body
        writer.write(head(200, vendor.stream_type))
        writer.write(body)
    if how == "error_event":
        writer.write(vendor.frame(vendor.stream_error_event("upstream failed")))
    await writer.drain()
    await asyncio.sleep(0.05)
    if how == "reset":
        reset(writer)
    elif how == "hang":
        await asyncio.sleep(30)
    else:
        writer.close()


async def _stream_error(client: OneRingAI) -> tuple[ProviderError, str]:
    seen = []
    with pytest.raises(ProviderError) as raised:
        async for event in client.text.stream("hi", provider="p", model="m"):
            if isinstance(event, OutputTextDeltaEvent):
                seen.append(event.delta)
    return raised.value, "".join(seen)


@pytest.mark.parametrize("how", ["close", "reset", "chunked", "error_event"])
@pytest.mark.parametrize("transport", TRANSPORTS)
@pytest.mark.parametrize("kind", KINDS)
async def test_a_cut_stream_keeps_the_text_received(fault_server: FaultServer, kind, transport, how):
    fault_server.run(lambda writer: _cut(writer, kind, how))
    async with configured_client(kind, fault_server.url, transport) as client:
        error, seen = await _stream_error(client)
    assert seen == "Hello there."
    assert error.partial_output_text == "Hello there.", repr(error)
    if how != "error_event":
        assert isinstance(error, ProviderUnavailableError), repr(error)
    if kind == "anthropic":  # message_start reported the input tokens
        assert error.partial_usage == Usage(input_tokens=3, output_tokens=1, total_tokens=4)
    else:
        assert error.partial_usage is None
    assert "Hello there." not in str(error) and SECRET not in repr(error)  # not part of the message


@pytest.mark.parametrize("kind", KINDS)
async def test_an_idle_timeout_keeps_the_text_received(fault_server: FaultServer, kind):
    fault_server.run(lambda writer: _cut(writer, kind, "hang"))
    provider = {"kind": kind, "api_key": SECRET, "max_retries": 0, "timeout": 10, "stream_idle_timeout": 0.5,
                "base_url": f"{fault_server.url}/v1" if kind == "openai" else fault_server.url}
    overrides = {"text": {"default": "p", "providers": {"p": provider}}}
    async with OneRingAI.from_config(None, env={}, overrides=overrides) as client:
        error, seen = await _stream_error(client)
    assert isinstance(error, ProviderTimeoutError), repr(error)
    assert error.partial_output_text == seen == "Hello there."


def test_the_partial_answer_survives_pickling_and_defaults_to_nothing():
    error = ProviderUnavailableError("cut", provider="p", model="m")
    assert error.partial_output_text == "" and error.partial_usage is None
    error.partial_output_text, error.partial_usage = "Hello", Usage(input_tokens=3)
    copy = pickle.loads(pickle.dumps(error))
    assert type(copy) is ProviderUnavailableError and str(copy) == str(error)
    assert copy.partial_output_text == "Hello" and copy.partial_usage == Usage(input_tokens=3)
    plain = pickle.loads(pickle.dumps(ProviderUnavailableError("cut")))
    assert plain.partial_output_text == "" and plain.partial_usage is None


@pytest.mark.parametrize("kind", KINDS)
async def test_an_agent_stream_cut_after_text_keeps_it(fault_server: FaultServer, kind):
    fault_server.run(lambda writer: _cut(writer, kind, "close"))
    async with configured_client(kind, fault_server.url, "aiohttp") as client:
        agent = client.agents.create(provider="p", model="m")
        with pytest.raises(ProviderUnavailableError) as raised:
            async for _event in agent.stream("hi"):
                pass
        assert raised.value.partial_output_text == "Hello there."


async def test_an_agent_timing_out_mid_stream_keeps_the_text_received(fault_server: FaultServer):
    fault_server.run(lambda writer: _cut(writer, "openai", "hang"))
    async with configured_client("openai", fault_server.url, "aiohttp") as client:
        agent = client.agents.create(provider="p", model="m", timeout=0.5)
        with pytest.raises(ProviderTimeoutError, match="agent timed out") as raised:
            async for _event in agent.stream("hi"):
                pass
    assert raised.value.partial_output_text == "Hello there."
