"""Per-provider tables of model capabilities and prices, with a sane default.

Lookup is exact first, then the longest table key that prefixes the model id
(``gpt-4o-2024-08-06`` finds ``gpt-4o``), then the table's default.
"""

from __future__ import annotations

from collections.abc import Mapping

from oneringai.domain.capabilities import ModelCapabilities
from oneringai.domain.errors import ModelNotFoundError

__all__ = [
    "ANTHROPIC_MODELS",
    "DEFAULT_CAPABILITIES",
    "OLLAMA_MODELS",
    "OPENAI_MODELS",
    "ModelRegistry",
]

DEFAULT_CAPABILITIES = ModelCapabilities()


class ModelRegistry:
    def __init__(
        self,
        table: Mapping[str, ModelCapabilities],
        default: ModelCapabilities = DEFAULT_CAPABILITIES,
    ) -> None:
        self._table = dict(table)
        self._prefixes = sorted(self._table, key=len, reverse=True)
        self.default = default

    def get(self, model: str) -> ModelCapabilities:
        if not isinstance(model, str):  # ``None.split`` was an AttributeError from get_model_capabilities
            raise ModelNotFoundError(f"a model is named by a string, not {type(model).__name__}")
        found = self._table.get(model)
        if found is not None:
            return found
        base = model.split(":", 1)[0]  # ollama tags: llama3.2:3b
        for key in self._prefixes:
            if model.startswith(key) or base.startswith(key):
                return self._table[key]
        return self.default

    def models(self) -> list[str]:
        return sorted(self._table)


def _m(
    max_in: int,
    max_out: int,
    price_in: float = 0.0,
    price_out: float = 0.0,
    *,
    tools: bool = True,
    vision: bool = False,
    json: bool = True,
) -> ModelCapabilities:
    return ModelCapabilities(
        max_input_tokens=max_in,
        max_output_tokens=max_out,
        supports_tools=tools,
        supports_vision=vision,
        supports_json=json,
        supports_streaming=True,
        input_price_per_million=price_in,
        output_price_per_million=price_out,
    )


# Prices are USD per million tokens, from the vendors' public price lists.
OPENAI_MODELS: dict[str, ModelCapabilities] = {
    "gpt-4.1": _m(1_047_576, 32_768, 2.0, 8.0, vision=True),
    "gpt-4.1-mini": _m(1_047_576, 32_768, 0.4, 1.6, vision=True),
    "gpt-4.1-nano": _m(1_047_576, 32_768, 0.1, 0.4, vision=True),
    "gpt-4o": _m(128_000, 16_384, 2.5, 10.0, vision=True),
    "gpt-4o-mini": _m(128_000, 16_384, 0.15, 0.6, vision=True),
    "gpt-5": _m(400_000, 128_000, 1.25, 10.0, vision=True),
    "gpt-5-mini": _m(400_000, 128_000, 0.25, 2.0, vision=True),
    "gpt-5-nano": _m(400_000, 128_000, 0.05, 0.4, vision=True),
    "o3": _m(200_000, 100_000, 2.0, 8.0, vision=True),
    "o4-mini": _m(200_000, 100_000, 1.1, 4.4, vision=True),
    "gpt-3.5-turbo": _m(16_385, 4_096, 0.5, 1.5),
}

ANTHROPIC_MODELS: dict[str, ModelCapabilities] = {
    "claude-opus-4": _m(200_000, 32_000, 15.0, 75.0, vision=True),
    "claude-sonnet-4": _m(200_000, 64_000, 3.0, 15.0, vision=True),
    "claude-3-7-sonnet": _m(200_000, 64_000, 3.0, 15.0, vision=True),
    "claude-3-5-sonnet": _m(200_000, 8_192, 3.0, 15.0, vision=True),
    "claude-3-5-haiku": _m(200_000, 8_192, 0.8, 4.0, vision=True),
    "claude-haiku-4": _m(200_000, 64_000, 1.0, 5.0, vision=True),
    "claude-3-haiku": _m(200_000, 4_096, 0.25, 1.25, vision=True),
}

# Local models cost nothing per token; limits are the models' native context.
OLLAMA_MODELS: dict[str, ModelCapabilities] = {
    "llama3.2": _m(131_072, 8_192),
    "llama3.1": _m(131_072, 8_192),
    "llama3": _m(8_192, 4_096, tools=False),
    "llava": _m(4_096, 2_048, tools=False, vision=True),
    "qwen2.5": _m(32_768, 8_192),
    "qwen3": _m(40_960, 8_192),
    "mistral": _m(32_768, 4_096),
    "gemma3": _m(131_072, 8_192, tools=False, vision=True),
    "phi3": _m(4_096, 2_048, tools=False),
}

LLAMACPP_MODELS: dict[str, ModelCapabilities] = {
    "gemma3-270m": _m(32_768, 4_096, tools=False),
}
