"""Property: whatever a server answers, a provider returns a valid response or raises a typed
``ProviderError`` — never AttributeError, KeyError, TypeError, ValueError, a pydantic
ValidationError, RecursionError or UnicodeDecodeError.

For every real response shape of every provider (the JSON body, each SSE/NDJSON event of a
text and a tool-call stream, error bodies, model lists, images), hypothesis replaces any
field at any depth with any JSON value (or deletes it), for generate and for stream, through
a real loopback HTTP server. ``ONERINGAI_FUZZ_EXAMPLES`` raises the example count (default 80
per property; CI keeps the suite in seconds).
"""

from __future__ import annotations

import asyncio
import copy
import json
import os
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from oneringai import ImageGenerateOptions, ImageResponse, LLMResponse, ProviderError
from oneringai.domain.events import ResponseCompleteEvent, stream_event_adapter
from oneringai.infrastructure.http.client import build_http_client
from oneringai.infrastructure.providers.openai_images import OpenAIImageProvider
from tests.faults.providers_fixtures import KINDS, SECRET, VENDORS, head, options, read_request

EXAMPLES = int(os.environ.get("ONERINGAI_FUZZ_EXAMPLES", "80"))
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=12)
    | st.sampled_from(["abc", "", "x" * 300, "[DONE]", "tool_use", "text", "text_delta", "input_json_delta",
                       "message_start", "content_block_start", "message_delta", "error", "stop"]),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=8,
)


