"""The key never shows in any link of an error's chain: ``__cause__`` and ``__context__``, ``str``
and ``repr`` of each — not only in our own message.

Found by a hostile server: aiohttp's ``ClientResponseError`` (our error's cause on a malformed
``content-length``) has a repr with the request's headers, ``authorization: Bearer <key>``
included; a parser error of aiohttp or h11 quotes the malformed line a server sent, so a server
echoing the key put it in the chain (our message was scrubbed, the cause was not); and a vendor
body with the key in a wrong-typed field left pydantic's ``ValidationError`` — which quotes the
input — as the ``__context__`` of our ``ProviderResponseError``.
"""

from __future__ import annotations

import asyncio
import copy
import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from oneringai import ProviderError
from tests.faults.providers_fixtures import (
    KINDS,
    SECRET,
    TRANSPORTS,
    VENDORS,
    FaultServer,
    call_failure,
    fault_server_fixture,  # noqa: F401 - provides the fault_server fixture
)
from tests.faults.test_providers_fuzz import FUZZ, Harness, _check_response, _check_stream, _paths, _payload


def chain(error: BaseException) -> list[BaseException]:
    """``error`` and every exception reachable from it by ``__cause__`` / ``__context__``."""
    seen: list[BaseException] = []
    pending: list[BaseException | None] = [error]
    while pending:
        link = pending.pop()
        if link is None or any(link is known for known in seen):
            continue
        seen.append(link)
        pending += [link.__cause__, link.__context__]
    return seen


def leaks(error: BaseException) -> list[str]:
    return [f"{type(link).__module__}.{type(link).__name__}" for link in chain(error)
            if SECRET in str(link) or SECRET in repr(link) or SECRET[:12] in str(link) + repr(link)]


KEY = SECRET.encode()
WIRE_FAULTS = {
    # aiohttp keeps the request (headers and all) on its ClientResponseError: its repr showed the key
    "negative content-length": b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: -1\r\n\r\n{}",
    # the parsers quote the line they refuse
    "key in a malformed header line": b"HTTP/1.1 200 OK\r\nbroken header " + KEY + b"\r\n\r\n",
    "key in a malformed chunk header": b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n"
                                       b"transfer-encoding: chunked\r\n\r\nZZ" + KEY + b"\r\n",
    "key in a malformed status line": b"HTTP/1.1 200 " + KEY + b"\x00\r\n\r\n",
}


@pytest.mark.parametrize("stream", [False, True], ids=["generate", "stream"])
@pytest.mark.parametrize("fault", list(WIRE_FAULTS))
@pytest.mark.parametrize("transport", TRANSPORTS)
@pytest.mark.parametrize("kind", KINDS)
async def test_no_link_of_a_wire_error_shows_the_key(fault_server: FaultServer, kind, transport, fault, stream):
    fault_server.run(lambda writer: _send(writer, WIRE_FAULTS[fault]))
    error = await call_failure(kind, fault_server.url, transport, stream)
    assert isinstance(error, ProviderError) and error.provider == "p"
    assert not leaks(error), leaks(error)


async def _send(writer: asyncio.StreamWriter, data: bytes) -> None:
    writer.write(data)
    await writer.drain()
    await asyncio.sleep(0.05)


def _with_key_at(doc: Any, path: tuple[Any, ...]) -> Any:
    doc = copy.deepcopy(doc)
    if not path:
        return SECRET
    parent = doc
    for part in path[:-1]:
        parent = parent[part]
    parent[path[-1]] = SECRET
    return doc


