"""API-key validation results: the typed form, and the guide's plain dict (``{isValid, warning}``);
and credentials moved out of a base URL into a header."""

from __future__ import annotations

import base64
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlsplit, urlunsplit

from oneringai.domain.errors import ConfigError

if TYPE_CHECKING:
    from oneringai.infrastructure.providers.config import ProviderConfig

__all__ = ["KeyValidationResult", "normalize_key_validation", "userinfo_to_header"]


@dataclass(frozen=True)
class KeyValidationResult:
    is_valid: bool
    warning: str | None = None


def normalize_key_validation(value: Any, *, provider: str) -> KeyValidationResult:
    """Whatever a ``validate_provider_specific_key_format`` hook returned, as a result.

    Accepted: ``KeyValidationResult``, a mapping with ``is_valid`` or the guide's ``isValid``
    (and an optional ``warning``), a bool, or None (the hook has no opinion: valid).
    """
    if isinstance(value, KeyValidationResult):
        return value
    if value is None:
        return KeyValidationResult(is_valid=True)
    if isinstance(value, bool):
        return KeyValidationResult(is_valid=value)
    if isinstance(value, Mapping):
        valid = value.get("is_valid", value.get("isValid", value.get("valid")))
        warning = value.get("warning")
        if isinstance(valid, bool) and (warning is None or isinstance(warning, str)):
            return KeyValidationResult(is_valid=valid, warning=warning or None)
    valid = getattr(value, "is_valid", getattr(value, "isValid", None))
    if isinstance(valid, bool):
        warning = getattr(value, "warning", None)
        return KeyValidationResult(is_valid=valid, warning=warning if isinstance(warning, str) else None)
    raise ConfigError(
        f"provider {provider!r}: validate_provider_specific_key_format returned {type(value).__name__}; "
        "return KeyValidationResult(is_valid=..., warning=...) or {'isValid': bool, 'warning': str}"
    )


def userinfo_to_header(config: ProviderConfig) -> tuple[ProviderConfig, list[str]]:
    """``https://user:pass@host`` → ``https://host`` plus ``authorization: Basic ...`` (unless the
    settings set their own), so credentials never travel in a URL that httpx logs or an error
    quotes; with both, aiohttp refuses the request and httpx silently drops the header."""
    url = config.base_url
    if not url or "@" not in url:
        return config, []
    try:
        parts = urlsplit(url)
        user, password = parts.username, parts.password
    except ValueError:
        return config, []
    if user is None and password is None:
        return config, []
    user, password = unquote(user or ""), unquote(password or "")
    clean = urlunsplit(parts._replace(netloc=parts.netloc.rpartition("@")[2]))
    headers = dict(config.headers)
    secrets = [value for value in (user, password) if value]
    if not any(name.lower() == "authorization" for name in headers):
        basic = "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()
        headers["authorization"] = basic
        secrets.append(basic)
    return config.model_copy(update={"base_url": clean, "headers": headers}), secrets
