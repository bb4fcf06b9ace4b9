"""A boolean is never a number in the configuration: ``http.max_connections: true``,
``agents.max_iterations: yes`` or ``tools.executor[0].attempts: on`` were read as 1.

The walk below finds every ``int``/``float`` setting of the schema (also inside
``dict[str, float]``, lists of layers and each kind of provider), so a field added later is
covered without naming it here."""

from __future__ import annotations

import json
import types
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any, Literal, Union, get_args, get_origin

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel

from oneringai.config import Settings, load_settings
from oneringai.domain.errors import ConfigError


def _members(annotation: Any) -> list[Any]:
    origin = get_origin(annotation)
    if origin is Annotated:
        return _members(get_args(annotation)[0])
    if origin in (Union, types.UnionType):
        return [m for arg in get_args(annotation) for m in _members(arg)]
    return [annotation]


def _is_model(value: Any) -> bool:
    return isinstance(value, type) and issubclass(value, BaseModel)


def _kind_of(model: type[BaseModel]) -> str:
    field = model.model_fields.get("kind")
    if field is not None:
        for member in _members(field.annotation):
            if get_origin(member) is Literal:
                return str(get_args(member)[0])
    return "custom"


Seeds = tuple[tuple[int, str], ...]  # (depth of a mapping, its ``kind``)


def _walk(model: type[BaseModel], path: tuple[Any, ...], seeds: Seeds) -> Iterator[tuple[tuple[Any, ...], Seeds]]:
    """(path, the ``kind`` each union member on the way needs) per numeric setting."""
    for name, field in model.model_fields.items():
        key = field.alias or name
        for member in _members(field.annotation):
            origin, args = get_origin(member), get_args(member)
            if member in (int, float) and bool not in _members(field.annotation):
                yield (*path, key), seeds
            elif _is_model(member):
                yield from _walk(member, (*path, key), seeds)
            elif origin is dict and len(args) == 2:
                for value in _members(args[1]):
                    if value in (int, float):
                        yield (*path, key, "k"), seeds
                    elif _is_model(value):
                        kind = ((len(path) + 2, _kind_of(value)),) if "kind" in value.model_fields else ()
                        yield from _walk(value, (*path, key, "k"), seeds + kind)
            elif origin is list and args:
                for value in _members(args[0]):
                    if _is_model(value):
                        kind = ((len(path) + 2, _kind_of(value)),) if "kind" in value.model_fields else ()
                        yield from _walk(value, (*path, key, 0), seeds + kind)


NUMERIC = sorted(set(_walk(Settings, (), ())), key=repr)


def _yaml_path(path: tuple[Any, ...]) -> str:
    text = ""
    for part in path:
        text = f"{text}[{part}]" if isinstance(part, int) else (f"{text}.{part}" if text else part)
    return text


def _tree(path: tuple[Any, ...], seeds: Seeds, value: Any, depth: int = 0) -> Any:
    """A nested mapping (a list for an int part) with ``value`` at ``path``."""
    if not path:
        return value
    head, rest = path[0], path[1:]
    inner = _tree(rest, seeds, value, depth + 1)
    for at, kind in seeds:
        if at == depth + 1 and isinstance(inner, dict):
            inner = {"kind": kind, **inner}
    return [inner] if isinstance(head, int) else {head: inner}


def test_the_walk_finds_the_known_numeric_settings() -> None:
    paths = {_yaml_path(p) for p, _ in NUMERIC}
    for expected in (
        "http.max_connections",
        "http.timeout",
        "agents.max_iterations",
        "agents.tool_timeout",
        "tools.executor[0].attempts",
        "tools.executor[0].per_minute",
        "tools.executor[0].per_tool.k",
        "tools.executor[0].ttl",
        "tools.executor[0].prices.k",
        "text.providers.k.max_retries",
        "text.providers.k.sampling.k",
        "text.providers.k.keep_alive",
        "oauth.storage.postgres.acquire_timeout",
        "tools.mcp_servers.k.timeout",
        "observability.max_content_chars",
    ):
        assert expected in paths, expected
    assert len(NUMERIC) > 90  # each kind of provider and layer counted


@pytest.mark.parametrize("value", [True, False])
@pytest.mark.parametrize(("path", "seed"), NUMERIC, ids=[_yaml_path(p) + str(s) for p, s in NUMERIC])
def test_every_numeric_setting_refuses_a_boolean(path: tuple[Any, ...], seed: Seeds, value: bool) -> None:
    overrides = _tree(path, seed, value)
    with pytest.raises(ConfigError) as info:
        load_settings(overrides=overrides, env={}, dotenv=None)
    message = str(info.value)
    assert f"overrides: {_yaml_path(path)}: must be a" in message
    assert "not a boolean (true/false)" in message


@pytest.mark.parametrize(
    ("text", "path"),
    [
        ("http:\n  max_connections: true\n", "http.max_connections"),
        ("agents:\n  max_iterations: yes\n", "agents.max_iterations"),
        ("agents:\n  tool_timeout: on\n", "agents.tool_timeout"),
        ("tools:\n  executor:\n    - kind: retry\n      attempts: True\n", "tools.executor[0].attempts"),
        ("tools:\n  executor:\n    - {kind: rate_limit, per_minute: true}\n", "tools.executor[0].per_minute"),
        ("tools:\n  executor:\n    - {kind: cache, ttl: yes}\n", "tools.executor[0].ttl"),
        ("tools:\n  executor:\n    - {kind: timeout, per_tool: {search: true}}\n", "tools.executor[0].per_tool.search"),
    ],
)
def test_yaml_booleans_name_file_and_path(tmp_path: Path, text: str, path: str) -> None:
    file = tmp_path / "c.yaml"
    file.write_text(text)
    with pytest.raises(ConfigError, match="not a boolean") as info:
        load_settings(file, env={}, dotenv=None)
    assert f"{file}: {path}: must be a" in str(info.value)


@pytest.mark.parametrize(
    ("variable", "value", "path"),
    [
        ("ONERINGAI_HTTP__MAX_CONNECTIONS", "true", "http.max_connections"),
        ("ONERINGAI_AGENTS__MAX_ITERATIONS", "yes", "agents.max_iterations"),
        ("ONERINGAI_HTTP", '{"max_connections": true}', "http.max_connections"),
        ("ONERINGAI_AGENTS", '{"tool_timeout": false}', "agents.tool_timeout"),
        ("ONERINGAI_TOOLS", '{"executor": [{"kind": "retry", "attempts": true}]}', "tools.executor[0].attempts"),
    ],
)
def test_environment_booleans_name_the_variable(variable: str, value: str, path: str) -> None:
    with pytest.raises(ConfigError) as info:
        load_settings(env={variable: value}, dotenv=None)
    message = str(info.value)
    assert f"environment variable {variable}: {path}: must be" in message


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    item=st.sampled_from(NUMERIC),
    number=st.one_of(st.integers(1, 1000), st.floats(1.0, 1000.0, allow_nan=False)),
)
def test_numbers_still_reach_the_schema(item: tuple[tuple[Any, ...], Seeds], number: float) -> None:
    """A real number in the same place is never refused as a boolean (it may be refused for its
    range or another key: that message says so, not "boolean")."""
    path, seed = item
    try:
        load_settings(overrides=_tree(path, seed, number), env={}, dotenv=None)
    except ConfigError as exc:
        assert "boolean" not in str(exc)


def test_booleans_still_set_boolean_settings() -> None:
    settings_ = load_settings(
        overrides=json.loads('{"observability": {"capture_content": true}}'), env={}, dotenv=None
    )
    assert settings_.observability.capture_content is True
