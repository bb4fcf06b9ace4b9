"""Image generation for applications (``client.images``)."""

from __future__ import annotations

from typing import Any

from oneringai.application.provider_registry import ProviderRegistry
from oneringai.domain.images import ImageGenerateOptions, ImageResponse
from oneringai.domain.interfaces import IImageProvider

__all__ = ["ImageManager"]


class ImageManager:
    def __init__(self, registry: ProviderRegistry[IImageProvider]) -> None:
        self._registry = registry

    @property
    def registry(self) -> ProviderRegistry[IImageProvider]:
        return self._registry

    async def generate(self, prompt: str, *, provider: str | None = None, **kwargs: Any) -> ImageResponse:
        options = ImageGenerateOptions(prompt=prompt, **kwargs)
        target = await self._registry.get(provider)
        return await target.generate_image(options)
