import sys

import httpx
import pytest
from dependency_injector import providers

from oneringai import OneRingAI
from oneringai.config import Settings
from oneringai.container import build_container, shutdown_container
from oneringai.testing import ScriptedTextProvider


def settings_with(**data) -> Settings:
    return Settings.model_validate(data)


@pytest.mark.parametrize(
    ("kind", "cls_name"),
    [
        ("openai", "OpenAITextProvider"),
        ("openai_compatible", "OpenAITextProvider"),  # the schema's second spelling (was "unknown kind")
        ("ollama", "OllamaTextProvider"),
        ("anthropic", "AnthropicTextProvider"),
    ],
)
async def test_kind_selects_class(kind, cls_name):
    settings = settings_with(
        text={"default": "p", "providers": {"p": {"kind": kind, "api_key": "sk-ant-test12345678"}}}
    )
    container = build_container(settings)
    provider = await container.text_providers().get("p")
    assert type(provider).__name__ == cls_name
    assert provider.name == "p"
    await shutdown_container(container)


async def test_openai_compatible_kind_answers_text_and_builds_images(vendor_server):
    """`kind: openai_compatible` passed the schema, `config validate` and `config show`, then every
    call (and `doctor`) failed with "unknown kind 'openai_compatible'"."""
    url = f"{vendor_server.url}/v1"
    settings = settings_with(
        text={"default": "p", "providers": {"p": {"kind": "openai_compatible", "base_url": url, "default_model": "m"}}},
        images={"default": "i", "providers": {"i": {"kind": "openai_compatible", "base_url": url, "api_key": "k"}}},
    )
    async with OneRingAI(settings=settings) as client:
        assert await client.text.generate("Hello!") == "Hello from the stub server."
        image_provider = await client.container.image_providers().get("i")
        assert type(image_provider).__name__ == "OpenAIImageProvider"


@pytest.mark.parametrize(
    ("kind", "cls_name"), [("memory", "MemoryTokenStorage"), ("file", "FileTokenStorage")]
)
async def test_storage_kind_selects_class(tmp_path, kind, cls_name):
    settings = settings_with(oauth={"storage": {"kind": kind, "file": {"directory": str(tmp_path)}}})
    container = build_container(settings)
    storage = container.token_storage()
    assert type(storage).__name__ == cls_name
    await shutdown_container(container)


async def test_override_replaces_binding_and_is_undone(vendor_server):
    client = OneRingAI.from_config(
        None,
        env={},
        overrides={
            "text": {"default": "o", "providers": {"o": {"kind": "ollama", "base_url": vendor_server.url}}}
        },
    )
    fake = ScriptedTextProvider(["from the fake"])
    with client.container.text_provider.override(providers.Object(fake)):
        assert await client.text.generate("hi", model="m") == "from the fake"
    assert fake.requests[0].input == "hi"
    assert await client.text.generate("hi", model="ok") == "Hello from the stub server."
    await client.destroy()


async def test_unselected_branches_open_nothing(tmp_path):
    for module in [m for m in sys.modules if m.startswith(("asyncpg", "aioboto3", "redis"))]:
        sys.modules.pop(module)
    settings = settings_with(
        oauth={"storage": {"kind": "memory", "postgres": {"dsn": "postgresql://nobody@127.0.0.1:1/x"}}}
    )
    async with OneRingAI(settings=settings) as client:
        await client.token_storage.has_token("k")
    assert not any(m.startswith(("asyncpg", "aioboto3")) for m in sys.modules)


async def test_shutdown_closes_http_client(vendor_server):
    settings = settings_with(
        text={"default": "o", "providers": {"o": {"kind": "ollama", "base_url": vendor_server.url}}}
    )
    client = OneRingAI(settings=settings)
    await client.text.generate("hi", model="ok")
    http_client = await client.container.http_client()
    assert isinstance(http_client, httpx.AsyncClient) and not http_client.is_closed
    await client.destroy()
    assert http_client.is_closed
    assert client.is_destroyed


async def test_instances_are_registered_beside_configured():
    fake = ScriptedTextProvider(["a", "b"])
    client = OneRingAI(providers={"mine": fake})
    assert await client.text.generate("x", provider="mine", model="m") == "a"
    assert await client.text.generate("x", model="m") == "b"  # the only provider is the default
    await client.destroy()


