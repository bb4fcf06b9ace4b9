"""The built-in providers, importable from one place (each module loads on first use).

    from oneringai.providers import OllamaTextProvider
    client = OneRingAI(providers={"ollama": OllamaTextProvider({"base_url": "http://localhost:11434"})})
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from oneringai.infrastructure.providers.anthropic import AnthropicTextProvider
    from oneringai.infrastructure.providers.llamacpp import LlamaCppTextProvider
    from oneringai.infrastructure.providers.ollama import OllamaTextProvider
    from oneringai.infrastructure.providers.openai import OpenAITextProvider
    from oneringai.infrastructure.providers.openai_images import OpenAIImageProvider

    AnthropicProvider = AnthropicTextProvider
    LlamaCppProvider = LlamaCppTextProvider
    OllamaProvider = OllamaTextProvider
    OpenAIProvider = OpenAITextProvider

__all__ = [
    "AnthropicProvider",
    "AnthropicTextProvider",
    "LlamaCppProvider",
    "LlamaCppTextProvider",
    "OllamaProvider",
    "OllamaTextProvider",
    "OpenAIImageProvider",
    "OpenAIProvider",
    "OpenAITextProvider",
]

#: The guide's shorter spellings (``OllamaProvider`` ...) name the same classes.
_ALIASES = {
    "AnthropicProvider": "AnthropicTextProvider",
    "LlamaCppProvider": "LlamaCppTextProvider",
    "OllamaProvider": "OllamaTextProvider",
    "OpenAIProvider": "OpenAITextProvider",
}

_MODULES = {
    "AnthropicTextProvider": "anthropic",
    "LlamaCppTextProvider": "llamacpp",
    "OllamaTextProvider": "ollama",
    "OpenAIImageProvider": "openai_images",
    "OpenAITextProvider": "openai",
}


def __getattr__(name: str) -> Any:
    name = _ALIASES.get(name, name)
    module = _MODULES.get(name)
    if module is None:
        raise AttributeError(f"module 'oneringai.providers' has no attribute {name!r}")
    return getattr(importlib.import_module(f"oneringai.infrastructure.providers.{module}"), name)
