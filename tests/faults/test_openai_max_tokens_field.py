"""OpenAI's output-token field behind other base URLs, and Mistral's ``model_length`` (2026-11-30).

* Only ``api.openai.com`` got ``max_completion_tokens``; every other base URL got ``max_tokens``,
  which OpenAI's reasoning models refuse ("Unsupported parameter: 'max_tokens' is not supported
  with this model. Use 'max_completion_tokens' instead.") — also behind Azure OpenAI or a proxy, with
  no setting to choose. ``text.providers.<name>.max_tokens_field`` (``auto``, the old choice;
  ``max_tokens``; ``max_completion_tokens``) now chooses.
* Mistral ends an answer cut at the context length with ``finish_reason: "model_length"``: it was a
  ``stop_reason`` of ``model_length`` with ``status: completed``; now ``max_tokens`` / ``incomplete``
  like ``length``, ``generate`` and stream alike.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from oneringai import OneRingAI
from oneringai.config import load_settings
from oneringai.domain.errors import ConfigError
from oneringai.domain.options import TextGenerateOptions
from oneringai.infrastructure.providers.openai import OpenAITextProvider
from tests.faults.providers_fixtures import SECRET, FaultServer, fault_server_fixture  # noqa: F401
from tests.faults.test_wire_fidelity_openai import USAGE_CHUNK, chunk, completion
from tests.faults.wire_fidelity_support import generate, replay, sent, sse, stream

CAPPED = TextGenerateOptions(model="o3-mini", input="hi", max_output_tokens=100)


def _field_sent(body: dict[str, Any]) -> dict[str, Any]:
    return {key: body[key] for key in ("max_tokens", "max_completion_tokens") if key in body}


@pytest.mark.parametrize(("setting", "expected"), [
    (None, {"max_tokens": 100}), ("auto", {"max_tokens": 100}), ("max_tokens", {"max_tokens": 100}),
    ("max_completion_tokens", {"max_completion_tokens": 100}),
])
@pytest.mark.parametrize("streaming", [False, True], ids=["generate", "stream"])
async def test_the_field_behind_another_base_url_is_the_one_configured(fault_server: FaultServer, setting: str | None,
                                                                       expected: dict[str, int], streaming: bool):
    config = {} if setting is None else {"max_tokens_field": setting}
    if streaming:
        replay(fault_server, sse([chunk({"content": "ok"}), chunk({}, "stop"), USAGE_CHUNK, "[DONE]"]),
               content_type="text/event-stream")
        await stream("openai", fault_server, CAPPED, **config)
    else:
        replay(fault_server, json.dumps(completion({"content": "ok"}, "stop")).encode())
        await generate("openai", fault_server, CAPPED, **config)
    assert _field_sent(sent(fault_server)) == expected


@pytest.mark.parametrize("transport", ["aiohttp", "httpx"])
async def test_the_setting_from_yaml_reaches_the_wire(fault_server: FaultServer, transport: str):
    """An Azure-like deployment of a reasoning model: ``text.providers.azure.max_tokens_field``."""
    replay(fault_server, json.dumps(completion({"content": "ok"}, "stop")).encode())
    provider = {"kind": "openai", "api_key": SECRET, "max_retries": 0, "base_url": f"{fault_server.url}/v1",
                "max_tokens_field": "max_completion_tokens"}
    overrides = {"http": {"transport": transport}, "text": {"default": "azure", "providers": {"azure": provider}}}
    async with OneRingAI.from_config(None, env={}, overrides=overrides) as client:
        await client.text.generate("hi", model="o3-mini", max_output_tokens=100)
        agent = client.agents.create(model="o3-mini", max_output_tokens=50)
        await agent.run("hi")
    assert [_field_sent(json.loads(r.body)) for r in fault_server.requests] == [
        {"max_completion_tokens": 100}, {"max_completion_tokens": 50}]


@pytest.mark.parametrize(("setting", "expected"), [
    ("auto", "max_completion_tokens"), ("max_completion_tokens", "max_completion_tokens"),
    ("max_tokens", "max_tokens"),
])
def test_api_openai_com_keeps_its_automatic_choice_unless_told(setting: str, expected: str):
    provider = OpenAITextProvider({"api_key": "sk-test-key-123456", "max_tokens_field": setting})
    assert _field_sent(provider._body(CAPPED, stream=False)) == {expected: 100}


@pytest.mark.parametrize("value", ["max_output_tokens", "", True, 1, None])
def test_an_unknown_field_name_is_a_config_error_naming_the_path(value: Any):
    provider = {"kind": "openai", "base_url": "http://127.0.0.1:9/v1", "max_tokens_field": value}
    with pytest.raises(ConfigError, match=r"text\.providers\.p\.max_tokens_field"):
        load_settings(overrides={"text": {"default": "p", "providers": {"p": provider}}}, env={}, dotenv=None)


@pytest.mark.parametrize(("finish", "stop", "status"), [
    ("model_length", "max_tokens", "incomplete"), ("length", "max_tokens", "incomplete"),
    ("stop", "complete", "completed"),
])
async def test_mistral_model_length_is_max_tokens_and_incomplete(fault_server: FaultServer, finish: str, stop: str,
                                                                  status: str):
    replay(fault_server, json.dumps(completion({"content": "Hi th"}, finish)).encode())
    whole = await generate("openai", fault_server)
    replay(fault_server, sse([chunk({"content": "Hi th"}), chunk({}, finish), USAGE_CHUNK, "[DONE]"]),
           content_type="text/event-stream")
    _, streamed = await stream("openai", fault_server)
    for response in (whole, streamed):
        assert (response.stop_reason, response.raw_stop_reason, response.status) == (stop, finish, status)


def test_a_plain_openai_config_given_as_is_keeps_the_automatic_choice():
    """An ``OpenAIProviderConfig`` (the images' model, no such field) passed to the text provider."""
    from oneringai.infrastructure.providers.config import OpenAIProviderConfig

    provider = OpenAITextProvider(OpenAIProviderConfig(api_key="sk-test-key-123456"))
    assert _field_sent(provider._body(CAPPED, stream=False)) == {"max_completion_tokens": 100}
    provider = OpenAITextProvider(OpenAIProviderConfig(api_key="k" * 12, base_url="http://127.0.0.1:9/v1"))
    assert _field_sent(provider._body(CAPPED, stream=True)) == {"max_tokens": 100}
