"""One contract suite over the three text providers, against the local vendor server."""

import json

import pytest

from oneringai import (
    FunctionDefinition,
    FunctionToolDefinition,
    Message,
    ModelNotFoundError,
    ProviderAuthError,
    ProviderContextLengthError,
    ProviderRateLimitError,
    ProviderResponseError,
    ProviderUnavailableError,
    ResponseFormat,
    TextGenerateOptions,
    ToolUseContent,
)
from oneringai.infrastructure.providers.anthropic import AnthropicTextProvider
from oneringai.infrastructure.providers.ollama import OllamaTextProvider
from oneringai.infrastructure.providers.openai import OpenAITextProvider

KEY = "sk-ant-secret-test-key-0123456789"
WEATHER = FunctionToolDefinition(
    function=FunctionDefinition(
        name="get_weather",
        description="Weather",
        parameters={"type": "object", "properties": {"city": {"type": "string"}}},
    )
)


def make(kind, url, **extra):
    if kind == "openai":
        return OpenAITextProvider({"base_url": f"{url}/v1", "api_key": KEY, "max_retries": 0, **extra})
    if kind == "ollama":
        return OllamaTextProvider({"base_url": url, "max_retries": 0, **extra})
    return AnthropicTextProvider({"base_url": url, "api_key": KEY, "max_retries": 0, **extra})


KINDS = ["openai", "ollama", "anthropic"]


@pytest.mark.parametrize("kind", KINDS)
async def test_text(vendor_server, kind):
    async with make(kind, vendor_server.url) as provider:
        response = await provider.generate(
            TextGenerateOptions(model="ok", input="hi", instructions="be brief")
        )
    assert response.output_text == "Hello from the stub server."
    assert response.usage.input_tokens == 12 and response.usage.output_tokens == 7
    assert response.stop_reason == "complete"
    sent = vendor_server.requests[-1][1]
    assert "be brief" in json.dumps(sent)


@pytest.mark.parametrize("kind", KINDS)
async def test_parallel_tool_calls_and_results_round_trip(vendor_server, kind):
    async with make(kind, vendor_server.url) as provider:
        first = await provider.generate(TextGenerateOptions(model="ok", input="weather?", tools=[WEATHER]))
        calls = first.tool_calls
        assert [json.loads(c.function.arguments)["city"] for c in calls] == ["Paris", "Oslo"]
        assert first.stop_reason == "tool_calls"
        assert len({c.id for c in calls}) == 2
        followup = [
            Message.user("weather?"),
            *first.output,
            Message.model_validate(
                {
                    "role": "user",
                    "content": [
                        {"type": "tool_result", "tool_use_id": c.id, "content": "sunny"} for c in calls
                    ],
                }
            ),
        ]
        second = await provider.generate(TextGenerateOptions(model="ok", input=followup, tools=[WEATHER]))
    assert second.output_text == "Hello from the stub server."


@pytest.mark.parametrize("kind", KINDS)
async def test_streaming_text(vendor_server, kind):
    async with make(kind, vendor_server.url) as provider:
        events = [e async for e in provider.stream_generate(TextGenerateOptions(model="ok", input="hi"))]
    deltas = "".join(e.delta for e in events if e.type == "response.output_text.delta")
    assert deltas.strip() == "Hello from the stub server."
    assert events[0].type == "response.created"
    assert events[-1].type == "response.complete"
    assert events[-1].response.output_text == deltas
    assert events[-1].response.usage.output_tokens == 7


