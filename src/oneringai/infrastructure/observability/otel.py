"""``Telemetry`` on the OpenTelemetry API.

Only ``opentelemetry-api`` is needed: spans and measurements go to the tracer and meter
providers the application installed (the SDK with its exporters is the application's choice,
the otel extra); with none installed the API's own no-op absorbs them.
Tests and benchmarks may pass providers explicitly instead of installing global ones.

* Exceptions are recorded without OpenTelemetry's ``record_exception``: its message and stack
  trace are vendor text, so both pass through ``redaction.redact`` (bounded in length) here.
* ``activate`` makes a span current for the kit (``domain.telemetry.CURRENT_SPAN``) and for
  OpenTelemetry (so an instrumented HTTP client or a user's own spans nest under it).
"""

from __future__ import annotations

import traceback
from collections.abc import Sequence
from contextlib import AbstractContextManager
from contextvars import Token
from importlib import metadata
from types import TracebackType
from typing import Any

from opentelemetry import context as otel_context
from opentelemetry import metrics as otel_metrics
from opentelemetry import trace as otel_trace
from opentelemetry.trace import Status, StatusCode

from oneringai.domain.redaction import redact
from oneringai.domain.telemetry import (
    CURRENT_SPAN,
    NOOP_SPAN,
    Attributes,
    AttributeValue,
    Histogram,
    Span,
    SpanKind,
    Telemetry,
)
from oneringai.infrastructure.observability.config import ObservabilitySettings

__all__ = ["OpenTelemetry"]

#: The semantic conventions the attributes follow (gen_ai.provider.name is from 1.37 on).
SCHEMA_URL = "https://opentelemetry.io/schemas/1.37.0"
_MAX_MESSAGE = 1024
_MAX_STACK = 4096
_KINDS = {SpanKind.INTERNAL: otel_trace.SpanKind.INTERNAL, SpanKind.CLIENT: otel_trace.SpanKind.CLIENT}


def _version() -> str:
    try:
        return metadata.version("oneringai")
    except metadata.PackageNotFoundError:  # pragma: no cover - running from a bare checkout
        return "0"


class _OTelSpan(Span):
    __slots__ = ("_ended", "span")
    recording = True

    def __init__(self, span: otel_trace.Span) -> None:
        self.span = span
        self._ended = False

    def set_attribute(self, key: str, value: AttributeValue) -> None:
        self.span.set_attribute(key, value)

    def set_attributes(self, attributes: Attributes) -> None:
        self.span.set_attributes(attributes)

    def add_event(self, name: str, attributes: Attributes | None = None) -> None:
        self.span.add_event(name, attributes)

    def set_error(self, error_type: str, message: str = "") -> None:
        self.span.set_attribute("error.type", error_type)
        self.span.set_status(Status(StatusCode.ERROR, redact(message)[:_MAX_MESSAGE] or error_type))

    def record_error(self, error: BaseException, *, error_type: str | None = None) -> None:
        message = redact(str(error))[:_MAX_MESSAGE]
        self.span.set_attribute("error.type", error_type or type(error).__name__)
        self.span.set_status(Status(StatusCode.ERROR, message or type(error).__name__))
        stack = "".join(traceback.format_exception(type(error), error, error.__traceback__))
        self.span.add_event(
            "exception",
            {
                "exception.type": f"{type(error).__module__}.{type(error).__qualname__}",
                "exception.message": message,
                "exception.stacktrace": redact(stack)[-_MAX_STACK:],
            },
        )

    def end(self) -> None:
        if not self._ended:
            self._ended = True
            self.span.end()


class _Activation:
    """Makes a span current for the kit and for OpenTelemetry; resets both on exit."""

    __slots__ = ("_otel_token", "_span", "_token")

    def __init__(self, span: _OTelSpan) -> None:
        self._span = span
        self._token: Token[Span] | None = None
        self._otel_token: Token[Any] | None = None

    def __enter__(self) -> None:
        self._token = CURRENT_SPAN.set(self._span)
        self._otel_token = otel_context.attach(otel_trace.set_span_in_context(self._span.span))

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._otel_token is not None:
            otel_context.detach(self._otel_token)
        if self._token is not None:
            CURRENT_SPAN.reset(self._token)


class _OTelHistogram(Histogram):
    __slots__ = ("_histogram",)

    def __init__(self, histogram: otel_metrics.Histogram) -> None:
        self._histogram = histogram

    def record(self, value: float, attributes: Attributes | None = None) -> None:
        self._histogram.record(value, attributes)


class OpenTelemetry(Telemetry):
    """Spans through a tracer named ``oneringai``, histograms through a meter of that name."""

    def __init__(
        self,
        settings: ObservabilitySettings | None = None,
        *,
        tracer_provider: otel_trace.TracerProvider | None = None,
        meter_provider: otel_metrics.MeterProvider | None = None,
    ) -> None:
        settings = settings or ObservabilitySettings(tracing=True, metrics=True)
        self.tracing = settings.tracing
        self.metrics = settings.metrics
        self.capture_content = settings.capture_content
        self.max_content_chars = settings.max_content_chars
        version = _version()
        self._tracer = otel_trace.get_tracer(
            "oneringai", version, tracer_provider=tracer_provider, schema_url=SCHEMA_URL
        )
        self._meter = otel_metrics.get_meter(
            "oneringai", version, meter_provider=meter_provider, schema_url=SCHEMA_URL
        )
        self._histograms: dict[str, Histogram] = {}

    def start_span(
        self, name: str, *, kind: SpanKind = SpanKind.INTERNAL, attributes: Attributes | None = None
    ) -> Span:
        if not self.tracing:
            return NOOP_SPAN
        return _OTelSpan(self._tracer.start_span(name, kind=_KINDS[kind], attributes=attributes))

    def activate(self, span: Span) -> AbstractContextManager[None]:
        if type(span) is _OTelSpan:
            return _Activation(span)
        return super().activate(span)

    def histogram(
        self, name: str, *, unit: str, description: str, boundaries: Sequence[float] | None = None
    ) -> Histogram:
        if not self.metrics:
            return super().histogram(name, unit=unit, description=description)
        found = self._histograms.get(name)
        if found is None:
            found = self._histograms[name] = _OTelHistogram(
                self._meter.create_histogram(
                    name,
                    unit=unit,
                    description=description,
                    explicit_bucket_boundaries_advisory=boundaries,
                )
            )
        return found

    def __repr__(self) -> str:
        return (
            f"OpenTelemetry(tracing={self.tracing}, metrics={self.metrics}, "
            f"capture_content={self.capture_content})"
        )
