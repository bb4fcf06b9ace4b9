"""Per-call CPU cost of observability (µs): off (the default) and on, with the OpenTelemetry SDK
and in-memory exporters, against the same call without instrumentation.

In-process fakes (a provider that returns a ready response, a tool that adds two numbers) keep
the network out, so the figures are the instrumentation alone:

* chat: ``provider.generate`` bare; as the kit calls it with ``observability`` off (the registry
  hands out the provider itself: nothing to pay); wrapped with the no-op telemetry (the floor of
  the wrapper); the SDK floor (the same span and three histogram records made directly on the
  SDK: what any conventions-following instrumentation pays); with tracing + metrics on the SDK
  (a CLIENT span, ~15 attributes, 3 histogram records);
* stream: the same for a 10-event stream (one span for the whole stream);
* tool: the direct executor bare; with the ``execute_tool`` span layer on the SDK;
* agent turn (model answers at once): the agent with the no-op telemetry (its span calls are
  no-ops) and on the SDK (``invoke_agent`` + ``chat`` spans).

    .venv/bin/python benchmarks/observability_overhead.py [--calls N]
"""

from __future__ import annotations

import argparse
import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from oneringai import ToolExecutionContext
from oneringai.application.agents.agent import Agent
from oneringai.application.observability.provider import ObservedTextProvider
from oneringai.application.tools import DirectToolExecutor, tool
from oneringai.domain.capabilities import ModelCapabilities
from oneringai.domain.content import Message
from oneringai.domain.events import (
    OutputTextDeltaEvent,
    ResponseCompleteEvent,
    ResponseCreatedEvent,
    StreamEvent,
)
from oneringai.domain.interfaces import ITextProvider
from oneringai.domain.options import TextGenerateOptions
from oneringai.domain.response import LLMResponse, Usage
from oneringai.domain.telemetry import NOOP_SPAN, NOOP_TELEMETRY, Telemetry, span_event
from oneringai.infrastructure.observability.config import ObservabilitySettings
from oneringai.infrastructure.observability.otel import OpenTelemetry
from oneringai.infrastructure.tool_executors.observed import ObservedToolExecutor
from oneringai.testing import tool_call

RESPONSE = LLMResponse(
    id="chatcmpl-1", model="gpt-4o-mini", output=[Message.assistant("Hello.")],
    usage=Usage(input_tokens=12, output_tokens=7, total_tokens=19), stop_reason="complete", raw_stop_reason="stop",
)
EVENTS: list[StreamEvent] = [
    ResponseCreatedEvent(response_id="chatcmpl-1", model="gpt-4o-mini"),
    *[OutputTextDeltaEvent(delta="tick ") for _ in range(8)],
    ResponseCompleteEvent(response=RESPONSE),
]


class FakeProvider(ITextProvider):
    name = "fake"

    class config:
        kind = "openai"
        base_url = "https://api.openai.com/v1"

    async def validate_config(self) -> bool:
        return True

    async def generate(self, options: TextGenerateOptions) -> LLMResponse:
        return RESPONSE

    async def stream_generate(self, options: TextGenerateOptions) -> AsyncIterator[StreamEvent]:
        for event in EVENTS:
            yield event

    def get_model_capabilities(self, model: str) -> ModelCapabilities:
        return ModelCapabilities()


@tool(cacheable=False)
async def add(a: int, b: int) -> int:
    return a + b


def sdk_telemetry(tracing: bool = True, metrics: bool = True) -> tuple[Telemetry, InMemorySpanExporter]:
    exporter = InMemorySpanExporter()
    tracer_provider = TracerProvider()
    tracer_provider.add_span_processor(SimpleSpanProcessor(exporter))
    meter_provider = MeterProvider(metric_readers=[InMemoryMetricReader()])
    settings = ObservabilitySettings(tracing=tracing, metrics=metrics)
    return OpenTelemetry(settings, tracer_provider=tracer_provider, meter_provider=meter_provider), exporter


async def per_call(call: Callable[[], Awaitable[Any]], calls: int, exporter: InMemorySpanExporter | None) -> float:
    for _ in range(200):
        await call()
    if exporter is not None:
        exporter.clear()
    started = time.process_time()
    for _ in range(calls):
        await call()
    elapsed = time.process_time() - started
    if exporter is not None:
        exporter.clear()  # the in-memory exporter keeps every span: drop them between rounds
    return elapsed / calls * 1e6


def noop_floor(calls: int) -> float:
    """What the kit's off path adds to a call at most: a span start, two activations, an event
    from a decorator, the recording check and an end — all on the no-op telemetry."""
    telemetry = NOOP_TELEMETRY
    started = time.process_time()
    for _ in range(calls):
        span = telemetry.start_span("x")
        with telemetry.activate(span):
            span_event("oneringai.tool.cache_miss")
        with telemetry.activate(span):
            pass
        if span.recording:
            pass
        span.end()
    assert span is NOOP_SPAN
    return (time.process_time() - started) / calls * 1e6


