"""The resolved configuration, fit to print (``oneringai config show``).

Only the secret parts are hidden, so the output still says which server is used:

- a ``SecretStr`` that is a URL keeps its scheme, user, host, port and path; its password and
  secret-named query values are replaced (``redis://127.0.0.1:6379/0`` shows as is,
  ``postgresql://app:[REDACTED]@db/app`` hides the password); any other ``SecretStr`` is
  ``[REDACTED]``;
- every value under ``headers`` and ``extra_token_params`` is replaced (any header can carry a
  credential), and so is a text value whose key names a secret (``token``, ``password``,
  ``client_secret``… — the extra keys of a custom provider are not typed ``SecretStr``);
- every other string goes through ``oneringai.domain.redaction.redact`` (registered secrets,
  credential shapes, URL userinfo passwords) — the one scrubbing mechanism.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from pydantic import BaseModel, SecretStr

from oneringai.domain.redaction import REDACTED, redact

__all__ = ["SECRET_KEY", "redacted_view"]

_ALWAYS_HIDDEN = frozenset({"headers", "extra_token_params"})
#: Keys whose text value is a secret whatever its type says.
SECRET_KEY = re.compile(
    r"(^|_)(token|secret|password|passwd|passphrase|credentials?|api_?key|private_key|authorization)$", re.I
)


def _url_without_password(text: str) -> str | None:
    """``text`` with its userinfo password replaced, or None when it is not a URL."""
    if "://" not in text or any(c.isspace() for c in text):
        return None
    try:
        parts = urlsplit(text)
        password = parts.password
        _ = parts.port  # a malformed port: not a URL we can show safely
    except ValueError:
        return None
    if not parts.scheme or not parts.hostname:
        return None
    netloc = parts.netloc
    if password is not None:
        userinfo, _, hostport = netloc.rpartition("@")
        user = userinfo.split(":", 1)[0]
        netloc = f"{user}:{REDACTED}@{hostport}"
    return urlunsplit((parts.scheme, netloc, parts.path, redact(parts.query), parts.fragment))


def _secret(value: SecretStr) -> str:
    text = value.get_secret_value()
    if not text:
        return ""
    shown = _url_without_password(text)
    return shown if shown is not None else REDACTED


def _view(value: Any, key: str, hide: bool) -> Any:
    if isinstance(value, SecretStr):
        return _secret(value)
    if isinstance(value, BaseModel):
        value = value.model_dump(mode="python", by_alias=True)
    if isinstance(value, dict):
        hidden = hide or key in _ALWAYS_HIDDEN
        return {str(k): _view(v, str(k), hidden) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_view(v, key, hide) for v in value]
    if value is not None and (hide or (isinstance(value, str) and SECRET_KEY.search(key))):
        return REDACTED
    if isinstance(value, str):
        return redact(value)
    if value is None or isinstance(value, bool | int | float):
        return value
    return redact(str(value))


def redacted_view(settings: BaseModel) -> dict[str, Any]:
    """A plain, printable dict of ``settings`` with every secret part hidden."""
    view: dict[str, Any] = _view(settings.model_dump(mode="python", by_alias=True), "", False)
    return view
