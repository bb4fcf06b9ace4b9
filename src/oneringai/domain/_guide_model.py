"""Base of the domain models a reader of the guide builds by hand.

The guide is TypeScript; its readers port it literally, so the models promise two things:

* the guide's camelCase spellings are accepted beside the Python names
  (``maxInputTokens`` and ``max_input_tokens``, ``supportsJSON`` and ``supports_json``);
  serialisation keeps the Python names;
* an unknown key is an error that names the allowed fields — never silently dropped, so
  ``ProviderCapabilities(imagez=True)`` fails at once instead of meaning "no images".

Validation stays one pydantic-core call: the snake_case name is the first alias choice (the
providers' hot path hits it at once) and the friendlier message is built only when
validation has already failed.
"""

from __future__ import annotations

import types
import typing
from typing import Any, Self

from pydantic import AliasChoices, AliasGenerator, BaseModel, ConfigDict, ValidationError
from pydantic.alias_generators import to_camel
from pydantic_core import InitErrorDetails, PydanticCustomError

from oneringai.domain._base import DomainModel
from oneringai.domain._error_base import OneRingAIError

__all__ = ["GuideModel", "guide_aliases"]

_ACRONYMS = {"Json": "JSON", "Url": "URL"}


def guide_aliases(name: str) -> str | AliasChoices:
    """The spellings a field accepts: its name, its camelCase, and the guide's acronym form."""
    camel = to_camel(name)
    choices = [name]
    if camel != name:
        choices.append(camel)
        shouted = camel
        for word, acronym in _ACRONYMS.items():
            shouted = shouted.replace(word, acronym)
        if shouted != camel:
            choices.append(shouted)
    return name if len(choices) == 1 else AliasChoices(*choices)


class GuideModel(DomainModel):
    """Strict keys (``extra="forbid"``) with the guide's camelCase names as aliases."""

    model_config = ConfigDict(
        extra="forbid",
        alias_generator=AliasGenerator(validation_alias=guide_aliases),
        defer_build=True,
    )

    def __init__(self, /, **data: Any) -> None:
        try:
            self.__pydantic_validator__.validate_python(data, self_instance=self)
        except ValidationError as exc:
            raise explain_unknown_fields(type(self), exc) from None

    # Same contract as BaseModel.__init__: pydantic-core keeps building nested models itself
    # (no Python call per nested model) instead of calling this override.
    __init__.__pydantic_base_init__ = True  # type: ignore[attr-defined]

    @classmethod
    def model_validate(cls, obj: Any, *args: Any, **kwargs: Any) -> Self:
        try:
            return super().model_validate(obj, *args, **kwargs)
        except ValidationError as exc:
            raise explain_unknown_fields(cls, exc) from None

    @classmethod
    def model_validate_json(cls, json_data: Any, *args: Any, **kwargs: Any) -> Self:
        try:
            return super().model_validate_json(json_data, *args, **kwargs)
        except ValidationError as exc:
            raise explain_unknown_fields(cls, exc) from None


def explain_unknown_fields(model: type[BaseModel], exc: ValidationError) -> Exception:
    """``exc`` with each "extra inputs are not permitted" replaced by one naming the allowed
    fields of the model at that location; any other error is kept as it was. A validator that
    raised one of our typed errors (a ``RequestOptionsError``: pydantic wraps every
    ``ValueError``) is that error, as the validator raised it."""
    errors = exc.errors()
    for error in errors:
        raised = error.get("ctx", {}).get("error")
        if isinstance(raised, OneRingAIError):
            return raised
    if not any(error["type"] == "extra_forbidden" for error in errors):
        return exc
    details: list[InitErrorDetails] = []
    for error in errors:
        loc = tuple(error["loc"])
        if error["type"] == "extra_forbidden":
            owner = _owner(model, loc[:-1])
            allowed = ", ".join(owner.model_fields) if owner is not None else "?"
            details.append(
                InitErrorDetails(
                    type=PydanticCustomError(
                        "extra_forbidden",
                        "unknown field '{field}' of {model}; allowed fields: {allowed} "
                        "(snake_case, or the guide's camelCase spelling)",
                        {
                            "field": str(loc[-1]) if loc else "?",
                            "model": owner.__name__ if owner is not None else model.__name__,
                            "allowed": allowed,
                        },
                    ),
                    loc=loc,
                    input=error["input"],
                )
            )
        else:
            kept = InitErrorDetails(type=error["type"], loc=loc, input=error["input"])
            if "ctx" in error:
                kept["ctx"] = error["ctx"]
            details.append(kept)
    try:
        return ValidationError.from_exception_data(model.__name__, details)
    except Exception:  # an error type that cannot be rebuilt: the original is still right
        return exc


def _owner(model: type[BaseModel], path: tuple[Any, ...]) -> type[BaseModel] | None:
    """The model class found at ``path`` (field names, list indexes, union tags)."""
    current: set[type[BaseModel]] = {model}
    for part in path:
        if isinstance(part, int):
            continue
        following: set[type[BaseModel]] = set()
        for candidate in current:
            field = _field(candidate, str(part))
            if field is not None:
                following |= _models_in(field)
            elif _tag_of(candidate) == part:  # a discriminated union's tag in the location
                following.add(candidate)
        if not following:
            return None
        current = following
    return next(iter(current)) if len(current) == 1 else None


def _field(model: type[BaseModel], key: str) -> Any:
    for name, info in model.model_fields.items():
        if key == name or key == info.alias:
            return info.annotation
        choices = info.validation_alias
        if isinstance(choices, AliasChoices) and key in choices.choices:
            return info.annotation
    return None


def _tag_of(model: type[BaseModel]) -> Any:
    field = model.model_fields.get("type")
    return None if field is None else field.default


def _models_in(annotation: Any) -> set[type[BaseModel]]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return {annotation}
    found: set[type[BaseModel]] = set()
    if isinstance(annotation, types.UnionType) or typing.get_origin(annotation) is not None:
        for arg in typing.get_args(annotation):
            found |= _models_in(arg)
    return found
