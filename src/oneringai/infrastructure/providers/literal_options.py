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

from oneringai.domain.errors import ConfigError
from oneringai.domain.images import ImageGenerateOptions
from oneringai.domain.options import TextGenerateOptions

__all__ = ["OptionsTypeError", "literal_options"]

_OPTIONS: dict[str, type[BaseModel]] = {
    "generate": TextGenerateOptions,
    "stream_generate": TextGenerateOptions,
    "generate_image": ImageGenerateOptions,
}


class OptionsTypeError(ConfigError, TypeError):
    """A provider method called with options that are neither its options model nor a mapping
    of its fields (``provider.generate(5)``: an ``AttributeError`` reading ``options.model``)."""


def literal_options(method_name: str, args: tuple[Any, ...]) -> tuple[Any, ...]:
    """``args`` with a leading options mapping validated into its model; else unchanged (an
    ``OptionsTypeError`` when the leading argument is neither)."""
    if args:
        model = _OPTIONS.get(method_name)
        if model is not None and type(args[0]) is not model:  # the hot path: one type check
            if isinstance(args[0], Mapping):
                return (model.model_validate(dict(args[0])), *args[1:])
            if not isinstance(args[0], model):
                raise OptionsTypeError(
                    f"{method_name}() takes a {model.__name__} or a mapping of its fields, "
                    f"not {type(args[0]).__name__}"
                )
    return args
