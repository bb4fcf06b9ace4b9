"""Override a binding in a test; the override is undone when the block ends."""

from __future__ import annotations

from dependency_injector import providers

from oneringai import OneRingAI
from oneringai.config import Settings
from oneringai.testing import ScriptedTextProvider


async def demo() -> list[str]:
    client = OneRingAI(settings=Settings())  # the built-in defaults: Ollama on localhost
    fake = ScriptedTextProvider(["Hi there!"])
    with client.container.text_provider.override(providers.Object(fake)):
        answer = await client.text.generate("hello", model="any")
    await client.destroy()
    return [answer, fake.requests[0].input]
