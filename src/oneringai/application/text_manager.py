"""Text generation for applications: strings in, text / responses / JSON / events out."""

from __future__ import annotations

import inspect
import json
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from typing import Any, TypeVar, overload

from pydantic import BaseModel, PydanticUserError, ValidationError

from oneringai.application.guide_spelling import checked_stream, require_llm_response
from oneringai.application.provider_registry import ProviderRegistry
from oneringai.domain.content import InputItem
from oneringai.domain.errors import ConfigError, ProviderNotFoundError, ProviderResponseError, brief_repr
from oneringai.domain.events import StreamEvent
from oneringai.domain.interfaces import ITextProvider
from oneringai.domain.options import JSONSchemaFormat, ResponseFormat, TextGenerateOptions
from oneringai.domain.response import LLMResponse
from oneringai.domain.tools import FunctionToolDefinition

__all__ = ["TextManager"]

M = TypeVar("M", bound=BaseModel)


class ModelRequiredError(ConfigError, ValueError):
    """No ``model=`` and no ``default_model`` for the provider: a configuration error naming
    the setting; still a ``ValueError`` for code written against earlier versions."""


class SchemaError(ConfigError, TypeError):
    """``generate_json(schema=...)`` is neither a JSON Schema dict nor a pydantic model class
    that pydantic can describe, or ``input``/``tools`` is not iterable (``generate(5)``): the
    caller's mistake, raised before any request is sent."""


