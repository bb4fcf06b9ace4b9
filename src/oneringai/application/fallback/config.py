"""YAML schema of ``text.providers.<name>`` with ``kind: fallback``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from pydantic import ConfigDict, Field

from oneringai.domain._base import ConfigModel

__all__ = ["FallbackProviderConfig", "default_models", "fallback_problems"]


class FallbackProviderConfig(ConfigModel):
    """Try ``providers`` in order; move on only for failures another endpoint may not have.

    Which model each member is asked for: ``models.<member>`` if set, else that member's own
    ``default_model``, else the model the caller asked for. So members of different vendors
    each get a model they know, and a caller that names no model gets ``default_model`` here
    (default: the first model configured among the members, in order).
    """

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    kind: Literal["fallback"] = "fallback"
    providers: list[str] = Field(
        min_length=1, description="names under text.providers, tried in this order (no cycles)"
    )
    models: dict[str, str] = Field(
        default_factory=dict, description="member name -> model to ask it for (else its default_model)"
    )
    default_model: str | None = Field(
        default=None, description="model when the caller names none (default: the first member model set)"
    )


def fallback_problems(providers: Mapping[str, Any]) -> list[tuple[str, str]]:
    """What is wrong with the fallbacks among ``providers`` (``text.providers``), as
    ``(path below text, message)``: unknown or repeated members, a fallback naming itself,
    ``models`` for a non-member, and cycles through nested fallbacks."""
    problems: list[tuple[str, str]] = []
    fallbacks = {name: c for name, c in providers.items() if isinstance(c, FallbackProviderConfig)}
    for name, config in fallbacks.items():
        seen: set[str] = set()
        for index, member in enumerate(config.providers):
            path = f"providers.{name}.providers[{index}]"
            if member == name:
                problems.append((path, f"fallback {name!r} lists itself"))
            elif member not in providers:
                problems.append(
                    (path, f"unknown provider {member!r} (configured: {', '.join(sorted(providers))})")
                )
            elif member in seen:
                problems.append((path, f"{member!r} is listed twice"))
            seen.add(member)
        for member in config.models:
            if member not in config.providers:
                problems.append(
                    (f"providers.{name}.models.{member}", f"{member!r} is not one of this fallback's providers")
                )
    if problems:
        return problems
    for name in fallbacks:  # only well-formed graphs reach here
        cycle = _cycle_from(name, fallbacks, [name])
        if cycle is not None:
            index = fallbacks[name].providers.index(cycle[1])
            problems.append((f"providers.{name}.providers[{index}]", f"cycle: {' -> '.join(cycle)}"))
            break
    return problems


def _cycle_from(
    start: str, fallbacks: Mapping[str, FallbackProviderConfig], path: list[str]
) -> list[str] | None:
    for member in fallbacks[path[-1]].providers:
        if member == start:
            return [*path, member]
        if member in fallbacks and member not in path:
            found = _cycle_from(start, fallbacks, [*path, member])
            if found is not None:
                return found
    return None


def default_models(configs: Mapping[str, Any]) -> dict[str, str | None]:
    """The model a call names none of, per provider (``text.providers.<name>.default_model``);
    a fallback without its own takes the first model among its members, in order
    (``models.<member>`` or that member's ``default_model``, through nested fallbacks)."""

    def model_of(name: str, depth: int) -> str | None:
        config = configs.get(name)
        if config is None or depth > len(configs):
            return None
        if not isinstance(config, FallbackProviderConfig) or config.default_model:
            default = getattr(config, "default_model", None)
            return default if isinstance(default, str) else None
        for member in config.providers:
            model = config.models.get(member) or model_of(member, depth + 1)
            if model:
                return model
        return None

    return {name: model_of(name, 0) for name in configs}
