"""The last two unbounded limits of the YAML schema (2026-11-30): ``tools.mcp_servers.<name>.max_output_chars``
and ``observability.max_content_chars`` took any integer (``10**12`` is no limit: every MCP output held
and sent whole, every captured prompt recorded whole on its span). Each now has an upper bound, like
``agents.max_tool_output_chars`` (at most 10,000,000), and a value above it is a ``ConfigError``
naming the YAML path; a boolean was refused before and still is."""

from __future__ import annotations

from typing import Any

import pytest

from oneringai.application.agents.support import MAX_TOOL_OUTPUT_LIMIT
from oneringai.config import load_settings
from oneringai.domain.errors import ConfigError

MAX_CONTENT = 1_000_000


def _mcp(value: Any) -> dict[str, Any]:
    return {"tools": {"mcp_servers": {"files": {"command": ["python", "-m", "server"], "max_output_chars": value}}}}


def _observability(value: Any) -> dict[str, Any]:
    return {"observability": {"max_content_chars": value}}


CASES = [
    (_mcp, r"tools\.mcp_servers\.files\.max_output_chars", MAX_TOOL_OUTPUT_LIMIT),
    (_observability, r"observability\.max_content_chars", MAX_CONTENT),
]


@pytest.mark.parametrize(("section", "path", "bound"), CASES, ids=["mcp", "observability"])
@pytest.mark.parametrize("excess", [1, 10**6, 10**12, 10**30])
def test_a_limit_above_its_bound_is_a_config_error_naming_the_path(section, path, bound, excess):
    with pytest.raises(ConfigError, match=rf"overrides: {path}: must be less than or equal to {bound}"):
        load_settings(overrides=section(bound + excess), env={}, dotenv=None)


@pytest.mark.parametrize(("section", "path", "bound"), CASES, ids=["mcp", "observability"])
def test_the_bound_itself_and_a_boolean(section, path, bound):
    settings = load_settings(overrides=section(bound), env={}, dotenv=None)
    if section is _mcp:
        assert settings.tools.mcp_servers["files"].max_output_chars == bound
    else:
        assert settings.observability.max_content_chars == bound
    with pytest.raises(ConfigError, match=rf"{path}: must be an integer, not a boolean"):
        load_settings(overrides=section(True), env={}, dotenv=None)


def test_the_bounds_hold_from_the_environment_too():
    with pytest.raises(ConfigError, match=r"observability\.max_content_chars: must be less than or equal to"):
        load_settings(env={"ONERINGAI_OBSERVABILITY__MAX_CONTENT_CHARS": str(10**12)}, dotenv=None)
