"""``kind: fallback`` against real endpoints: a dead port and the vendor-shaped server.

Fails over for what another endpoint may not share (refused, 5xx, 429), never for what the
caller must fix (401, context length, unknown model); streams fail over only before their first
event; the response names who served; load-time validation names the YAML path."""

from __future__ import annotations

import json
import os
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from opentelemetry.trace import StatusCode

from oneringai import OneRingAI
from oneringai.application.fallback import FallbackTextProvider, fails_over
from oneringai.config.loading import load_settings
from oneringai.domain.errors import (
    ConfigError,
    ModelNotFoundError,
    ProviderAuthError,
    ProviderContextLengthError,
    ProviderRateLimitError,
    ProviderResponseError,
    ProviderTimeoutError,
    ProviderUnavailableError,
)
from tests.otel_support import Recorded, recording, write_config
from tests.vendor_server import TEXT, VendorServer


@pytest.fixture
def telemetry() -> Iterator[Recorded]:
    yield from recording()


def dead_url() -> str:
    """A loopback port nobody listens on (bound, then closed)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/v1"


def members(server: VendorServer, primary_model: str = "ok", **fallback: Any) -> dict[str, Any]:
    live = {"kind": "openai", "base_url": f"{server.url}/v1", "api_key": "sk-live-0123456789", "max_retries": 0}
    return {
        "default": "failover",
        "providers": {
            "dead": {"kind": "openai", "base_url": dead_url(), "api_key": "sk-dead-0123456789", "max_retries": 0,
                     "default_model": "ok"},
            "primary": {**live, "default_model": primary_model},
            "live": {**live, "default_model": "ok"},
            "failover": {"kind": "fallback", **fallback},
        },
    }


def client(tmp_path: Path, text: dict[str, Any], tracing: bool = True) -> OneRingAI:
    return OneRingAI.from_config(write_config(tmp_path, text, observability={"tracing": tracing}))


def models_asked(server: VendorServer) -> list[str]:
    return [body["model"] for _kind, body, _headers in server.requests]


async def test_a_dead_endpoint_fails_over_to_a_live_one(tmp_path, vendor_server, telemetry):
    text = members(vendor_server, providers=["dead", "live"])
    async with client(tmp_path, text) as c:
        response = await c.text.generate_raw("hi")  # no model: the first member's default_model
    assert response.output_text == TEXT and response.provider == "live"
    assert models_asked(vendor_server) == ["ok"]
    root = telemetry.one("fallback failover")
    assert root.attributes["oneringai.fallback.served_by"] == "live"
    assert root.attributes["oneringai.fallback.attempts"] == 2
    assert root.status.status_code is StatusCode.UNSET
    [event] = [e for e in root.events if e.name == "oneringai.fallback.failover"]
    assert event.attributes["oneringai.provider"] == "dead"
    assert event.attributes["error.type"] == "ProviderUnavailableError"
    attempts = sorted(telemetry.named("chat "), key=lambda s: s.start_time)
    assert [s.attributes["oneringai.provider"] for s in attempts] == ["dead", "live"]
    assert all(s.parent.span_id == root.context.span_id for s in attempts)
    assert attempts[0].attributes["error.type"] == "ProviderUnavailableError"
    assert "error.type" not in attempts[1].attributes


@pytest.mark.parametrize(
    ("model", "error"),
    [("err-401", ProviderAuthError), ("ctx", ProviderContextLengthError), ("missing", ModelNotFoundError)],
)
async def test_what_the_caller_must_fix_does_not_fail_over(tmp_path, vendor_server, telemetry, model, error):
    text = members(vendor_server, providers=["primary", "live"], models={"primary": model})
    async with client(tmp_path, text) as c:
        with pytest.raises(error):
            await c.text.generate("hi")
    assert models_asked(vendor_server) == [model]  # the second member was never asked
    root = telemetry.one("fallback failover")
    assert root.attributes["error.type"] == error.__name__ and not root.events[:-1]


@pytest.mark.parametrize("model", ["err-429", "err-500"])
async def test_rate_limits_and_server_errors_fail_over(tmp_path, vendor_server, model):
    text = members(vendor_server, providers=["primary", "live"], models={"primary": model})
    async with client(tmp_path, text, tracing=False) as c:
        response = await c.text.generate_raw("hi")
    assert response.provider == "live" and models_asked(vendor_server) == [model, "ok"]


async def test_when_every_member_fails_the_last_error_carries_the_others(tmp_path, vendor_server):
    text = members(vendor_server, providers=["dead", "primary"], models={"primary": "err-500"})
    async with client(tmp_path, text, tracing=False) as c:
        with pytest.raises(ProviderUnavailableError) as info:
            await c.text.generate("hi")
    assert info.value.status_code == 500
    assert any("tried first: dead: ProviderUnavailableError" in note for note in info.value.__notes__)


async def test_a_stream_fails_over_before_its_first_event(tmp_path, vendor_server, telemetry):
    text = members(vendor_server, providers=["dead", "live"])
    async with client(tmp_path, text) as c:
        events = [e async for e in c.text.stream("hi")]
    assert events[0].type == "response.created"
    assert events[-1].type == "response.complete" and events[-1].response.provider == "live"
    assert "".join(e.delta for e in events if e.type == "response.output_text.delta").strip() == TEXT
    root = telemetry.one("fallback failover")
    assert root.attributes["oneringai.fallback.served_by"] == "live"
    assert {s.parent.span_id for s in telemetry.named("chat ")} == {root.context.span_id}


async def test_a_stream_that_breaks_after_its_first_event_does_not_fail_over(tmp_path, vendor_server, telemetry):
    text = members(vendor_server, providers=["primary", "live"], models={"primary": "cut"})
    seen: list[str] = []
    async with client(tmp_path, text) as c:
        with pytest.raises(ProviderUnavailableError):
            async for event in c.text.stream("hi"):
                seen.append(event.type)
    assert seen[0] == "response.created" and "response.output_text.delta" in seen
    assert models_asked(vendor_server) == ["cut"]  # the live member was never asked
    root = telemetry.one("fallback failover")
    assert root.status.status_code is StatusCode.ERROR and root.attributes["oneringai.fallback.served_by"] == "primary"


async def test_an_agent_runs_on_a_fallback_and_nested_fallbacks_name_the_leaf(tmp_path, vendor_server):
    text = members(vendor_server, providers=["dead", "inner"])
    text["providers"]["inner"] = {"kind": "fallback", "providers": ["dead", "live"]}
    async with client(tmp_path, text, tracing=False) as c:
        agent = c.agents.create()
        response = await agent.run("hi")
        assert response.output_text == TEXT
        direct = await c.text.generate_raw("hi")
        assert direct.provider == "live"
        provider = await c.text.resolve()
        assert isinstance(provider, FallbackTextProvider) and provider.members == ["dead", "inner"]
        assert provider.get_model_capabilities("ok").max_input_tokens > 0


def test_which_errors_fail_over():
    assert fails_over(ProviderUnavailableError("x")) and fails_over(ProviderTimeoutError("x"))
    assert fails_over(ProviderRateLimitError("x", retry_after=60))
    for error in (ProviderAuthError("x"), ProviderContextLengthError("x"), ModelNotFoundError("x"),
                  ProviderResponseError("x", status_code=400), ValueError("x")):
        assert not fails_over(error)
    # not retryable on *that* endpoint (a local server that cannot start): the next one may serve
    assert fails_over(ProviderUnavailableError("x", is_retryable=False))


# --- load-time validation ------------------------------------------------------------------------
def load(tmp_path: Path, providers: dict[str, Any], default: str | None = None) -> Any:
    path = tmp_path / "c.yaml"
    path.write_text(json.dumps({"text": {"default": default or next(iter(providers)), "providers": providers}}))
    return load_settings(path, env={}, dotenv=None)


OLLAMA = {"kind": "ollama", "default_model": "m"}


@pytest.mark.parametrize(
    ("providers", "path", "words"),
    [
        ({"f": {"kind": "fallback", "providers": ["nope"]}}, "text.providers.f.providers[0]", "unknown provider 'nope'"),
        ({"f": {"kind": "fallback", "providers": ["a", "f"]}, "a": OLLAMA}, "text.providers.f.providers[1]", "lists itself"),
        ({"f": {"kind": "fallback", "providers": ["a", "a"]}, "a": OLLAMA}, "text.providers.f.providers[1]", "twice"),
        ({"f": {"kind": "fallback", "providers": ["a"], "models": {"b": "x"}}, "a": OLLAMA, "b": OLLAMA},
         "text.providers.f.models.b", "not one of this fallback's providers"),
        ({"f": {"kind": "fallback", "providers": ["g"]}, "g": {"kind": "fallback", "providers": ["a", "f"]}, "a": OLLAMA},
         "text.providers.f.providers[0]", "cycle: f -> g -> f"),
        ({"f": {"kind": "fallback", "providers": []}}, "text.providers.f.providers", "at least 1"),
        ({"f": {"kind": "fallback", "providers": ["a"], "api_key": "x"}, "a": OLLAMA}, "text.providers.f.api_key", "unknown key"),
    ],
)
def test_bad_fallbacks_are_config_errors_naming_the_path(tmp_path, providers, path, words):
    with pytest.raises(ConfigError) as info:
        load(tmp_path, providers)
    assert f"{path}: " in str(info.value) and words in str(info.value), str(info.value)


names = st.sampled_from(["a", "b", "c", "d", "e"])


@settings(max_examples=int(os.environ.get("ONERINGAI_FUZZ_EXAMPLES", "200")), deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(graph=st.dictionaries(names, st.one_of(st.none(), st.lists(st.sampled_from(["a", "b", "c", "d", "e", "zz"]),
                                                                  max_size=4)), min_size=1))
def test_any_fallback_graph_loads_or_is_a_config_error_naming_its_path(tmp_path, graph):
    """``None`` is a plain provider, a list a fallback over those names."""
    providers = {n: OLLAMA if m is None else {"kind": "fallback", "providers": m} for n, m in graph.items()}
    fallbacks = {n: m for n, m in graph.items() if m is not None}

    def reaches(start: str, target: str, seen: frozenset[str] = frozenset()) -> bool:
        return any(m == target or (m in fallbacks and m not in seen and reaches(m, target, seen | {m}))
                   for m in fallbacks.get(start, []))

    valid = all(
        m and len(set(m)) == len(m) and all(x in graph and x != n for x in m) for n, m in fallbacks.items()
    ) and not any(reaches(n, n) for n in fallbacks)
    try:
        settings_ = load(tmp_path, providers)
    except ConfigError as exc:
        assert not valid, str(exc)
        assert "text.providers." in str(exc)
        return
    assert valid
    assert set(settings_.text.providers) == set(graph)


async def test_list_models_is_the_union_of_the_members_that_answer(tmp_path, vendor_server):
    text = members(vendor_server, providers=["dead", "live"])
    text["providers"]["all_dead"] = {"kind": "fallback", "providers": ["dead"]}
    async with client(tmp_path, text, tracing=False) as c:
        provider = await c.text.resolve("failover")
        assert await provider.list_models() == ["gpt-4o-mini"]
        with pytest.raises(ProviderUnavailableError):
            await (await c.text.resolve("all_dead")).list_models()


async def test_a_stream_that_fails_before_any_content_fails_over(tmp_path, vendor_server, telemetry):
    """Anthropic sends ``message_start`` and then, under load, an ``overloaded_error`` event: the
    caller has seen no part of an answer (only ``response.created``), so the next member serves,
    and the caller sees one ``response.created`` — the serving member's — and its content only."""
    text = members(vendor_server, providers=["claude", "live"])
    text["providers"]["claude"] = {"kind": "anthropic", "base_url": vendor_server.url, "api_key": "sk-ant-0123456789",
                                   "max_retries": 0, "default_model": "overloaded"}
    async with client(tmp_path, text) as c:
        events = [e async for e in c.text.stream("hi")]
    types = [e.type for e in events]
    assert types.count("response.created") == 1 and types[0] == "response.created"
    assert events[0].model == "ok"  # the serving member's, not the failed one's
    assert events[-1].type == "response.complete" and events[-1].response.provider == "live"
    assert "".join(e.delta for e in events if e.type == "response.output_text.delta").strip() == TEXT
    assert models_asked(vendor_server) == ["overloaded", "ok"]
    root = telemetry.one("fallback failover")
    assert root.attributes["oneringai.fallback.served_by"] == "live"
    assert root.attributes["oneringai.fallback.attempts"] == 2
    assert [e.attributes["oneringai.provider"] for e in root.events if e.name == "oneringai.fallback.failover"] == [
        "claude"
    ]


