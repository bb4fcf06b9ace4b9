"""Spans and metrics from YAML alone, against the vendor-shaped loopback server, read back with
the OpenTelemetry SDK's in-memory exporter and metric reader (installed as an application would)."""

from __future__ import annotations

import asyncio
import gc
import json
import logging
import uuid
from collections.abc import Iterator

import pytest
from opentelemetry.trace import SpanKind, StatusCode

from oneringai import OneRingAI
from oneringai.application.tools import tool
from oneringai.domain.errors import OAuthError, ProviderAuthError, ProviderUnavailableError
from oneringai.domain.interfaces import ITextProvider
from oneringai.domain.telemetry import NOOP_TELEMETRY
from tests.oauth_server import OAuthTestServer
from tests.otel_support import Recorded, recording, write_config
from tests.vendor_server import TEXT, VendorServer


@pytest.fixture
def telemetry() -> Iterator[Recorded]:
    yield from recording()

KEY = "sk-test-" + "k3y" * 8


def openai(server: VendorServer, **extra: object) -> dict[str, object]:
    return {"kind": "openai", "base_url": f"{server.url}/v1", "api_key": KEY, **extra}


def unique(prefix: str = "m") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


async def client_for(tmp_path, vendor_server, **kwargs) -> OneRingAI:
    text = kwargs.pop("text", None) or {"default": "main", "providers": {"main": openai(vendor_server)}}
    return OneRingAI.from_config(write_config(tmp_path, text, **kwargs))


@tool
def get_weather(city: str) -> dict:
    """Weather for a city."""
    return {"city": city, "sky": "sunny"}


async def test_chat_span_and_metrics_from_yaml(tmp_path, vendor_server, telemetry: Recorded):
    model = unique()
    async with await client_for(tmp_path, vendor_server) as client:
        answer = await client.text.generate("hi", model=model, temperature=0.3, max_output_tokens=64,
                                            provider_options={"top_p": 0.9})
    assert answer == TEXT
    span = telemetry.one("chat ")
    assert span.name == f"chat {model}" and span.kind is SpanKind.CLIENT
    attributes = dict(span.attributes or {})
    port = int(vendor_server.url.rsplit(":", 1)[1])
    assert attributes == {
        "gen_ai.operation.name": "chat", "gen_ai.provider.name": "openai", "server.address": "127.0.0.1",
        "server.port": port, "oneringai.provider": "main", "gen_ai.request.model": model,
        "gen_ai.request.temperature": 0.3, "gen_ai.request.max_tokens": 64, "gen_ai.request.top_p": 0.9,
        "gen_ai.response.id": "chatcmpl-1", "gen_ai.response.model": model,
        "gen_ai.response.finish_reasons": ("stop",),
        "gen_ai.usage.input_tokens": 12, "gen_ai.usage.output_tokens": 7,
    }
    assert span.status.status_code is StatusCode.UNSET
    assert "gen_ai.input.messages" not in attributes  # content is opt-in

    duration = [p for p in telemetry.histogram_points("gen_ai.client.operation.duration")
                if p.attributes.get("gen_ai.request.model") == model]
    assert len(duration) == 1 and duration[0].count == 1 and "error.type" not in duration[0].attributes
    assert list(duration[0].explicit_bounds) == [0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56,
                                                 5.12, 10.24, 20.48, 40.96, 81.92]
    tokens = {p.attributes["gen_ai.token.type"]: p for p in telemetry.histogram_points("gen_ai.client.token.usage")
              if p.attributes.get("gen_ai.request.model") == model}
    assert (tokens["input"].sum, tokens["output"].sum) == (12, 7)
    assert tokens["input"].explicit_bounds[:3] == (1, 4, 16) and tokens["input"].explicit_bounds[-1] == 67108864
    assert telemetry.metric("gen_ai.client.token.usage").unit == "{token}"
    assert telemetry.metric("gen_ai.client.operation.duration").unit == "s"
    assert tokens["input"].attributes["gen_ai.provider.name"] == "openai"