class SdkFloor:
    """What any instrumentation of a chat call after the conventions pays the SDK: one CLIENT span
    with the same attributes, set the same way, and the three histogram records."""

    def __init__(self, telemetry: Any) -> None:
        from opentelemetry.trace import SpanKind

        self.tracer, self.meter, self.kind = telemetry._tracer, telemetry._meter, SpanKind.CLIENT
        self.duration = self.meter.create_histogram("floor.duration", unit="s")
        self.tokens = self.meter.create_histogram("floor.tokens", unit="{token}")
        self.start = {"gen_ai.operation.name": "chat", "gen_ai.provider.name": "openai",
                      "server.address": "api.openai.com", "server.port": 443, "oneringai.provider": "fake",
                      "gen_ai.request.model": "gpt-4o-mini", "gen_ai.request.temperature": 0.2,
                      "gen_ai.request.max_tokens": 64}
        self.end = {"gen_ai.response.id": "chatcmpl-1", "gen_ai.response.model": "gpt-4o-mini",
                    "gen_ai.response.finish_reasons": ["stop"], "gen_ai.usage.input_tokens": 12,
                    "gen_ai.usage.output_tokens": 7}
        self.metric = {k: v for k, v in self.start.items() if k not in (
            "oneringai.provider", "gen_ai.request.temperature", "gen_ai.request.max_tokens")}
        self.metric["gen_ai.response.model"] = "gpt-4o-mini"

    async def generate(self, options: TextGenerateOptions) -> LLMResponse:
        span = self.tracer.start_span("chat gpt-4o-mini", kind=self.kind, attributes=self.start)
        response = RESPONSE
        span.set_attributes(self.end)
        span.end()
        self.duration.record(0.001, self.metric)
        self.tokens.record(12, {**self.metric, "gen_ai.token.type": "input"})
        self.tokens.record(7, {**self.metric, "gen_ai.token.type": "output"})
        return response


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--calls", type=int, default=5000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    sdk, exporter = sdk_telemetry()
    bare = FakeProvider()
    noop_wrapped = ObservedTextProvider(FakeProvider(), name="fake", telemetry=NOOP_TELEMETRY)
    traced = ObservedTextProvider(FakeProvider(), name="fake", telemetry=sdk)
    floor = SdkFloor(sdk)
    spans_only, spans_exporter = sdk_telemetry(metrics=False)
    metrics_only, _ = sdk_telemetry(tracing=False)
    traced_spans = ObservedTextProvider(FakeProvider(), name="fake", telemetry=spans_only)
    traced_metrics = ObservedTextProvider(FakeProvider(), name="fake", telemetry=metrics_only)
    options = TextGenerateOptions(model="gpt-4o-mini", input="hi", temperature=0.2, max_output_tokens=64)

    async def drain(provider: ITextProvider) -> None:
        async for _ in provider.stream_generate(options):
            pass

    context = ToolExecutionContext(tools=[add], user_id="u")
    call = tool_call("add", a=1, b=2)
    direct = DirectToolExecutor()
    traced_tools = ObservedToolExecutor(DirectToolExecutor(), telemetry=sdk)
    agents = {
        name: Agent(provider=FakeProvider(), model="gpt-4o-mini", executor=DirectToolExecutor(), telemetry=t)
        for name, t in (("off", NOOP_TELEMETRY), ("sdk", sdk))
    }
    agents["sdk"]._provider = ObservedTextProvider(FakeProvider(), name="fake", telemetry=sdk)

    async def turn(agent: Agent) -> None:
        agent.messages.clear()
        await agent.run("hi")

    cases: dict[str, dict[str, tuple[Callable[[], Awaitable[Any]], InMemorySpanExporter | None]]] = {
        "chat generate": {
            "bare": (lambda: bare.generate(options), None),
            "off (kit default)": (lambda: bare.generate(options), None),
            "wrapper, no-op telemetry": (lambda: noop_wrapped.generate(options), None),
            "SDK floor (span+3 records)": (lambda: floor.generate(options), exporter),
            "on, SDK in-memory": (lambda: traced.generate(options), exporter),
            "on, tracing only": (lambda: traced_spans.generate(options), spans_exporter),
            "on, metrics only": (lambda: traced_metrics.generate(options), None),
        },
        "chat stream (10 events)": {
            "bare": (lambda: drain(bare), None),
            "off (kit default)": (lambda: drain(bare), None),
            "wrapper, no-op telemetry": (lambda: drain(noop_wrapped), None),
            "on, SDK in-memory": (lambda: drain(traced), exporter),
        },
        "tool execute": {
            "bare": (lambda: direct.execute_tool(call, context), None),
            "off (kit default)": (lambda: direct.execute_tool(call, context), None),
            "on, SDK in-memory": (lambda: traced_tools.execute_tool(call, context), exporter),
        },
        "agent turn (no tools)": {
            "bare": (lambda: turn(agents["off"]), None),
            "on, SDK in-memory": (lambda: turn(agents["sdk"]), exporter),
        },
    }
    print(f"{'path':24} {'variant':28} {'µs/call':>9} {'overhead':>10} {'ratio':>7}")
    for path, variants in cases.items():
        results: dict[str, list[float]] = {name: [] for name in variants}
        for _ in range(args.rounds):  # alternate contenders; keep each one's least-disturbed round
            for name, (function, recorder) in variants.items():
                results[name].append(await per_call(function, args.calls, recorder))
        base = min(results["bare"])
        for name, values in results.items():
            best = min(values)
            print(f"{path:24} {name:28} {best:9.2f} {best - base:+9.2f}  {best / base:6.2f}x")
    noop = min(noop_floor(args.calls * 10) for _ in range(args.rounds))
    print(f"{'off path, per call':24} {'no-op span+2 activations':26} {noop:9.2f}")


if __name__ == "__main__":
    asyncio.run(main())
