"""``overrides`` given in Python are checked like a YAML file (2026-11-30).

``load_settings(overrides={"bogus": 1})`` (and ``OneRingAI.from_config(..., overrides=...)``,
which hands them on) silently ignored an unknown top-level section — a misspelt ``textt:`` meant
"no providers" — while files refuse one. A key that is not a string was a raw ``TypeError``
(``keywords must be strings``) or an error blamed on the base file; a string or list
``overrides`` was an ``AttributeError``. Each is now a ``ConfigError`` from ``overrides`` naming
the path; unknown nested keys were and are refused by the schema.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from oneringai import OneRingAI
from oneringai.config import Settings, load_settings
from oneringai.domain.errors import ConfigError

SECTIONS = list(Settings.model_fields)


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        ({"bogus": 1}, "overrides: bogus: unknown section 'bogus' (allowed: http, text"),
        ({"textt": {"default": "p"}}, "overrides: textt: unknown section 'textt'"),
        ({"bogus": None}, "overrides: bogus: unknown section"),
        ({"http": {"timeout": 5}, "Http": {}}, "overrides: Http: unknown section"),
        ({1: 2}, "overrides: <root>: has a key that is not a string (int)"),
        ({"http": {1: 2}}, "overrides: http: has a key that is not a string (int)"),
        ({"text": {"providers": {("p",): {"kind": "openai"}}}}, "overrides: text.providers: has a key that is not a string (tuple)"),
        ({"tools": {"executor": [{"kind": "retry", 3: 1}]}}, r"overrides: tools.executor[0]: has a key that is not a string"),
        ("text", "overrides: must be a mapping of sections to settings (like the YAML file), not str"),
        ([("http", {})], "overrides: must be a mapping of sections to settings (like the YAML file), not list"),
        ({"http": {"bogus": 1}}, "overrides: http.bogus: unknown key"),  # already refused: kept
    ],
    ids=["unknown", "misspelt", "null", "case", "int-key", "nested-int-key", "tuple-key", "list-item-key",
         "string", "list", "nested-unknown"],
)
def test_overrides_are_refused_like_a_file(overrides: Any, expected: str) -> None:
    with pytest.raises(ConfigError) as raised:
        load_settings(None, env={}, dotenv=None, overrides=overrides)
    assert expected in str(raised.value)
    with pytest.raises(ConfigError) as raised:
        OneRingAI.from_config(None, env={}, overrides=overrides)
    assert expected in str(raised.value)


def test_a_file_and_overrides_say_the_same(tmp_path: Path) -> None:
    config = tmp_path / "c.yaml"
    config.write_text("bogus: 1\n")
    with pytest.raises(ConfigError, match="unknown section 'bogus'"):
        load_settings(config, env={}, dotenv=None)
    with pytest.raises(ConfigError, match="unknown section 'bogus'"):
        load_settings(None, env={}, dotenv=None, overrides={"bogus": 1})


def test_known_sections_and_empty_overrides_still_work() -> None:
    assert load_settings(None, env={}, dotenv=None, overrides={}).http.timeout == load_settings(None, env={}, dotenv=None).http.timeout
    assert load_settings(None, env={}, dotenv=None, overrides={"http": {"timeout": 7}}).http.timeout == 7


@settings(max_examples=100, deadline=None)
@given(st.dictionaries(st.text(max_size=12) | st.integers() | st.none(), st.none() | st.integers() | st.dictionaries(st.text(max_size=4), st.integers(), max_size=2), max_size=3))
def test_any_top_level_overrides_load_or_are_a_config_error(overrides: dict[Any, Any]) -> None:
    try:
        load_settings(None, env={}, dotenv=None, overrides=overrides)
    except ConfigError:
        return
    assert all(isinstance(key, str) and key in SECTIONS for key in overrides)
