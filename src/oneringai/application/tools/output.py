"""What the model reads of a tool's return value: text, bounded, and always producible.

A tool is user code and may return anything: a pydantic model, a dataclass, a set, an
object that refers to itself, a value nested past the recursion limit, a 100 MB string, an
object whose ``__str__`` raises. ``serialise_output`` turns each into a ``str`` of at most
``max_chars`` characters (a longer one is cut and ends with a note saying how much was
left out), encodable as UTF-8 (lone surrogates are replaced), and never raises.
"""

from __future__ import annotations

import dataclasses
import json
from typing import Any

__all__ = ["MAX_OUTPUT_CHARS", "NOTE_ROOM", "describe_exception", "serialise_output"]

#: Longest tool output handed to the model, in characters (``agents.max_tool_output_chars``).
MAX_OUTPUT_CHARS = 100_000
#: Room for the truncation note: output up to ``max_chars + NOTE_ROOM`` is already bounded.
NOTE_ROOM = 100
_MAX_DESCRIPTION_CHARS = 2000


def _jsonable(value: Any) -> Any:
    if hasattr(value, "model_dump") and callable(value.model_dump):  # pydantic models
        return value.model_dump(mode="json")
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.asdict(value)
    if isinstance(value, set | frozenset | tuple):
        return list(value)
    return _safe_str(value)


def _safe_str(value: Any) -> str:
    for render in (str, repr):
        try:
            text = render(value)
        except Exception:  # noqa: S112 - a hostile __str__/__repr__: try the next rendering
            continue
        if isinstance(text, str):
            return text
    return f"<unprintable {type(value).__name__}>"


def _text(value: Any) -> str:
    if isinstance(value, str):
        return value
    try:
        try:
            return json.dumps(value)  # plain JSON: the module's cached encoder, the fast path
        except TypeError:
            return json.dumps(value, default=_jsonable)
    except RecursionError:
        return f"<{type(value).__name__} nested too deeply to serialise>"
    except Exception:  # circular reference, NaN-free encoders, a raising model_dump, ...
        return _safe_str(value)


def _encodable(text: str) -> str:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:  # lone surrogates: no vendor accepts them in a request body
        return text.encode("utf-8", "replace").decode("utf-8")
    return text


def serialise_output(value: Any, max_chars: int = MAX_OUTPUT_CHARS) -> str:
    """What the model reads: strings as they are, everything else as JSON (see module doc)."""
    text = _text(value)
    if len(text) > max_chars:
        omitted = len(text) - max_chars
        text = text[:max_chars] + f"\n[output truncated: {omitted} of {len(text)} characters omitted]"
    return _encodable(text)


def describe_exception(exc: BaseException) -> str:
    """``Type: message`` for an error result — bounded, and safe for a hostile ``__str__``."""
    message = _safe_str(exc)
    if len(message) > _MAX_DESCRIPTION_CHARS:
        message = message[:_MAX_DESCRIPTION_CHARS] + "…"
    name = type(exc).__name__
    return _encodable(f"{name}: {message}" if message else name)
