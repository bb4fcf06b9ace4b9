"""Entry-point plugins, images, JSON output, secrets in logs, doctor."""

from __future__ import annotations

import logging
import sys
import textwrap

import pytest
from pydantic import BaseModel

from oneringai import OneRingAI, ProviderAuthError
from oneringai.config import Settings, load_settings
from oneringai.testing import ScriptedTextProvider


@pytest.fixture
def plugin_dist(tmp_path, monkeypatch):
    """A real installed-distribution layout on sys.path: importlib.metadata finds its entry points."""
    (tmp_path / "myai_plugin.py").write_text(textwrap.dedent('''
        from oneringai.testing import ScriptedTextProvider
        from oneringai.infrastructure.tool_executors.wrapper import WrapperToolExecutor

        class MyAIProvider(ScriptedTextProvider):
            def __init__(self, config, **kwargs):
                super().__init__([f"plugin says hi via {config.greeting}"], name="myai")

        class TaggingExecutor(WrapperToolExecutor):
            async def execute_tool(self, tool_call, context):
                result = await self.wrapped.execute_tool(tool_call, context)
                result.metadata["tag"] = self.config.tag
                return result
    '''))
    dist = tmp_path / "myai_plugin-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: myai-plugin\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text(
        "[oneringai.text_providers]\nmyai = myai_plugin:MyAIProvider\n\n"
        "[oneringai.tool_executors]\ntagging = myai_plugin:TaggingExecutor\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    from oneringai import plugins

    plugins.clear_cache()
    yield
    plugins.clear_cache()
    sys.modules.pop("myai_plugin", None)


async def test_entry_point_kinds_from_yaml(plugin_dist, tmp_path):
    from oneringai import tool
    from oneringai.testing import tool_call

    path = tmp_path / "c.yaml"
    path.write_text("text:\n  default: mine\n  providers:\n    mine: {kind: myai, greeting: yaml}\n"
                    "tools:\n  executor:\n    - {kind: tagging, tag: blue}\n")
    async with OneRingAI.from_config(path, env={}) as client:
        assert await client.text.generate("x", model="m") == "plugin says hi via yaml"

        @tool
        def ping() -> str:
            return "pong"

        from oneringai import ToolExecutionContext

        result = await client.agents.executor.execute_tool(tool_call("ping"), ToolExecutionContext(tools=[ping]))
        assert result.output == "pong" and result.metadata["tag"] == "blue"


async def test_generate_json_with_model_and_schema():
    class City(BaseModel):
        name: str
        population: int

    fake = ScriptedTextProvider(['```json\n{"name": "Oslo", "population": 700000}\n```', '{"a": 1}', "not json"])
    async with OneRingAI(providers={"f": fake}) as client:
        city = await client.text.generate_json("city?", schema=City, model="m")
        assert city == City(name="Oslo", population=700000)
        assert fake.requests[0].response_format.type == "json_schema"
        assert await client.text.generate_json("obj?", model="m") == {"a": 1}
        from oneringai import ProviderResponseError

        with pytest.raises(ProviderResponseError, match="valid JSON"):
            await client.text.generate_json("bad", model="m")


async def test_images(vendor_server):
    settings = Settings.model_validate({
        "text": {"default": None, "providers": {}},
        "images": {"default": "img", "providers": {"img": {"kind": "openai", "base_url": f"{vendor_server.url}/v1", "api_key": "sk-img-123456789"}}},
    })
    async with OneRingAI(settings=settings) as client:
        urls = await client.images.generate("a ring", n=2, size="1024x1024", model="dall-e-2")
        b64 = await client.images.generate("a ring", response_format="b64_json")  # the default gpt-image-1
    assert [d.url for d in urls.data] == ["https://example.invalid/img.png"] * 2
    assert b64.data[0].b64_json == "aGVsbG8="
    assert vendor_server.requests[0][1]["size"] == "1024x1024"
    assert vendor_server.requests[0][1]["model"] == "dall-e-2"
    assert "response_format" not in vendor_server.requests[1][1]  # gpt-image models refuse it


async def test_no_secret_in_logs_or_errors(vendor_server, caplog):
    key = "sk-verysecret-abcdef123456"
    settings = Settings.model_validate({"text": {"default": "o", "providers": {"o": {
        "kind": "openai", "base_url": f"{vendor_server.url}/v1", "api_key": key, "max_retries": 2, "retry_max_wait": 0.01}}}})
    caplog.set_level(logging.DEBUG)
    async with OneRingAI(settings=settings) as client:
        with pytest.raises(ProviderAuthError) as info:
            await client.text.generate("hi", model="err-401")
        from oneringai import ProviderUnavailableError

        with pytest.raises(ProviderUnavailableError):
            await client.text.generate("hi", model="err-500")  # retried: warnings are logged
        provider = await client.text.resolve()
        assert key not in repr(provider) and key not in repr(client.settings)
    assert "attempt 1 failed" in caplog.text
    assert key not in caplog.text and key not in str(info.value)


async def test_doctor_reports_and_exit_codes(vendor_server, tmp_path, capsys, monkeypatch):
    from oneringai.cli.doctor import doctor

    monkeypatch.chdir(tmp_path)  # no ./config/default.yaml: only what the test configures

    good = load_settings(None, env={}, overrides={"text": {"default": "o", "providers": {"o": {"kind": "ollama", "base_url": vendor_server.url}}},
                                                   "oauth": {"storage": {"kind": "file", "file": {"directory": str(tmp_path)}}}})
    assert await doctor(good) == 0
    out = capsys.readouterr().out
    assert "[ok] text provider o (ollama): reachable; models: llama3.2:latest" in out
    bad = load_settings(None, env={}, overrides={"text": {"default": "o", "providers": {"o": {"kind": "ollama", "base_url": "http://127.0.0.1:9", "max_retries": 0}}},
                                                  "oauth": {"storage": {"kind": "file", "file": {"directory": str(tmp_path)}},
                                                            "connections": {"gh": {"flow": "client_credentials", "client_id": "c", "token_url": "http://127.0.0.1:9/token"}}}})
    assert await doctor(bad) == 1
    out = capsys.readouterr().out
    assert "[FAIL] text provider o (ollama)" in out and "ollama serve" in out
    assert "[FAIL] oauth connection gh: http://127.0.0.1:9/token unreachable" in out
