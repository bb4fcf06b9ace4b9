"""``kind: llamacpp`` — a llama.cpp server this provider owns (or one at ``base_url``).

Two ways to ask the model (``prompt_format``): ``chat`` is the OpenAI Chat Completions
mapping, for instruction-tuned GGUFs that carry a chat template; ``completion`` writes a
few-shot question/answer frame to ``/v1/completions`` (see ``llamacpp_prompt``), for base
models such as the bundled Gemma 3 270M, which answers sensibly only that way. ``auto``
picks ``completion`` for the bundled model and ``chat`` for a ``model_path`` of your own.
Either way template tokens are removed from the text, and the sampling settings of
``sampling`` go with every request.

The managed server serves exactly one model: it answers to its name (``gemma3-270m``,
or the GGUF file's name), and a request for any other model is a ``ModelNotFoundError``
rather than a silent answer from the wrong model.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any, ClassVar

from oneringai.domain.errors import ModelNotFoundError
from oneringai.domain.events import StreamEvent
from oneringai.domain.options import TextGenerateOptions
from oneringai.domain.response import LLMResponse
from oneringai.infrastructure.providers._llamacpp_completion import CompletionCalls
from oneringai.infrastructure.providers.config import LlamaCppProviderConfig, ProviderConfig
from oneringai.infrastructure.providers.llamacpp_model import model_name_for
from oneringai.infrastructure.providers.llamacpp_prompt import clean, strip_template_tokens
from oneringai.infrastructure.providers.llamacpp_server import LlamaCppServer
from oneringai.infrastructure.providers.model_registry import LLAMACPP_MODELS, ModelRegistry
from oneringai.infrastructure.providers.openai import OpenAITextProvider

__all__ = ["LlamaCppTextProvider"]


class LlamaCppTextProvider(CompletionCalls, OpenAITextProvider):
    """Starts ``llama-server`` on first use (unless ``base_url`` is set) and stops it in
    ``destroy()`` — which the container calls on shutdown."""

    name = "llamacpp"
    requires_api_key: ClassVar[bool] = False
    config_model: ClassVar[type[ProviderConfig]] = LlamaCppProviderConfig
    model_registry: ClassVar[ModelRegistry] = ModelRegistry(LLAMACPP_MODELS)
    config: LlamaCppProviderConfig  # type: ignore[assignment]

    def __init__(self, config: Any = None, /, *, name: str | None = None, **kwargs: Any) -> None:
        super().__init__(config, name=name, **kwargs)
        self._is_openai = False
        self.model_name = model_name_for(self.config.model_path)
        self.server: LlamaCppServer | None = None
        self._base = (self.config.base_url or "").rstrip("/")
        if not self.config.base_url:
            self.server = LlamaCppServer(
                model_path=self.config.model_path,
                host=self.config.host,
                port=self.config.port,
                context_size=self.config.context_size,
                threads=self.config.threads,
                startup_timeout=self.config.startup_timeout,
                extra_args=["--alias", self.model_name, *self.config.extra_args],
                config_path=f"text.providers.{name or 'llamacpp'}",
                provider=name or "llamacpp",
            )
        fmt = self.config.prompt_format
        self.prompt_format = ("completion" if not self.config.model_path else "chat") if fmt == "auto" else fmt

    @property
    def requires_key(self) -> bool:
        return False

    @property
    def base_url(self) -> str:
        """The OpenAI-compatible root (``.../v1``); empty until a managed server started."""
        return self._base

    async def _ready(self) -> None:
        if self.server is not None:
            root = await self.server.start()
            self._base = f"{root}/v1"
        self._url = f"{self._base}/chat/completions"

    def _served_model(self, requested: str) -> str:
        """The managed server has one model: accept its names, refuse any other."""
        if self.server is None:
            return requested
        names = {self.model_name, self.config.default_model}
        if self.config.model_path:
            names.add(Path(self.config.model_path).name)
        if requested not in names:
            raise ModelNotFoundError(
                f"the managed llama.cpp server serves one model, {self.model_name!r}, not {requested!r}: "
                f"leave the model unset, or point text.providers.{self.name}.model_path at another GGUF file",
                provider=self.name,
                model=requested,
            )
        return self.model_name

    def _with_defaults(self, options: TextGenerateOptions) -> TextGenerateOptions:
        update: dict[str, Any] = {"model": self._served_model(options.model)}
        if options.max_output_tokens is None:
            update["max_output_tokens"] = self.config.default_max_tokens
        if options.stop is None and self.config.stop:
            update["stop"] = list(self.config.stop)
        sampling = {k: v for k, v in self.config.sampling.items() if k != "temperature"}
        if options.temperature is None and "temperature" in self.config.sampling:
            update["temperature"] = self.config.sampling["temperature"]
        update["provider_options"] = {**sampling, **options.provider_options}
        return options.model_copy(update=update)

    async def generate(self, options: TextGenerateOptions) -> LLMResponse:
        options = self._with_defaults(options)
        await self._ready()
        if self.prompt_format == "completion":
            return await self.complete(options)
        response = await super().generate(options)
        return _cleaned(response)

    async def stream_generate(self, options: TextGenerateOptions) -> AsyncIterator[StreamEvent]:
        options = self._with_defaults(options)
        await self._ready()
        if self.prompt_format == "completion":
            async for event in self.stream_complete(options):
                yield event
            return
        async for event in super().stream_generate(options):
            if event.type == "response.output_text.delta":
                text = strip_template_tokens(event.delta)
                if text:
                    yield event.model_copy(update={"delta": text})
            elif event.type == "response.complete":
                yield event.model_copy(update={"response": _cleaned(event.response)})
            else:
                yield event

    async def list_models(self) -> list[str]:
        """The managed server's one model (started, so the binary and model are checked)."""
        await self._ready()
        if self.server is not None:
            return [self.model_name]
        return await super().list_models()  # the server at base_url

    async def destroy(self) -> None:
        try:
            if self.server is not None:
                await self.server.stop()
        finally:
            await super().destroy()


def _cleaned(response: LLMResponse) -> LLMResponse:
    """The response with template tokens removed from every text part."""
    changed = False
    output = []
    for item in response.output:
        parts = []
        for part in item.content:
            text = getattr(part, "text", None)
            if part.type == "output_text" and isinstance(text, str) and clean(text) != text:
                part = part.model_copy(update={"text": clean(text)})
                changed = True
            parts.append(part)
        output.append(item.model_copy(update={"content": parts}))
    return response.model_copy(update={"output": output}) if changed else response
