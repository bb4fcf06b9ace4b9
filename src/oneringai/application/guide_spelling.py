"""Catch the guide's TypeScript method names on custom classes before they silently never run.

A provider ported from the guide may define ``validateProviderSpecificKeyFormat`` or
``isDestroyed``. Abstract methods already fail loudly when misspelt (``TypeError: Can't
instantiate abstract class ... stream_generate``), but a hook with a default in the kit
(``validate_provider_specific_key_format``, ``is_destroyed``, ``list_models``) would keep its
default and the user's code would never be called. ``check_guide_spelling`` finds such
methods where an instance enters the kit and names the Python spelling.

A class that defines both spellings (a camelCase alias on purpose) passes.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Mapping
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from oneringai.domain.capabilities import ModelCapabilities
from oneringai.domain.errors import OneRingAIError, ProviderResponseError
from oneringai.domain.events import (
    ErrorEvent,
    OutputTextDeltaEvent,
    ResponseCompleteEvent,
    ResponseCreatedEvent,
    StreamEvent,
    ToolCallArgumentsDeltaEvent,
    ToolCallArgumentsDoneEvent,
    ToolCallStartEvent,
    stream_event_adapter,
)
from oneringai.domain.response import LLMResponse

__all__ = [
    "check_guide_spelling",
    "checked_stream",
    "model_events",
    "read_returned",
    "require_llm_response",
    "require_model_capabilities",
    "snake_case",
]

_HUMP = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")
_KIT = "oneringai."


def snake_case(name: str) -> str:
    """``streamGenerate`` -> ``stream_generate``."""
    return _HUMP.sub("_", name).lower()


def _is_kit(cls: type) -> bool:
    return cls.__module__.startswith(_KIT) or cls is object


def check_guide_spelling(obj: object, *, role: str) -> None:
    """Raise ``TypeError`` when ``obj``'s own classes define a camelCase method whose snake_case
    name is one the kit calls (defined by a oneringai base) and the class does not define."""
    cls = type(obj)
    own = [klass for klass in cls.__mro__ if not _is_kit(klass)]
    own_names = {name for klass in own for name in vars(klass)}
    kit_names = {name for klass in cls.__mro__ if _is_kit(klass) for name in vars(klass)}
    for name in sorted(own_names):
        if name.startswith("_") or name.islower():
            continue
        python = snake_case(name)
        if python != name and python in kit_names and python not in own_names:
            raise TypeError(
                f"{role} {cls.__name__} defines {name!r}, the guide's TypeScript spelling: "
                f"oneringai calls {python!r} — rename it (as written it would never be called)"
            )


M = TypeVar("M", bound=BaseModel)


def read_returned(
    model: type[M], value: Any, provider: object, *, kind: str, method: str, what: str, fix: str
) -> M:
    """``value`` that a user's provider returned from ``method()``, as ``model``.

    A port of the guide returns its TypeScript object literal (a dict of the model's fields,
    camelCase or snake_case), read here as the model it spells — validated, as everything
    entering from user code is. Anything else, or a dict that is no such model, is the
    ``TypeError`` naming ``what`` was expected and ``fix``: the same mistake fails the same way wherever the value is
    used, not as an ``AttributeError`` deep in the agent loop."""
    if isinstance(value, model):
        return value
    name = getattr(provider, "name", None) or type(provider).__name__
    if isinstance(value, Mapping):
        try:
            return model.model_validate(dict(value))
        except ValidationError as exc:
            raise TypeError(
                f"{kind} provider {name!r} returned a dict from {method}() that is not {what}: "
                f"{exc.errors(include_url=False, include_input=False)[:3]}"
            ) from None
    raise TypeError(f"{kind} provider {name!r} returned {type(value).__name__} from {method}(): {fix}")


def require_llm_response(response: Any, provider: object) -> LLMResponse:
    """What ``generate()`` returned, as an ``LLMResponse`` (the guide's ``convertToLLMResponse``
    literal included). Every caller of ``generate()`` (text manager, agent loop, fallback,
    telemetry) goes through here."""
    return read_returned(LLMResponse, response, provider, kind="text", method="generate", what="an LLMResponse",
                         fix="return an LLMResponse (or a dict of its fields, as the guide's literal)")


def require_model_capabilities(capabilities: Any, provider: object) -> ModelCapabilities:
    """What ``get_model_capabilities()`` returned, as ``ModelCapabilities`` (the guide's
    ``getModelCapabilities`` returns an object literal; its port, a dict)."""
    return read_returned(ModelCapabilities, capabilities, provider, kind="text", method="get_model_capabilities",
                         what="ModelCapabilities", fix="return ModelCapabilities (or a dict of its fields)")


def checked_stream(events: AsyncIterator[Any], provider: object) -> AsyncIterator[Any]:
    """``provider.stream_generate(...)``'s events, each a typed ``StreamEvent``.

    The kit's own providers are trusted (handed through: no extra frame per event). A custom
    one may yield the guide's object literals — ``{"type": "response.output_text.delta", ...}``
    — read here as the event they spell; anything else is the ``TypeError`` naming the fix
    (the agent loop otherwise skipped them and reported a stream without ``response.complete``).
    A ``response.error`` event is handed on, then raised as ``ProviderResponseError`` with its
    message (the stream otherwise just ended, the agent saying "without response.complete")."""
    if type(provider).__module__.startswith(_KIT):
        return events
    return _checked_events(events, getattr(provider, "name", None) or type(provider).__name__)


async def _checked_events(events: AsyncIterator[Any], name: str) -> AsyncIterator[Any]:
    try:
        async for event in events:
            if not (isinstance(event, BaseModel) and isinstance(getattr(event, "type", None), str)):
                if not isinstance(event, Mapping):
                    raise TypeError(
                        f"text provider {name!r} yielded {type(event).__name__} from stream_generate(): "
                        "yield StreamEvent models (or dicts of their fields)"
                    )
                try:
                    event = stream_event_adapter().validate_python(dict(event))
                except ValidationError as exc:
                    raise TypeError(
                        f"text provider {name!r} yielded a dict from stream_generate() that is no StreamEvent: "
                        f"{exc.errors(include_url=False, include_input=False)[:3]}"
                    ) from None
            yield event
            if isinstance(event, ErrorEvent):  # the provider's own report ends the stream, typed, in its words
                code = f" ({event.code})" if event.code else ""
                raise ProviderResponseError(f"the provider reported an error: {event.message}{code}", provider=name)
    finally:
        close = getattr(events, "aclose", None)
        if close is not None:
            await close()



def model_events(provider: Any, options: Any, capabilities: ModelCapabilities) -> AsyncIterator[Any]:
    """The agent's stream of one model call, read by ``checked_stream``. For a model whose
    capabilities say ``supports_streaming=False`` (the guide: its stream "can throw if not
    supported"), a stream that fails before its first event gives way to ``generate``."""
    if capabilities.supports_streaming:
        return checked_stream(provider.stream_generate(options), provider)
    return checked_stream(_stream_or_generate(provider, options), provider)


async def _stream_or_generate(provider: Any, options: Any) -> AsyncIterator[Any]:
    events: Any = None
    try:
        try:
            events = provider.stream_generate(options)
            first = await anext(aiter(events))
        except StopAsyncIteration:
            return
        except OneRingAIError:  # a real failure (401, 429, ...): not "streaming not supported"
            raise
        except Exception:  # the guide's `throw new Error('Streaming not implemented')`
            response = require_llm_response(await provider.generate(options), provider)
            for event in _events_of(response):
                yield event
            return
        yield first
        async for event in events:
            yield event
    finally:
        close = getattr(events, "aclose", None)
        if close is not None:
            await close()


def _events_of(response: LLMResponse) -> list[StreamEvent]:
    """The events a stream of ``response`` would have given."""
    events: list[StreamEvent] = [ResponseCreatedEvent(response_id=response.id, model=response.model)]
    if response.output_text:
        events.append(OutputTextDeltaEvent(delta=response.output_text))
    for index, call in enumerate(response.tool_calls):
        name, arguments = call.function.name, call.function.arguments
        events += [
            ToolCallStartEvent(tool_call_id=call.id, tool_name=name, index=index),
            ToolCallArgumentsDeltaEvent(tool_call_id=call.id, delta=arguments, index=index),
            ToolCallArgumentsDoneEvent(tool_call_id=call.id, tool_name=name, arguments=arguments, index=index),
        ]
    return [*events, ResponseCompleteEvent(response=response)]
