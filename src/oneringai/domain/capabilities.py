"""What a provider and a model can do."""

from __future__ import annotations

from pydantic import ConfigDict

from oneringai.domain._guide_model import GuideModel

__all__ = ["ModelCapabilities", "ProviderCapabilities"]


class ProviderCapabilities(GuideModel):
    """What kinds of generation a provider offers (the guide's ``capabilities`` object)."""

    model_config = ConfigDict(frozen=True)
    text: bool = True
    images: bool = False
    videos: bool = False
    audio: bool = False


class ModelCapabilities(GuideModel):
    """Limits, features and prices (per million tokens) of one model.

    The guide's spelling works too: ``ModelCapabilities(maxInputTokens=128000, supportsJSON=True)``;
    an unknown key is an error naming the fields.
    """

    model_config = ConfigDict(frozen=True)
    max_input_tokens: int = 8192
    max_output_tokens: int = 4096
    supports_tools: bool = True
    supports_vision: bool = False
    supports_streaming: bool = True
    supports_json: bool = True
    input_price_per_million: float = 0.0
    output_price_per_million: float = 0.0

    def cost(self, input_tokens: int, output_tokens: int) -> float:
        """The price of one call with this many tokens, in the table's currency (USD)."""
        return (
            input_tokens * self.input_price_per_million + output_tokens * self.output_price_per_million
        ) / 1_000_000