@pytest.mark.parametrize("kind", KINDS)
async def test_streaming_parallel_tool_calls(vendor_server, kind):
    async with make(kind, vendor_server.url) as provider:
        events = [
            e
            async for e in provider.stream_generate(
                TextGenerateOptions(model="ok", input="w", tools=[WEATHER])
            )
        ]
    starts = [e for e in events if e.type == "response.tool_call.start"]
    done = [e for e in events if e.type == "response.tool_call_arguments.done"]
    assert [e.tool_name for e in starts] == ["get_weather", "get_weather"]
    assert [json.loads(e.arguments) for e in done] == [{"city": "Paris"}, {"city": "Oslo"}]
    final = events[-1].response
    assert [p.name for p in final.output[0].content if isinstance(p, ToolUseContent)] == ["get_weather"] * 2
    assert final.stop_reason == "tool_calls"


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize(
    ("model", "error", "retryable"),
    [
        ("err-401", ProviderAuthError, False),
        ("err-429", ProviderRateLimitError, True),
        ("err-500", ProviderUnavailableError, True),
        ("missing", ModelNotFoundError, False),
        ("ctx", ProviderContextLengthError, False),
    ],
)
async def test_errors_are_typed(vendor_server, kind, model, error, retryable):
    async with make(kind, vendor_server.url) as provider:
        with pytest.raises(error) as info:
            await provider.generate(TextGenerateOptions(model=model, input="hi"))
    exc = info.value
    assert exc.is_retryable is retryable
    assert exc.provider == kind and exc.model == model and exc.status_code is not None
    assert KEY not in str(exc) and "sk-abc***xyz" not in str(exc)
    if model == "err-429":
        assert exc.retry_after == pytest.approx(1.0)


async def test_retry_after_http_date(vendor_server):
    async with make("openai", vendor_server.url) as provider:
        with pytest.raises(ProviderRateLimitError) as info:
            await provider.generate(TextGenerateOptions(model="err-429-date", input="hi"))
    assert 0 < info.value.retry_after <= 2.5


async def test_retries_honour_retry_after_then_give_up(vendor_server):
    async with make("openai", vendor_server.url, max_retries=1) as provider:
        with pytest.raises(ProviderRateLimitError):
            await provider.generate(TextGenerateOptions(model="err-429", input="hi"))
    assert sum(1 for r in vendor_server.requests if r[1]["model"] == "err-429") == 2


@pytest.mark.parametrize("kind", KINDS)
async def test_cut_stream_is_unavailable(vendor_server, kind):
    async with make(kind, vendor_server.url) as provider:
        with pytest.raises(ProviderUnavailableError):
            async for _ in provider.stream_generate(TextGenerateOptions(model="cut", input="hi")):
                pass


@pytest.mark.parametrize("kind", KINDS)
async def test_garbage_stream_line_is_response_error(vendor_server, kind):
    async with make(kind, vendor_server.url) as provider:
        with pytest.raises(ProviderResponseError, match="malformed"):
            async for _ in provider.stream_generate(TextGenerateOptions(model="garbage", input="hi")):
                pass


async def test_truncated_json_body(vendor_server):
    async with make("openai", vendor_server.url) as provider:
        with pytest.raises(ProviderResponseError, match="malformed JSON"):
            await provider.generate(TextGenerateOptions(model="badjson", input="hi"))


async def test_connection_refused_names_url():
    provider = OllamaTextProvider({"base_url": "http://127.0.0.1:9", "max_retries": 0})
    with pytest.raises(ProviderUnavailableError, match=r"127\.0\.0\.1:9"):
        await provider.generate(TextGenerateOptions(model="m", input="hi"))
    await provider.destroy()


async def test_timeout_is_typed(vendor_server):
    from oneringai import ProviderTimeoutError

    async with make("openai", vendor_server.url, timeout=0.3) as provider:
        with pytest.raises(ProviderTimeoutError):
            await provider.generate(TextGenerateOptions(model="slow", input="hi"))


async def test_openai_request_mapping(vendor_server):
    async with make("openai", vendor_server.url) as provider:
        await provider.generate(
            TextGenerateOptions(
                model="ok",
                input=[
                    Message.model_validate(
                        {
                            "role": "user",
                            "content": [
                                {"type": "input_text", "text": "what is this"},
                                {
                                    "type": "input_image_url",
                                    "image_url": {"url": "data:image/png;base64,AAAA"},
                                },
                            ],
                        }
                    )
                ],
                tools=[WEATHER],
                tool_choice="get_weather",
                parallel_tool_calls=False,
                response_format=ResponseFormat(type="json_object"),
                temperature=0.2,
                max_output_tokens=50,
            )
        )
    body = vendor_server.requests[-1][1]
    assert body["messages"][0]["content"][1] == {
        "type": "image_url",
        "image_url": {"url": "data:image/png;base64,AAAA", "detail": "auto"},
    }
    assert body["tool_choice"] == {"type": "function", "function": {"name": "get_weather"}}
    assert body["parallel_tool_calls"] is False
    assert body["response_format"] == {"type": "json_object"}
    assert body["max_tokens"] == 50 and body["temperature"] == 0.2
    assert vendor_server.requests[-1][2]["Authorization"] == f"Bearer {KEY}"


