"""OpenAI Images answers of the right shape whose entries are no image: a ``b64_json`` that is
not base64 (the caller's own decode would raise ``binascii.Error``), a ``javascript:`` or empty
URL, an entry with neither, a ``created`` of 400 digits. Each is a ``ProviderResponseError``
naming the entry (found by the adversarial review, issue #10 class 2)."""

from __future__ import annotations

import base64
import json

import pytest

from oneringai import ImageGenerateOptions, ProviderResponseError
from oneringai.infrastructure.http.client import build_http_client
from oneringai.infrastructure.providers.openai_images import OpenAIImageProvider
from tests.faults.providers_fixtures import (
    FaultServer,
    fault_server_fixture,  # noqa: F401 - provides the fault_server fixture
)

PNG = base64.b64encode(b"\x89PNG\r\n\x1a\n" + bytes(32)).decode()
NO_IMAGE = {
    "b64 not base64": ({"created": 1, "data": [{"b64_json": "!!!notbase64"}]}, r"data\.0: b64_json"),
    "b64 bad padding": ({"created": 1, "data": [{"b64_json": "abc"}]}, r"data\.0: b64_json"),
    "javascript url": ({"created": 1, "data": [{"url": "https://x/1.png"}, {"url": "javascript:alert(1)"}]}, r"data\.1: url"),
    "empty url": ({"created": 1, "data": [{"url": ""}]}, r"data\.0: neither"),
    "empty entry": ({"created": 1, "data": [{}]}, r"data\.0: neither"),
    "created 400 digits": ('{"created": 1' + "0" * 400 + ', "data": [{"url": "https://x/1.png"}]}', "created"),
    "created negative": ({"created": -5, "data": [{"url": "https://x/1.png"}]}, "created"),
    # third review: a URL no HTTP client can request, CR/LF in it a header injection where it is fetched
    "url with CR/LF": ({"created": 1, "data": [{"url": "https://x/1.png\r\nX-Evil: 1"}]}, r"data\.0: url"),
    "url with a space": ({"created": 1, "data": [{"url": "https://x/a b.png"}]}, r"data\.0: url"),
    "url with NUL": ({"created": 1, "data": [{"url": "https://x/1.png\x00"}]}, r"data\.0: url"),
}


async def _generate(server: FaultServer, body: object) -> object:
    server.answer(200, body.encode() if isinstance(body, str) else json.dumps(body).encode())
    client = build_http_client()
    provider = OpenAIImageProvider({"base_url": f"{server.url}/v1", "api_key": "sk-images-123456", "max_retries": 0},
                                   http_client=client)
    try:
        return await provider.generate_image(ImageGenerateOptions(prompt="a cat"))
    finally:
        await client.aclose()


@pytest.mark.parametrize("case", list(NO_IMAGE))
async def test_an_entry_that_is_no_image_is_a_provider_error(fault_server: FaultServer, case: str) -> None:
    body, where = NO_IMAGE[case]
    with pytest.raises(ProviderResponseError, match=where):
        await _generate(fault_server, body)


@pytest.mark.parametrize(
    "entry", [{"url": "https://cdn.example/1.png"}, {"b64_json": PNG}, {"url": "data:image/png;base64," + PNG}]
)
async def test_real_images_pass(fault_server: FaultServer, entry: dict[str, str]) -> None:
    result = await _generate(fault_server, {"created": 1_700_000_000, "data": [entry]})
    image = result.data[0]  # type: ignore[attr-defined]
    assert image.url or base64.b64decode(image.b64_json, validate=True)