@pytest.mark.parametrize(("kind", "path"), [("ollama", ""), ("anthropic", "")])
async def test_provider_name_is_the_configured_kind(tmp_path, vendor_server, telemetry, kind, path):
    provider = {"kind": kind, "base_url": vendor_server.url + path, "api_key": "sk-ant-" + "x" * 20}
    if kind == "ollama":
        del provider["api_key"]
    async with await client_for(tmp_path, vendor_server, text={"default": "p", "providers": {"p": provider}}) as c:
        await c.text.generate("hi", model="ok")
    span = telemetry.one("chat ok")
    assert span.attributes["gen_ai.provider.name"] == kind
    assert span.attributes["gen_ai.usage.output_tokens"] > 0


async def test_a_failed_call_has_error_type_and_status(tmp_path, vendor_server, telemetry):
    async with await client_for(tmp_path, vendor_server) as client:
        with pytest.raises(ProviderAuthError):
            await client.text.generate("hi", model="err-401")
    span = telemetry.one("chat err-401")
    assert span.status.status_code is StatusCode.ERROR
    assert span.attributes["error.type"] == "ProviderAuthError"
    assert [e.name for e in span.events] == ["exception"]
    failed = [p for p in telemetry.histogram_points("gen_ai.client.operation.duration")
              if p.attributes.get("gen_ai.request.model") == "err-401"]
    assert failed and all(p.attributes["error.type"] == "ProviderAuthError" for p in failed)


async def test_retries_are_events_of_the_one_chat_span(tmp_path, vendor_server, telemetry):
    text = {"default": "main", "providers": {"main": openai(vendor_server, max_retries=2, retry_max_wait=0.05)}}
    async with await client_for(tmp_path, vendor_server, text=text) as client:
        with pytest.raises(ProviderUnavailableError):
            await client.text.generate("hi", model="err-500")
    span = telemetry.one("chat err-500")  # one span for the logical call, retries inside it
    retries = [e for e in span.events if e.name == "oneringai.retry"]
    assert [e.attributes["oneringai.retry.attempt"] for e in retries] == [2, 3]
    assert all(e.attributes["error.type"] == "ProviderUnavailableError" for e in retries)
    assert all(e.attributes["http.response.status_code"] == 500 for e in retries)
    assert all(0 <= e.attributes["oneringai.retry.wait"] <= 0.05 for e in retries)
    assert span.attributes["error.type"] == "ProviderUnavailableError"
    assert len([r for r in vendor_server.requests if r[1]["model"] == "err-500"]) == 3


async def test_a_stream_span_covers_the_stream_and_ends_once(tmp_path, vendor_server, telemetry, caplog):
    caplog.set_level(logging.WARNING, logger="opentelemetry")
    async with await client_for(tmp_path, vendor_server) as client:
        deltas = [d async for d in client.text.stream_text("hi", model="full")]
        assert "".join(deltas).strip() == TEXT
        async for _ in client.text.stream_text("hi", model="early"):  # break after the first delta
            break
        abandoned = client.text.stream("hi", model="abandoned")
        await anext(abandoned)
        await anext(abandoned)
        del abandoned
        gc.collect()
        for _ in range(20):  # the loop's asyncgen finalizer closes it in a task
            await asyncio.sleep(0.01)
            if telemetry.named("chat abandoned"):
                break
    full = telemetry.one("chat full")
    assert full.attributes["gen_ai.response.id"] == "chatcmpl-2"
    assert full.attributes["gen_ai.usage.output_tokens"] == 7
    assert full.attributes["gen_ai.response.finish_reasons"] == ("stop",)
    assert full.end_time - full.start_time > 0
    for name in ("chat early", "chat abandoned"):
        span = telemetry.one(name)
        assert span.attributes["oneringai.stream.closed_early"] is True
        assert span.status.status_code is StatusCode.UNSET  # the consumer chose to stop
    assert not [r for r in caplog.records if "already ended" in r.getMessage() or "ended span" in r.getMessage()]


