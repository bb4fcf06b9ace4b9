"""A text provider seen through telemetry: one ``chat {model}`` CLIENT span and the two GenAI
histograms per model call, whatever provider (built-in, plugin or user instance) is inside.

The provider registry wraps every provider it hands out when the telemetry records anything
(``observe_text_provider``); with telemetry off nothing is wrapped and nothing is paid.

For a stream the span covers the whole stream, from the first ``__anext__`` to the end: the
last event, an error, ``aclose()``/``break``, cancellation, or the garbage collector closing
an abandoned stream — the span ends exactly once on each of these paths. Retries inside the
provider are events of this span (the retry loop adds them to the current span).
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable
from typing import Any

from oneringai.application.guide_spelling import checked_stream, require_llm_response
from oneringai.application.observability.genai import (
    REQUEST_MODEL,
    GenAIMetrics,
    input_messages,
    output_messages,
    provider_attributes,
    request_attributes,
    response_attributes,
    system_instructions,
    vendor_text,
)
from oneringai.domain.capabilities import ModelCapabilities, ProviderCapabilities
from oneringai.domain.events import ResponseCompleteEvent, ResponseCreatedEvent, StreamEvent
from oneringai.domain.interfaces import ITextProvider
from oneringai.domain.options import TextGenerateOptions
from oneringai.domain.response import LLMResponse
from oneringai.domain.telemetry import NOOP_SPAN, AttributeValue, Span, SpanKind, Telemetry

__all__ = ["ObservedTextProvider", "observe_text_provider"]

#: ``error.type`` of a call that was cancelled or closed before it finished.
CANCELLED = "cancelled"


def _kind_of(provider: ITextProvider, config: Any) -> str:
    """The provider kind from its configuration, else the class's own name (``openai``...)."""
    for source in (config, getattr(provider, "config", None)):
        kind = getattr(source, "kind", None)
        if isinstance(kind, str) and kind and kind != "custom":
            return kind
    class_name = getattr(type(provider), "name", None)
    return class_name if isinstance(class_name, str) and class_name else type(provider).__name__


def _base_url(provider: ITextProvider, config: Any) -> str | None:
    for source in (getattr(provider, "config", None), config):
        url = getattr(source, "base_url", None)
        if isinstance(url, str) and url:
            return url
    return None


