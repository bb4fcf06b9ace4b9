"""Provider composition: ``kind: fallback`` tries named providers in order."""

from oneringai.application.fallback.config import FallbackProviderConfig
from oneringai.application.fallback.provider import FallbackTextProvider, fails_over

__all__ = ["FallbackProviderConfig", "FallbackTextProvider", "fails_over"]
