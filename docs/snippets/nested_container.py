"""Our container inside your own: one ``await app.shutdown_resources()`` closes both."""

from __future__ import annotations

from dependency_injector import containers, providers

from oneringai.config import Settings
from oneringai.container import Container
from oneringai.testing import ScriptedTextProvider


class App(containers.DeclarativeContainer):
    config = providers.Singleton(Settings)  # or providers.Callable(load_settings, "service.yaml")
    ai = providers.Container(Container, settings=config)


async def demo() -> list[str]:
    app = App()
    fake = ScriptedTextProvider(["Hi there!"])
    with app.ai.text_provider.override(providers.Object(fake)):  # overrides reach inside
        answer = await app.ai.text().generate("hello", model="any")
    await app.shutdown_resources()  # our HTTP pool, token store, executor stack, MCP servers too
    return [answer, fake.requests[0].input]
