import itertools
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from oneringai import ProviderResponseError
from oneringai.infrastructure.http.streams import (
    iter_line_batches,
    iter_lines,
    iter_sse,
    iter_sse_data,
    iter_sse_data_batches,
)


async def chunks(*parts: bytes):
    for part in parts:
        yield part


async def collect(gen):
    return [item async for item in gen]


async def test_sse_fields_comments_crlf_and_split_chunks():
    raw = (b": keep-alive\r\nevent: message_start\r\ndata: {\"a\":\r\ndata: 1}\r\n\r\n"
           b"data: second\n\nretry: 100\nid: 7\ndata: third\n\n")
    for cut in (1, 7, 13, len(raw)):
        events = await collect(iter_sse(chunks(raw[:cut], raw[cut:])))
        assert [(e.event, e.data) for e in events] == [
            ("message_start", '{"a":\n1}'), (None, "second"), (None, "third"),
        ]


@pytest.mark.parametrize("split", [1, 3, 10])
async def test_sse_data_fast_path_matches(split):
    raw = b"data: one\n\ndata:two\r\n\r\n: ping\n\ndata: [DONE]\n\n"
    parts = [raw[i:i + split] for i in range(0, len(raw), split)]
    assert await collect(iter_sse_data(chunks(*parts))) == [b"one", b"two", b"[DONE]"]


async def test_unterminated_tail_is_still_delivered():
    assert [e.data for e in await collect(iter_sse(chunks(b"data: a\n\ndata: b")))] == ["a", "b"]
    assert await collect(iter_lines(chunks(b'{"x":1}\n\n{"y"', b':2}\r\n{"z":3}'))) == [b'{"x":1}', b'{"y":2}', b'{"z":3}']


# --- any chunking gives the same lines and events; limits hold -------------------------------
LINE_BYTES = st.binary(max_size=40).map(lambda b: b.replace(b"\n", b"").replace(b"\r", b""))


def _split(data: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({0, len(data), *(c % (len(data) + 1) for c in cuts)})
    return [data[a:b] for a, b in itertools.pairwise(points)]


@settings(max_examples=150, deadline=None)
@given(lines=st.lists(LINE_BYTES, max_size=12), crlf=st.booleans(), cuts=st.lists(st.integers(0, 10**6), max_size=8))
async def test_lines_do_not_depend_on_chunking(lines, crlf, cuts):
    data = b"".join(line + (b"\r\n" if crlf else b"\n") for line in lines)
    # a UTF-8 BOM opening the stream is dropped (once), as the SSE spec and RFC 8259 allow
    opened = [lines[0].removeprefix(b"\xef\xbb\xbf"), *lines[1:]] if lines else []
    expected = [line for line in opened if line]
    assert await collect(iter_lines(chunks(*_split(data, cuts)))) == expected
    batches = await collect(iter_line_batches(chunks(*_split(data, cuts))))
    assert [line for batch in batches for line in batch] == expected


@settings(max_examples=150, deadline=None)
@given(events=st.lists(st.lists(LINE_BYTES, min_size=1, max_size=3), max_size=8),
       cuts=st.lists(st.integers(0, 10**6), max_size=8))
async def test_sse_events_do_not_depend_on_chunking(events, cuts):
    data = b"".join(b"".join(b"data: " + line + b"\n" for line in event) + b"\n" for event in events)
    expected = [b"\n".join(event) for event in events]
    batches = await collect(iter_sse_data_batches(chunks(*_split(data, cuts))))
    assert [event for batch in batches for event in batch] == expected
    assert [e.data for e in await collect(iter_sse(chunks(*_split(data, cuts))))] == [
        x.decode("utf-8", "replace") for x in expected
    ]


@pytest.mark.parametrize("pieces", [1, 7, 1000])
async def test_a_line_over_the_limit_is_refused_however_it_arrives(pieces):
    line = b"x" * 5000 + b"\n"
    parts = [line[i:i + pieces] for i in range(0, len(line), pieces)]
    with pytest.raises(ProviderResponseError, match="max_event_bytes"):
        await collect(iter_lines(chunks(*parts), max_line_bytes=4096, provider="p"))
    assert await collect(iter_lines(chunks(*parts), max_line_bytes=5000)) == [b"x" * 5000]


async def test_an_event_of_many_short_data_lines_is_bounded_by_its_sum():
    raw = b"".join(b"data: " + b"y" * 100 + b"\n" for _ in range(100)) + b"\n"
    with pytest.raises(ProviderResponseError):
        await collect(iter_sse_data(chunks(raw), max_event_bytes=4096))
    with pytest.raises(ProviderResponseError):
        await collect(iter_sse(chunks(raw), max_event_bytes=4096))
    assert len((await collect(iter_sse_data(chunks(raw), max_event_bytes=20_000)))[0]) == 100 * 101 - 1


# --- a pretty-printed JSON error under text/event-stream -------------------------------------
PRETTY_ERROR = json.dumps({"error": {"message": "Rate limit reached", "type": "rate_limit", "code": 429}}, indent=2)


@settings(max_examples=80, deadline=None)
@given(indent=st.sampled_from([1, 2, 4, "\t"]), crlf=st.booleans(), tail=st.booleans(),
       cuts=st.lists(st.integers(0, 10**6), max_size=8))
async def test_a_pretty_printed_json_error_is_one_data_item(indent, crlf, tail, cuts):
    """It opened with a lone "{" (no ``data:`` line, no ``"error"`` on the first line) and was
    ignored: the vendor's error became "stream ended before completion"."""
    text = json.dumps(json.loads(PRETTY_ERROR), indent=indent)
    raw = text.encode().replace(b"\n", b"\r\n" if crlf else b"\n") + (b"\n" if tail else b"")
    batches = await collect(iter_sse_data_batches(chunks(*_split(raw, cuts))))
    items = [item for batch in batches for item in batch]
    assert len(items) == 1 and json.loads(items[0]) == json.loads(PRETTY_ERROR)


async def test_a_json_line_opening_a_real_stream_does_not_swallow_it():
    raw = b'{\n  "note": "not an error"\n}\ndata: one\n\n{\ndata: two\n\ndata: [DONE]\n\n'
    assert await collect(iter_sse_data(chunks(raw))) == [b"one", b"two", b"[DONE]"]


async def test_many_closing_lines_are_tried_a_bounded_number_of_times(monkeypatch):
    from oneringai.infrastructure.http import streams

    tried = []
    real = streams._is_json_object
    monkeypatch.setattr(streams, "_is_json_object", lambda text: tried.append(len(text)) or real(text))
    raw = b'{\n  "error": "x",\n' + b"}}\n" * 5000 + b"data: one\n\n"
    assert await collect(iter_sse_data(chunks(raw), max_event_bytes=1 << 20)) == [b"one"]
    assert len(tried) <= 4
