"""Scrub a client library's exception, and the exceptions chained to it, in place.

Our errors scrub their own message, but the library exception they are raised from stays
reachable as ``__cause__`` or ``__context__`` — and shows the key: aiohttp's
``ClientResponseError`` repr carries the request's headers (``authorization: Bearer sk-…``),
and a parser error of aiohttp or h11 quotes the malformed line a server sent (which may echo
the key). Once a library exception has been mapped to one of ours nobody reads it but a
person debugging, so its text is replaced by the scrubbed text and the attributes that hold
headers are emptied: ``str``, ``repr`` and the traceback of every link are then clean.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import Any

from oneringai.domain.errors import OneRingAIError

__all__ = ["scrub_foreign_chain"]

#: How many chained exceptions are visited (a chain is a handful; a cycle ends at a seen one).
_MAX_LINKS = 32
#: Attributes whose values are headers (request or response) or a request that holds them.
_HEADER_HOLDERS = ("headers", "history")


def scrub_foreign_chain(error: BaseException, scrub: Callable[[str], str]) -> None:
    """Scrub ``error`` and everything chained to it that is not ours (ours scrub themselves)."""
    seen: set[int] = set()
    pending: list[BaseException | None] = [error]
    while pending and len(seen) < _MAX_LINKS:
        link = pending.pop()
        if link is None or id(link) in seen:
            continue
        seen.add(id(link))
        pending += [link.__cause__, link.__context__]
        if isinstance(link, BaseExceptionGroup):
            pending += list(link.exceptions)[:_MAX_LINKS]
        if not isinstance(link, OneRingAIError):
            with contextlib.suppress(Exception):  # another library's object: best effort, never a new failure
                _scrub_one(link, scrub)


def _scrub_one(link: BaseException, scrub: Callable[[str], str]) -> None:
    link.args = tuple(_scrubbed(arg, scrub) for arg in link.args)
    message = getattr(link, "message", None)
    if isinstance(message, str | bytes | bytearray):
        link.message = _scrubbed(message, scrub)  # type: ignore[attr-defined]
    info = getattr(link, "request_info", None)
    if info is not None and hasattr(info, "_replace"):  # aiohttp: the request's headers
        from multidict import CIMultiDict, CIMultiDictProxy

        link.request_info = info._replace(headers=CIMultiDictProxy(CIMultiDict()))  # type: ignore[attr-defined]
    for name in _HEADER_HOLDERS:
        if getattr(link, name, None):
            with contextlib.suppress(AttributeError, TypeError):
                setattr(link, name, None if name == "headers" else ())
    if getattr(link, "_request", None) is not None:  # httpx: the request (and its headers)
        link._request = None  # type: ignore[attr-defined]
    notes = getattr(link, "__notes__", None)
    if isinstance(notes, list):
        notes[:] = [scrub(note) if isinstance(note, str) else note for note in notes]


def _scrubbed(value: Any, scrub: Callable[[str], str]) -> Any:
    if isinstance(value, str):
        return scrub(value)
    if isinstance(value, bytes | bytearray):
        text = bytes(value).decode("latin-1")
        clean = scrub(text)
        return value if clean == text else clean.encode("latin-1", "replace")
    if value is None or isinstance(value, int | float | bool):
        return value
    shown = repr(value)  # an object of the library's own: kept when its text is clean
    return value if scrub(shown) == shown and scrub(str(value)) == str(value) else scrub(str(value))
