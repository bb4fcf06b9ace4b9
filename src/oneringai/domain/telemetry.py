"""The observability port: spans and histograms, with a no-op that costs next to nothing.

The application and infrastructure describe what happens (a model call, a tool execution, a
token refresh) through this port; an implementation records it. The base classes here *are*
the no-op implementation, so code that was given no telemetry pays one attribute lookup and
an empty call. ``oneringai.infrastructure.observability`` implements the port on OpenTelemetry;
the container binds one or the other from the ``observability:`` YAML section.

Contract of a ``Span``:

* ``end()`` ends it exactly once, however often it is called (a stream closed early, then
  garbage-collected, ends its span once);
* attribute values are OpenTelemetry's primitive types (str, bool, int, float, or a sequence of
  one of them); callers pass text that may hold vendor data through ``redaction.redact`` first;
* ``record_error`` sets ``error.type`` and the error status; its message is scrubbed.

``current_span()`` is the span the running code belongs to (a context variable, so it follows
asyncio tasks and the tool thread pool). Deep code with no telemetry object in hand — the
provider retry loop, each tool-executor decorator — adds events to it with ``span_event``;
outside any span that is the no-op span.

Spans are made current only around awaits, never across the ``yield`` of an async generator:
``with telemetry.activate(span): await ...``. A context variable set inside a generator and
left set over a ``yield`` would leak into the consumer and could not be reset from another task.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from contextlib import AbstractContextManager
from contextvars import ContextVar
from enum import Enum
from types import TracebackType
from typing import ClassVar

__all__ = [
    "CURRENT_SPAN",
    "NOOP_SPAN",
    "NOOP_TELEMETRY",
    "AttributeValue",
    "Attributes",
    "Histogram",
    "Span",
    "SpanKind",
    "Telemetry",
    "current_span",
    "span_event",
]

AttributeValue = str | bool | int | float | Sequence[str] | Sequence[bool] | Sequence[int] | Sequence[float]
Attributes = Mapping[str, AttributeValue]


class SpanKind(Enum):
    """The two kinds the kit emits: CLIENT for calls over the network, INTERNAL otherwise."""

    INTERNAL = "internal"
    CLIENT = "client"


class Span:
    """A span handle. This base class is the no-op span: every method does nothing."""

    __slots__ = ()
    #: False for the no-op span: callers may skip building attributes nobody records.
    recording: ClassVar[bool] = False

    def set_attribute(self, key: str, value: AttributeValue) -> None:
        """Set one attribute (never None: leave an unknown attribute out)."""

    def set_attributes(self, attributes: Attributes) -> None:
        """Set several attributes."""

    def add_event(self, name: str, attributes: Attributes | None = None) -> None:
        """Record that something happened at this moment (a retry, a cache hit, a denial)."""

    def record_error(self, error: BaseException, *, error_type: str | None = None) -> None:
        """Mark the span failed by an exception: ``error.type`` (default: its class name), status
        ERROR, and an ``exception`` event (message and stack scrubbed of secrets)."""

    def set_error(self, error_type: str, message: str = "") -> None:
        """Mark the span failed without an exception (an error result): ``error.type`` and
        status ERROR with ``message`` (scrubbed) as its description."""

    def end(self) -> None:
        """End the span; idempotent."""


class _NullActivation:
    """``activate`` of the no-op telemetry: a reusable context manager that does nothing."""

    __slots__ = ()

    def __enter__(self) -> None:
        return None

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        return None


class Histogram:
    """A histogram instrument. This base class records nothing."""

    __slots__ = ()

    def record(self, value: float, attributes: Attributes | None = None) -> None:
        """Record one measurement."""


NOOP_SPAN = Span()
_NOOP_HISTOGRAM = Histogram()
_NULL_ACTIVATION = _NullActivation()

#: The span the running code belongs to. Implementations set it in ``activate``.
CURRENT_SPAN: ContextVar[Span] = ContextVar("oneringai_current_span", default=NOOP_SPAN)


class Telemetry:
    """The port. This base class is the no-op implementation (``NOOP_TELEMETRY``).

    ``tracing`` / ``metrics`` say what an implementation records; ``capture_content`` whether
    prompts, completions and tool arguments may be recorded (opt-in, never by default).
    """

    tracing: bool = False
    metrics: bool = False
    capture_content: bool = False
    #: Longest text recorded per message part when ``capture_content`` is on.
    max_content_chars: int = 0

    @property
    def enabled(self) -> bool:
        """True when anything at all is recorded (callers may skip wrapping otherwise)."""
        return self.tracing or self.metrics

    def start_span(
        self, name: str, *, kind: SpanKind = SpanKind.INTERNAL, attributes: Attributes | None = None
    ) -> Span:
        """A started span, child of the current one. It is not made current: see ``activate``."""
        return NOOP_SPAN

    def activate(self, span: Span) -> AbstractContextManager[None]:
        """A context manager that makes ``span`` current for the code inside it (and for
        tasks and tool threads started there). Use it around awaits, never across a yield."""
        return _NULL_ACTIVATION

    def histogram(
        self, name: str, *, unit: str, description: str, boundaries: Sequence[float] | None = None
    ) -> Histogram:
        """A histogram instrument (``boundaries``: the explicit bucket boundaries advised)."""
        return _NOOP_HISTOGRAM


NOOP_TELEMETRY = Telemetry()


def current_span() -> Span:
    """The span the running code belongs to, or the no-op span."""
    return CURRENT_SPAN.get()


def span_event(name: str, attributes: Attributes | None = None) -> None:
    """Add an event to the current span: a no-op outside any recorded span."""
    CURRENT_SPAN.get().add_event(name, attributes)