async def test_agent_run_is_one_trace_with_parallel_tools_as_children(tmp_path, vendor_server, telemetry):
    tools = {"executor": [{"kind": "cache", "ttl": 60}, {"kind": "retry", "attempts": 2}]}
    async with await client_for(tmp_path, vendor_server, tools=tools) as client:
        agent = client.agents.create(model="tools", tools=[get_weather], name="weather-bot")
        response = await agent.run("weather in Paris and Oslo?")
    assert response.output_text == TEXT
    root = telemetry.one("invoke_agent")
    assert root.name == "invoke_agent weather-bot" and root.parent is None
    assert root.attributes["gen_ai.agent.name"] == "weather-bot"
    assert root.attributes["gen_ai.provider.name"] == "openai"
    assert root.attributes["gen_ai.usage.input_tokens"] == 24
    chats, tool_spans = telemetry.named("chat "), telemetry.named("execute_tool ")
    assert len(chats) == 2 and len(tool_spans) == 2
    trace_id = root.context.trace_id
    for span in [*chats, *tool_spans]:
        assert span.context.trace_id == trace_id
        assert span.parent is not None and span.parent.span_id == root.context.span_id
    by_call = {s.attributes["gen_ai.tool.call.id"]: s for s in tool_spans}
    assert set(by_call) == {"call_a", "call_b"}
    for span in tool_spans:
        assert span.name == "execute_tool get_weather"
        assert span.attributes["gen_ai.operation.name"] == "execute_tool"
        assert span.attributes["gen_ai.tool.type"] == "function"
        assert span.attributes["gen_ai.tool.description"] == "Weather for a city."
        assert [e.name for e in span.events] == ["oneringai.tool.cache_miss"]
    # the two tool calls ran concurrently: their spans overlap in time
    a, b = by_call["call_a"], by_call["call_b"]
    assert a.start_time < b.end_time and b.start_time < a.end_time


async def test_agent_stream_keeps_the_parent_and_records_failures(tmp_path, vendor_server, telemetry):
    async with await client_for(tmp_path, vendor_server) as client:
        agent = client.agents.create(model="tools", tools=[get_weather])
        events = [e.type async for e in agent.stream("weather?")]
        assert events[-1] == "response.complete"
        failing = client.agents.create(model="err-401")
        with pytest.raises(ProviderAuthError):
            await failing.run("hi")
    ok, failed = sorted(telemetry.named("invoke_agent"), key=lambda s: s.start_time)
    assert ok.name == f"invoke_agent {agent.id}"
    assert {s.parent.span_id for s in telemetry.named("chat tools")} == {ok.context.span_id}
    assert {s.parent.span_id for s in telemetry.named("execute_tool")} == {ok.context.span_id}
    assert failed.status.status_code is StatusCode.ERROR and failed.attributes["error.type"] == "ProviderAuthError"
    assert telemetry.one("chat err-401").parent.span_id == failed.context.span_id


async def test_each_executor_decision_is_an_event_of_the_tool_span(tmp_path, vendor_server, telemetry):
    @tool
    async def hang() -> str:
        await asyncio.sleep(5)
        return "never"

    tools = {"executor": [
        {"kind": "permissions", "deny": ["forbidden"]},
        {"kind": "rate_limit", "per_minute": 1, "scope": "tool", "per_tool": {"get_weather": 1000, "hang": 1000}},
        {"kind": "cache", "ttl": 60},
        {"kind": "retry", "attempts": 2, "initial_delay": 0.01, "max_delay": 0.01},
        {"kind": "timeout", "default": 0.05},
    ]}

    @tool
    def forbidden() -> str:
        return "no"

    @tool
    def limited() -> str:
        return "once"

    async with await client_for(tmp_path, vendor_server, tools=tools) as client:
        client.tools.register(get_weather, hang, forbidden, limited)
        assert not (await client.tools.execute("get_weather", {"city": "Oslo"})).is_error
        assert (await client.tools.execute("get_weather", {"city": "Oslo"})).metadata["cache"] == "hit"
        assert (await client.tools.execute("forbidden", {})).metadata["code"] == "permission_denied"
        assert not (await client.tools.execute("limited", {})).is_error
        assert (await client.tools.execute("limited", {})).metadata["code"] == "rate_limited"
        assert (await client.tools.execute("hang", {})).metadata["code"] == "timeout"
    events = [[e.name for e in s.events] for s in sorted(telemetry.named("execute_tool"), key=lambda s: s.start_time)]
    assert events == [
        ["oneringai.tool.cache_miss"],
        ["oneringai.tool.cache_hit"],
        ["oneringai.tool.denied"],
        ["oneringai.tool.cache_miss"],
        ["oneringai.tool.rate_limited"],
        ["oneringai.tool.cache_miss", "oneringai.tool.timeout", "oneringai.tool.retry", "oneringai.tool.timeout"],
    ]
    spans = sorted(telemetry.named("execute_tool"), key=lambda s: s.start_time)
    assert spans[1].attributes["oneringai.tool.cache"] == "hit"
    assert spans[2].attributes["error.type"] == "permission_denied"
    assert spans[2].status.status_code is StatusCode.ERROR
    assert spans[4].events[0].attributes["oneringai.rate_limit.scope"] == "tool"
    assert spans[5].attributes["error.type"] == "timeout" and spans[5].attributes["oneringai.tool.attempts"] == 2


