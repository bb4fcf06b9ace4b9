"""``kind: llamacpp`` — the OpenAI mapping against a llama.cpp server this provider owns."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any, ClassVar

from oneringai.domain.events import StreamEvent
from oneringai.domain.options import TextGenerateOptions
from oneringai.domain.response import LLMResponse
from oneringai.infrastructure.providers.config import LlamaCppProviderConfig, ProviderConfig
from oneringai.infrastructure.providers.llamacpp_server import LlamaCppServer
from oneringai.infrastructure.providers.model_registry import LLAMACPP_MODELS, ModelRegistry
from oneringai.infrastructure.providers.openai import OpenAITextProvider

__all__ = ["LlamaCppTextProvider"]


class LlamaCppTextProvider(OpenAITextProvider):
    """Starts ``llama-server`` on first use (or talks to ``base_url`` if one is set) and
    stops it in ``destroy()`` — which the container calls on shutdown."""

    name = "llamacpp"
    requires_api_key: ClassVar[bool] = False
    config_model: ClassVar[type[ProviderConfig]] = LlamaCppProviderConfig
    model_registry: ClassVar[ModelRegistry] = ModelRegistry(LLAMACPP_MODELS)
    config: LlamaCppProviderConfig  # type: ignore[assignment]

    def __init__(self, config: Any = None, /, *, name: str | None = None, **kwargs: Any) -> None:
        super().__init__(config, name=name, **kwargs)
        self._is_openai = False
        self.server: LlamaCppServer | None = None
        if not self.config.base_url:
            self.server = LlamaCppServer(
                model_path=self.config.model_path,
                host=self.config.host,
                port=self.config.port,
                context_size=self.config.context_size,
                threads=self.config.threads,
                startup_timeout=self.config.startup_timeout,
                extra_args=self.config.extra_args,
            )

    @property
    def requires_key(self) -> bool:
        return False

    async def _ready(self) -> None:
        if self.server is not None:
            base = await self.server.start()
            self._url = f"{base}/v1/chat/completions"
            self.config.base_url = f"{base}/v1"

    def _with_defaults(self, options: TextGenerateOptions) -> TextGenerateOptions:
        update: dict[str, Any] = {}
        if options.max_output_tokens is None:
            update["max_output_tokens"] = self.config.default_max_tokens
        if options.stop is None and self.config.stop:
            update["stop"] = list(self.config.stop)
        return options.model_copy(update=update) if update else options

    async def generate(self, options: TextGenerateOptions) -> LLMResponse:
        await self._ready()
        return await super().generate(self._with_defaults(options))

    async def stream_generate(self, options: TextGenerateOptions) -> AsyncIterator[StreamEvent]:
        await self._ready()
        async for event in super().stream_generate(self._with_defaults(options)):
            yield event

    async def list_models(self) -> list[str]:
        await self._ready()
        return await super().list_models()

    async def destroy(self) -> None:
        try:
            if self.server is not None:
                await self.server.stop()
        finally:
            await super().destroy()
