"""A vendor error body sent with status 200 (a proxy or gateway that reports failures in the body)
is the typed error its own type/code names, for ``generate`` as it already was for streams and
for Ollama — and the key it may echo is scrubbed.

Found by a hostile server: OpenAI and Anthropic ``generate`` said "response has no choices" /
"response has no content" (a generic ``ProviderResponseError``), losing the vendor's message
and the class a caller branches on (rate limit, auth, context length)."""

from __future__ import annotations

import json

import pytest

from oneringai import (
    OneRingAI,
    ProviderAuthError,
    ProviderContextLengthError,
    ProviderError,
    ProviderRateLimitError,
    ProviderUnavailableError,
)
from tests.faults.providers_fixtures import (
    KINDS,
    SECRET,
    VENDORS,
    FaultServer,
    fault_server_fixture,  # noqa: F401 - provides the fault_server fixture
)

CODES = {
    "rate_limit_exceeded": ("Rate limit reached", ProviderRateLimitError),
    "invalid_api_key": (f"Incorrect API key provided: {SECRET}", ProviderAuthError),
    "context_length_exceeded": ("This model's maximum context length is 8192 tokens", ProviderContextLengthError),
    "overloaded_error": ("Overloaded", ProviderUnavailableError),
}


@pytest.mark.parametrize("code", list(CODES))
@pytest.mark.parametrize("kind", KINDS)
async def test_an_error_body_with_status_200_is_its_typed_error(fault_server: FaultServer, kind, code):
    message, expected = CODES[code]
    fault_server.answer(200, json.dumps(VENDORS[kind].error_body(message, code)).encode())
    provider = {"kind": kind, "api_key": SECRET, "max_retries": 0, "timeout": 10,
                "base_url": f"{fault_server.url}/v1" if kind == "openai" else fault_server.url}
    async with OneRingAI.from_config(None, env={}, overrides={"text": {"default": "p", "providers": {"p": provider}}}) as client:
        with pytest.raises(ProviderError) as raised:
            await client.text.generate_raw("hi", provider="p", model="m")
    assert type(raised.value) is expected, repr(raised.value)
    assert raised.value.provider == "p" and message.split(":")[0] in str(raised.value)
    assert SECRET not in str(raised.value) and SECRET not in repr(raised.value)


@pytest.mark.parametrize("content_type", ["application/problem+json", "text/json", "application/json; charset=utf-8"])
@pytest.mark.parametrize("kind", ["openai", "anthropic"])
async def test_a_json_error_answering_a_stream_is_its_typed_error(fault_server: FaultServer, kind, content_type):
    """``application/problem+json`` (RFC 9457) was taken for a stream: no ``data:`` line, so the
    vendor's error became "stream ended before completion"."""
    body = VENDORS[kind].error_body("Rate limit reached", "rate_limit_exceeded")
    fault_server.answer(200, json.dumps(body).encode(), content_type)
    provider = {"kind": kind, "api_key": SECRET, "max_retries": 0, "timeout": 10,
                "base_url": f"{fault_server.url}/v1" if kind == "openai" else fault_server.url}
    async with OneRingAI.from_config(None, env={}, overrides={"text": {"default": "p", "providers": {"p": provider}}}) as client:
        with pytest.raises(ProviderError) as raised:
            async for _event in client.text.stream("hi", provider="p", model="m"):
                pass
    assert type(raised.value) is ProviderRateLimitError, repr(raised.value)


@pytest.mark.parametrize("kind", ["openai", "anthropic"])
async def test_a_json_error_body_labelled_as_a_stream_is_its_typed_error(fault_server: FaultServer, kind):
    """A JSON error body under ``text/event-stream`` has no ``data:`` line (no SSE line starts with
    "{"): it was ignored, and the vendor's error became "stream ended before completion"."""
    body = VENDORS[kind].error_body(f"Incorrect API key provided: {SECRET}", "invalid_api_key")
    fault_server.answer(200, json.dumps(body).encode() + b"\n", "text/event-stream")
    provider = {"kind": kind, "api_key": SECRET, "max_retries": 0, "timeout": 10,
                "base_url": f"{fault_server.url}/v1" if kind == "openai" else fault_server.url}
    async with OneRingAI.from_config(None, env={}, overrides={"text": {"default": "p", "providers": {"p": provider}}}) as client:
        with pytest.raises(ProviderError) as raised:
            async for _event in client.text.stream("hi", provider="p", model="m"):
                pass
    assert type(raised.value) is ProviderAuthError, repr(raised.value)
    assert SECRET not in str(raised.value)


@pytest.mark.parametrize("status", [200, 400, 429])
@pytest.mark.parametrize("indent", [2, "\t"])
@pytest.mark.parametrize("kind", ["openai", "anthropic"])
async def test_a_pretty_printed_json_error_labelled_as_a_stream_is_its_typed_error(
    fault_server: FaultServer, kind, indent, status
):
    """Some OpenAI-compatible servers answer an error as pretty-printed JSON (one key per line)
    under ``text/event-stream``: no line is a ``data:`` field and the first is a lone ``{``, so
    the one-line rule above missed it — the vendor's error became "stream ended before
    completion". Now the body is read as the error it is, its message kept, the key scrubbed."""
    body = VENDORS[kind].error_body(f"Rate limit reached for key {SECRET}", "rate_limit_exceeded")
    fault_server.answer(status, json.dumps(body, indent=indent).encode() + b"\n", "text/event-stream")
    provider = {"kind": kind, "api_key": SECRET, "max_retries": 0, "timeout": 10,
                "base_url": f"{fault_server.url}/v1" if kind == "openai" else fault_server.url}
    async with OneRingAI.from_config(None, env={}, overrides={"text": {"default": "p", "providers": {"p": provider}}}) as client:
        with pytest.raises(ProviderError) as raised:
            async for _event in client.text.stream("hi", provider="p", model="m"):
                pass
    assert type(raised.value) is ProviderRateLimitError, repr(raised.value)
    assert "Rate limit reached" in str(raised.value)
    assert SECRET not in str(raised.value) and SECRET not in repr(raised.value)
