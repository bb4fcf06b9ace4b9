"""The OpenTelemetry SDK installed once per test process, with in-memory span and metric
readers, as an application would install its own: the kit itself only talks to the API.

OpenTelemetry lets a process set its global providers once, so every test shares them; the
``telemetry`` fixture clears what earlier tests recorded and hands out the readers.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from opentelemetry import metrics, trace
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter


@dataclass
class Recorded:
    exporter: InMemorySpanExporter
    reader: InMemoryMetricReader

    def spans(self) -> list[ReadableSpan]:
        return list(self.exporter.get_finished_spans())

    def named(self, prefix: str) -> list[ReadableSpan]:
        return [s for s in self.spans() if s.name.startswith(prefix)]

    def one(self, prefix: str) -> ReadableSpan:
        found = self.named(prefix)
        assert len(found) == 1, [s.name for s in self.spans()]
        return found[0]

    def histogram_points(self, name: str) -> list[Any]:
        data = self.reader.get_metrics_data()
        points: list[Any] = []
        for resource in data.resource_metrics if data else ():
            for scope in resource.scope_metrics:
                for metric in scope.metrics:
                    if metric.name == name:
                        points.extend(metric.data.data_points)
        return points

    def metric(self, name: str) -> Any:
        data = self.reader.get_metrics_data()
        for resource in data.resource_metrics if data else ():
            for scope in resource.scope_metrics:
                for metric in scope.metrics:
                    if metric.name == name:
                        return metric
        return None


_INSTALLED: list[Recorded] = []


def install() -> Recorded:
    """The process-wide SDK providers (installed on first call)."""
    if not _INSTALLED:
        exporter = InMemorySpanExporter()
        tracer_provider = TracerProvider()
        tracer_provider.add_span_processor(SimpleSpanProcessor(exporter))
        trace.set_tracer_provider(tracer_provider)
        reader = InMemoryMetricReader()
        metrics.set_meter_provider(MeterProvider(metric_readers=[reader]))
        _INSTALLED.append(Recorded(exporter, reader))
    return _INSTALLED[0]


def recording() -> Iterator[Recorded]:
    """Body of each test module's ``telemetry`` fixture: the readers, emptied before and after."""
    recorded = install()
    recorded.exporter.clear()
    recorded.reader.get_metrics_data()  # drain: cumulative points stay, so tests compare by attributes
    yield recorded
    recorded.exporter.clear()


def every_string(span: ReadableSpan) -> list[str]:
    """Every string a span carries: name, status, attribute values, event names and attributes."""
    strings = [span.name, span.status.description or ""]
    for attributes in [span.attributes or {}, *[e.attributes or {} for e in span.events]]:
        for key, value in attributes.items():
            strings.append(key)
            values = value if isinstance(value, list | tuple) else [value]
            strings.extend(str(v) for v in values)
    strings.extend(e.name for e in span.events)
    return strings


def write_config(tmp_path: Path, text: dict[str, Any], *, observability: dict[str, Any] | None = None,
                 tools: dict[str, Any] | None = None, oauth: dict[str, Any] | None = None) -> Path:
    """A YAML file (JSON is YAML) with an in-memory token store."""
    config: dict[str, Any] = {
        "text": text,
        "oauth": oauth or {"storage": {"kind": "memory"}},
        "observability": observability if observability is not None else {"tracing": True, "metrics": True},
    }
    if tools is not None:
        config["tools"] = tools
    path = tmp_path / "oneringai.yaml"
    path.write_text(json.dumps(config))
    return path
