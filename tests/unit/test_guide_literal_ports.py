"""The guide's snippets ported literally (as a reader would), run through every caller.

A port returns the guide's object literals as dicts. ``client.text.generate`` already named
the fix for ``generate()``; the agent loop and the fallback did not (a raw ``AttributeError``
from deep inside), and a dict from ``get_model_capabilities()`` — the guide's
``getModelCapabilities`` returns an object literal — broke every agent run.
"""

from __future__ import annotations

import importlib
import json
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest
from dependency_injector import providers
from dependency_injector.wiring import Provide, inject

from oneringai import (
    BaseProvider,
    IImageProvider,
    ITextProvider,
    IToolExecutor,
    LLMResponse,
    OneRingAI,
    Settings,
    TextGenerateOptions,
    ToolCall,
    ToolExecutionContext,
    ToolResult,
    tool,
)
from oneringai.container import Container, build_container
from oneringai.domain.images import ImageResponse
from oneringai.testing import ScriptedTextProvider, text_response, tool_call, tool_calls_response

_LITERAL = {
    "output": [{"type": "message", "role": "assistant", "content": [{"type": "output_text", "text": "hi"}]}],
    "usage": {"input_tokens": 1, "output_tokens": 1, "total_tokens": 2},
    "stop_reason": "complete",
}


class MockTextProvider(ITextProvider):
    """The guide's "Testability" mock, with its object literals as Python dicts."""

    name = "mock"
    capabilities = {"text": True, "images": False, "videos": False, "audio": False}  # type: ignore[assignment]

    def __init__(self, *, wrap: bool = True, caps: Any = None) -> None:
        self.wrap = wrap
        self.caps = caps

    async def generate(self, options: TextGenerateOptions) -> Any:
        return LLMResponse.model_validate(_LITERAL) if self.wrap else dict(_LITERAL)

    async def stream_generate(self, options: TextGenerateOptions) -> AsyncIterator[Any]:
        raise NotImplementedError("Not implemented")
        yield  # pragma: no cover

    def get_model_capabilities(self, model: str) -> Any:
        if self.caps is not None:
            return self.caps
        return {  # the guide's getModelCapabilities literal, camelCase keys
            "maxInputTokens": 128000,
            "maxOutputTokens": 4096,
            "supportsTools": True,
            "supportsVision": False,
            "supportsStreaming": False,
            "supportsJSON": True,
        }

    async def validate_config(self) -> bool:
        return True


async def test_an_agent_runs_on_a_provider_whose_capabilities_are_the_guides_literal():
    async with OneRingAI(providers={"mock": MockTextProvider()}) as client:
        agent = await client.agents.create(provider="mock", model="test", tools=[])
        assert (await agent.run("hello")).output_text == "hi"


@pytest.mark.parametrize("caps", [42, {"maxInputTokens": 1, "notAField": True}])
async def test_capabilities_that_are_no_model_capabilities_fail_naming_the_method(caps: Any):
    async with OneRingAI(providers={"mock": MockTextProvider(caps=caps)}) as client:
        agent = await client.agents.create(provider="mock", model="test")
        with pytest.raises(TypeError, match=r"get_model_capabilities\(\)"):
            await agent.run("hello")


async def test_generate_may_return_the_guides_literal_everywhere_and_junk_fails_naming_generate():
    async with OneRingAI(providers={"mock": MockTextProvider(wrap=False)}) as client:
        assert await client.text.generate("hello", model="test") == "hi"
        agent = await client.agents.create(provider="mock", model="test")
        assert (await agent.run("hello")).output_text == "hi"

    class JunkProvider(MockTextProvider):
        async def generate(self, options: TextGenerateOptions) -> Any:
            return "hi"

    async with OneRingAI(providers={"junk": JunkProvider()}) as client:
        with pytest.raises(TypeError, match=r"'mock' returned str from generate\(\): return an LLMResponse"):
            await client.text.generate("hello", model="test")
        agent = await client.agents.create(provider="junk", model="test")
        with pytest.raises(TypeError, match=r"'mock' returned str from generate\(\): return an LLMResponse"):
            await agent.run("hello")