async def test_oauth_refresh_span_names_the_outcome_never_the_token(tmp_path, vendor_server, telemetry):
    server = OAuthTestServer().start()
    try:
        base = {"flow": "client_credentials", "client_id": "svc", "token_url": f"{server.url}/token"}
        oauth = {"storage": {"kind": "memory"}, "connections": {
            "svc": {**base, "client_secret": "svc-secret"}, "bad": {**base, "client_secret": "wrong-secret-value"}}}
        async with await client_for(tmp_path, vendor_server, oauth=oauth) as client:
            token = await client.oauth("svc").get_token()
            assert await client.oauth("svc").get_token() == token  # cached: no second refresh
            with pytest.raises(OAuthError):
                await client.oauth("bad").get_token()
    finally:
        server.stop()
    ok, bad = telemetry.one("oauth.refresh svc"), telemetry.one("oauth.refresh bad")
    assert ok.attributes["oneringai.oauth.outcome"] == "refreshed"
    assert ok.attributes["oneringai.oauth.grant_type"] == "client_credentials"
    assert bad.attributes["oneringai.oauth.outcome"] == "failed"
    assert bad.attributes["error.type"] == "OAuthError" and bad.status.status_code is StatusCode.ERROR
    for span in (ok, bad):
        text = " ".join(str(v) for v in [*span.attributes.values(), *[a for e in span.events for a in e.attributes.values()]])
        assert token not in text and "svc-secret" not in text and "wrong-secret-value" not in text


async def test_content_is_captured_only_when_asked_and_in_the_conventions_shape(tmp_path, vendor_server, telemetry):
    observability = {"tracing": True, "metrics": False, "capture_content": True}
    async with await client_for(tmp_path, vendor_server, observability=observability) as client:
        await client.text.generate("Weather in Paris?", model="content", instructions="Be brief.")
    span = telemetry.one("chat content")
    assert json.loads(span.attributes["gen_ai.input.messages"]) == [
        {"role": "user", "parts": [{"type": "text", "content": "Weather in Paris?"}]}]
    assert json.loads(span.attributes["gen_ai.system_instructions"]) == [{"type": "text", "content": "Be brief."}]
    assert json.loads(span.attributes["gen_ai.output.messages"]) == [
        {"role": "assistant", "parts": [{"type": "text", "content": TEXT}], "finish_reason": "stop"}]
    assert telemetry.histogram_points("gen_ai.client.operation.duration") == [] or all(
        p.attributes.get("gen_ai.request.model") != "content"
        for p in telemetry.histogram_points("gen_ai.client.operation.duration"))


async def test_off_by_default_nothing_is_wrapped_or_recorded(tmp_path, vendor_server, telemetry):
    async with await client_for(tmp_path, vendor_server, observability={}) as client:
        assert client.container.telemetry() is NOOP_TELEMETRY
        provider = await client.text.resolve()
        assert type(provider).__name__ == "OpenAITextProvider" and isinstance(provider, ITextProvider)
        assert type(client.agents.executor).__name__ == "DirectToolExecutor"
        await client.text.generate("hi", model="quiet")
    assert telemetry.spans() == []


