"""One scrubbing mechanism for every way text leaves the kit: exception messages, reprs,
log records, span attributes, ``config show``.

Two nets, applied together by ``redact``:

1. **Known values.** Every secret the kit handles — API keys, client secrets, access,
   refresh and id tokens, passwords in URLs, ``extra_token_params`` values — is passed
   to ``register_secret`` where it enters. From then on it is replaced wherever it
   appears, also when a server echoes it back in an error body, a mid-stream error
   event or an OAuth ``error_description``.
2. **Shapes.** Anything that looks like a credential is replaced even if it was never
   registered: vendor key prefixes (``sk-``, ``AKIA``, ``ghp_``, ``xox?-``), bearer
   values, JWTs, URL userinfo passwords, and ``token=`` / ``"client_secret": "..."``
   style fields.

``OneRingAIError`` scrubs its message through here, and ``RedactingFilter`` does the
same for log records, so no error path needs to remember to do it.
"""

from __future__ import annotations

import logging
import re
import threading
from collections import OrderedDict
from collections.abc import Iterable

__all__ = [
    "REDACTED",
    "RedactingFilter",
    "get_logger",
    "redact",
    "redact_url",
    "register_secret",
    "registered_secret_count",
]

REDACTED = "[REDACTED]"

#: A secret shorter than this is not registered globally: replacing every "abc" in every
#: message would hide more than it protects. Explicit ``secrets=`` use a lower floor.
_MIN_REGISTERED = 8
_MIN_EXPLICIT = 4
#: The registry forgets the oldest values beyond this (tokens rotate; old ones expire).
_MAX_REGISTERED = 4096

_SECRET_FIELDS = (
    r"access_token|refresh_token|id_token|client_secret|api[_-]?key|password|passwd|"
    r"secret|token|assertion|code_verifier|authorization|x-api-key|private_key"
)
def _shape(pattern: str, *, case_sensitive: bool = False) -> re.Pattern[str]:
    return re.compile(pattern, 0 if case_sensitive else re.IGNORECASE)


_KEY_SHAPE = _shape(
    r"sk-(?:ant-|proj-)?[A-Za-z0-9_\-*]{6,}"
    r"|AKIA[0-9A-Z]{12,}"
    r"|gh[pousr]_[A-Za-z0-9]{20,}"
    r"|xox[abp]-[A-Za-z0-9-]{10,}"
    # a JWT starts where its run of characters starts and is read possessively: otherwise
    # every "eyJ" inside a long run is retried to the run's end (quadratic on 64 KiB bodies)
    r"|(?<![A-Za-z0-9_-])eyJ[A-Za-z0-9_-]{8,}+\.[A-Za-z0-9_-]{8,}+\.[A-Za-z0-9_-]*+",
    case_sensitive=True,
)
_SCHEME_SHAPE = _shape(
    r"(\b[Bb]earer\s+)[A-Za-z0-9._\-~+/]{4,}=*|(\b(?:[Bb]asic|Token)\s+)[A-Za-z0-9._\-~+/]{8,}=*",
    case_sensitive=True,
)
#: The password runs to the *last* ``@`` before the host, as URL parsers read it (a password
#: with a raw ``@`` must not leave its tail behind).
_USERINFO_SHAPE = _shape(r"(://[^\s:/@]*:)[^\s/?#]+(?=@)")
_JSON_FIELD_SHAPE = _shape(r"([\"'](?:" + _SECRET_FIELDS + r")[\"']\s*:\s*[\"'])(?:[^\"'\\]|\\.)+(?=[\"'])")
_FORM_FIELD_SHAPE = _shape(r"(\b(?:" + _SECRET_FIELDS + r")=)(?:'[^']*'|\"[^\"]*\"|[^&\s\"']+)")
#: A credential header as servers echo it (``x-api-key: …``); ``Authorization`` values are the
#: scheme shape's.
_HEADER_SHAPE = _shape(r"(\b(?:x-api-key|api-key|x-goog-api-key|ocp-apim-subscription-key)\s*:\s*)[^\s,;\"']+")


def _keep_prefix(match: re.Match[str]) -> str:
    prefix = next((group for group in match.groups() if group is not None), "")
    return prefix + REDACTED


