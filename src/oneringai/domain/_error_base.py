"""The base of the error hierarchy and the errors the domain's own models raise, apart from
``errors.py`` (which re-exports them, and is where they are documented and named): the
models' modules import them without importing ``errors.py``, whose annotations need
``response.py`` — which needs those models (an import cycle otherwise)."""

from __future__ import annotations

from typing import Any

from oneringai.domain.redaction import redact

__all__ = ["OneRingAIError", "RequestOptionsError"]


class OneRingAIError(Exception):
    """Base of every error raised by oneringai. Its message is scrubbed of secrets."""

    __module__ = "oneringai.domain.errors"

    def __init__(self, *args: Any) -> None:
        super().__init__(*(redact(arg) if isinstance(arg, str) else arg for arg in args))


class RequestOptionsError(OneRingAIError, ValueError):
    """A request's free-form value — ``provider_options``, a ``response_format`` JSON schema, a
    tool's ``parameters``, ``metadata`` — is nothing a JSON request body can carry (a set, bytes,
    an object, NaN or infinity, a key that is not a string, too deep, too long). Raised where the
    value enters (building ``TextGenerateOptions`` / a tool definition), or when the body is
    encoded for a value changed in place after that. The message names the key path and never
    quotes the value. A ``ValueError``, like the pydantic error a wrongly typed field raises."""

    __module__ = "oneringai.domain.errors"
