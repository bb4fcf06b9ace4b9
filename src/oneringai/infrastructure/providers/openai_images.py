"""OpenAI Images (``/images/generations``) as an ``IImageProvider``."""

from __future__ import annotations

from typing import Any, ClassVar

from oneringai.domain.capabilities import ProviderCapabilities
from oneringai.domain.errors import ProviderResponseError
from oneringai.domain.images import GeneratedImage, ImageGenerateOptions, ImageResponse
from oneringai.domain.interfaces import IImageProvider
from oneringai.infrastructure.providers._http_calls import HttpCalls
from oneringai.infrastructure.providers.base import BaseProvider
from oneringai.infrastructure.providers.config import OpenAIProviderConfig, ProviderConfig

__all__ = ["OpenAIImageProvider"]


class OpenAIImageProvider(HttpCalls, BaseProvider, IImageProvider):
    """``images.providers.<name>.kind: openai``."""

    name = "openai-images"
    capabilities = ProviderCapabilities(text=False, images=True)
    api_key_env: ClassVar[str | None] = "OPENAI_API_KEY"
    config_model: ClassVar[type[ProviderConfig]] = OpenAIProviderConfig
    config: OpenAIProviderConfig

    def __init__(self, config: Any = None, /, *, name: str | None = None, **kwargs: Any) -> None:
        super().__init__(config, **kwargs)
        if name:
            self.name = name
        base = (self.config.base_url or "https://api.openai.com/v1").rstrip("/")
        self._url = f"{base}/images/generations"

    async def generate_image(self, options: ImageGenerateOptions) -> ImageResponse:
        body: dict[str, Any] = {"model": options.model, "prompt": options.prompt, "n": options.n}
        for key in ("size", "quality", "response_format", "style", "user"):
            value = getattr(options, key)
            if value is not None:
                body[key] = value
        headers = {**self.config.headers, "authorization": f"Bearer {self.get_api_key()}"}
        data = await self.request_json("POST", self._url, model=options.model, headers=headers, body=body)
        if not isinstance(data, dict) or not isinstance(data.get("data"), list):
            raise ProviderResponseError("response has no data", provider=self.name, model=options.model)
        return ImageResponse(
            created=int(data.get("created") or 0),
            model=options.model,
            data=[GeneratedImage.model_validate(item) for item in data["data"]],
        )
