"""OpenAI Images (``/images/generations``) as an ``IImageProvider``; the body is validated at the
boundary (``_openai_wire``), so a wrong shape is a ``ProviderResponseError``."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from typing import Any, ClassVar

from oneringai.domain.capabilities import ProviderCapabilities
from oneringai.domain.errors import ProviderResponseError
from oneringai.domain.images import GeneratedImage, ImageGenerateOptions, ImageResponse
from oneringai.domain.interfaces import IImageProvider
from oneringai.domain.response import Usage
from oneringai.infrastructure.providers._http_calls import HttpCalls
from oneringai.infrastructure.providers._openai_wire import parse_images
from oneringai.infrastructure.providers._wire import validate_shape
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
        if options.model.startswith("gpt-image"):  # always base64; refused as an "Unknown parameter"
            body.pop("response_format", None)
        headers = {**self.config.headers, "authorization": f"Bearer {self.get_api_key()}"}
        raw = await self.request_bytes("POST", self._url, model=options.model, headers=headers, body=body)
        data = validate_shape(parse_images, raw, provider=self.name, model=options.model, what="response body")
        for index, item in enumerate(data["data"]):
            problem = _image_problem(item.get("url"), item.get("b64_json"))
            if problem is not None:
                raise ProviderResponseError(
                    f"unexpected response body from the provider: data.{index}: {problem}",
                    provider=self.name, model=options.model,
                )
        usage = data.get("usage")
        return ImageResponse(
            created=data.get("created") or 0,
            model=options.model,
            data=[GeneratedImage(**item) for item in data["data"]],
            usage=_image_usage(usage) if usage else None,
            output_format=data.get("output_format"),
            size=data.get("size"),
            quality=data.get("quality"),
            background=data.get("background"),
        )


def _image_usage(usage: Mapping[str, Any]) -> Usage:
    prompt = usage.get("input_tokens") or 0
    completion = usage.get("output_tokens") or 0
    return Usage(input_tokens=prompt, output_tokens=completion, total_tokens=usage.get("total_tokens") or prompt + completion)


def _image_problem(url: str | None, b64: str | None) -> str | None:
    """Why an image entry is no image (None when it is one): a caller must be able to fetch
    its URL or decode its bytes without a ``binascii.Error`` of their own."""
    if b64:
        try:
            base64.b64decode(b64, validate=True)
        except (binascii.Error, ValueError):
            return "b64_json is not base64"
        return None
    if url:
        if any(ord(char) <= 0x20 or ord(char) == 0x7F for char in url):  # CR/LF: header injection at fetch
            return "url holds whitespace or control characters"
        scheme = url.split(":", 1)[0].lower() if ":" in url else ""
        return None if scheme in ("http", "https", "data") else "url is not an http(s) or data: URL"
    return "neither url nor b64_json"
