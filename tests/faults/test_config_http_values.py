"""Provider settings that can never travel over HTTP — a key or header with CR/LF, NUL or
non-ASCII characters, an invalid header name, a base URL with spaces, a bad IPv6 literal, a port
out of range, another scheme — are ``ConfigError``s naming the YAML path at load time. Before,
they failed at the first request as a raw ``UnicodeEncodeError`` or yarl ``InvalidURL``, or as a
"malformed response" blaming the server (found by the adversarial review, issue #10 class 5)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from oneringai import OneRingAI
from oneringai.config import load_settings
from oneringai.domain.errors import ConfigError
from oneringai.infrastructure.providers.anthropic import AnthropicTextProvider
from oneringai.infrastructure.providers.openai import OpenAITextProvider
from tests.faults.providers_fixtures import (
    VENDORS,
    FaultServer,
    fault_server_fixture,  # noqa: F401 - provides the fault_server fixture
)

KEY = "sk-test-abcdefgh123456"
BAD: dict[str, tuple[str, dict[str, Any], str]] = {
    "key with CR/LF": ("openai", {"api_key": KEY + "\r\nX-Evil: 1"}, "api_key"),
    "key with NUL": ("openai", {"api_key": KEY + "\x00"}, "api_key"),
    "key with non-ASCII": ("openai", {"api_key": KEY + "é"}, "api_key"),
    "key with an emoji": ("anthropic", {"api_key": "sk-ant-abcdefgh😀"}, "api_key"),
    "header value with CR/LF": ("ollama", {"headers": {"X-Team": "a\r\nX-Evil: 1"}}, "headers"),
    "header value non-ASCII": ("openai", {"headers": {"X-Team": "équipe"}}, "headers"),
    "header name with a space": ("openai", {"headers": {"X Team": "a"}}, "headers"),
    "header name with a colon": ("openai", {"headers": {"X-Team:": "a"}}, "headers"),
    "empty header name": ("openai", {"headers": {"": "a"}}, "headers"),
    "organization with CR/LF": ("openai", {"organization": "org\r\nX-Evil: 1"}, "organization"),
    "api_version with LF": ("anthropic", {"api_version": "2023-06-01\nX: y"}, "api_version"),
    "base_url with a space": ("openai", {"base_url": "http://127.0.0.1 :1/v1"}, "base_url"),
    "base_url with LF": ("openai", {"base_url": "http://127.0.0.1:1/v1\nX: y"}, "base_url"),
    "base_url with NUL": ("ollama", {"base_url": "http://127.0.0.1\x00:1"}, "base_url"),
    "base_url bad IPv6": ("openai", {"base_url": "http://[::1/v1"}, "base_url"),
    "base_url port out of range": ("anthropic", {"base_url": "http://127.0.0.1:99999"}, "base_url"),
    "base_url port not a number": ("openai", {"base_url": "http://127.0.0.1:x/v1"}, "base_url"),
    "base_url ftp": ("openai", {"base_url": "ftp://127.0.0.1/v1"}, "base_url"),
    "base_url without host": ("openai", {"base_url": "http:///v1"}, "base_url"),
}


def _write(tmp_path: Path, kind: str, fields: dict[str, Any]) -> Path:
    provider = {"kind": kind, "base_url": "http://127.0.0.1:1", "api_key": KEY, **fields}
    if kind == "anthropic" and "api_key" not in fields:
        provider["api_key"] = "sk-ant-abcdefgh123456"
    path = tmp_path / "c.yaml"
    path.write_text(json.dumps({"text": {"default": "p", "providers": {"p": provider}}}, ensure_ascii=False))
    return path


@pytest.mark.parametrize("case", list(BAD))
def test_a_value_http_cannot_carry_is_a_config_error_naming_the_path(tmp_path: Path, case: str) -> None:
    kind, fields, field = BAD[case]
    with pytest.raises(ConfigError, match=rf"text\.providers\.p\.{field}") as caught:
        load_settings(_write(tmp_path, kind, fields), env={}, dotenv=None)
    assert "X-Evil" not in str(caught.value) and KEY not in str(caught.value)


@pytest.mark.parametrize("case", [c for c in BAD if BAD[c][0] != "ollama"])
def test_a_provider_built_in_code_refuses_it_too(case: str) -> None:
    kind, fields, _ = BAD[case]
    cls = AnthropicTextProvider if kind == "anthropic" else OpenAITextProvider
    key = "sk-ant-abcdefgh123456" if kind == "anthropic" else KEY
    with pytest.raises(ConfigError):
        cls({"api_key": key, "base_url": "http://127.0.0.1:1", **fields})


@pytest.mark.parametrize(
    "base_url",
    ["localhost:11434", ":11434", "http://[::1]:11434", "https://bücher.example/v1", "HTTP://127.0.0.1:1"],
)
def test_forms_that_are_urls_still_load(tmp_path: Path, base_url: str) -> None:
    load_settings(_write(tmp_path, "ollama", {"base_url": base_url}), env={}, dotenv=None)


async def test_valid_headers_still_reach_the_server(fault_server: FaultServer, tmp_path: Path) -> None:
    fault_server.answer(200, json.dumps(VENDORS["openai"].body()).encode())
    path = _write(tmp_path, "openai", {"base_url": f"{fault_server.url}/v1", "headers": {"X-Team": "a b\tc", "X-Empty": ""}})
    async with OneRingAI(settings=load_settings(path, env={}, dotenv=None)) as client:
        await client.text.generate("hi", model="m")
    assert fault_server.requests[-1].headers["x-team"] == "a b\tc"


@pytest.mark.parametrize("agent", ["oneringai\r\nX-Evil: 1", "agent\x00", "agént"])
def test_a_user_agent_http_cannot_carry_is_a_config_error(tmp_path: Path, agent: str) -> None:
    path = tmp_path / "c.yaml"
    path.write_text(json.dumps({"http": {"user_agent": agent}}, ensure_ascii=False))
    with pytest.raises(ConfigError, match=r"http\.user_agent"):
        load_settings(path, env={}, dotenv=None)
