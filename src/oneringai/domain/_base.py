"""Base of the domain's pydantic models.

``defer_build`` keeps ``import oneringai`` cheap: a model's validator is built the
first time it is used, not when the module is imported.
"""

from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict


class DomainModel(BaseModel):
    model_config = ConfigDict(defer_build=True)


class SettingsSection(BaseModel):
    """Base of every adapter's settings model: unknown keys are errors, never ignored.

    It lives in the domain so that adapters in any layer can own their settings model
    and the configuration schema can compose them without an import cycle.
    """

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    #: Mappings whose values are secrets whatever their keys say (shown masked in repr).
    _SECRET_MAPPINGS: ClassVar[frozenset[str]] = frozenset({"extra_token_params", "headers", "env"})

    def __repr_args__(self) -> Any:
        """Settings end up in logs and tracebacks: URL passwords, secret-looking query values and
        ``extra_token_params`` values never show (``SecretStr`` fields mask themselves)."""
        from oneringai.domain.redaction import REDACTED, redact

        for name, value in super().__repr_args__():
            if isinstance(value, str):
                value = redact(value)
            elif isinstance(value, list | tuple) and all(isinstance(item, str) for item in value):
                value = type(value)(redact(item) for item in value)  # an MCP server's args
            elif isinstance(value, dict) and name in self._SECRET_MAPPINGS:
                value = {k: REDACTED for k in value}
            yield name, value