@pytest.mark.parametrize("stream", [False, True], ids=["generate", "stream"])
@pytest.mark.parametrize("kind", KINDS)
async def test_a_wrong_typed_field_echoing_the_key_leaves_no_validation_error_behind(
    fault_server: FaultServer, kind, stream
):
    vendor = VENDORS[kind]
    if stream:
        events = vendor.events()
        events[0] = _with_key_at(events[0], {"openai": ("choices", 0, "index"), "ollama": ("done",),
                                             "anthropic": ("message", "usage", "input_tokens")}[kind])
        body, content_type = vendor.stream_body(events), vendor.stream_type
    else:
        body = json.dumps(_with_key_at(vendor.body(), {"openai": ("choices", 0, "index"), "ollama": ("done",),
                                                        "anthropic": ("usage", "input_tokens")}[kind])).encode()
        content_type = "application/json"
    fault_server.answer(200, body, content_type)
    error = await call_failure(kind, fault_server.url, "aiohttp", stream)
    assert isinstance(error, ProviderError)
    assert not leaks(error), leaks(error)


# --- property: the key at any position of any body or event ----------------------------------
@pytest.fixture(scope="module")
def harness() -> Iterator[Harness]:
    h = Harness()
    yield h
    h.close()


@st.composite
def keyed(draw: st.DrawFn, base: Any) -> Any:
    """``base`` with one field at any depth replaced by the key (or a container holding it)."""
    path = draw(st.sampled_from(list(_paths(base))))
    doc = _with_key_at(base, path)
    wrap = draw(st.sampled_from(["plain", "list", "object"]))
    if path and wrap != "plain":
        parent = doc
        for part in path[:-1]:
            parent = parent[part]
        parent[path[-1]] = [SECRET] if wrap == "list" else {"message": SECRET}
    return doc


def _outcome_is_clean(result: Any) -> None:
    if isinstance(result, BaseException):
        assert not leaks(result), leaks(result)


@pytest.mark.parametrize("kind", KINDS)
@FUZZ
@given(data=st.data())
def test_the_key_anywhere_in_a_body_never_reaches_the_error_chain(harness: Harness, kind, data):
    body = data.draw(keyed(VENDORS[kind].body(tools=data.draw(st.booleans()))))
    harness.serve(json.dumps(body).encode())
    result = harness.generate(kind)
    _check_response(result, kind)
    _outcome_is_clean(result)


@pytest.mark.parametrize("kind", KINDS)
@FUZZ
@given(data=st.data())
def test_the_key_anywhere_in_a_stream_never_reaches_the_error_chain(harness: Harness, kind, data):
    vendor = VENDORS[kind]
    events = vendor.events(tools=data.draw(st.booleans()))
    index = data.draw(st.integers(0, len(events) - 1))
    if events[index] != "[DONE]":
        events[index] = data.draw(keyed(events[index]))
    harness.serve(vendor.stream_body([_payload(event) for event in events]), content_type=vendor.stream_type)
    result = harness.stream(kind)
    _check_stream(result, kind)
    _outcome_is_clean(result)


class _Records(logging.Handler):
    """Every record any logger emits while installed (formatted as a handler would)."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.texts: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.texts.append(self.format(record))


@pytest.mark.parametrize("kind", KINDS)
@FUZZ
@given(data=st.data())
def test_the_key_anywhere_in_an_error_answer_reaches_no_message_chain_or_log(harness: Harness, kind, data):
    status = data.draw(st.sampled_from([400, 401, 403, 404, 408, 413, 422, 429, 500, 503, 529]))
    body = data.draw(keyed(VENDORS[kind].error_body("something failed", "server_error")))
    extra = {"retry-after": SECRET} if data.draw(st.booleans()) else {}
    harness.serve(json.dumps(body).encode(), status=status, extra=extra)
    records = _Records()
    root = logging.getLogger()
    level = root.level
    root.addHandler(records)
    root.setLevel(logging.DEBUG)
    try:
        result = harness.generate(kind)
    finally:
        root.removeHandler(records)
        root.setLevel(level)
    assert isinstance(result, ProviderError) and result.provider == kind
    assert not leaks(result), leaks(result)
    assert SECRET not in repr(getattr(result, "body", "")) and not [text for text in records.texts if SECRET in text]