class ObservedTextProvider(ITextProvider):
    """Delegates everything to ``inner``; adds a span and metrics around each model call."""

    #: Composite providers (fallback) observe themselves; the registry does not wrap them twice.
    observes_itself = True

    def __init__(self, inner: ITextProvider, *, name: str, telemetry: Telemetry, config: Any = None) -> None:
        self.inner = inner
        self._telemetry = telemetry
        self._metrics = GenAIMetrics(telemetry)
        self._static = provider_attributes(_kind_of(inner, config), base_url=_base_url(inner, config), name=name)
        #: The metrics carry the conventions' attributes only (each one costs the SDK per record).
        self._metric_static = {k: v for k, v in self._static.items() if k != "oneringai.provider"}
        self.gen_ai_provider_name = str(self._static["gen_ai.provider.name"])

    # --- delegation ------------------------------------------------------------------------------
    @property
    def name(self) -> str:
        return self.inner.name

    @name.setter
    def name(self, value: str) -> None:
        self.inner.name = value

    @property
    def capabilities(self) -> ProviderCapabilities:
        return self.inner.capabilities

    @capabilities.setter
    def capabilities(self, value: ProviderCapabilities) -> None:
        self.inner.capabilities = value

    def __getattr__(self, attribute: str) -> Any:  # config, destroy, use_shared_http_client...
        if attribute == "inner":  # not set yet (copy, pickle): no recursion
            raise AttributeError(attribute)
        return getattr(self.inner, attribute)

    async def validate_config(self) -> bool:
        return await self.inner.validate_config()

    def get_model_capabilities(self, model: str) -> ModelCapabilities:
        return self.inner.get_model_capabilities(model)

    async def list_models(self) -> list[str]:
        return await self.inner.list_models()

    def __repr__(self) -> str:
        return f"Observed({self.inner!r})"

    # --- calls -------------------------------------------------------------------------------------
    def _start(self, options: TextGenerateOptions) -> tuple[Span, dict[str, AttributeValue]]:
        telemetry = self._telemetry
        metric_base = {**self._metric_static, REQUEST_MODEL: options.model}
        if not telemetry.tracing:  # metrics only: no span, no attributes to build
            return NOOP_SPAN, metric_base
        span = telemetry.start_span(
            f"chat {options.model}", kind=SpanKind.CLIENT, attributes={**self._static, **request_attributes(options)}
        )
        if span.recording and telemetry.capture_content:
            limit = telemetry.max_content_chars
            span.set_attribute("gen_ai.input.messages", input_messages(options, limit))
            instructions = system_instructions(options, limit)
            if instructions is not None:
                span.set_attribute("gen_ai.system_instructions", instructions)
        return span, metric_base

    def _succeeded(
        self, span: Span, metric_base: dict[str, AttributeValue], started: float, response: LLMResponse
    ) -> None:
        self._metrics.record(time.perf_counter() - started, metric_base, response=response)
        if span.recording:
            span.set_attributes(response_attributes(response, str(metric_base[REQUEST_MODEL])))
            if self._telemetry.capture_content:
                span.set_attribute(
                    "gen_ai.output.messages", output_messages(response, self._telemetry.max_content_chars)
                )
        span.end()

    def _failed(
        self, span: Span, metric_base: dict[str, AttributeValue], started: float, error: BaseException,
        error_type: str | None = None,
    ) -> None:
        kind = error_type or type(error).__name__
        self._metrics.record(time.perf_counter() - started, metric_base, error_type=kind)
        span.record_error(error, error_type=kind)
        span.end()

    async def generate(self, options: TextGenerateOptions) -> LLMResponse:
        span, metric_base = self._start(options)
        started = time.perf_counter()
        try:
            with self._telemetry.activate(span):
                response = require_llm_response(await self.inner.generate(options), self.inner)
        except BaseException as exc:
            self._failed(span, metric_base, started, exc, _error_type(exc))
            raise
        self._succeeded(span, metric_base, started, response)
        return response

    async def stream_generate(self, options: TextGenerateOptions) -> AsyncIterator[StreamEvent]:
        span, metric_base = self._start(options)
        started = time.perf_counter()
        activate = self._telemetry.activate
        stream = checked_stream(self.inner.stream_generate(options), self.inner)
        response: LLMResponse | None = None
        settled = False  # metrics recorded and span ended, on exactly one path
        try:
            iterator = aiter(stream)
            with activate(span):  # the request, its retries and the first event happen here
                try:
                    event = await anext(iterator)
                except StopAsyncIteration:
                    event = None
            # Later events only read the open response: no context switch per event.
            while event is not None:
                if isinstance(event, ResponseCompleteEvent):
                    response = event.response
                elif isinstance(event, ResponseCreatedEvent) and span.recording:
                    if event.response_id:
                        span.set_attribute("gen_ai.response.id", vendor_text(event.response_id, ""))
                    if event.model:
                        span.set_attribute("gen_ai.response.model", vendor_text(event.model, options.model))
                yield event
                event = await anext(iterator, None)
        except GeneratorExit:  # the consumer stopped early (break, aclose, garbage collection)
            if response is None:
                settled = True
                span.set_attribute("oneringai.stream.closed_early", True)
                self._metrics.record(time.perf_counter() - started, metric_base, error_type=CANCELLED)
                span.end()
            raise
        except BaseException as exc:
            settled = True
            self._failed(span, metric_base, started, exc, _error_type(exc))
            raise
        finally:
            try:
                aclose = getattr(stream, "aclose", None)
                if aclose is not None:
                    await aclose()
            finally:
                if not settled:
                    if response is not None:
                        self._succeeded(span, metric_base, started, response)
                    else:  # ended without response.complete: the provider broke its contract
                        span.set_attribute("error.type", "incomplete_stream")
                        self._metrics.record(
                            time.perf_counter() - started, metric_base, error_type="incomplete_stream"
                        )
                span.end()  # idempotent: whatever path got here, the span is ended once


def _error_type(error: BaseException) -> str | None:
    import asyncio

    return CANCELLED if isinstance(error, asyncio.CancelledError) else None


def observe_text_provider(telemetry: Telemetry) -> Callable[[str, Any, Any], Any] | None:
    """The registry hook: wraps each provider in ``ObservedTextProvider`` when the telemetry
    records anything; None (no wrapping at all) when it does not."""
    if not telemetry.enabled:
        return None

    def observe(name: str, provider: Any, config: Any) -> Any:
        if getattr(provider, "observes_itself", False) or not isinstance(provider, ITextProvider):
            return provider
        return ObservedTextProvider(provider, name=name, telemetry=telemetry, config=config)

    return observe
