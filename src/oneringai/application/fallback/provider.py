"""``kind: fallback``: one text provider made of several, tried in order.

The promise:

* members are tried in the configured order; the next one is tried only when the failure is
  one another endpoint may not share (``fails_over``): unreachable, timed out, 429, 5xx — also
  when retrying that endpoint cannot help (a local server that cannot start). A 400, 401/403, context length, unknown model or unknown
  provider is the caller's problem and propagates at once (another endpoint would refuse too,
  or worse, accept what one of them rightly refused);
* each member has already used its own retries (``max_retries``) before the next is tried;
* a stream fails over only before its first content event: ``response.created`` (no part of an
  answer) is held back until then, so the caller sees one, the serving member's; once any other
  event has reached the caller, a failure propagates as it is (the caller has seen part of an
  answer);
* the response says who served it: ``LLMResponse.provider`` (the member's name; with nested
  fallbacks, the innermost one that answered);
* when every member failed, the last error is raised, with a note per earlier failure;
* with tracing on, a ``fallback {name}`` span holds one ``chat`` span per attempt and a
  ``oneringai.fallback.failover`` event per member that failed over.

Members are resolved from the provider registry on first use, so a member is built (and its
HTTP client opened) only when a call reaches it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from typing import Any

from oneringai.application.fallback.config import FallbackProviderConfig
from oneringai.application.guide_spelling import (
    checked_stream,
    require_llm_response,
    require_model_capabilities,
)
from oneringai.domain.capabilities import ModelCapabilities, ProviderCapabilities
from oneringai.domain.errors import (
    ModelNotFoundError,
    ProviderAuthError,
    ProviderContextLengthError,
    ProviderError,
    ProviderNotFoundError,
    ProviderRateLimitError,
    ProviderTimeoutError,
    ProviderUnavailableError,
)
from oneringai.domain.events import ResponseCompleteEvent, ResponseCreatedEvent, StreamEvent
from oneringai.domain.interfaces import ITextProvider
from oneringai.domain.options import TextGenerateOptions
from oneringai.domain.response import LLMResponse
from oneringai.domain.telemetry import NOOP_TELEMETRY, Span, Telemetry

__all__ = ["FallbackTextProvider", "fails_over"]

#: Leading ``response.created`` events held back before a stream commits to a member (a
#: provider sends one; the bound keeps a plugin that sends them forever from holding memory).
_MAX_HELD = 8
#: Failures of one endpoint by their nature: another endpoint does not share them.
_ENDPOINT = (ProviderUnavailableError, ProviderTimeoutError, ProviderRateLimitError)
_NEVER = (ProviderAuthError, ProviderContextLengthError, ModelNotFoundError, ProviderNotFoundError)


def fails_over(error: BaseException) -> bool:
    """True for failures another endpoint may not share: unavailable, timed out or rate limited
    (whether or not retrying *this* endpoint could help — a local server that cannot load its
    model is not retryable, yet the next member does not share its failure), and any other
    retryable ``ProviderError`` that is not about credentials, the input or the model."""
    if isinstance(error, _ENDPOINT):
        return True
    return isinstance(error, ProviderError) and not isinstance(error, _NEVER) and error.is_retryable


def _served(response: LLMResponse, member: str) -> LLMResponse:
    return response.model_copy(update={"provider": response.provider or member})


async def _close(stream: Any) -> None:
    aclose = getattr(stream, "aclose", None)
    if aclose is not None:
        await aclose()


class FallbackTextProvider(ITextProvider):
    """See the module docstring. ``registry`` is the ``ProviderRegistry`` holding the members
    (or a callable returning it, resolved on first use)."""

    #: It opens its own span; the registry's telemetry wrapper leaves it alone.
    observes_itself = True
    capabilities = ProviderCapabilities(text=True)

    def __init__(
        self,
        config: FallbackProviderConfig | Mapping[str, Any],
        /,
        *,
        registry: Any,
        name: str = "fallback",
        telemetry: Telemetry | None = None,
    ) -> None:
        self.config = (
            config if isinstance(config, FallbackProviderConfig) else FallbackProviderConfig.model_validate(config)
        )
        self.name = name
        self._registry_source = registry
        self._registry: Any = None if callable(registry) else registry
        self._telemetry = telemetry or NOOP_TELEMETRY

    @property
    def members(self) -> list[str]:
        return list(self.config.providers)

    def _members(self) -> Any:
        if self._registry is None:
            self._registry = self._registry_source()
        return self._registry

    @property
    def gen_ai_provider_name(self) -> str:
        """For spans above this one (``invoke_agent``): the members' common kind, else ``_OTHER``
        (the conventions' value when no single provider applies)."""
        kinds: set[str] = set()
        for member in self.config.providers:
            config = self._members().config_of(member)
            provider = self._members().peek(member)
            kind = getattr(provider, "gen_ai_provider_name", None) or getattr(config, "kind", None)
            kinds.add({"openai_compatible": "openai"}.get(kind, kind) if isinstance(kind, str) else "_OTHER")
        return kinds.pop() if len(kinds) == 1 else "_OTHER"

    def model_for(self, member: str, requested: str) -> str:
        """The model ``member`` is asked for: ``models.<member>``, its ``default_model``, or ``requested``."""
        model = self.config.models.get(member)
        if model:
            return model
        default = getattr(self._members().config_of(member), "default_model", None)
        return default if isinstance(default, str) and default else requested

    def _options(self, member: str, options: TextGenerateOptions) -> TextGenerateOptions:
        model = self.model_for(member, options.model)
        return options if model == options.model else options.model_copy(update={"model": model})

    def _start(self, options: TextGenerateOptions) -> Span:
        return self._telemetry.start_span(
            f"fallback {self.name}",
            attributes={
                "oneringai.provider": self.name,
                "oneringai.fallback.providers": self.members,
                "gen_ai.request.model": options.model,
            },
        )

    def _failed_over(self, span: Span, member: str, error: ProviderError, failures: list[str]) -> None:
        failures.append(f"{member}: {type(error).__name__}: {error}")
        span.add_event(
            "oneringai.fallback.failover",
            {"oneringai.provider": member, "error.type": type(error).__name__},
        )

    def _give_up(self, error: BaseException, failures: list[str]) -> None:
        for failure in failures:
            error.add_note(f"fallback {self.name!r} tried first: {failure}")

    # --- calls -------------------------------------------------------------------------------
    async def generate(self, options: TextGenerateOptions) -> LLMResponse:
        span = self._start(options)
        activate = self._telemetry.activate
        failures: list[str] = []
        last = len(self.config.providers) - 1
        try:
            for index, member in enumerate(self.config.providers):
                try:
                    with activate(span):
                        provider: ITextProvider = await self._members().get(member)
                        response = require_llm_response(await provider.generate(self._options(member, options)), provider)
                except ProviderError as exc:
                    if index == last or not fails_over(exc):
                        self._give_up(exc, failures)
                        raise
                    self._failed_over(span, member, exc, failures)
                    continue
                span.set_attributes({"oneringai.fallback.served_by": member, "oneringai.fallback.attempts": index + 1})
                return _served(response, member)
            raise AssertionError("unreachable")  # pragma: no cover - the last member returns or raises
        except BaseException as exc:
            span.record_error(exc)
            raise
        finally:
            span.end()

    async def stream_generate(self, options: TextGenerateOptions) -> AsyncIterator[StreamEvent]:
        span = self._start(options)
        activate = self._telemetry.activate
        failures: list[str] = []
        last = len(self.config.providers) - 1
        try:
            for index, member in enumerate(self.config.providers):
                stream: Any = None
                held: list[StreamEvent] = []
                try:
                    with activate(span):
                        provider: ITextProvider = await self._members().get(member)
                        stream = checked_stream(provider.stream_generate(self._options(member, options)), provider)
                        iterator = aiter(stream)
                        event = await anext(iterator)
                        # ``response.created`` carries no part of an answer (Anthropic sends
                        # ``message_start`` and then, under load, ``overloaded_error``): it is
                        # held back, so a failure before the first content still fails over.
                        while isinstance(event, ResponseCreatedEvent) and len(held) < _MAX_HELD:
                            held.append(event)
                            event = await anext(iterator)
                except StopAsyncIteration:  # an empty stream: nothing to fail over from
                    await _close(stream)
                    for event in held:
                        yield event
                    if held:
                        span.set_attributes(
                            {"oneringai.fallback.served_by": member, "oneringai.fallback.attempts": index + 1}
                        )
                    return
                except ProviderError as exc:
                    await _close(stream)
                    if index == last or not fails_over(exc):
                        self._give_up(exc, failures)
                        raise
                    self._failed_over(span, member, exc, failures)
                    continue
                except BaseException:
                    await _close(stream)
                    raise
                # Committed: from here on a failure propagates as it is.
                span.set_attributes({"oneringai.fallback.served_by": member, "oneringai.fallback.attempts": index + 1})
                try:
                    for created in held:
                        yield created
                    while True:
                        if isinstance(event, ResponseCompleteEvent):
                            event = ResponseCompleteEvent(response=_served(event.response, member))
                        yield event
                        try:  # the member's span is open: later events need no context switch
                            event = await anext(iterator)
                        except StopAsyncIteration:
                            return
                finally:
                    await _close(stream)
        except GeneratorExit:  # the consumer stopped reading: not a failure
            raise
        except BaseException as exc:
            span.record_error(exc)
            raise
        finally:
            span.end()

    # --- the rest of the port ------------------------------------------------------------------
    def get_model_capabilities(self, model: str) -> ModelCapabilities:
        """The first member's capabilities for the model it would be asked for (when that member
        is already built; else the defaults — a synchronous call cannot build it)."""
        first = self.config.providers[0]
        provider = self._members().peek(first)
        if provider is None:
            return ModelCapabilities()
        capabilities = require_model_capabilities(provider.get_model_capabilities(self.model_for(first, model)), provider)
        return capabilities

    async def validate_config(self) -> bool:
        valid = True
        for member in self.config.providers:
            provider = await self._members().get(member)
            valid = await provider.validate_config() and valid
        return valid

    async def list_models(self) -> list[str]:
        """Every model the members list. A member that cannot list its models, or is down, is
        skipped (the fallback works while one answers); when none answers, the last failure."""
        models: set[str] = set()
        failure: ProviderError | None = None
        answered = False
        for member in self.config.providers:
            provider = await self._members().get(member)
            try:
                models.update(await provider.list_models())
                answered = True
            except NotImplementedError:
                answered = True
            except ProviderError as exc:
                failure = exc
        if not answered and failure is not None:
            raise failure
        return sorted(models)

    def __repr__(self) -> str:
        return f"FallbackTextProvider(name={self.name!r}, providers={self.config.providers!r})"

