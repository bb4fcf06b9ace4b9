"""API-key validation results: the typed form, and the guide's plain dict (``{isValid, warning}``)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from oneringai.domain.errors import ConfigError

__all__ = ["KeyValidationResult", "normalize_key_validation"]


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