async def test_a_synchronous_tools_own_span_nests_under_its_tool_span(tmp_path, vendor_server, telemetry):
    from opentelemetry import trace

    tracer = trace.get_tracer("user-code")

    @tool
    def lookup(city: str) -> str:
        """Runs in the tool thread pool."""
        import threading

        with tracer.start_as_current_span("user.lookup") as span:
            span.set_attribute("thread", threading.current_thread().name)
        return city

    async with await client_for(tmp_path, vendor_server) as client:
        client.tools.register(lookup)
        assert (await client.tools.execute("lookup", {"city": "Oslo"})).output == "Oslo"
    tool_span, user_span = telemetry.one("execute_tool lookup"), telemetry.one("user.lookup")
    assert user_span.attributes["thread"].startswith("oneringai-tool")
    assert user_span.parent.span_id == tool_span.context.span_id


async def test_provider_instances_passed_in_are_observed_too(telemetry):
    from oneringai.config import Settings
    from oneringai.testing import ScriptedTextProvider

    fake = ScriptedTextProvider(["Hello!"])
    settings = Settings.model_validate({"text": {"default": None, "providers": {}},
                                        "oauth": {"storage": {"kind": "memory"}}, "observability": {"tracing": True}})
    async with OneRingAI(providers={"mine": fake}, settings=settings) as client:
        assert await client.text.generate("hi", provider="mine", model="any") == "Hello!"
        served = await client.text.resolve("mine")
        assert served is not fake and served.inner is fake and served.name == fake.name
    span = telemetry.one("chat any")
    assert span.attributes["oneringai.provider"] == "mine"
    assert span.attributes["gen_ai.provider.name"] == type(fake).name


#: Every ``gen_ai.*`` name the kit may emit, each defined by the GenAI semantic conventions
#: (1.37+): the ``gen_ai`` namespace belongs to them, so a name of our own must be ``oneringai.*``.
SEMCONV_GEN_AI = frozenset({
    "gen_ai.operation.name", "gen_ai.provider.name", "gen_ai.request.model", "gen_ai.request.temperature",
    "gen_ai.request.max_tokens", "gen_ai.request.stop_sequences", "gen_ai.request.top_p", "gen_ai.request.top_k",
    "gen_ai.request.seed", "gen_ai.request.frequency_penalty", "gen_ai.request.presence_penalty",
    "gen_ai.output.type", "gen_ai.response.id", "gen_ai.response.model", "gen_ai.response.finish_reasons",
    "gen_ai.usage.input_tokens", "gen_ai.usage.output_tokens", "gen_ai.token.type",
    "gen_ai.input.messages", "gen_ai.output.messages", "gen_ai.system_instructions",
    "gen_ai.tool.name", "gen_ai.tool.call.id", "gen_ai.tool.type", "gen_ai.tool.description",
    "gen_ai.tool.call.arguments", "gen_ai.tool.call.result", "gen_ai.agent.id", "gen_ai.agent.name",
})


async def test_every_gen_ai_name_is_one_the_conventions_define(tmp_path, vendor_server, telemetry):
    """Before: provider retries were ``gen_ai.retry`` events with ``gen_ai.retry.attempt`` /
    ``.wait`` — names the conventions do not define, in the namespace they own."""
    text = {"default": "main", "providers": {"main": openai(vendor_server, max_retries=1, retry_max_wait=0.01)}}
    async with await client_for(tmp_path, vendor_server, text=text, observability={
            "tracing": True, "metrics": True, "capture_content": True}) as client:
        with pytest.raises(ProviderUnavailableError):
            await client.text.generate("hi", model="err-500")
        agent = client.agents.create(model="tools", tools=[get_weather], name="bot")
        await agent.run("weather?")
        async for _ in client.text.stream("hi", model="ok"):
            pass
    names: set[str] = set()
    for span in telemetry.spans():
        names.update(span.attributes or {})
        for event in span.events:
            names.add(event.name)
            names.update(event.attributes or {})
    for metric in ("gen_ai.client.operation.duration", "gen_ai.client.token.usage"):
        for point in telemetry.histogram_points(metric):
            names.update(point.attributes or {})
    ours = {name for name in names if name.startswith("gen_ai.")}
    assert "gen_ai.tool.call.arguments" in ours and "gen_ai.input.messages" in ours  # the run was recorded
    assert ours <= SEMCONV_GEN_AI, sorted(ours - SEMCONV_GEN_AI)
    assert any(e.name == "oneringai.retry" for s in telemetry.spans() for e in s.events)