async def test_list_models(vendor_server):
    async with make("ollama", vendor_server.url) as provider:
        assert await provider.list_models() == ["llama3.2:latest"]
    async with make("openai", vendor_server.url) as provider:
        assert await provider.list_models() == ["gpt-4o-mini"]


async def test_early_stop_releases_connection(vendor_server):
    async with make("openai", vendor_server.url) as provider:
        stream = provider.stream_generate(TextGenerateOptions(model="ok", input="hi"))
        async for event in stream:
            if event.type == "response.output_text.delta":
                break
        await stream.aclose()
        response = await provider.generate(TextGenerateOptions(model="ok", input="again"))
        assert response.output_text


async def test_model_capabilities_table_and_default():
    provider = OpenAITextProvider({"api_key": "sk-1234567890"})
    caps = provider.get_model_capabilities("gpt-4o-mini-2024-07-18")
    assert caps.input_price_per_million == 0.15 and caps.supports_vision
    assert provider.get_model_capabilities("unknown-model").max_input_tokens == 8192
    await provider.destroy()


async def test_invalid_tool_arguments_are_surfaced_not_crashed(vendor_server):
    from oneringai import OneRingAI, tool
    from oneringai.config import Settings

    @tool
    def get_weather(city: str) -> str:
        return city

    async with make("openai", vendor_server.url) as provider:
        response = await provider.generate(TextGenerateOptions(model="badargs", input="w", tools=[WEATHER]))
    assert response.tool_calls[0].function.arguments == '{"city": Par'
    settings = Settings.model_validate({"text": {"default": "o", "providers": {"o": {
        "kind": "openai", "base_url": f"{vendor_server.url}/v1", "api_key": KEY}}}})
    async with OneRingAI(settings=settings) as client:
        agent = await client.agents.create(model="badargs", tools=[get_weather], max_iterations=2)
        await agent.run("w")
    results = [p for item in agent.messages for p in item.content if p.type == "tool_result"]
    assert results and all(json.loads(p.content)["code"] == "invalid_arguments" for p in results)