# ============================================================================================
# The guide's RateLimitedToolExecutor, literally: finds the tool itself, returns object literals
# ============================================================================================
class GuideRateLimitedToolExecutor(IToolExecutor):
    def __init__(self, max_calls_per_minute: int = 10) -> None:
        self.callCounts: dict[str, int] = {}
        self.windowStart = time.time() * 1000
        self.maxCallsPerMinute = max_calls_per_minute

    async def execute_tool(self, toolCall: ToolCall, context: ToolExecutionContext) -> Any:
        count = self.callCounts.get(toolCall.function.name) or 0
        if count >= self.maxCallsPerMinute:
            return {
                "tool_call_id": toolCall.id,
                "output": json.dumps({"error": f"Rate limit exceeded: {self.maxCallsPerMinute} calls/minute"}),
                "error": True,
            }
        self.callCounts[toolCall.function.name] = count + 1
        found = next((t for t in context.tools if t.definition.function.name == toolCall.function.name), None)
        if not found:
            return {"tool_call_id": toolCall.id, "output": json.dumps({"error": "Tool not found"}), "error": True}
        result = await found.execute(toolCall.function.arguments)
        return {"tool_call_id": toolCall.id, "output": json.dumps(result)}


@tool
def double(x: int) -> int:
    """Twice x."""
    return 2 * x


async def test_an_agent_shows_the_model_the_message_of_the_guides_error_literal():
    script = ScriptedTextProvider([tool_calls_response([tool_call("double", x=2)]), text_response("done")])
    async with OneRingAI(providers={"mock": script}) as client:
        agent = await client.agents.create(
            provider="mock", model="m", tools=[double], executor=GuideRateLimitedToolExecutor(0)
        )
        done = [e async for e in agent.stream("go") if e.type == "response.tool_execution.done"]
    assert len(done) == 1 and done[0].result.is_error
    assert "Rate limit exceeded: 0 calls/minute" in done[0].result.output


_LAYERS: list[dict[str, Any]] = [
    {"kind": "audit"},
    {"kind": "cache", "ttl": 300},
    {"kind": "retry", "attempts": 2},
    {"kind": "timeout"},
    {"kind": "rate_limit", "per_minute": 10},
    {"kind": "permissions", "deny": ["other"]},
    {"kind": "cost"},
]


@pytest.mark.parametrize("layer", _LAYERS, ids=[layer["kind"] for layer in _LAYERS])
@pytest.mark.parametrize("limit", [0, 10], ids=["limited", "runs"])
async def test_every_built_in_layer_stacks_around_the_guides_executor(layer: dict[str, Any], limit: int):
    settings = Settings.model_validate(
        {"text": {"default": None, "providers": {}}, "oauth": {"storage": {"kind": "memory"}},
         "tools": {"executor": [layer]}}
    )
    async with OneRingAI(settings=settings) as client:
        client.container.direct_tool_executor.override(providers.Object(GuideRateLimitedToolExecutor(limit)))
        stack = client.container.tool_executor()
        call = tool_call("double", x=21)
        result = await stack.execute_tool(call, ToolExecutionContext(tools=[double]))
    assert isinstance(result, ToolResult) and result.tool_call_id == call.id
    if limit:
        assert not result.is_error and result.output == "42"
    else:
        assert result.is_error and "Rate limit exceeded" in result.output


# ============================================================================================
# The container embedded in a larger service (DESIGN.md §1, §4): wired, overridden, shut down
# ============================================================================================
@inject
async def _handler(prompt: str, text: Any = Provide[Container.text]) -> str:
    return await text.generate(prompt, model="m")  # type: ignore[no-any-return]


async def test_a_wired_service_sees_overrides_and_shutdown_resources_closes_what_was_built():
    settings = Settings.model_validate(
        {"text": {"default": "local", "providers": {"local": {"kind": "openai", "base_url": "http://127.0.0.1:9/v1",
                                                               "api_key": "x"}}},
         "oauth": {"storage": {"kind": "memory"}}}
    )
    container = build_container(settings)
    container.wire(modules=[__name__])
    try:
        with container.text_provider.override(providers.Object(ScriptedTextProvider(["from the fake"]))):
            assert await _handler("hi") == "from the fake"
        built = await container.text_providers().get("local")
        assert not built.is_destroyed
        # DESIGN.md's one call closes everything the container built, not only its Resources.
        await container.shutdown_resources()
        assert built.is_destroyed
        await container.shutdown_resources()  # twice is fine
    finally:
        container.unwire()


# ============================================================================================
# A custom image provider (the guide's table: IImageProvider, no base class; BaseProvider helps)
# ============================================================================================
class DalleLikeProvider(BaseProvider, IImageProvider):
    name = "dalle"
    capabilities = {"text": False, "images": True, "videos": False, "audio": False}  # type: ignore[assignment]

    def __init__(self, config: dict[str, Any], answer: Any = None) -> None:
        super().__init__(config)
        self.apiKey = self.get_api_key()
        self.answer = answer

    async def generate_image(self, options: Any) -> Any:
        if self.answer is not None:
            return self.answer
        return {"created": 1, "data": [{"url": f"http://img.test/{options.prompt}?size={options.size}"}]}