def _redact_shapes(text: str) -> str:
    """Each shape runs only when a cheap substring test says it could match: one combined
    pattern is several times slower than these separate passes."""
    if "sk-" in text or "AKIA" in text or "xox" in text or "eyJ" in text or ("gh" in text and "_" in text):
        text = _KEY_SHAPE.sub(REDACTED, text)
    if "earer" in text or "asic" in text or "Token" in text:
        text = _SCHEME_SHAPE.sub(_keep_prefix, text)
    if "://" in text and "@" in text:
        text = _USERINFO_SHAPE.sub(_keep_prefix, text)
    if ":" in text and ('"' in text or "'" in text):
        text = _JSON_FIELD_SHAPE.sub(_keep_prefix, text)
    if "=" in text:
        text = _FORM_FIELD_SHAPE.sub(_keep_prefix, text)
    if "ey:" in text or "ey :" in text or "EY:" in text or "Ey:" in text:
        text = _HEADER_SHAPE.sub(_keep_prefix, text)
    return text


class _Registry:
    """Known secret values, newest last, bounded.

    Indexed by each value's first ``_MIN_REGISTERED`` characters, so registering is O(1)
    and a search is one pass over the text's n-grams (set lookups) — no pattern of
    thousands of alternatives to recompile whenever a token is refreshed.
    """

    def __init__(self) -> None:
        self._values: OrderedDict[str, None] = OrderedDict()
        self._by_prefix: dict[str, set[str]] = {}
        self._lock = threading.Lock()

    def add(self, value: str) -> None:
        with self._lock:
            if value in self._values:
                self._values.move_to_end(value)
                return
            self._values[value] = None
            self._by_prefix.setdefault(value[:_MIN_REGISTERED], set()).add(value)
            while len(self._values) > _MAX_REGISTERED:
                old, _ = self._values.popitem(last=False)
                bucket = self._by_prefix.get(old[:_MIN_REGISTERED])
                if bucket is not None:
                    bucket.discard(old)
                    if not bucket:
                        del self._by_prefix[old[:_MIN_REGISTERED]]

    def redact(self, text: str) -> str:
        by_prefix = self._by_prefix
        width = _MIN_REGISTERED
        if not by_prefix or len(text) < width:
            return text
        grams = {text[i : i + width] for i in range(len(text) - width + 1)}
        if grams.isdisjoint(by_prefix):  # the common case: nothing registered occurs
            return text
        with self._lock:
            found = {v for gram in grams & by_prefix.keys() for v in by_prefix.get(gram, ()) if v in text}
        for value in sorted(found, key=len, reverse=True):  # longest first: no partial leftovers
            text = text.replace(value, REDACTED)
        return text

    def __len__(self) -> int:
        return len(self._values)


_REGISTRY = _Registry()


def register_secret(value: object) -> None:
    """Remember a secret so that ``redact`` replaces it wherever it appears later.

    Accepts a ``str``, a pydantic ``SecretStr`` or None; short values are ignored.
    """
    if value is None:
        return
    getter = getattr(value, "get_secret_value", None)
    text = getter() if callable(getter) else value
    if isinstance(text, str) and len(text) >= _MIN_REGISTERED:
        _REGISTRY.add(text)
        stripped = text.strip()
        if stripped != text and len(stripped) >= _MIN_REGISTERED:
            _REGISTRY.add(stripped)


def registered_secret_count() -> int:
    return len(_REGISTRY)


def redact(text: str, secrets: Iterable[object] = ()) -> str:
    """``text`` with every registered secret, every value in ``secrets`` and every
    credential-shaped substring replaced by ``[REDACTED]``."""
    if not text:
        return text
    for secret in secrets:
        getter = getattr(secret, "get_secret_value", None)
        value = getter() if callable(getter) else secret
        if isinstance(value, str) and len(value) >= _MIN_EXPLICIT and value in text:
            text = text.replace(value, REDACTED)
    return _redact_shapes(_REGISTRY.redact(text))


def redact_url(url: str) -> str:
    """A URL fit to print: the userinfo password and secret-looking query values hidden."""
    return redact(url)


class RedactingFilter(logging.Filter):
    """Scrubs a record's message, arguments and traceback text before any handler sees it."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a broken format string: let logging report it as usual
            return True
        cleaned = redact(message)
        if cleaned != message or record.args:
            record.msg, record.args = cleaned, None
        if record.exc_info and not record.exc_text:
            record.exc_text = redact(logging.Formatter().formatException(record.exc_info))
        elif record.exc_text:
            record.exc_text = redact(record.exc_text)
        return True


_FILTER = RedactingFilter()


def get_logger(name: str) -> logging.Logger:
    """``logging.getLogger(name)`` with the redacting filter attached (once)."""
    logger = logging.getLogger(name)
    if _FILTER not in logger.filters:
        logger.addFilter(_FILTER)
    return logger
