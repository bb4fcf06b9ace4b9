"""The guide's provider code blocks, ported as literally as Python allows: Approach 1 (extend
``BaseTextProvider``), Approach 2 (implement ``ITextProvider``), the Cohere and Ollama examples
with their usage, the production practices (``IDisposable``, ``ProviderErrorMapper``, key
validation), the provider checklist and the testability block.

Each either works as the guide says, or fails at once with an error naming the Python spelling.
They run against loopback servers (aiohttp), the Cohere one shaped like Cohere's chat API.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from aiohttp import web

from oneringai import (
    BaseTextProvider,
    ContentType,
    IDisposable,
    ITextProvider,
    LLMResponse,
    Message,
    MessageRole,
    ModelCapabilities,
    ModelNotFoundError,
    OneRingAI,
    ProviderAuthError,
    ProviderCapabilities,
    ProviderErrorMapper,
    ProviderRateLimitError,
    ProviderResponseError,
    ProviderTimeoutError,
    ProviderUnavailableError,
    ResponseCompleteEvent,
    StreamEvent,
    TextGenerateOptions,
    tool,
)
from tests.guide_examples import load_example

cohere_example = load_example("cohere_provider")
from _cohere_stub import cohere_stub  # noqa: E402  (examples/ is on the path now)
from _local_llm import serve  # noqa: E402

GOOD_KEY = "myai_0123456789"


# --- a loopback vendor: MyAI (OpenAI-like /chat) and Ollama's /api/generate -------------------
class Vendor:
    def __init__(self) -> None:
        self.requests: list[tuple[str, dict[str, Any], dict[str, str]]] = []

    async def chat(self, request: web.Request) -> web.Response:
        body = await request.json()
        self.requests.append(("chat", body, dict(request.headers)))
        if request.headers.get("Authorization") != f"Bearer {GOOD_KEY}":
            return web.json_response({"error": {"message": "Incorrect API key provided", "type": "invalid_request_error",
                                                "code": "invalid_api_key"}}, status=401)
        text = body["messages"][-1]["content"]
        return web.json_response({"choices": [{"message": {"content": f"MyAI: {text}"}, "finish_reason": "stop"}],
                                  "usage": {"prompt_tokens": 3, "completion_tokens": 4, "total_tokens": 7}})

    async def generate(self, request: web.Request) -> web.Response:
        body = await request.json()
        self.requests.append(("generate", body, dict(request.headers)))
        return web.json_response({"model": body["model"], "response": f"ollama says: {body['prompt']}", "done": True})


@pytest.fixture
async def vendor() -> AsyncIterator[tuple[str, Vendor]]:
    state = Vendor()
    app = web.Application()
    app.router.add_post("/chat", state.chat)
    app.router.add_post("/api/generate", state.generate)
    async with serve(app) as url:
        yield url, state


# ============================================================================================
# Approach 1: extend BaseTextProvider
# ============================================================================================
class MyAIProvider(BaseTextProvider):
    name = "myai"
    capabilities = ProviderCapabilities(text=True, images=False, videos=False, audio=False)

    def __init__(self, config: Any) -> None:
        super().__init__(config)
        self.api_key = self.get_api_key()  # From BaseProvider
        self.base_url = self.config.base_url or "https://api.myai.com/v1"  # config.baseURL || ...

    async def generate(self, options: TextGenerateOptions) -> LLMResponse:
        try:
            # 1. Call your API
            response = await self.http.post(
                f"{self.base_url}/chat",
                headers={"Authorization": f"Bearer {self.api_key}", "Content-Type": "application/json"},
                json={"model": options.model, "messages": self.convert_input(options.input),
                      "temperature": options.temperature},
            )
            if not response.is_success:
                error = response.json()
                raise ProviderErrorMapper.map_error(error, self.name)
            data = response.json()
            # 2. Convert to our standard format
            return self.convert_to_llm_response(data)
        except Exception as error:
            raise ProviderErrorMapper.map_error(error, self.name) from error

    async def stream_generate(self, options: TextGenerateOptions) -> AsyncIterator[StreamEvent]:
        raise NotImplementedError("Streaming not implemented")  # throw new Error(...)
        yield  # an async generator, as the interface requires

    def get_model_capabilities(self, model: str) -> ModelCapabilities:
        return ModelCapabilities(max_input_tokens=128000, max_output_tokens=4096, supports_tools=True,
                                 supports_vision=False, supports_streaming=False, supports_json=True)

    def convert_input(self, input: str | list[Any]) -> Any:
        if isinstance(input, str):
            return [{"role": "user", "content": input}]
        return [{"role": item.role.value, "content": item.text} for item in input]  # InputItem[] -> your format

    def convert_to_llm_response(self, data: Any) -> LLMResponse:
        return LLMResponse.model_validate({  # the guide's object literal, validated
            "output": [{"type": "message", "role": "assistant",
                        "content": [{"type": "output_text", "text": data["choices"][0]["message"]["content"]}]}],
            "usage": {"input_tokens": data["usage"]["prompt_tokens"], "output_tokens": data["usage"]["completion_tokens"],
                      "total_tokens": data["usage"]["total_tokens"]},
            "stop_reason": data["choices"][0]["finish_reason"],
        })


async def test_approach_1_generates_through_the_client_and_an_agent(vendor):
    url, state = vendor
    provider = MyAIProvider({"apiKey": GOOD_KEY, "baseURL": url})  # the guide's config keys
    async with OneRingAI(providers={"myai": provider}) as client:
        assert await client.text.generate("Hello!", provider="myai", model="myai-large") == "MyAI: Hello!"
        agent = await client.agents.create(provider="myai", model="myai-large")  # checklist: both entry points
        assert (await agent.run("Hi agent")).output_text == "MyAI: Hi agent"
    assert [r[1]["messages"][-1]["content"] for r in state.requests] == ["Hello!", "Hi agent"]
    await provider.destroy()


async def test_approach_1_error_body_is_mapped_to_an_auth_error(vendor):
    url, _ = vendor
    provider = MyAIProvider({"apiKey": "myai_wrong_key_123", "baseURL": url})
    with pytest.raises(ProviderAuthError, match="Incorrect API key"):
        await provider.generate(TextGenerateOptions(model="m", input="x"))
    await provider.destroy()


async def test_approach_1_transport_failures_are_typed(unused_tcp_port):
    provider = MyAIProvider({"apiKey": GOOD_KEY, "baseURL": f"http://127.0.0.1:{unused_tcp_port}"})
    with pytest.raises(ProviderUnavailableError, match="cannot connect"):
        await provider.generate(TextGenerateOptions(model="m", input="x"))
    await provider.destroy()


async def test_approach_1_missing_key_fails_at_construction_naming_what_to_set():
    with pytest.raises(ProviderAuthError, match=r"text\.providers\.<name>\.api_key"):
        MyAIProvider({"baseURL": "http://127.0.0.1:1"})


async def test_approach_1_stream_that_throws_throws_at_once(vendor):
    url, _ = vendor
    async with OneRingAI(providers={"myai": MyAIProvider({"apiKey": GOOD_KEY, "baseURL": url})}) as client:
        with pytest.raises(NotImplementedError, match="Streaming not implemented"):
            async for _ in client.text.stream("Hello!", model="m"):
                pass


async def test_generate_returning_the_guide_literal_is_read_as_an_llm_response(vendor):
    class LiteralProvider(MyAIProvider):
        def convert_to_llm_response(self, data: Any) -> Any:
            return {  # a plain object, as in TypeScript
                "output": [{"type": "message", "role": "assistant",
                            "content": [{"type": "output_text", "text": data["choices"][0]["message"]["content"]}]}],
                "usage": {"input_tokens": 1, "output_tokens": 2, "total_tokens": 3},
                "stop_reason": "stop",
            }

    class NotAResponse(MyAIProvider):
        def convert_to_llm_response(self, data: Any) -> Any:
            return {"output": "not a list"}

    url, _ = vendor
    async with OneRingAI(providers={"myai": LiteralProvider({"apiKey": GOOD_KEY, "baseURL": url}),
                                    "bad": NotAResponse({"apiKey": GOOD_KEY, "baseURL": url})}) as client:
        response = await client.text.generate_raw("Hello!", provider="myai", model="m")
        assert isinstance(response, LLMResponse) and response.output_text and response.usage.total_tokens == 3
        with pytest.raises(TypeError, match=r"'myai' returned a dict from generate\(\) that is not an LLMResponse"):
            await client.text.generate("Hello!", provider="bad", model="m")


# ============================================================================================
# Approach 2: implement the interface directly
# ============================================================================================
class SimpleProvider(ITextProvider):
    name = "simple"
    capabilities = ProviderCapabilities(text=True, images=False, videos=False, audio=False)

    async def generate(self, options: TextGenerateOptions) -> LLMResponse:
        text = options.input if isinstance(options.input, str) else options.input[-1].text
        return LLMResponse(model=options.model, output=[Message.assistant(text[::-1])])

    async def stream_generate(self, options: TextGenerateOptions) -> AsyncIterator[StreamEvent]:
        yield ResponseCompleteEvent(response=await self.generate(options))

    def get_model_capabilities(self, model: str) -> ModelCapabilities:
        return ModelCapabilities()

    async def validate_config(self) -> bool:
        return True


async def test_approach_2_works_for_generate_stream_and_agents():
    async with OneRingAI(providers={"simple": SimpleProvider()}) as client:
        assert await client.text.generate("abc", model="x") == "cba"
        assert [e.type async for e in client.text.stream("abc", model="x")] == ["response.complete"]
        assert (await client.agents.create(model="x").run("olleh")).output_text == "hello"


def test_approach_2_in_camel_case_fails_at_once_naming_the_python_methods():
    class CamelProvider(ITextProvider):  # the guide's method names, unchanged
        name = "camel"

        async def generate(self, options: TextGenerateOptions) -> LLMResponse:
            return LLMResponse()

        async def streamGenerate(self, options: TextGenerateOptions) -> AsyncIterator[StreamEvent]:
            yield ResponseCompleteEvent(response=LLMResponse())

        def getModelCapabilities(self, model: str) -> ModelCapabilities:
            return ModelCapabilities()

        async def validateConfig(self) -> bool:
            return True

    with pytest.raises(TypeError) as raised:
        CamelProvider()  # type: ignore[abstract]
    for python in ("stream_generate", "get_model_capabilities", "validate_config"):
        assert python in str(raised.value)


def test_hooks_in_camel_case_fail_when_registered_naming_the_python_spelling():
    class KeyCheckingProvider(MyAIProvider):
        def validateProviderSpecificKeyFormat(self, api_key: str) -> dict[str, Any]:
            return {"isValid": api_key.startswith("myai_")}

    with pytest.raises(TypeError, match="'validate_provider_specific_key_format' — rename it"):
        OneRingAI(providers={"myai": KeyCheckingProvider({"apiKey": GOOD_KEY})})

    class DisposableProvider(MyAIProvider):
        @property
        def isDestroyed(self) -> bool:
            return False

    with pytest.raises(TypeError, match=r"'isDestroyed'.*'is_destroyed'"):
        OneRingAI(providers={"myai": DisposableProvider({"apiKey": GOOD_KEY})})


def test_base_helpers_called_in_camel_case_name_the_python_spelling():
    class CamelCaller(BaseTextProvider):
        name = "camel"

        def __init__(self, config: Any) -> None:
            super().__init__(config)
            self.api_key = self.getApiKey()  # type: ignore[attr-defined]

        async def generate(self, options: TextGenerateOptions) -> LLMResponse:
            return LLMResponse()

        async def stream_generate(self, options: TextGenerateOptions) -> AsyncIterator[StreamEvent]:
            yield ResponseCompleteEvent(response=LLMResponse())

    with pytest.raises(AttributeError, match="get_api_key"):
        CamelCaller({"apiKey": GOOD_KEY})


# ============================================================================================
# Example: Cohere — the guide's block (SDK call commented out, as there), then the finished one
# ============================================================================================
class GuideCohereProvider(BaseTextProvider):
    name = "cohere"
    capabilities = ProviderCapabilities(text=True, images=False, videos=False, audio=False)

    def __init__(self, config: Any) -> None:
        super().__init__(config)
        # self.client = CohereClient(api_key=self.get_api_key())

    async def generate(self, options: TextGenerateOptions) -> LLMResponse:
        try:
            cohere_request = {"model": options.model, "message": self.extract_message(options.input),
                              "temperature": options.temperature, "max_tokens": options.max_output_tokens}
            assert cohere_request["message"]
            # response = await self.client.chat(**cohere_request)
            return LLMResponse(
                output=[Message(role=MessageRole.ASSISTANT,
                                content=[{"type": ContentType.OUTPUT_TEXT, "text": "response.text"}])],
                usage={"input_tokens": 0, "output_tokens": 0, "total_tokens": 0},
                stop_reason="complete",
            )
        except Exception as error:
            raise ProviderErrorMapper.map_error(error, self.name) from error

    async def stream_generate(self, options: TextGenerateOptions) -> AsyncIterator[StreamEvent]:
        raise NotImplementedError("Not implemented")
        yield

    def get_model_capabilities(self, model: str) -> ModelCapabilities:
        capabilities = {
            "command-r-plus": ModelCapabilities(max_input_tokens=128000, max_output_tokens=4096, supports_tools=True),
            "command-r": ModelCapabilities(max_input_tokens=128000, max_output_tokens=4096, supports_tools=True),
        }
        return capabilities.get(model) or capabilities["command-r"]

    def extract_message(self, input: str | list[Any]) -> str:
        if isinstance(input, str):
            return input
        return self.normalize_input_to_string(input)  # From BaseTextProvider


async def test_guide_cohere_block_runs_as_written():
    provider = GuideCohereProvider({"apiKey": "co-key-123456"})
    async with OneRingAI(providers={"cohere": provider}) as client:
        assert await client.text.generate([Message.user("Hi")], model="command-r") == "response.text"
    assert provider.get_model_capabilities("unknown").max_input_tokens == 128000


async def test_cohere_example_generate_stream_agent_and_request_shape():
    async with cohere_stub() as (url, stub):
        provider = cohere_example.CohereProvider({"api_key": stub.api_key, "base_url": url})
        async with OneRingAI(providers={"cohere": provider}) as client:
            history = [Message.user("Hi"), Message.assistant("Hello"), Message.user("Again")]
            response = await client.text.generate_raw(history, model="command-r", instructions="Be brief.",
                                                      temperature=0.2, max_output_tokens=50)
            assert response.output_text == "Cohere heard: Again" and response.stop_reason == "complete"
            assert (response.usage.input_tokens, response.usage.output_tokens) == (70, 6)
            events = [e async for e in client.text.stream("Stream me", model="command-r-plus")]
            deltas = "".join(e.delta for e in events if e.type == "response.output_text.delta")
            assert deltas == "Cohere heard: Stream me" == events[-1].response.output_text
            assert [events[0].type, events[-1].type] == ["response.created", "response.complete"]
            assert (await client.agents.create(model="command-r").run("Agent?")).output_text == "Cohere heard: Agent?"
        await provider.destroy()
    first = stub.requests[0]
    assert first["chat_history"] == [{"role": "USER", "message": "Hi"}, {"role": "CHATBOT", "message": "Hello"}]
    assert (first["message"], first["preamble"], first["temperature"], first["max_tokens"]) == (
        "Again", "Be brief.", 0.2, 50)
    assert [r["stream"] for r in stub.requests] == [False, True, False]


@pytest.mark.parametrize(
    ("model", "key", "error", "text"),
    [
        ("command-r", "co-wrong-key-1234", ProviderAuthError, "invalid api token"),
        ("trial-limited", None, ProviderRateLimitError, "Trial key"),
        ("command-x", None, ModelNotFoundError, "model 'command-x' not found"),
        ("odd", None, ProviderResponseError, "unexpected answer"),
    ],
)
async def test_cohere_example_failures_are_typed(model, key, error, text):
    async with cohere_stub() as (url, stub):
        provider = cohere_example.CohereProvider({"api_key": key or stub.api_key, "base_url": url, "max_retries": 0})
        with pytest.raises(error, match=text) as raised:
            await provider.generate(TextGenerateOptions(model=model, input="x"))
        with pytest.raises(error):
            async for _ in provider.stream_generate(TextGenerateOptions(model=model, input="x")):
                pass
        await provider.destroy()
    assert raised.value.provider == "cohere" and "co-wrong-key" not in str(raised.value)
    if error is ProviderRateLimitError:
        assert raised.value.retry_after == 1


async def test_cohere_example_retries_failures_and_reports_a_cut_stream():
    async with cohere_stub() as (url, stub):
        provider = cohere_example.CohereProvider({"api_key": stub.api_key, "base_url": url, "max_retries": 1,
                                                  "retry_max_wait": 0.01})
        with pytest.raises(ProviderUnavailableError, match="internal server error"):
            await provider.generate(TextGenerateOptions(model="overloaded", input="x"))
        assert len(stub.requests) == 2  # one retry
        with pytest.raises(ProviderRateLimitError):  # Retry-After (1 s) beyond retry_max_wait: no retry
            await provider.generate(TextGenerateOptions(model="trial-limited", input="x"))
        assert len(stub.requests) == 3
        with pytest.raises(ProviderUnavailableError, match="before stream-end"):
            async for _ in provider.stream_generate(TextGenerateOptions(model="cut", input="x")):
                pass
        await provider.destroy()


def test_cohere_example_without_a_key_names_the_variable(monkeypatch):
    monkeypatch.delenv("COHERE_API_KEY", raising=False)
    with pytest.raises(ProviderAuthError, match="COHERE_API_KEY"):
        cohere_example.CohereProvider({})


# ============================================================================================
# Example: Local Ollama provider, and its usage block
# ============================================================================================
class OllamaProvider(BaseTextProvider):
    name = "ollama"  # no requires_api_key: the guide never asks for a key here, and none is required
    capabilities = ProviderCapabilities(text=True, images=False, videos=False, audio=False)

    def __init__(self, config: Any) -> None:
        super().__init__(config)
        self.base_url = self.config.base_url or "http://localhost:11434"

    async def generate(self, options: TextGenerateOptions) -> LLMResponse:
        response = await self.http.post(f"{self.base_url}/api/generate", headers={"Content-Type": "application/json"},
                                         json={"model": options.model,
                                               "prompt": self.normalize_input_to_string(options.input),
                                               "stream": False})
        data = response.json()
        return LLMResponse.model_validate({
            "output": [{"type": "message", "role": "assistant", "content": [{"type": "output_text", "text": data["response"]}]}],
            "usage": {"input_tokens": 0, "output_tokens": 0, "total_tokens": 0},
            "stop_reason": "complete",
        })

    async def stream_generate(self, options: TextGenerateOptions) -> AsyncIterator[StreamEvent]:
        raise NotImplementedError("Not implemented")
        yield

    def get_model_capabilities(self, model: str) -> ModelCapabilities:
        return ModelCapabilities(max_input_tokens=2048, max_output_tokens=2048, supports_tools=False,
                                 supports_vision=False, supports_streaming=True, supports_json=False)


async def test_ollama_usage_block_with_keywords_and_with_the_guides_options_object(vendor):
    url, state = vendor
    client = OneRingAI(providers={"ollama": OllamaProvider({"baseURL": url})})
    # Use like any other provider!
    assert await client.text.generate("Hello!", provider="ollama", model="llama2") == "ollama says: Hello!"
    response = await client.text.generate("Hello!", {"provider": "ollama", "model": "llama2"})
    assert response == "ollama says: Hello!"
    with pytest.raises(TypeError, match="model given both"):
        await client.text.generate("Hello!", {"model": "llama2"}, model="llama3")
    await client.destroy()
    assert [r[1]["model"] for r in state.requests] == ["llama2", "llama2"]


async def test_a_keyless_guide_provider_needs_no_key_but_one_naming_api_key_env_does(vendor):
    # The guide's Ollama provider as written (no key, no getApiKey call) was refused before its
    # first request: "no API key configured: set text.providers.<name>.api_key".
    url, _ = vendor
    async with OllamaProvider({"baseURL": url}) as keyless:
        assert (await keyless.generate(TextGenerateOptions(model="m", input="hi"))).output_text == "ollama says: hi"

    class NeedsAKey(OllamaProvider):
        api_key_env = "JUDGE_NEVER_SET_API_KEY"

    async with NeedsAKey({"baseURL": url}) as keyed:
        with pytest.raises(ProviderAuthError, match="JUDGE_NEVER_SET_API_KEY"):
            await keyed.generate(TextGenerateOptions(model="m", input="hi"))


# ============================================================================================
# Production practices
# ============================================================================================
class ClosingClient:
    def __init__(self) -> None:
        self.closed = 0

    def close(self) -> None:
        self.closed += 1


class DisposableProvider(MyAIProvider, IDisposable):  # class MyProvider extends BaseTextProvider implements IDisposable
    def __init__(self, config: Any) -> None:
        super().__init__(config)
        self._is_destroyed_flag = False
        self.client: ClosingClient | None = ClosingClient()

    @property
    def is_destroyed(self) -> bool:
        return self._is_destroyed_flag

    def destroy(self) -> None:  # type: ignore[override]  # the guide's synchronous destroy()
        if self._is_destroyed_flag:
            return
        self._is_destroyed_flag = True
        if self.client is not None:  # this.client?.close()
            self.client.close()


def test_idisposable_sync_destroy_and_with_block():
    with DisposableProvider({"apiKey": GOOD_KEY}) as provider:
        assert not provider.is_destroyed
    assert provider.is_destroyed and provider.client is not None and provider.client.closed == 1
    provider.destroy()
    assert provider.client.closed == 1  # idempotent


async def test_idisposable_sync_destroy_under_async_with():
    async with DisposableProvider({"apiKey": GOOD_KEY}) as provider:
        pass
    assert provider.is_destroyed and provider.client is not None and provider.client.closed == 1


async def test_error_mapper_maps_what_a_call_raises(unused_tcp_port):
    async def call(exc: Exception) -> None:
        try:
            raise exc
        except Exception as error:
            raise ProviderErrorMapper.map_error(error, "myai") from error

    request = httpx.Request("POST", "https://api.myai.test/v1/chat")
    limited = httpx.Response(429, headers={"Retry-After": "7"}, json={"error": {"message": "slow down"}}, request=request)
    cases = [
        (httpx.HTTPStatusError("429", request=request, response=limited), ProviderRateLimitError),
        (httpx.ReadTimeout("read timed out", request=request), ProviderTimeoutError),
        (httpx.ConnectError("connection refused", request=request), ProviderUnavailableError),
        (ValueError("Expecting value: line 1 column 1"), ProviderResponseError),
    ]
    for raised, expected in cases:
        with pytest.raises(expected) as info:
            await call(raised)
        assert info.value.provider == "myai"
    with pytest.raises(ProviderRateLimitError) as info:
        await call(httpx.HTTPStatusError("429", request=request, response=limited))
    assert info.value.retry_after == 7 and info.value.is_retryable


def test_error_mapper_infers_the_class_of_a_vendor_body():
    body = {"error": {"type": "rate_limit_error", "message": "Too many requests"}}
    assert isinstance(ProviderErrorMapper.map_error(body, "myai"), ProviderRateLimitError)


class ValidatingProvider(MyAIProvider):
    def validate_provider_specific_key_format(self, api_key: str) -> Any:
        if not api_key.startswith("myai_"):
            return {"isValid": False, "warning": "MyAI keys should start with myai_"}  # the guide's literal
        return {"isValid": True}


async def test_key_validation_refuses_a_bad_key_before_any_request(vendor):
    url, state = vendor
    async with OneRingAI(providers={"myai": ValidatingProvider({"apiKey": "sk-not-myai-123", "baseURL": url})}) as client:
        with pytest.raises(ProviderAuthError, match="MyAI keys should start with myai_"):
            await client.text.generate("Hello!", model="m")
        assert await ValidatingProvider({"apiKey": GOOD_KEY, "baseURL": url}).validate_config()
    assert state.requests == []


# ============================================================================================
# Architecture benefits: depend on ITextProvider; a mock provider for tests
# ============================================================================================
async def test_any_implementation_serves_code_written_against_the_interface(vendor):
    url, _ = vendor

    async def process_data(provider: ITextProvider) -> str:
        return (await provider.generate(TextGenerateOptions(model="m", input="data"))).output_text

    mine, local = MyAIProvider({"apiKey": GOOD_KEY, "baseURL": url}), OllamaProvider({"baseURL": url})
    assert [await process_data(p) for p in (mine, local, SimpleProvider())] == [
        "MyAI: data", "ollama says: data", "atad"]
    await mine.destroy()
    await local.destroy()


async def test_mock_provider_for_tests_is_the_scripted_provider():
    from oneringai.testing import ScriptedTextProvider, tool_call

    @tool
    def my_tool(x: int) -> int:
        """Double it."""
        return 2 * x

    mock = ScriptedTextProvider([tool_call("my_tool", x=21), "done"])
    async with OneRingAI(providers={"mock": mock}) as client:
        agent = await client.agents.create(provider="mock", model="test", tools=[my_tool])
        assert (await agent.run("go")).output_text == "done"
    results = [p for item in mock.requests[1].input for p in item.content if p.type == "tool_result"]
    assert json.loads(results[0].content) == 42


async def test_a_provider_built_from_yaml_is_checked_for_guide_spellings_too():
    from oneringai.application.provider_registry import ProviderRegistry

    class KeyCheckingProvider(MyAIProvider):
        def validateProviderSpecificKeyFormat(self, api_key: str) -> Any:
            return {"isValid": True}

    registry: ProviderRegistry[Any] = ProviderRegistry(
        kind="text", configs={"myai": {}}, builder=lambda name, config: KeyCheckingProvider({"apiKey": GOOD_KEY}))
    with pytest.raises(TypeError, match="text provider KeyCheckingProvider defines 'validateProviderSpecificKeyFormat'"):
        await registry.get("myai")


async def test_agents_create_with_the_guides_options_object():
    from oneringai.testing import ScriptedTextProvider

    async with OneRingAI(providers={"mock": ScriptedTextProvider(["ok"])}) as client:
        try:
            agent = await client.agents.create({"provider": "mock", "model": "test", "tools": []})  # type: ignore[misc]
        except TypeError as error:
            assert "provider=" in str(error)  # failing is fine when it names the keywords
        else:
            assert (await agent.run("go")).output_text == "ok"


async def test_agents_create_maps_camel_case_and_refuses_unknown_or_doubled_options():
    from oneringai.testing import ScriptedTextProvider

    async with OneRingAI(providers={"mock": ScriptedTextProvider(["ok"], repeat_last=True)}) as client:
        agent = client.agents.create({"provider": "mock", "model": "m", "maxIterations": 3, "systemPrompt": "Be brief."})
        assert agent.max_iterations == 3 and agent.instructions == "Be brief."
        with pytest.raises(TypeError, match=r"allowed: .*max_iterations"):
            client.agents.create({"provider": "mock", "model": "m", "maxIterationz": 3})
        with pytest.raises(TypeError, match="model given both"):
            client.agents.create({"provider": "mock", "model": "m"}, model="other")
        with pytest.raises(TypeError, match="unknown option"):
            client.agents.create(provider="mock", model="m", max_iteration=2)  # type: ignore[call-arg]


def test_every_name_the_guide_imports_is_exported():
    import oneringai

    guide_imports = [  # "Available Interfaces" and "Exported Interfaces & Base Classes"
        "IProvider", "ITextProvider", "IImageProvider", "IToolExecutor", "IDisposable", "IAsyncDisposable",
        "IOAuthTokenStorage", "BaseProvider", "BaseTextProvider", "ProviderErrorMapper", "ProviderCapabilities",
        "TextGenerateOptions", "ModelCapabilities", "LLMResponse", "StreamEvent", "ToolCall", "ToolResult",
        "ToolExecutionContext", "StoredToken", "MessageRole", "ContentType", "OAuthManager", "OneRingAI",
    ]
    assert [name for name in guide_imports if not hasattr(oneringai, name)] == []
    assert set(guide_imports) <= set(oneringai.__all__)
