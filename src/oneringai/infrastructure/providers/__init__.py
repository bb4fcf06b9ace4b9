"""Built-in providers. Vendor modules are imported on demand by the container."""

from oneringai.infrastructure.providers.base import BaseProvider, BaseTextProvider, KeyValidationResult
from oneringai.infrastructure.providers.config import ProviderConfig
from oneringai.infrastructure.providers.error_mapper import ProviderErrorMapper

__all__ = ["BaseProvider", "BaseTextProvider", "KeyValidationResult", "ProviderConfig", "ProviderErrorMapper"]
