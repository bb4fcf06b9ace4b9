"""Base of the domain's pydantic models.

``defer_build`` keeps ``import oneringai`` cheap: a model's validator is built the
first time it is used, not when the module is imported.
"""

from pydantic import BaseModel, ConfigDict


class DomainModel(BaseModel):
    model_config = ConfigDict(defer_build=True)


class SettingsSection(BaseModel):
    """Base of every adapter's settings model: unknown keys are errors, never ignored.

    It lives in the domain so that adapters in any layer can own their settings model
    and the configuration schema can compose them without an import cycle.
    """

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)