async def test_resends_once_when_connection_closed_without_response():
    """A kept-alive connection the server closed before answering: safe to resend once."""
    import asyncio

    seen = {"n": 0}
    body = json.dumps({"id": "x", "model": "m", "choices": [{"index": 0, "message": {"role": "assistant", "content": "ok"}, "finish_reason": "stop"}]}).encode()

    async def handle(reader, writer):
        seen["n"] += 1
        await reader.readuntil(b"\r\n\r\n")
        if seen["n"] == 1:
            writer.close()  # read the request, answer nothing
            return
        length = 0
        writer.write(b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: " + str(len(body)).encode() + b"\r\n\r\n" + body)
        await writer.drain()
        writer.close()
        del length

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    for transport in ("httpx", "aiohttp"):
        seen["n"] = 0
        from oneringai.infrastructure.http.client import build_http_client
        from oneringai.infrastructure.http.config import HttpSettings

        http = build_http_client(HttpSettings(transport=transport))
        provider = OpenAITextProvider({"base_url": f"http://127.0.0.1:{port}/v1", "api_key": KEY, "max_retries": 0}, http_client=http)
        response = await provider.generate(TextGenerateOptions(model="m", input="hi"))
        assert response.output_text == "ok" and seen["n"] == 2, transport
        await http.aclose()
    server.close()


async def test_ollama_and_anthropic_request_mapping(vendor_server):
    from oneringai import Message

    async with make("ollama", vendor_server.url, keep_alive="5m", options={"num_ctx": 8192}) as provider:
        await provider.generate(TextGenerateOptions(
            model="ok", input=[Message.model_validate({"role": "user", "content": [
                {"type": "input_text", "text": "look"},
                {"type": "input_image_url", "image_url": {"url": "data:image/png;base64,QUJD"}}]})],
            max_output_tokens=20, provider_options={"seed": 7}, response_format=ResponseFormat(type="json_object"),
        ))
    body = vendor_server.requests[-1][1]
    assert body["keep_alive"] == "5m" and body["format"] == "json"
    assert body["options"] == {"num_ctx": 8192, "seed": 7, "num_predict": 20}
    assert body["messages"][0]["images"] == ["QUJD"]

    items = [
        Message.developer("extra rule"), Message.user("q"),
        Message.model_validate({"role": "assistant", "content": [{"type": "tool_use", "id": "t1", "name": "get_weather", "arguments": '{"city": "Oslo"}'}]}),
        Message.model_validate({"role": "user", "content": [{"type": "tool_result", "tool_use_id": "t1", "content": "boom", "error": "failed"}]}),
    ]
    async with make("anthropic", vendor_server.url) as provider:
        await provider.generate(TextGenerateOptions(model="ok", input=items, instructions="sys", tools=[WEATHER], tool_choice="required"))
    body = vendor_server.requests[-1][1]
    assert body["system"] == "sys\n\nextra rule" and body["max_tokens"] == 4096
    assert body["tool_choice"] == {"type": "any"}
    assert body["messages"][1]["content"][0] == {"type": "tool_use", "id": "t1", "name": "get_weather", "input": {"city": "Oslo"}}
    assert body["messages"][2]["content"][0]["is_error"] is True
    assert vendor_server.requests[-1][2]["x-api-key"] == KEY


async def test_cancelling_a_consumer_closes_the_stream(vendor_server):
    import asyncio

    async with make("openai", vendor_server.url) as provider:
        got_one = asyncio.Event()

        async def consume() -> None:
            async for event in provider.stream_generate(TextGenerateOptions(model="slowstream", input="hi")):
                if event.type == "response.output_text.delta":
                    got_one.set()

        task = asyncio.create_task(consume())
        await asyncio.wait_for(got_one.wait(), 5)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        await asyncio.wait_for(vendor_server.client_went_away.wait(), 5)  # the server saw the close


async def test_no_connection_leak_on_errors_and_early_stops(vendor_server):
    from oneringai.infrastructure.http.client import build_http_client
    from oneringai.infrastructure.http.config import HttpSettings

    http = build_http_client(HttpSettings(transport="httpx", max_keepalive_connections=5))
    provider = OpenAITextProvider({"base_url": f"{vendor_server.url}/v1", "api_key": KEY, "max_retries": 0}, http_client=http)
    for _ in range(10):
        stream = provider.stream_generate(TextGenerateOptions(model="ok", input="hi"))
        async for _event in stream:
            break
        await stream.aclose()
        with pytest.raises(ProviderUnavailableError):
            await provider.generate(TextGenerateOptions(model="err-500", input="hi"))
        with pytest.raises(ProviderResponseError):
            async for _event in provider.stream_generate(TextGenerateOptions(model="garbage", input="hi")):
                pass
    pool = http._transport._pool  # httpx's connection pool
    assert len(pool.connections) <= 2, pool.connections
    assert all(conn.is_idle() for conn in pool.connections)
    await http.aclose()


@pytest.mark.parametrize("transport", ["httpx", "aiohttp"])
async def test_cookies_still_round_trip_on_the_shared_client(transport):
    """The client skips cookie parsing for answers without Set-Cookie, not cookies themselves
    (sticky-session gateways rely on them)."""
    import asyncio

    from oneringai.infrastructure.http.client import build_http_client
    from oneringai.infrastructure.http.config import HttpSettings

    seen: list[str] = []

    async def handle(reader, writer):
        head = (await reader.readuntil(b"\r\n\r\n")).decode()
        seen.append(next((line for line in head.split("\r\n") if line.lower().startswith("cookie:")), ""))
        extra = b"set-cookie: lb=node7; Path=/\r\n" if len(seen) == 1 else b""
        writer.write(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n" + extra + b"\r\n{}")
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    url = f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}/"
    async with build_http_client(HttpSettings(transport=transport)) as client:
        for _ in range(3):
            assert (await client.get(url)).status_code == 200
    server.close()
    assert seen[0] == "" and all("lb=node7" in line for line in seen[1:]), seen