class TextManager:
    """``client.text``. Picks the provider by name (or the default) and builds the options."""

    def __init__(
        self,
        registry: ProviderRegistry[ITextProvider],
        default_provider: Callable[[], Any] | None = None,
        default_models: dict[str, str | None] | None = None,
    ) -> None:
        self._registry = registry
        self._default_provider = default_provider
        self._default_models = default_models or {}

    @property
    def registry(self) -> ProviderRegistry[ITextProvider]:
        return self._registry

    async def resolve(self, provider: str | None = None) -> ITextProvider:
        """The provider named ``provider`` (default if None); container overrides apply."""
        default = self._default_provider
        if default is not None and provider in (None, self._registry.default_name):
            if not getattr(default, "overridden", True):  # a container binding, not overridden
                built = self._registry.peek(self._registry.default_name or "")
                if built is not None:  # the hot path: no coroutine, no DI call
                    return built
            result = default()
            return await result if inspect.isawaitable(result) else result  # type: ignore[no-any-return]
        return await self._registry.get(provider)

    def _model_for(self, provider_name: str | None, model: str | None) -> str:
        if provider_name is not None and provider_name not in self._registry.names():
            raise ProviderNotFoundError(
                f"unknown text provider {provider_name!r} "
                f"(available: {', '.join(self._registry.names()) or 'none'})",
                provider=provider_name,
            )
        if model:
            return model
        name = provider_name or self._registry.default_name
        configured = self._default_models.get(name or "")
        if configured:
            return configured
        raise ModelRequiredError(
            "no model given: pass model=... or set a default model",
            path=f"text.providers.{name}.default_model" if name else "text.default",
        )

    def build_options(
        self,
        input: str | Sequence[InputItem],
        *,
        provider: str | None = None,
        model: str | None = None,
        instructions: str | None = None,
        tools: Sequence[FunctionToolDefinition] | None = None,
        **kwargs: Any,
    ) -> TextGenerateOptions:
        try:
            items = input if isinstance(input, str) else list(input)
            tool_list = list(tools) if tools else None
        except TypeError:  # ``generate(5)``, ``tools=object()``: "'int' object is not iterable"
            raise SchemaError(
                f"input must be the prompt text or a list of messages, and tools a list of tool definitions; "
                f"got input={type(input).__name__}, tools={type(tools).__name__}"
            ) from None
        return TextGenerateOptions(
            model=self._model_for(provider, model), input=items, instructions=instructions, tools=tool_list, **kwargs
        )

    async def generate_raw(
        self,
        input: str | Sequence[InputItem],
        options: Mapping[str, Any] | None = None,
        *,
        provider: str | None = None,
        **kwargs: Any,
    ) -> LLMResponse:
        """The whole response. Options are keywords, or one mapping as the guide passes them
        (``generate("Hello!", {"provider": "ollama", "model": "llama2"})``)."""
        provider, kwargs = _merge_options(options, provider, kwargs)
        request = self.build_options(input, provider=provider, **kwargs)
        target = await self.resolve(provider)
        # a port of the guide returning its object literal fails naming LLMResponse
        return require_llm_response(await target.generate(request), target)

    async def generate(
        self,
        input: str | Sequence[InputItem],
        options: Mapping[str, Any] | None = None,
        *,
        provider: str | None = None,
        **kwargs: Any,
    ) -> str:
        """The model's text answer."""
        return (await self.generate_raw(input, options, provider=provider, **kwargs)).output_text

    @overload
    async def generate_json(
        self,
        input: str | Sequence[InputItem],
        *,
        schema: type[M],
        provider: str | None = ...,
        **kwargs: Any,
    ) -> M: ...

    @overload
    async def generate_json(
        self,
        input: str | Sequence[InputItem],
        *,
        schema: dict[str, Any] | None = ...,
        provider: str | None = ...,
        **kwargs: Any,
    ) -> Any: ...

    async def generate_json(
        self,
        input: str | Sequence[InputItem],
        *,
        schema: type[BaseModel] | dict[str, Any] | None = None,
        provider: str | None = None,
        **kwargs: Any,
    ) -> Any:
        """JSON output: any object, one matching a JSON Schema, or a validated pydantic model."""
        if schema is None:
            fmt = ResponseFormat(type="json_object")
        else:
            json_schema, name = _json_schema_of(schema)
            fmt = ResponseFormat(
                type="json_schema", json_schema=JSONSchemaFormat.model_validate({"name": name, "schema": json_schema})
            )
        response = await self.generate_raw(input, provider=provider, response_format=fmt, **kwargs)
        text = _strip_fences(response.output_text)
        try:
            data = json.loads(text)
        except (ValueError, RecursionError) as exc:  # RecursionError: ``[[[[…`` thousands deep
            raise ProviderResponseError(
                f"model did not return valid JSON: {text[:200]!r}",
                provider=provider or self._registry.default_name,
                model=response.model,
            ) from exc
        if isinstance(schema, type) and issubclass(schema, BaseModel) and schema is not BaseModel:
            try:
                return schema.model_validate(data)
            except ValidationError as exc:
                raise ProviderResponseError(
                    f"model JSON does not match {schema.__name__}: {exc.errors()[0]['msg']}",
                    provider=provider or self._registry.default_name,
                    model=response.model,
                ) from exc
        return data

    def stream(
        self,
        input: str | Sequence[InputItem],
        options: Mapping[str, Any] | None = None,
        *,
        provider: str | None = None,
        **kwargs: Any,
    ) -> AsyncIterator[StreamEvent]:
        """Typed events; ``break`` out at any time, the connection is released.

        The provider's own event iterator is handed through (no generator hop per event):
        as it is when the provider is already built, else opened on the first ``__anext__``.
        Any error is raised by the first ``__anext__``, never by this call."""
        built = self._built(provider, options)
        if built is not None:
            try:
                merged_provider, merged = _merge_options(options, provider, kwargs)
                return checked_stream(
                    built.stream_generate(self.build_options(input, provider=merged_provider, **merged)), built
                )
            except Exception as error:
                return _raising(error)

        async def open_stream() -> AsyncIterator[StreamEvent]:
            merged_provider, merged = _merge_options(options, provider, kwargs)
            request = self.build_options(input, provider=merged_provider, **merged)
            target = await self.resolve(merged_provider)
            return checked_stream(target.stream_generate(request), target)

        return _PassThroughStream(open_stream)

    def _built(self, provider: str | None, options: Mapping[str, Any] | None) -> ITextProvider | None:
        """What ``resolve`` returns when it needs no await (the default provider, built, not
        overridden, no options mapping), else None."""
        default = self._default_provider
        if default is None or options is not None or getattr(default, "overridden", True):
            return None  # an options mapping may name the provider: the general path reads it
        if provider not in (None, self._registry.default_name):
            return None
        return self._registry.peek(self._registry.default_name or "")

    async def stream_text(
        self,
        input: str | Sequence[InputItem],
        options: Mapping[str, Any] | None = None,
        *,
        provider: str | None = None,
        **kwargs: Any,
    ) -> AsyncIterator[str]:
        """Only the text deltas."""
        async for event in self.stream(input, options, provider=provider, **kwargs):
            if event.type == "response.output_text.delta":
                yield event.delta


