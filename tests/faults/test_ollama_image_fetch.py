"""Ollama takes images only as base64, so the provider fetches an input image's URL itself: a
hostile image host gets a typed error naming the provider and the image, never a non-image
sent on, and never the provider's key.

Found by a hostile image host: a redirect's (or a 204's) body was base64-encoded and sent to
Ollama as the image; a malformed HTTP answer was "unexpected ClientResponseError: 400" on the
aiohttp transport (this fetch goes through the httpx client over aiohttp, not the wire).
"""

from __future__ import annotations

import json

import pytest

from oneringai import Message, OneRingAI, ProviderError, ProviderResponseError, ProviderUnavailableError
from tests.faults.providers_fixtures import SECRET, TRANSPORTS, VENDORS, FaultServer, head, replying

ANSWERS = {
    "redirect": (head(302, "text/html", 4, {"location": "http://elsewhere/"}) + b"<a/>", ProviderResponseError),
    "no content": (b"HTTP/1.1 204 No Content\r\n\r\n", ProviderResponseError),
    "empty body": (head(200, "image/png", 0), ProviderResponseError),
    "malformed status line": (b"HTTP/1.1 2x0 OK\r\n\r\n", ProviderUnavailableError),
}


@pytest.fixture
async def servers():
    ollama, images = FaultServer(), FaultServer()
    await ollama.start()
    await images.start()
    ollama.answer(200, json.dumps(VENDORS["ollama"].body()).encode())
    try:
        yield ollama, images
    finally:
        await ollama.stop()
        await images.stop()


async def _generate(ollama: FaultServer, images: FaultServer, transport: str) -> object:
    message = Message.model_validate({"role": "user", "content": [
        {"type": "input_text", "text": "look"},
        {"type": "input_image_url", "image_url": {"url": f"{images.url}/cat.png"}}]})
    provider = {"kind": "ollama", "base_url": ollama.url, "api_key": SECRET, "max_retries": 0, "timeout": 10}
    async with OneRingAI.from_config(None, env={}, overrides={
            "http": {"transport": transport}, "text": {"default": "p", "providers": {"p": provider}}}) as client:
        try:
            return await client.text.generate_raw([message], provider="p", model="m")
        except ProviderError as error:
            return error


@pytest.mark.parametrize("answer", list(ANSWERS))
@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_a_hostile_image_host_is_a_typed_error(servers, transport, answer):
    ollama, images = servers
    data, expected = ANSWERS[answer]
    images.run(replying(data))
    result = await _generate(ollama, images, transport)
    assert type(result) is expected, repr(result)
    assert result.provider == "p" and "cat.png" in str(result) and "ClientResponseError" not in str(result)
    assert not ollama.requests, "nothing may reach Ollama in place of the image"


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_a_real_image_is_sent_as_base64_without_the_key_going_to_its_host(servers, transport):
    ollama, images = servers
    images.run(replying(head(200, "image/png", 4) + b"\x89PNG"))
    result = await _generate(ollama, images, transport)
    assert not isinstance(result, ProviderError), result
    assert json.loads(ollama.requests[-1].body)["messages"][0]["images"] == ["iVBORw=="]
    assert all(SECRET not in str(request.headers) for request in images.requests)


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_an_oversized_image_names_the_image_limit_not_a_setting(servers, transport):
    ollama, images = servers
    size = 20 * 1024 * 1024 + 1
    images.run(replying(head(200, "image/png", size) + b"\0" * size))
    result = await _generate(ollama, images, transport)
    assert type(result) is ProviderResponseError, repr(result)
    assert "input image larger than" in str(result) and "20 MiB" in str(result)
    assert "max_response_bytes" not in str(result), "that setting does not bound this fetch"
    assert not ollama.requests
