"""Every framing the SSE spec allows reads as the same events: lines ending in ``\\r\\n``, ``\\n``
or a lone ``\\r`` (mixed, and split anywhere across network chunks), and a UTF-8 byte-order
mark opening the stream; the same for NDJSON lines. A JSON body opened by a BOM is read too
(RFC 8259 lets a parser ignore it).

Found by a hostile server: with ``\\r`` line ends a whole stream was one line (OpenAI and
Ollama: "malformed JSON", Anthropic: "stream ended before message_stop"); a BOM hid the first
``data:`` field — the first event was silently dropped — and made Ollama's first line invalid.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from oneringai import OneRingAI
from oneringai.domain.events import ResponseCompleteEvent
from oneringai.infrastructure.http.streams import iter_lines, iter_sse, iter_sse_data
from tests.faults.providers_fixtures import (
    KINDS,
    SECRET,
    TEXT,
    TRANSPORTS,
    VENDORS,
    FaultServer,
    fault_server_fixture,  # noqa: F401 - provides the fault_server fixture
)
from tests.faults.test_providers_fuzz import FUZZ

BOM = b"\xef\xbb\xbf"
ENDS = [b"\n", b"\r\n", b"\r"]


async def _chunks(data: bytes, cuts: list[int]) -> Any:
    start = 0
    for cut in sorted(set(cuts)):
        if start < cut < len(data):
            yield data[start:cut]
            start = cut
    yield data[start:]


def _sse(events: list[tuple[str | None, list[str]]], ends: list[bytes], comment: bool) -> bytes:
    lines: list[bytes] = []
    for name, data in events:
        lines += [b": keep-alive"] if comment else []
        lines += [b"event: " + name.encode()] if name is not None else []
        lines += [b"data: " + line.encode() for line in data]
        lines.append(b"")
    return _joined(lines, ends)


def _joined(lines: list[bytes], ends: list[bytes]) -> bytes:
    """``lines`` each ended by the next of ``ends``; a CR followed by an empty line ended by LF
    would read as one CRLF, so that empty line ends with a CR too."""
    out: list[bytes] = []
    for index, line in enumerate(lines):
        end = ends[index % len(ends)]
        if not line and end == b"\n" and out and out[-1].endswith(b"\r"):
            end = b"\r"
        out.append(line + end)
    return b"".join(out)


LINE = st.text(st.characters(blacklist_characters="\r\n", blacklist_categories=("Cs",)), max_size=20)
EVENTS = st.lists(st.tuples(st.none() | st.sampled_from(["message", "delta"]), st.lists(LINE, min_size=1, max_size=3)),
                  min_size=1, max_size=5)


@FUZZ
@given(events=EVENTS, ends=st.lists(st.sampled_from(ENDS), min_size=1, max_size=4), bom=st.booleans(),
       comment=st.booleans(), cuts=st.lists(st.integers(0, 400), max_size=12))
async def test_any_sse_framing_reads_as_the_same_events(events, ends, bom, comment, cuts):
    data = (BOM if bom else b"") + _sse(events, ends, comment)
    expected = ["\n".join(lines) for _name, lines in events]
    got = [event async for event in iter_sse(_chunks(data, cuts))]
    assert [event.data for event in got] == expected
    assert [event.event for event in got] == [name for name, _lines in events]
    fast = [data.decode() async for data in iter_sse_data(_chunks(data, cuts))]
    assert fast == expected


@FUZZ
@given(lines=st.lists(st.text(st.characters(blacklist_characters="\r\n", blacklist_categories=("Cs",)),
                              min_size=1, max_size=20), min_size=1, max_size=6),
       ends=st.lists(st.sampled_from(ENDS), min_size=1, max_size=4), bom=st.booleans(),
       cuts=st.lists(st.integers(0, 200), max_size=10))
async def test_any_ndjson_framing_reads_as_the_same_lines(lines, ends, bom, cuts):
    data = (BOM if bom else b"") + _joined([line.encode() for line in lines], ends)
    got = [line.decode() async for line in iter_lines(_chunks(data, cuts))]
    assert got == lines


def _client(kind: str, url: str, transport: str) -> OneRingAI:
    provider = {"kind": kind, "api_key": SECRET, "max_retries": 0, "timeout": 10,
                "base_url": f"{url}/v1" if kind == "openai" else url}
    return OneRingAI.from_config(None, env={}, overrides={
        "http": {"transport": transport}, "text": {"default": "p", "providers": {"p": provider}}})


def _stream_with_text_first(kind: str) -> list[Any]:
    """The vendor's text stream with its first event carrying text (a dropped first event shows)."""
    events = VENDORS[kind].events()
    return events[1:] if kind == "openai" else events  # OpenAI's opener only names the role


@pytest.mark.parametrize("framing", ["cr", "bom", "bom+crlf"])
@pytest.mark.parametrize("transport", TRANSPORTS)
@pytest.mark.parametrize("kind", KINDS)
async def test_a_vendor_stream_in_any_framing_is_read_whole(fault_server: FaultServer, kind, transport, framing):
    vendor = VENDORS[kind]
    body = vendor.stream_body(_stream_with_text_first(kind))
    if "cr" in framing:
        body = body.replace(b"\n", b"\r\n" if framing == "bom+crlf" else b"\r")
    if framing.startswith("bom"):
        body = BOM + body
    fault_server.answer(200, body, vendor.stream_type)
    async with _client(kind, fault_server.url, transport) as client:
        events = [event async for event in client.text.stream("hi", provider="p", model="m")]
    assert isinstance(events[-1], ResponseCompleteEvent)
    assert events[-1].response.output_text == TEXT
    if kind == "anthropic":  # its first event names the message
        assert events[-1].response.id == "msg_2"


@pytest.mark.parametrize("kind", KINDS)
async def test_a_json_body_opened_by_a_bom_is_read(fault_server: FaultServer, kind):
    fault_server.answer(200, BOM + json.dumps(VENDORS[kind].body()).encode())
    async with _client(kind, fault_server.url, "aiohttp") as client:
        response = await client.text.generate_raw("hi", provider="p", model="m")
    assert response.output_text == TEXT
