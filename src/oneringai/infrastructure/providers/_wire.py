"""Validating vendor bodies at the boundary: one call from bytes to a checked shape.

The vendor shapes are ``TypedDict``s validated by pydantic-core straight from the raw
bytes (JSON parsing and shape checks in one native pass — faster than ``json.loads``
followed by ``.get()`` chains, and it cannot raise anything but ``ValidationError``,
which becomes ``ProviderResponseError`` here). Shapes are lenient where vendors differ
(extra keys ignored, most fields optional or nullable) and strict where our code relies
on a type: a string where an object belongs, ``"index": "abc"`` or ``"usage": "many"``
is refused, never half-read.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any, TypeVar

from pydantic import Field, TypeAdapter, ValidationError

from oneringai.domain.errors import ProviderResponseError

__all__ = ["TokenCount", "json_validator", "lazy_json_validator", "shape_error", "validate_shape"]

T = TypeVar("T")
_BOM = b"\xef\xbb\xbf"

#: A usage count as a vendor reports it: a negative count or one of 400 digits is no count
#: (it would make a negative cost, or an ``OverflowError`` where cost multiplies it by a price).
TokenCount = Annotated[int, Field(ge=0, le=2**53)]


def json_validator(shape: Any) -> Callable[[bytes | str], Any]:
    """The fast ``validate_json`` of a ``TypeAdapter`` over ``shape``."""
    return TypeAdapter(shape).validator.validate_json


def lazy_json_validator(shape: Any) -> Callable[[bytes | str], Any]:
    """Like ``json_validator``, built on the first call: for shapes off the first call's path
    (a model list, images), whose schema build would only slow a cold start."""
    built: list[Callable[[bytes | str], Any]] = []

    def validate(data: bytes | str) -> Any:
        if not built:
            built.append(json_validator(shape))
        return built[0](data)

    return validate


def shape_error(
    error: ValidationError, *, provider: str, model: str | None, what: str
) -> ProviderResponseError:
    """A typed error naming where the body went wrong; never the body's values (they may
    echo secrets), only locations and pydantic's descriptions."""
    problems = error.errors(include_input=False, include_url=False, include_context=False)
    if not problems:  # pragma: no cover - pydantic always lists at least one
        return ProviderResponseError(f"unexpected {what} from the provider", provider=provider, model=model)
    first = problems[0]
    if first["type"] == "json_invalid":
        return ProviderResponseError(
            f"malformed JSON in the {what} from the provider: {first['msg']}", provider=provider, model=model
        )
    where = ".".join(str(part) for part in first["loc"]) or "(top level)"
    more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
    return ProviderResponseError(
        f"unexpected {what} shape from the provider: {where}: {first['msg']}{more}", provider=provider, model=model
    )


def validate_shape(
    validate: Callable[[bytes | str], T], raw: bytes | str, *, provider: str, model: str | None, what: str
) -> T:
    if raw[:3] == _BOM if isinstance(raw, bytes) else raw[:1] == "\ufeff":
        raw = raw[3:] if isinstance(raw, bytes) else raw[1:]  # RFC 8259 lets a parser ignore a BOM
    try:
        return validate(raw)
    except ValidationError as error:
        problem = shape_error(error, provider=provider, model=model, what=what)
    raise problem  # outside the handler: the ValidationError (which quotes the input) is not its context
