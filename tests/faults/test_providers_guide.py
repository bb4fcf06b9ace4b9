"""Guide fidelity (``EXTENSIBILITY.md``): the guide's synchronous ``destroy()``, its
``ProviderErrorMapper.map_error(body, name)`` without a status, and its key validator
returning ``{isValid, warning}`` — each works as a reader of the guide expects."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from oneringai import (
    LLMResponse,
    ModelCapabilities,
    ModelNotFoundError,
    OneRingAI,
    ProviderAuthError,
    ProviderContextLengthError,
    ProviderErrorMapper,
    ProviderRateLimitError,
    ProviderResponseError,
    ProviderTimeoutError,
    ProviderUnavailableError,
    StreamEvent,
    TextGenerateOptions,
)
from oneringai.application.provider_registry import ProviderRegistry
from oneringai.domain.errors import ConfigError
from oneringai.domain.events import ResponseCompleteEvent
from oneringai.infrastructure.providers.anthropic import AnthropicTextProvider
from oneringai.infrastructure.providers.base import BaseTextProvider
from oneringai.infrastructure.providers.openai import OpenAITextProvider
from tests.faults.providers_fixtures import (
    VENDORS,
    FaultServer,
    fault_server_fixture,  # noqa: F401 - provides the fault_server fixture
    options,
)


class GuideProvider(BaseTextProvider):
    """Written the way the guide writes it: sync destroy, dict validator, fetch via self.http."""

    name = "myai"

    def __init__(self, config: Any, validation: Any = None) -> None:
        super().__init__(config)
        self.validation = validation
        self.destroy_calls = 0
        self._is_destroyed = False

    @property
    def is_destroyed(self) -> bool:
        return self._is_destroyed

    def destroy(self) -> None:  # type: ignore[override]  # the guide's synchronous form
        if self._is_destroyed:
            return
        self._is_destroyed = True
        self.destroy_calls += 1

    def validate_provider_specific_key_format(self, api_key: str) -> Any:
        return self.validation if self.validation is not None else {"isValid": True}

    async def generate(self, options: TextGenerateOptions) -> LLMResponse:
        try:
            response = await self.http.post(f"{self.config.base_url}/chat", json={"model": options.model})
            if response.status_code >= 400:
                raise ProviderErrorMapper.map_error(response.json(), self.name)
            return LLMResponse(model=options.model)
        except Exception as error:
            raise ProviderErrorMapper.map_error(error, self.name) from error

    async def stream_generate(self, options: TextGenerateOptions) -> AsyncIterator[StreamEvent]:
        yield ResponseCompleteEvent(response=await self.generate(options))

    def get_model_capabilities(self, model: str) -> ModelCapabilities:
        return ModelCapabilities()


KEY = "myai_0123456789abcdef"


# --- 5a: disposal ------------------------------------------------------------------------------
async def test_the_guides_sync_destroy_works_under_async_with(fault_server: FaultServer):
    fault_server.answer(200, b"{}")
    async with GuideProvider({"api_key": KEY, "base_url": fault_server.url}) as provider:
        await provider.generate(options())
        client = provider.http
    assert provider.destroy_calls == 1 and provider.is_destroyed
    assert client.is_closed  # the client the provider created is closed too


async def test_registry_and_facade_dispose_a_sync_destroy_provider(fault_server: FaultServer):
    fault_server.answer(200, b"{}")
    registry: ProviderRegistry[Any] = ProviderRegistry(
        kind="text", configs={"g": {"api_key": KEY, "base_url": fault_server.url}},
        builder=lambda name, config: GuideProvider(config),
    )
    provider = await registry.get("g")
    await provider.generate(options())
    await registry.aclose()
    assert provider.destroy_calls == 1
    assert provider._http_client is not None and provider._http_client.is_closed
    mine = GuideProvider({"api_key": KEY, "base_url": fault_server.url})
    async with OneRingAI(providers={"myai": mine}) as client:  # an instance stays the caller's
        await client.text.generate("hi", provider="myai", model="m")
    assert mine.destroy_calls == 0
    await mine.aclose()
    assert mine.destroy_calls == 1


async def test_async_destroy_overrides_still_run_once():
    class AsyncDestroy(GuideProvider):
        async def destroy(self) -> None:  # type: ignore[override]
            self.destroy_calls += 1
            await super(GuideProvider, self).destroy()

    async with AsyncDestroy({"api_key": KEY}) as provider:
        pass
    assert provider.destroy_calls == 1


# --- 5b: map_error without a status --------------------------------------------------------------
@pytest.mark.parametrize(("body", "error"), [
    ({"error": {"message": "Invalid API key", "type": "invalid_request_error", "code": "invalid_api_key"}},
     ProviderAuthError),
    ({"type": "error", "error": {"type": "authentication_error", "message": "invalid x-api-key"}},
     ProviderAuthError),
    ({"error": {"message": "Incorrect API key provided"}}, ProviderAuthError),
    ({"error": "Invalid API key"}, ProviderAuthError),
    ({"error": {"message": "Rate limit reached", "code": "rate_limit_exceeded"}}, ProviderRateLimitError),
    ({"type": "error", "error": {"type": "rate_limit_error", "message": "slow down"}}, ProviderRateLimitError),
    ({"error": {"message": "You exceeded your current quota", "code": "insufficient_quota"}},
     ProviderRateLimitError),
    ({"error": {"message": "maximum context length is 8192 tokens", "code": "context_length_exceeded"}},
     ProviderContextLengthError),
    ({"error": "model 'x' not found, try pulling it first"}, ModelNotFoundError),
    ({"error": {"message": "The model `x` does not exist", "code": "model_not_found"}}, ModelNotFoundError),
    ({"type": "error", "error": {"type": "not_found_error", "message": "model: claude-x"}}, ModelNotFoundError),
    ({"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}, ProviderUnavailableError),
    ({"error": {"message": "The server had an error", "type": "server_error"}}, ProviderUnavailableError),
    ({"error": {"message": "temperature must be <= 2", "type": "invalid_request_error"}}, ProviderResponseError),
    ({"detail": "something odd"}, ProviderResponseError),
    ({}, ProviderResponseError),
])
def test_map_error_of_a_body_without_status_infers_the_class(body, error):
    mapped = ProviderErrorMapper.map_error(body, "myai")
    assert type(mapped) is error, mapped
    assert mapped.status_code is None and "status=" not in str(mapped)
    assert "request rejected" not in str(mapped) and "provider=myai" in str(mapped)


def test_map_error_keeps_a_status_the_body_carries():
    mapped = ProviderErrorMapper.map_error({"status": 429, "error": {"message": "limit"}}, "p")
    assert isinstance(mapped, ProviderRateLimitError) and mapped.status_code == 429
    assert ProviderErrorMapper.map_error({"status_code": "503", "error": "x"}, "p").status_code == 503


@pytest.mark.parametrize("exception", [
    httpx.ReadTimeout("read timed out"), httpx.ConnectTimeout("t"), httpx.ConnectError("refused"),
    httpx.RemoteProtocolError("peer closed"), TimeoutError(), ConnectionRefusedError("refused"),
    OSError("boom"), ValueError("bad json"), RuntimeError("odd"),
])
def test_messages_read_well_without_a_url(exception):
    text = str(ProviderErrorMapper.map_error(exception, "myai"))
    for broken in ("to timed out", "on:", "to:", "to  ", " on ", "to [", "from :", "to ("):
        assert broken not in text, text
    assert text.split(" [")[0].strip(), text


def test_messages_name_the_url_without_userinfo_or_query():
    text = str(ProviderErrorMapper.map_error(
        httpx.ConnectError("refused"), "myai", url="http://bob:pw99secret@h:1/v1/chat?key=AIzaSECRET"))
    assert "http://h:1/v1/chat" in text and "pw99secret" not in text and "AIzaSECRET" not in text


def test_a_timeout_is_a_timeout_and_a_reset_is_not():
    request = httpx.Request("GET", "http://h/")
    reset = httpx.ConnectTimeout("[Errno 104] Connection reset by peer", request=request)
    reset.__cause__ = ConnectionResetError(104, "Connection reset by peer")
    assert isinstance(ProviderErrorMapper.map_error(reset, "p"), ProviderUnavailableError)
    slow = httpx.ConnectTimeout("timeout", request=request)
    slow.__cause__ = TimeoutError()
    assert isinstance(ProviderErrorMapper.map_error(slow, "p"), ProviderTimeoutError)


# --- 5c: key validation runs on its own -------------------------------------------------------
@pytest.mark.parametrize("verdict", [
    {"isValid": False, "warning": "MyAI keys should start with myai_"},
    {"is_valid": False, "warning": "MyAI keys should start with myai_"},
    {"isValid": False},
    False,
])
async def test_an_invalid_key_is_refused_before_any_network_io(fault_server: FaultServer, verdict):
    fault_server.answer(200, b"{}")
    async with GuideProvider({"api_key": "wrong-format-key", "base_url": fault_server.url}, verdict) as provider:
        with pytest.raises(ProviderAuthError, match="provider=myai"):
            await provider.generate(options())
        with pytest.raises(ProviderAuthError):
            async for _ in provider.stream_generate(options()):
                pass
        assert await provider.validate_config() is False
    assert fault_server.connections == 0


async def test_a_warning_is_logged_once_and_the_call_goes_ahead(fault_server: FaultServer, caplog):
    fault_server.answer(200, b"{}")
    caplog.set_level(logging.WARNING)
    async with GuideProvider({"api_key": KEY, "base_url": fault_server.url},
                             {"isValid": True, "warning": "this key expires soon"}) as provider:
        for _ in range(3):
            await provider.generate(options())
    assert sum("expires soon" in r.getMessage() for r in caplog.records) == 1
    assert len(fault_server.requests) == 3


async def test_a_validator_returning_nonsense_is_a_config_error():
    provider = GuideProvider({"api_key": KEY}, 42)
    with pytest.raises(ConfigError, match="validate_provider_specific_key_format"):
        await provider.generate(options())
    await provider.aclose()


def _recording_client() -> tuple[httpx.AsyncClient, list[httpx.Request]]:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json=VENDORS["openai"].body())

    return httpx.AsyncClient(transport=httpx.MockTransport(handler)), seen


async def test_builtin_providers_refuse_a_malformed_key_of_their_vendor():
    client, seen = _recording_client()
    openai = OpenAITextProvider({"api_key": "not-an-openai-key-123", "max_retries": 0}, http_client=client)
    with pytest.raises(ProviderAuthError, match="sk-"):
        await openai.generate(options())
    anthropic = AnthropicTextProvider({"api_key": "sk-not-anthropic-123", "max_retries": 0}, http_client=client)
    with pytest.raises(ProviderAuthError, match="sk-ant-"):
        await anthropic.generate(options())
    assert seen == []
    await client.aclose()


async def test_compatible_servers_take_any_key():
    """llama.cpp / vLLM take "EMPTY" or none; Anthropic-compatible gateways issue their own keys."""
    client, seen = _recording_client()
    for key in ("EMPTY", None, "gw-key-0001"):
        provider = OpenAITextProvider({"base_url": "http://127.0.0.1:1/v1", "api_key": key, "max_retries": 0},
                                      http_client=client)
        assert (await provider.generate(options())).output_text
    gateway = AnthropicTextProvider({"base_url": "http://127.0.0.1:1", "api_key": "gw-key-0001"}, http_client=client)
    assert gateway.validate_api_key().is_valid
    assert len(seen) == 3
    await client.aclose()


def test_bad_settings_are_a_config_error_without_the_values():
    with pytest.raises(ConfigError) as caught:
        OpenAITextProvider({"timeout": "soon", "api_key": "sk-abcdefgh12345678", "headers": {"x": 5}})
    assert "timeout" in str(caught.value) and "sk-abcdefgh" not in str(caught.value)
