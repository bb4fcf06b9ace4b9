"""Image generation requests and results."""

from __future__ import annotations

from typing import Literal

from pydantic import ConfigDict, Field

from oneringai.domain._base import DomainModel

__all__ = ["GeneratedImage", "ImageGenerateOptions", "ImageResponse"]


class ImageGenerateOptions(DomainModel):
    model_config = ConfigDict(extra="forbid")
    prompt: str = Field(min_length=1)
    model: str = "gpt-image-1"
    size: str | None = None
    quality: str | None = None
    n: int = Field(default=1, ge=1, le=10)
    response_format: Literal["url", "b64_json"] | None = None
    style: str | None = None
    user: str | None = None


class GeneratedImage(DomainModel):
    url: str | None = None
    b64_json: str | None = None
    revised_prompt: str | None = None


class ImageResponse(DomainModel):
    created: int = 0
    model: str = ""
    data: list[GeneratedImage] = Field(default_factory=list)
