"""Approach 2: implement ITextProvider directly (full control, no base class)."""

from __future__ import annotations

from collections.abc import AsyncIterator

from oneringai import (
    ITextProvider,
    LLMResponse,
    Message,
    ModelCapabilities,
    ProviderCapabilities,
    ResponseCompleteEvent,
    StreamEvent,
    TextGenerateOptions,
)


class SimpleProvider(ITextProvider):
    name = "simple"
    capabilities = ProviderCapabilities(text=True)

    async def generate(self, options: TextGenerateOptions) -> LLMResponse:
        prompt = options.input if isinstance(options.input, str) else options.input[-1].text
        return LLMResponse(model=options.model, output=[Message.assistant(prompt.upper())])

    async def stream_generate(self, options: TextGenerateOptions) -> AsyncIterator[StreamEvent]:
        yield ResponseCompleteEvent(response=await self.generate(options))

    def get_model_capabilities(self, model: str) -> ModelCapabilities:
        return ModelCapabilities(supports_tools=False)

    async def validate_config(self) -> bool:
        return True


async def demo() -> str:
    from oneringai import OneRingAI

    async with OneRingAI(providers={"simple": SimpleProvider()}) as client:
        return await client.text.generate("shout this", model="any")