def _json_schema_of(schema: Any) -> tuple[dict[str, Any], str]:
    """``generate_json(schema=...)``: a JSON Schema dict or a pydantic model class, else a
    ``SchemaError`` (it was an ``AttributeError`` for ``schema=str``, pydantic's own error for a
    model with a field no JSON Schema can describe)."""
    if isinstance(schema, dict):
        return schema, "response"
    if isinstance(schema, type) and issubclass(schema, BaseModel) and schema is not BaseModel:
        try:
            return schema.model_json_schema(), schema.__name__
        except (PydanticUserError, ValueError, TypeError) as exc:
            raise SchemaError(
                f"generate_json(schema={schema.__name__}): pydantic cannot describe it as a JSON Schema: "
                f"{str(exc).splitlines()[0] if str(exc) else type(exc).__name__}"
            ) from exc
    raise SchemaError(
        "generate_json(schema=...) takes a JSON Schema dict or a pydantic model class, "
        f"not {brief_repr(schema)}"
    )


def _merge_options(
    options: Mapping[str, Any] | None, provider: str | None, kwargs: dict[str, Any]
) -> tuple[str | None, dict[str, Any]]:
    """Keywords plus the guide's options object; a key given both ways is an error."""
    if options is None:
        return provider, kwargs
    if not isinstance(options, Mapping):
        raise TypeError(
            f"options must be keywords (provider=..., model=...) or one mapping of them, not {type(options).__name__}"
        )
    merged = dict(options)
    given_twice = sorted(merged.keys() & {*kwargs, *(("provider",) if provider is not None else ())})
    if given_twice:
        raise TypeError(f"option(s) {', '.join(given_twice)} given both in the options mapping and as keywords")
    merged.update(kwargs)
    return (provider if provider is not None else merged.pop("provider", None)), merged


def _strip_fences(text: str) -> str:
    stripped = text.strip()
    if stripped.startswith("```"):
        stripped = stripped.split("\n", 1)[1] if "\n" in stripped else ""
        if stripped.rstrip().endswith("```"):
            stripped = stripped.rstrip()[:-3]
    return stripped.strip()


async def _finished() -> AsyncIterator[Any]:
    return
    yield  # pragma: no cover - makes this an async generator


async def _raising(error: BaseException) -> AsyncIterator[Any]:
    raise error
    yield  # pragma: no cover - makes this an async generator


class _PassThroughStream:
    """An async iterator that opens the provider's stream on the first ``__anext__`` and then
    returns that stream's own awaitables: the consumer pays no extra frame per event."""

    __slots__ = ("_events", "_open")

    def __init__(self, open_stream: Callable[[], Awaitable[AsyncIterator[StreamEvent]]]) -> None:
        self._open = open_stream
        self._events: AsyncIterator[StreamEvent] | None = None

    def __aiter__(self) -> _PassThroughStream:
        return self

    def __anext__(self) -> Awaitable[StreamEvent]:
        events = self._events
        if events is not None:
            return events.__anext__()
        return self._first()

    async def _first(self) -> StreamEvent:
        try:
            events = await self._open()
        except BaseException:
            self._events = _finished()  # like a generator that raised: exhausted from now on
            raise
        self._events = events
        return await events.__anext__()

    async def aclose(self) -> None:
        """Close the provider's stream (releases the connection); idempotent."""
        events, self._events = self._events, _finished()
        aclose = getattr(events, "aclose", None)
        if aclose is not None:
            await aclose()
