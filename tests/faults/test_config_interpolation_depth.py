"""``${A:-${B:-...}}`` defaults nested thousands deep (third adversarial review): each level
was a Python frame, so a 20 KiB string raised a raw ``RecursionError`` from ``load_settings``
(and "unexpected RecursionError" from the CLI). Now a ``ConfigError`` naming the YAML path."""

from __future__ import annotations

from pathlib import Path

import pytest

from oneringai.config import load_settings
from oneringai.config.interpolation import MAX_DEFAULT_DEPTH
from oneringai.domain.errors import ConfigError


def _nested(levels: int) -> str:
    return "${A:-" * levels + "x" + "}" * levels


@pytest.mark.parametrize("levels", [MAX_DEFAULT_DEPTH + 1, 3000, 20000])
def test_deeply_nested_defaults_are_a_config_error(tmp_path: Path, levels: int) -> None:
    path = tmp_path / "c.yaml"
    path.write_text(f'http: {{user_agent: "{_nested(levels)}"}}\n')
    with pytest.raises(ConfigError, match=r"http\.user_agent: .*nested deeper than"):
        load_settings(path, env={}, dotenv=None)


def test_nesting_within_the_bound_still_resolves(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text(f'http: {{user_agent: "{_nested(MAX_DEFAULT_DEPTH)}"}}\n')
    assert load_settings(path, env={}, dotenv=None).http.user_agent == "x"
    assert load_settings(path, env={"A": "set"}, dotenv=None).http.user_agent == "set"
