"""Base of the domain's pydantic models.

``defer_build`` keeps ``import oneringai`` cheap: a model's validator is built the
first time it is used, not when the module is imported.
"""

from pydantic import BaseModel, ConfigDict


class DomainModel(BaseModel):
    model_config = ConfigDict(defer_build=True)
