"""The pattern to copy: httpx.ASGITransport + container overrides (fake provider, memory store)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from dependency_injector import providers

from examples.fastapi_service.app import create_app
from oneringai import OneRingAI
from oneringai.config import Settings
from oneringai.testing import MemoryTokenStorage, ScriptedTextProvider, tool_call

FAKE = ScriptedTextProvider(name="fake", repeat_last=True)


def build_client() -> OneRingAI:
    settings = Settings.model_validate({
        "text": {"default": "ollama", "providers": {"ollama": {"kind": "ollama", "default_model": "m"}}},
        "oauth": {"storage": {"kind": "memory"}, "connections": {"github": {
            "flow": "authorization_code", "client_id": "cid", "client_secret": "s",
            "authorization_url": "https://auth.example/authorize", "token_url": "https://auth.example/token",
            "redirect_uri": "http://testserver/oauth/github/callback"}}},
    })
    client = OneRingAI(settings=settings)
    client.container.text_provider.override(providers.Object(FAKE))
    client.container.token_storage.override(providers.Object(MemoryTokenStorage()))
    return client


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(build_client)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            yield client


async def test_chat_json(http):
    FAKE.add("Hello from the fake")
    response = await http.post("/chat", json={"prompt": "hi"})
    assert response.status_code == 200 and response.json()["text"] == "Hello from the fake"


async def test_chat_sse(http):
    FAKE.add("streamed answer")
    response = await http.post("/chat/stream", json={"prompt": "hi"})
    events = [line[len("event: "):] for line in response.text.splitlines() if line.startswith("event: ")]
    assert events[0] == "response.created" and events[-1] == "response.complete"
    data = [json.loads(line[6:]) for line in response.text.splitlines() if line.startswith("data: ")]
    assert "".join(d.get("delta", "") for d in data) == "streamed answer"


async def test_agent_with_tools(http):
    FAKE.add(tool_call("get_weather", city="Oslo"), "It is sunny in Oslo.")
    response = await http.post("/agent", json={"prompt": "weather?"}, headers={"x-user-id": "u1"})
    assert response.json() == {"text": "It is sunny in Oslo.", "iterations": 2}


async def test_oauth_login_per_user_and_bad_state(http):
    login = await http.get("/oauth/github/login", headers={"x-user-id": "alice"})
    assert login.status_code == 302
    query = parse_qs(urlsplit(login.headers["location"]).query)
    assert query["client_id"] == ["cid"] and query["code_challenge_method"] == ["S256"]
    forged = await http.get("/oauth/github/callback", params={"code": "x", "state": "forged"})
    assert forged.status_code == 400 and "state" in forged.json()["detail"]
    status = await http.get("/oauth/github/token-status", headers={"x-user-id": "alice"})
    assert status.json() == {"has_token": False}
