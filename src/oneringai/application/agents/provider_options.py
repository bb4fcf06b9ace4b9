"""An agent's ``provider_options``: vendor knobs sent with every model request of its runs
(Anthropic's ``thinking``, OpenAI's ``seed`` or ``reasoning_effort``, Ollama's ``num_ctx``…).

Given in code (``Agent(provider_options=...)``, ``client.agents.create(provider_options=...)``,
never in YAML: they are one vendor's spelling), so checked here: a mapping with string keys of
JSON values (finite numbers, no sets or bytes), at most ``MAX_PROVIDER_OPTIONS_DEPTH`` levels
deep and ``MAX_PROVIDER_OPTIONS_CHARS`` characters as JSON. Anything else is an
``AgentProviderOptionsError`` (an ``AgentLimitError`` and a ``RequestOptionsError``) naming
where it is, never quoting a value. The agent keeps its own copy
and each request gets a fresh one, so a caller or a hook changing a nested value in place
changes neither the agent nor its next request.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from oneringai.application.agents.support import AgentLimitError
from oneringai.domain.errors import RequestOptionsError
from oneringai.domain.json_data import MAX_JSON_CHARS, MAX_JSON_DEPTH, json_data

__all__ = [
    "MAX_PROVIDER_OPTIONS_CHARS",
    "MAX_PROVIDER_OPTIONS_DEPTH",
    "AgentProviderOptionsError",
    "ProviderOptionsSetting",
    "checked_provider_options",
]

#: The options of one agent as JSON, at most (a few hundred bytes in practice; a raw tool list
#: or JSON schema in them stays far below).
MAX_PROVIDER_OPTIONS_CHARS = MAX_JSON_CHARS
#: Nesting, at most (a deeper structure was a ``RecursionError`` when the body was encoded).
MAX_PROVIDER_OPTIONS_DEPTH = MAX_JSON_DEPTH


class AgentProviderOptionsError(AgentLimitError, RequestOptionsError):
    """An agent's ``provider_options`` that no request could carry. Both an ``AgentLimitError``
    (what the agent's other unusable arguments raise) and a ``RequestOptionsError`` (what the
    same value raises on a single request), so either ``except`` catches it."""


def checked_provider_options(value: object) -> dict[str, Any]:
    """A copy of ``value`` as plain JSON data (dicts and lists), or an ``AgentProviderOptionsError``.

    The same check as every request's (``oneringai.domain.json_data``), made when the agent is
    built so the mistake shows there, not at its first run."""
    return json_data(
        value,
        name="provider_options",
        where="Agent(provider_options=...)",
        error=AgentProviderOptionsError,
        max_depth=MAX_PROVIDER_OPTIONS_DEPTH,
        max_chars=MAX_PROVIDER_OPTIONS_CHARS,
    )


class ProviderOptionsSetting:
    """``agent.provider_options``: checked when assigned (in ``__init__`` or later), read as a
    fresh copy (the next request's, free to change)."""

    def __set_name__(self, owner: type, name: str) -> None:
        self._attribute = f"_{name}"

    def __get__(self, instance: object, owner: type | None = None) -> dict[str, Any]:
        if instance is None:
            return {}
        stored: dict[str, Any] = getattr(instance, self._attribute, {})
        return copy.deepcopy(stored)

    def __set__(self, instance: object, value: Mapping[str, Any] | None) -> None:
        setattr(instance, self._attribute, checked_provider_options(value))
