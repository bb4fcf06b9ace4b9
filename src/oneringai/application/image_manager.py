"""Image generation for applications (``client.images``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from oneringai.application.guide_spelling import read_returned
from oneringai.application.provider_registry import ProviderRegistry
from oneringai.application.text_manager import _merge_options
from oneringai.domain.images import ImageGenerateOptions, ImageResponse
from oneringai.domain.interfaces import IImageProvider

__all__ = ["ImageManager"]


class ImageManager:
    def __init__(self, registry: ProviderRegistry[IImageProvider]) -> None:
        self._registry = registry

    @property
    def registry(self) -> ProviderRegistry[IImageProvider]:
        return self._registry

    async def generate(
        self,
        prompt: str,
        options: Mapping[str, Any] | None = None,
        *,
        provider: str | None = None,
        **kwargs: Any,
    ) -> ImageResponse:
        """Options are keywords, or one mapping as ``client.text.generate`` takes them
        (``generate("a cat", {"provider": "dalle", "size": "512x512"})``)."""
        provider, kwargs = _merge_options(options, provider, kwargs)
        request = ImageGenerateOptions(prompt=prompt, **kwargs)
        target = await self._registry.get(provider)
        return _image_response(await target.generate_image(request), target)


def _image_response(response: Any, provider: object) -> ImageResponse:
    """What ``generate_image()`` returned, as an ``ImageResponse``: a custom provider (the guide
    has no base class for images) may return the vendor-shaped literal ``{"created", "data"}``."""
    return read_returned(ImageResponse, response, provider, kind="image", method="generate_image",
                         what="an ImageResponse", fix="return an ImageResponse")
