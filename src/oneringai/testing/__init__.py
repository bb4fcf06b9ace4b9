"""Test doubles and the storage conformance kit, for users' own tests (no network).

    from oneringai.testing import ScriptedTextProvider, TokenStorageConformance

``fakes`` holds the scripted provider and response builders; ``conformance`` the
pytest suite any ``IOAuthTokenStorage`` can run (it imports pytest, so it loads on
first use only).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from oneringai.testing.fakes import (
    MemoryTokenStorage,
    ScriptedTextProvider,
    text_response,
    tool_call,
    tool_calls_response,
)

if TYPE_CHECKING:
    from oneringai.testing.conformance import TokenStorageConformance

__all__ = [
    "MemoryTokenStorage",
    "ScriptedTextProvider",
    "TokenStorageConformance",
    "text_response",
    "tool_call",
    "tool_calls_response",
]


def __getattr__(name: str) -> Any:
    if name == "TokenStorageConformance":  # imports pytest, so only on demand
        from oneringai.testing.conformance import TokenStorageConformance

        return TokenStorageConformance
    raise AttributeError(f"module 'oneringai.testing' has no attribute {name!r}")
