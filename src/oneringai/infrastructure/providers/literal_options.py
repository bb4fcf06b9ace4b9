"""The guide calls providers with an object literal: ``provider.generate({ ... })``.

Its Python port passes a dict where ``TextGenerateOptions`` (or ``ImageGenerateOptions``) is
expected; every built-in provider read ``options.model`` and failed with a raw
``AttributeError``. ``BaseProvider`` reads such a dict as the options model it spells (camelCase
accepted, unknown keys refused naming the allowed fields) before the method runs.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel

from oneringai.domain.images import ImageGenerateOptions
from oneringai.domain.options import TextGenerateOptions

__all__ = ["literal_options"]

_OPTIONS: dict[str, type[BaseModel]] = {
    "generate": TextGenerateOptions,
    "stream_generate": TextGenerateOptions,
    "generate_image": ImageGenerateOptions,
}


def literal_options(method_name: str, args: tuple[Any, ...]) -> tuple[Any, ...]:
    """``args`` with a leading options mapping validated into its model; else unchanged."""
    if args and isinstance(args[0], Mapping):
        model = _OPTIONS.get(method_name)
        if model is not None:
            return (model.model_validate(dict(args[0])), *args[1:])
    return args
