"""Spans and metrics of an agent run, printed to the console by the OpenTelemetry SDK.

The kit only needs ``opentelemetry-api``; the SDK and its exporters are the application's
choice (the otel extra, ``.venv/bin/pip install -e '.[otel]'`` in the checkout). Here: spans to
the console as they end, metrics read once at the end. ``observability:`` in examples/otel.yaml switches the kit's telemetry on;
the ``resilient`` provider is a fallback whose first member is down, so the trace shows a
failed attempt and the one that answered. For a collector, swap the exporters::

    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))  # OTEL_EXPORTER_OTLP_ENDPOINT

Run: .venv/bin/python examples/otel_console.py
"""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

from opentelemetry import metrics, trace
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import ConsoleSpanExporter, SimpleSpanProcessor

sys.path.insert(0, str(Path(__file__).parent))

from _local_llm import local_llm

from oneringai import OneRingAI, tool

SHOWN = ("gen_ai.provider.name", "oneringai.provider", "gen_ai.tool.name", "gen_ai.usage.input_tokens",
         "gen_ai.usage.output_tokens", "gen_ai.response.finish_reasons", "error.type", "oneringai.fallback.served_by")


def one_line(span: ReadableSpan) -> str:
    """A compact line per span (the exporter's default prints each span as JSON)."""
    attributes = span.attributes or {}
    shown = " ".join(f"{key}={attributes[key]}" for key in SHOWN if key in attributes)
    events = ",".join(event.name for event in span.events)
    parent = f" parent={span.parent.span_id:016x}" if span.parent else ""
    took = ((span.end_time or 0) - (span.start_time or 0)) / 1e6
    return (f"span {span.context.span_id:016x}{parent} [{span.kind.name}] {span.name} "
            f"{took:.1f} ms {shown}{' events=' + events if events else ''}\n")


@tool
def get_weather(city: str) -> dict[str, str]:
    """Current weather for a city."""
    return {"city": city, "sky": "sunny"}


async def main() -> None:
    tracer_provider = TracerProvider()
    tracer_provider.add_span_processor(SimpleSpanProcessor(ConsoleSpanExporter(formatter=one_line)))
    trace.set_tracer_provider(tracer_provider)
    reader = InMemoryMetricReader()
    metrics.set_meter_provider(MeterProvider(metric_readers=[reader]))

    async with local_llm() as url:
        os.environ["LOCAL_LLM_URL"] = url
        async with OneRingAI.from_config(Path(__file__).parent / "otel.yaml") as client:
            agent = client.agents.create(tools=[get_weather], name="weather-bot")
            response = await agent.run("What is the weather in Paris?")
            print("answer:", response.output_text, f"(served by {response.provider})")

    data = reader.get_metrics_data()
    for scope in data.resource_metrics[0].scope_metrics if data else ():
        for metric in scope.metrics:
            for point in metric.data.data_points:
                labels = {k: v for k, v in point.attributes.items() if k in ("gen_ai.token.type", "error.type")}
                print(f"metric {metric.name} [{metric.unit}] count={point.count} sum={point.sum:.4g} {labels}")
    tracer_provider.shutdown()


if __name__ == "__main__":
    asyncio.run(main())