def _paths(node: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    yield path
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _paths(value, (*path, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _paths(value, (*path, index))


def _apply(doc: Any, path: tuple[Any, ...], value: Any, delete: bool) -> Any:
    if not path:
        return value
    parent = doc
    for part in path[:-1]:
        parent = parent[part]
    if delete:
        del parent[path[-1]]
    else:
        parent[path[-1]] = value
    return doc


@st.composite
def mutated(draw: st.DrawFn, base: Any) -> Any:
    """``base`` with one to three fields, at any depth, replaced by any JSON value or deleted."""
    doc = copy.deepcopy(base)
    for _ in range(draw(st.integers(1, 3))):
        path = draw(st.sampled_from(list(_paths(doc))))
        delete = bool(path) and draw(st.integers(0, 4)) == 0
        doc = _apply(doc, path, None if delete else draw(JSON), delete)
    return doc


@st.composite
def mutated_stream(draw: st.DrawFn, events: list[Any]) -> list[Any]:
    events = copy.deepcopy(events)
    for _ in range(draw(st.integers(1, 2))):
        index = draw(st.integers(0, len(events) - 1))
        events[index] = draw(JSON) if events[index] == "[DONE]" else draw(mutated(events[index]))
    if draw(st.integers(0, 5)) == 0:  # sometimes lose or repeat an event too
        index = draw(st.integers(0, len(events) - 1))
        if draw(st.booleans()):
            del events[index]
        else:
            events.insert(index, copy.deepcopy(events[index]))
    return events


class FuzzServer:
    """Keep-alive loopback server answering every request with ``self.reply``."""

    def __init__(self) -> None:
        self.reply: tuple[int, bytes, str, dict[str, str]] = (200, b"{}", "application/json", {})
        self.url = ""

    async def start(self) -> None:
        self.server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        self.url = f"http://127.0.0.1:{self.server.sockets[0].getsockname()[1]}"

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while await read_request(reader) is not None:
                status, body, content_type, extra = self.reply
                writer.write(head(status, content_type, len(body), extra) + body)
                await writer.drain()
        except ConnectionError:
            pass
        finally:
            writer.close()


class Harness:
    """One event loop, server and set of providers for the whole module (fast examples)."""

    def __init__(self) -> None:
        self.runner = asyncio.Runner()
        self.server = FuzzServer()
        self.runner.run(self._open())

    async def _open(self) -> None:
        await self.server.start()
        self.providers = {kind: VENDORS[kind].provider(self.server.url, timeout=10) for kind in KINDS}
        self.images_http = build_http_client()
        self.images = OpenAIImageProvider({"base_url": f"{self.server.url}/v1", "api_key": f"sk-{SECRET}",
                                           "max_retries": 0}, http_client=self.images_http)

    async def _close(self) -> None:
        for provider in self.providers.values():
            await provider.aclose()
        await self.images_http.aclose()
        self.server.server.close()

    def close(self) -> None:
        self.runner.run(self._close())
        self.runner.close()

    def serve(self, body: bytes, status: int = 200, content_type: str = "application/json",
              extra: dict[str, str] | None = None) -> None:
        self.server.reply = (status, body, content_type, extra or {})

    def generate(self, kind: str) -> LLMResponse | ProviderError:
        async def call() -> LLMResponse | ProviderError:
            try:
                return await self.providers[kind].generate(options())
            except ProviderError as error:
                return error

        return self.runner.run(call())

    def stream(self, kind: str) -> list[Any] | ProviderError:
        async def call() -> list[Any] | ProviderError:
            try:
                return [event async for event in self.providers[kind].stream_generate(options())]
            except ProviderError as error:
                return error

        return self.runner.run(call())

    def run(self, coro: Any) -> Any:
        return self.runner.run(coro)


@pytest.fixture(scope="module")
def harness() -> Iterator[Harness]:
    h = Harness()
    yield h
    h.close()


def _check_response(result: Any, kind: str) -> None:
    if isinstance(result, ProviderError):
        assert result.provider == kind
        return
    assert isinstance(result, LLMResponse)
    LLMResponse.model_validate(result.model_dump())  # a valid value, not merely an instance


def _check_stream(result: Any, kind: str) -> None:
    if isinstance(result, ProviderError):
        assert result.provider == kind
        return
    assert result and isinstance(result[-1], ResponseCompleteEvent)
    adapter = stream_event_adapter()
    for event in result:
        adapter.validate_python(event.model_dump())


def _payload(event: Any) -> bytes:
    return b"[DONE]" if event == "[DONE]" else json.dumps(event).encode()


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("tools", [False, True])
def test_any_body_is_a_response_or_a_typed_error(harness: Harness, kind: str, tools: bool):
    vendor = VENDORS[kind]

    @FUZZ
    @given(body=mutated(vendor.body(tools)))
    def check(body: Any) -> None:
        harness.serve(json.dumps(body).encode())
        _check_response(harness.generate(kind), kind)

    check()


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("tools", [False, True])
def test_any_stream_is_events_or_a_typed_error(harness: Harness, kind: str, tools: bool):
    vendor = VENDORS[kind]

    @FUZZ
    @given(events=mutated_stream(vendor.events(tools)))
    def check(events: list[Any]) -> None:
        harness.serve(vendor.stream_body([_payload(e) for e in events]), content_type=vendor.stream_type)
        _check_stream(harness.stream(kind), kind)

    check()


@pytest.mark.parametrize("kind", KINDS)
def test_any_cut_of_a_valid_answer_is_a_typed_error_or_complete(harness: Harness, kind: str):
    vendor = VENDORS[kind]
    body = json.dumps(vendor.body()).encode()
    stream = vendor.stream_body(vendor.events(tools=True))

    @FUZZ
    @given(cut=st.integers(0, len(body)), stream_cut=st.integers(0, len(stream)), junk=st.binary(max_size=8))
    def check(cut: int, stream_cut: int, junk: bytes) -> None:
        harness.serve(body[:cut] + junk)
        _check_response(harness.generate(kind), kind)
        harness.serve(stream[:stream_cut] + junk, content_type=vendor.stream_type)
        _check_stream(harness.stream(kind), kind)

    check()


@pytest.mark.parametrize("kind", KINDS)
def test_any_error_answer_is_a_typed_error(harness: Harness, kind: str):
    vendor = VENDORS[kind]
    statuses = st.sampled_from([400, 401, 403, 404, 408, 409, 413, 422, 429, 500, 502, 503, 529])

    @FUZZ
    @given(status=statuses, body=mutated(vendor.error_body(f"bad key {SECRET}")),
           retry_after=st.none() | st.text(max_size=30) | st.integers(-5, 10**12).map(str))
    def check(status: int, body: Any, retry_after: str | None) -> None:
        extra = {"retry-after": retry_after} if retry_after and retry_after.isprintable() else {}
        harness.serve(json.dumps(body).encode(), status=status, extra=extra)
        result = harness.generate(kind)
        assert isinstance(result, ProviderError) and result.status_code == status
        assert SECRET not in str(result)

    check()


@pytest.mark.parametrize("kind", ["openai", "ollama"])
def test_any_model_list_is_names_or_a_typed_error(harness: Harness, kind: str):
    base = ({"object": "list", "data": [{"id": "gpt-4o-mini", "object": "model"}]} if kind == "openai"
            else {"models": [{"name": "llama3.2:latest", "model": "llama3.2:latest"}]})

    @FUZZ
    @given(body=mutated(base))
    def check(body: Any) -> None:
        harness.serve(json.dumps(body).encode())

        async def call() -> Any:
            try:
                return await harness.providers[kind].list_models()
            except ProviderError as error:
                return error

        result = harness.run(call())
        assert isinstance(result, ProviderError) or all(isinstance(name, str) for name in result)

    check()


def test_any_images_body_is_images_or_a_typed_error(harness: Harness):
    base = {"created": 1, "data": [{"url": "https://example.invalid/a.png", "revised_prompt": "a cat"},
                                   {"b64_json": "aGVsbG8="}]}

    @FUZZ
    @given(body=mutated(base))
    def check(body: Any) -> None:
        harness.serve(json.dumps(body).encode())

        async def call() -> Any:
            try:
                return await harness.images.generate_image(ImageGenerateOptions(prompt="a cat"))
            except ProviderError as error:
                return error

        result = harness.run(call())
        assert isinstance(result, ProviderError | ImageResponse)

    check()