async def test_passphrase_key_with_stored_salt(tmp_path):
    from oneringai import StoredToken
    from oneringai.domain.errors import ConfigError

    data = {"oauth": {"passphrase": "correct horse battery staple", "storage": {"kind": "file", "file": {"directory": str(tmp_path)}}}}
    async with OneRingAI(settings=settings_with(**data)) as client:
        await client.token_storage.store_token("k", StoredToken(access_token="t"))
    assert (tmp_path / ".salt").stat().st_size == 16
    async with OneRingAI(settings=settings_with(**data)) as client:  # same passphrase + salt: readable
        assert (await client.token_storage.get_token("k")).access_token.get_secret_value() == "t"
    with pytest.raises(ConfigError, match="passphrase_salt"):
        OneRingAI(settings=settings_with(oauth={"passphrase": "correct horse battery staple", "storage": {"kind": "redis"}})).container.key_ring()


def test_dotenv_and_ollama_host(tmp_path, monkeypatch):
    from oneringai.config import load_settings
    from oneringai.infrastructure.providers.ollama import normalize_ollama_host

    monkeypatch.chdir(tmp_path)
    (tmp_path / ".env").write_text("ONERINGAI_HTTP__TIMEOUT=7\nOLLAMA_HOST=0.0.0.0:11500\n")
    config = tmp_path / "c.yaml"
    config.write_text('text:\n  providers:\n    ollama: {kind: ollama, base_url: "${OLLAMA_HOST:-http://localhost:11434}"}\n')
    settings = load_settings(config, env={"ONERINGAI_AGENTS__MAX_ITERATIONS": "3"})
    assert settings.http.timeout == 7 and settings.agents.max_iterations == 3
    assert normalize_ollama_host(settings.text.providers["ollama"].base_url) == "http://127.0.0.1:11500"
    assert load_settings(config, env={"ONERINGAI_HTTP__TIMEOUT": "9"}).http.timeout == 9  # env beats .env


async def test_agents_run_one_off():
    fake = ScriptedTextProvider(["done"])
    async with OneRingAI(providers={"f": fake}) as client:
        response = await client.agents.run("go", model="m", instructions="be brief")
    assert response.output_text == "done" and fake.requests[0].instructions == "be brief"


async def test_instances_share_one_client_with_http_settings(vendor_server):
    from oneringai.providers import OllamaProvider

    one = OllamaProvider({"base_url": vendor_server.url})
    two = OllamaProvider({"base_url": vendor_server.url})
    settings = settings_with(http={"transport": "httpx", "max_connections": 7}, text={"default": None, "providers": {}},
                             oauth={"storage": {"kind": "memory"}})
    client = OneRingAI(providers={"one": one, "two": two}, settings=settings)
    await client.text.generate("hi", provider="one", model="ok")
    await client.text.generate("hi", provider="two", model="ok")
    assert one.http is two.http
    assert one.http._transport._pool._max_connections == 7  # the http: settings apply
    shared = one.http
    await client.destroy()
    assert shared.is_closed
    await one.destroy()  # not its client to close: no error, nothing double-closed


async def test_tool_executor_override_applies_after_agents_and_tools_were_used():
    from oneringai import IToolExecutor, ToolResult, tool
    from oneringai.testing import tool_call

    class Refusing(IToolExecutor):
        async def execute_tool(self, tool_call, context):
            return ToolResult.failure(tool_call, "refused by the override", code="denied")

    @tool
    def ping() -> str:
        return "pong"

    fake = ScriptedTextProvider([tool_call("ping"), "done"], repeat_last=True)
    async with OneRingAI(providers={"f": fake}) as client:
        client.tools.register(ping)
        assert (await client.tools.execute("ping", {})).output == "pong"  # the real stack, first
        client.agents.create(model="m")  # the manager is built before the override
        with client.container.tool_executor.override(providers.Object(Refusing())):
            result = await client.tools.execute("ping", {})
            assert result.error and "refused by the override" in result.error
            agent = client.agents.create(model="m", tools=[ping])
            await agent.run("go")
            tool_results = [r for r in fake.requests[-1].input if getattr(r, "type", None) == "message"]
            assert "refused by the override" in str(tool_results)


async def test_an_instances_only_client_ignores_oneringai_variables(monkeypatch):
    monkeypatch.setenv("ONERINGAI_TEXT__PROVIDERS__LOCAL__BASE_URL", "http://127.0.0.1:9/v1")
    monkeypatch.setenv("ONERINGAI_HTTP__TIMEOUT", "nonsense")
    async with OneRingAI(providers={"f": ScriptedTextProvider(["ok"])}) as client:
        assert await client.text.generate("hi", model="m") == "ok"
        assert "local" not in client.settings.text.providers
