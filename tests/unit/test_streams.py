import pytest

from oneringai.infrastructure.http.streams import iter_lines, iter_sse, iter_sse_data


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
