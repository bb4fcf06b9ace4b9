"""The guide's snippets ported literally (as a reader would), run through every caller.

A port returns the guide's object literals as dicts. ``client.text.generate`` already named
the fix for ``generate()``; the agent loop and the fallback did not (a raw ``AttributeError``
from deep inside), and a dict from ``get_model_capabilities()`` — the guide's
``getModelCapabilities`` returns an object literal — broke every agent run.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from oneringai import ITextProvider, LLMResponse, OneRingAI, TextGenerateOptions

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


async def test_an_agent_names_llm_response_when_generate_returns_the_literal():
    async with OneRingAI(providers={"mock": MockTextProvider(wrap=False)}) as client:
        with pytest.raises(TypeError, match=r"'mock' returned dict from generate\(\): return an LLMResponse"):
            await client.text.generate("hello", model="test")
        agent = await client.agents.create(provider="mock", model="test")
        with pytest.raises(TypeError, match=r"'mock' returned dict from generate\(\): return an LLMResponse"):
            await agent.run("hello")