async def test_a_custom_image_provider_answers_with_keywords_or_the_options_object():
    provider = DalleLikeProvider({"apiKey": "sk-" + "a" * 24})
    async with OneRingAI(providers={"dalle": provider}) as client:
        by_keywords = await client.images.generate("cat", provider="dalle", size="512x512")
        by_object = await client.images.generate("cat", {"provider": "dalle", "size": "512x512"})
    for response in (by_keywords, by_object):
        assert isinstance(response, ImageResponse)
        assert [image.url for image in response.data] == ["http://img.test/cat?size=512x512"]


@pytest.mark.parametrize("answer", ["http://img.test/cat", {"data": "not a list"}])
async def test_an_image_provider_answering_no_image_response_fails_naming_the_method(answer: Any):
    async with OneRingAI(providers={"dalle": DalleLikeProvider({"apiKey": "sk-" + "a" * 24}, answer)}) as client:
        with pytest.raises(TypeError, match=r"'dalle' returned .* generate_image\(\)"):
            await client.images.generate("cat")


# ============================================================================================
# streamGenerate ported literally: it yields the events' object literals
# ============================================================================================
_DELTA = {"type": "response.output_text.delta", "delta": "hi", "item_id": "1", "output_index": 0,
          "content_index": 0, "response_id": "r"}
_COMPLETE = {"type": "response.complete", "response": _LITERAL, "status": "completed"}


class LiteralStreamProvider(MockTextProvider):
    def __init__(self, events: list[Any]) -> None:
        super().__init__()
        self.events = events
        self.closed = False

    async def stream_generate(self, options: TextGenerateOptions) -> AsyncIterator[Any]:
        try:
            for event in self.events:
                yield event
        finally:
            self.closed = True


async def test_stream_events_yielded_as_dicts_reach_the_caller_and_the_agent_typed():
    provider = LiteralStreamProvider([_DELTA, _COMPLETE])
    async with OneRingAI(providers={"mock": provider}) as client:
        events = [event async for event in client.text.stream("x", model="m")]
        assert [type(e).__name__ for e in events] == ["OutputTextDeltaEvent", "ResponseCompleteEvent"]
        assert provider.closed
        agent = await client.agents.create(model="m")
        types = [event.type async for event in agent.stream("x")]
    assert types == ["response.output_text.delta", "response.iteration.complete", "response.complete"]


@pytest.mark.parametrize("junk", ["hi", {"type": "response.no_such_event"}])
async def test_a_stream_yielding_no_event_fails_naming_stream_generate(junk: Any):
    provider = LiteralStreamProvider([_DELTA, junk, _COMPLETE])
    async with OneRingAI(providers={"mock": provider}) as client:
        with pytest.raises(TypeError, match=r"'mock' yielded .* stream_generate\(\)"):
            async for _ in client.text.stream("x", model="m"):
                pass
        assert provider.closed
        agent = await client.agents.create(model="m")
        with pytest.raises(TypeError, match=r"'mock' yielded .* stream_generate\(\)"):
            async for _ in agent.stream("x"):
                pass


# ============================================================================================
# "Dependency Inversion": processData(provider) calls provider.generate({ ... }) with a literal
# ============================================================================================
async def process_data(provider: ITextProvider) -> Any:
    return await provider.generate({"model": "gpt-4o-mini", "input": "Hello!"})  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("kind", "config"),
    [
        ("openai", {"apiKey": "sk-" + "a" * 40, "baseURL": "{url}/v1"}),
        ("ollama", {"baseURL": "{url}"}),
        ("anthropic", {"apiKey": "sk-ant-" + "a" * 40, "baseURL": "{url}"}),
    ],
)
async def test_built_in_providers_take_the_guides_options_literal(vendor_server, kind: str, config: dict[str, str]):
    module = importlib.import_module(f"oneringai.infrastructure.providers.{kind}")
    cls = next(v for n, v in vars(module).items() if n.endswith("TextProvider") and v.__module__ == module.__name__)
    provider = cls({k: v.format(url=vendor_server.url) for k, v in config.items()})
    try:
        response = await process_data(provider)
        assert isinstance(response, LLMResponse) and response.output_text
        events = [e.type async for e in provider.stream_generate({"model": "gpt-4o-mini", "input": "Hello!"})]
        assert events[-1] == "response.complete"
        stream = provider.stream_generate({"model": "gpt-4o-mini", "input": "Hello!", "noSuchOption": 1})
        with pytest.raises(ValueError, match="noSuchOption"):  # refused on first use, naming the key
            await anext(aiter(stream))
    finally:
        await provider.destroy()