async def test_a_local_server_that_dies_at_start_fails_over(tmp_path, vendor_server, monkeypatch):
    """A managed llama.cpp member whose server cannot start (a model it cannot load, a binary for
    another CPU) raises ``ProviderUnavailableError(is_retryable=False)``: retrying *that* server
    cannot help, but another endpoint does not share its failure. Before: the fallback took
    "not retryable" for "every endpoint would fail" and raised instead of asking the next one."""
    import sys
    import tempfile

    from oneringai.application.provider_registry import ProviderRegistry
    from oneringai.infrastructure.providers.llamacpp import LlamaCppTextProvider

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))  # the failed start's kept log lands here
    from oneringai.infrastructure.providers.openai import OpenAITextProvider

    fake = Path(__file__).resolve().parents[1] / "unit" / "fake_llama_server.py"
    binary = tmp_path / "llama-server"
    binary.write_text(f'#!/bin/sh\nexec "{sys.executable}" "{fake}" "$@"\n')
    binary.chmod(0o755)
    model = tmp_path / "broken.gguf"
    model.write_text("fail")  # the stand-in prints llama.cpp's log lines and exits 1
    local = LlamaCppTextProvider({"model_path": str(model), "prompt_format": "completion"}, name="local")
    assert local.server is not None
    local.server.binary = binary
    live = OpenAITextProvider({"base_url": f"{vendor_server.url}/v1", "api_key": "sk-live-0123456789",
                               "max_retries": 0}, name="live")
    registry = ProviderRegistry(kind="text", instances={"local": local, "live": live})
    fallback = FallbackTextProvider({"providers": ["local", "live"], "models": {"live": "ok"}},
                                    registry=registry, name="resilient")
    try:
        from oneringai.domain.options import TextGenerateOptions

        response = await fallback.generate(TextGenerateOptions(model="broken", input="hi"))
    finally:
        await local.aclose()
        await live.aclose()
    assert response.output_text == TEXT and response.provider == "live"
    assert models_asked(vendor_server) == ["ok"]
