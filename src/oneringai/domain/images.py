"""Image generation requests and results."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from oneringai.domain._base import DomainModel
from oneringai.domain._guide_model import GuideModel
from oneringai.domain.response import Usage

__all__ = ["GeneratedImage", "ImageGenerateOptions", "ImageResponse"]


class ImageGenerateOptions(GuideModel):
    """What a caller asks an image provider for: unknown keys are errors, camelCase accepted."""

    prompt: str = Field(min_length=1)
    model: str = "gpt-image-1"
    size: str | None = None
    quality: str | None = None
    n: int = Field(default=1, ge=1, le=10)
    response_format: Literal["url", "b64_json"] | None = None
    style: str | None = None
    user: str | None = None


class GeneratedImage(DomainModel):
    """One image of a vendor's answer: lenient (vendors add keys), unlike the request models."""

    url: str | None = None
    b64_json: str | None = None
    revised_prompt: str | None = None


class ImageResponse(DomainModel):
    created: int = 0
    model: str = ""
    data: list[GeneratedImage] = Field(default_factory=list)
    #: What gpt-image models report (DALL·E reports none of these: None).
    usage: Usage | None = None
    output_format: str | None = None
    size: str | None = None
    quality: str | None = None
    background: str | None = None
