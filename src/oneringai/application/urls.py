"""URLs from configuration, checked where they enter.

A client library refuses a malformed URL only at first use, and then with its own raw error
(httpx's ``InvalidURL``, an ``ExceptionGroup`` for a port out of range,
``UnicodeEncodeError``); every settings model checks its URLs with this one function instead,
so the error is a ``ConfigError`` naming the YAML path.
"""

from __future__ import annotations

import re
from urllib.parse import SplitResult, urlsplit

__all__ = ["check_url"]


_CONTROL_OR_SPACE = re.compile(r"[\x00-\x20\x7f]")


def check_url(value: str, schemes: tuple[str, ...] | None = ("http", "https"), *, host: bool = True) -> SplitResult:
    """``value`` split, or ``ValueError`` (never quoting the URL: it may hold a password) when a
    client library would refuse it only at first use, and then with its own raw error (httpx's
    ``InvalidURL``, an ``ExceptionGroup`` for a port out of range, ``UnicodeEncodeError``).
    ``schemes`` None allows any scheme (an app's own redirect URI); ``host`` asks for a host name."""
    if _CONTROL_OR_SPACE.search(value):
        raise ValueError("must be a URL without spaces or control characters")
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 - raises ValueError for a port out of range or not a number
    except ValueError as exc:
        raise ValueError(f"is not a valid URL ({exc})") from None
    if schemes is not None and (parts.scheme.lower() not in schemes or (host and not parts.hostname)):
        wanted = " or ".join(f"{scheme}://" for scheme in schemes)
        raise ValueError(f"must be a {wanted} URL" + (" with a host" if host else ""))
    return parts
