"""A key written twice in one YAML mapping (third adversarial review): PyYAML keeps the last
one silently, so a second ``text:`` section or a repeated ``api_key:`` replaced the first
without a word. Now a ``ConfigError`` naming the file, the line and the YAML path."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from oneringai.config import load_settings
from oneringai.config.files import read_yaml
from oneringai.config.paths import join_path
from oneringai.domain.errors import ConfigError

FUZZ = settings(
    max_examples=int(os.environ.get("ONERINGAI_FUZZ_EXAMPLES", "150")),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)


@pytest.mark.parametrize(
    ("text", "path"),
    [
        ("text: {}\ntext: {}\n", "text"),
        ("text:\n  default: a\n  default: b\n", "text.default"),
        ("tools:\n  executor:\n    - {kind: retry, attempts: 2, attempts: 3}\n", r"tools.executor[0].attempts"),
        ("text:\n  providers:\n    o: {kind: openai, api_key: one, 'api_key': two}\n", "text.providers.o.api_key"),
    ],
)
def test_a_repeated_key_is_a_config_error_naming_its_path(tmp_path: Path, text: str, path: str) -> None:
    file = tmp_path / "c.yaml"
    file.write_text(text)
    with pytest.raises(ConfigError) as info:
        load_settings(file, env={}, dotenv=None)
    message = str(info.value)
    assert f"{path}:" in message and "duplicate key" in message and str(file) in message
    assert "two" not in message, "the values are not quoted (they may be secrets)"


def test_merge_keys_still_override_what_they_merge(tmp_path: Path) -> None:
    file = tmp_path / "c.yaml"
    file.write_text("a: &a {x: 1, y: 2}\nb:\n  <<: *a\n  x: 3\n")
    assert read_yaml(file) == {"a": {"x": 1, "y": 2}, "b": {"x": 3, "y": 2}}


printable = st.characters(categories=["L", "N", "P", "S", "Zs"], exclude_characters="\x85\ufeff")
keys = st.text(alphabet=printable, min_size=1, max_size=8)
trees = st.recursive(
    st.one_of(st.integers(), st.text(alphabet=printable, max_size=5), st.booleans(), st.none()),
    lambda children: st.one_of(
        st.lists(children, max_size=3), st.dictionaries(keys, children, min_size=1, max_size=3)
    ),
    max_leaves=12,
)


def _render(value: Any, target: int, counter: list[int], path: str, found: list[str]) -> str:
    """JSON text (which is YAML) of ``value``; mapping number ``target`` repeats its first key."""
    if isinstance(value, dict):
        number = counter[0]
        counter[0] += 1
        items = [f"{json.dumps(k, ensure_ascii=False)}: {_render(v, target, counter, join_path(path, k), found)}" for k, v in value.items()]
        if number == target:
            first = next(iter(value))
            items.append(f"{json.dumps(first, ensure_ascii=False)}: 0")
            found.append(join_path(path, first))
        return "{" + ", ".join(items) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(_render(v, target, counter, f"{path}[{i}]", found) for i, v in enumerate(value)) + "]"
    return json.dumps(value, ensure_ascii=False)


@FUZZ
@given(tree=st.dictionaries(keys, trees, min_size=1, max_size=4), pick=st.integers(min_value=0, max_value=50))
def test_any_repeated_key_is_found_with_its_path(tmp_path: Path, tree: dict[str, Any], pick: int) -> None:
    count = [0]
    _render(tree, -1, count, "", [])
    found: list[str] = []
    text = _render(tree, pick % count[0], [0], "", found)
    file = tmp_path / "c.yaml"
    file.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        read_yaml(file)
    assert f"{found[0]}: " in str(info.value), (text, str(info.value))
