"""Property: whatever the YAML files, ``.env`` and environment hold, ``load_settings`` returns a
``Settings`` or raises ``ConfigError`` — nothing else, in bounded time and memory.

Documents are generated three ways: trees shaped like our schema (known section and key names,
weird scalars: huge ints, non-finite floats, bytes, dates, ``${...}`` fragments) dumped as YAML
with shared objects (anchors/aliases) and in several encodings; raw text and bytes; and
hand-made YAML fragments (aliases, merge keys, tags, deep nesting). Environment mappings use
``ONERINGAI_`` names built from the schema's keys with JSON-ish and numeric values.
"""

from __future__ import annotations

import math
import time
from collections import OrderedDict
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from oneringai.config import Settings, load_settings
from oneringai.domain import redaction
from oneringai.domain.errors import ConfigError

ROOT = Path(__file__).resolve().parents[2]
SECTIONS = ["http", "text", "images", "oauth", "tools", "agents"]
KEYS = [
    "transport", "timeout", "connect_timeout", "max_connections", "default", "providers", "kind",
    "base_url", "api_key", "headers", "default_model", "options", "encryption_keys", "passphrase",
    "passphrase_salt", "storage", "file", "directory", "postgres", "dsn", "redis", "url", "connections",
    "flow", "token_url", "scopes", "extra_token_params", "executor", "backend", "redis_url", "ttl",
    "per_minute", "per_tool", "attempts", "sink", "deny", "allow", "max_iterations", "tool_timeout",
    "ollama", "openai", "anthropic", "llamacpp", "audit", "cache", "rate_limit", "retry", "memory",
]
KINDS = ["openai", "ollama", "anthropic", "llamacpp", "openai_compatible", "audit", "cache", "rate_limit",
         "retry", "timeout", "permissions", "cost", "file", "memory", "postgres", "redis", "nope"]
KEY_TEXT = "QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVphYmNkZWY="
FRAGMENTS = ["${X}", "${X:-d}", "${", "${X", "$${X}", "${1}", "${X:-${Y}}", "${X:-${Y", "}", "${EMPTY}",
             "${EMPTY:-e}", "http://u:p@h:1/x", "redis://127.0.0.1:6379/0", ":11434", "host:99999"]

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.integers(min_value=10**300, max_value=10**310),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=20),
    st.sampled_from(FRAGMENTS + KINDS + [KEY_TEXT, "", "inf", "nan", "-1", "1e999"]),
    st.binary(max_size=8),
    st.dates(),
)
keys = st.one_of(st.sampled_from(KEYS), st.text(max_size=8), st.integers(-2, 2))


def trees(max_leaves: int = 25) -> st.SearchStrategy[Any]:
    return st.recursive(
        scalars,
        lambda inner: st.one_of(
            st.lists(inner, max_size=4), st.dictionaries(keys, inner, max_size=5)
        ),
        max_leaves=max_leaves,
    )


documents = st.dictionaries(st.one_of(st.sampled_from(SECTIONS), st.text(max_size=6)), trees(), max_size=4)
ENV = {"X": "x-value", "Y": "y", "EMPTY": "", "OPENAI_API_KEY": "sk-test-1234567890"}


@pytest.fixture(autouse=True)
def _keep_redaction_registry():
    """Generated values that look like secrets are registered while loading; forget them after
    the test so other tests' messages are not scrubbed by coincidence."""
    saved = OrderedDict(redaction._REGISTRY._values)
    yield
    redaction._REGISTRY._values = saved
    redaction._REGISTRY._pattern = None


def load(path: Path | None, env: dict[str, str]) -> None:
    """The property under test, with a generous time bound."""
    started = time.monotonic()
    try:
        result = load_settings(path, env=env, dotenv=None)
    except ConfigError as exc:
        message = str(exc)
        assert message and "\n" not in message, message
        for internal in ("MappingEnvSource", "EnvironmentSource", "Traceback", "errors.pydantic.dev"):
            assert internal not in message, message
    else:
        assert isinstance(result, Settings)
        for value in _floats(result.model_dump()):
            assert math.isfinite(value)
    assert time.monotonic() - started < 20, "a single load must stay bounded"


def _floats(value: Any) -> list[float]:
    if isinstance(value, float):
        return [value]
    if isinstance(value, dict):
        return [f for v in value.values() for f in _floats(v)]
    if isinstance(value, list):
        return [f for v in value for f in _floats(v)]
    return []


def _dump(data: Any) -> str:
    return yaml.safe_dump(data, allow_unicode=True, sort_keys=False)


FUZZ = settings(max_examples=int(__import__("os").environ.get("ONERINGAI_FUZZ_EXAMPLES", "150")), deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                        HealthCheck.too_slow])


@FUZZ
@given(data=documents, share=st.booleans(), encoding=st.sampled_from(["utf-8", "utf-8-sig", "utf-16", "utf-32", "latin-1"]))
def test_yaml_trees_load_or_raise_config_error(tmp_path: Path, data: dict[Any, Any], share: bool, encoding: str):
    if share and data:  # the same object twice: the dumper writes an anchor and an alias
        first = next(iter(data.values()))
        data = {**data, "agents": first}
    path = tmp_path / "c.yaml"
    path.write_bytes(_dump(data).encode(encoding, errors="replace"))
    load(path, ENV)


def _schema_like() -> st.SearchStrategy[dict[str, Any]]:
    provider = st.fixed_dictionaries(
        {"kind": st.sampled_from(KINDS)},
        optional={k: scalars for k in ("base_url", "api_key", "timeout", "default_model", "max_retries")}
        | {"headers": st.dictionaries(st.text(max_size=5), scalars, max_size=2)},
    )
    layer = st.fixed_dictionaries(
        {"kind": st.sampled_from(KINDS)},
        optional={k: scalars for k in ("backend", "redis_url", "ttl", "per_minute", "attempts", "sink", "dsn", "default")},
    )
    return st.fixed_dictionaries(
        {},
        optional={
            "http": st.dictionaries(st.sampled_from(["timeout", "transport", "max_connections", "x"]), scalars, max_size=3),
            "text": st.fixed_dictionaries(
                {"providers": st.dictionaries(st.sampled_from(["ollama", "openai", "x", "claude"]), provider, max_size=3)},
                optional={"default": st.sampled_from(["ollama", "openai", "x", "claude", None])},
            ),
            "oauth": st.fixed_dictionaries(
                {},
                optional={
                    "encryption_keys": st.lists(st.one_of(scalars, st.just(KEY_TEXT)), max_size=3),
                    "passphrase_salt": scalars,
                    "storage": st.fixed_dictionaries({"kind": st.sampled_from(KINDS)}, optional={"postgres": st.dictionaries(st.sampled_from(["dsn", "table"]), scalars)}),
                    "connections": st.dictionaries(st.text(max_size=4), st.dictionaries(st.sampled_from(KEYS), scalars, max_size=4), max_size=2),
                },
            ),
            "tools": st.fixed_dictionaries({"executor": st.lists(layer, max_size=4)}),
            "agents": st.dictionaries(st.sampled_from(["max_iterations", "tool_timeout", "timeout"]), scalars, max_size=3),
        },
    )


@FUZZ
@given(data=_schema_like(), profile=st.one_of(st.none(), _schema_like()))
def test_schema_shaped_documents_and_profiles(tmp_path: Path, data: dict[str, Any], profile: dict[str, Any] | None):
    base = tmp_path / "base.yaml"
    base.write_text(_dump(data))
    if profile is not None:
        (tmp_path / "p.yaml").write_text(_dump(profile))
    started = time.monotonic()
    try:
        result = load_settings(base, profile="p" if profile is not None else None, env=ENV, dotenv=None)
    except ConfigError as exc:
        assert "Traceback" not in str(exc) and "errors.pydantic.dev" not in str(exc)
    else:
        assert isinstance(result, Settings)
    assert time.monotonic() - started < 20


RAW = st.one_of(
    st.binary(max_size=300),
    st.text(max_size=300),
    st.lists(
        st.sampled_from([
            "a: &a [x, y]\n", "b: *a\n", "c: *zz\n", "<<: *a\n", "d: !!binary '@@'\n", "e: !!python/object:os.system x\n",
            "f: 2024-02-30\n", "g: !!int 9" + "9" * 5000 + "\n", "h: !replace [1]\n", "i: !replace {timeout: 1}\n",
            "http: {timeout: .inf}\n", "http: {timeout: .nan}\n", "[" * 60 + "]" * 60 + "\n", "j: &j [*j]\n",
            "? [a, b]\n: c\n", "---\n", "...\n", "k: \x00\n", "text:\n  providers:\n    ollama: null\n",
            "\ufeff", "l: \"\\ud800\"\n", "m: ${X\n", "n: !!set {a, b}\n", "o: !!float nan\n",
        ]),
        max_size=6,
    ).map("".join),
)


@FUZZ
@given(raw=RAW)
def test_raw_text_and_bytes(tmp_path: Path, raw: str | bytes):
    path = tmp_path / "raw.yaml"
    if isinstance(raw, str):
        path.write_text(raw, encoding="utf-8", errors="surrogatepass")
    else:
        path.write_bytes(raw)
    load(path, ENV)


env_names = st.lists(st.one_of(st.sampled_from([k.upper() for k in SECTIONS + KEYS]), st.sampled_from(["0", "1", "9", "", "X"])),
                     min_size=1, max_size=5).map(lambda parts: "ONERINGAI_" + "__".join(parts))
env_values = st.one_of(
    st.text(max_size=30),
    st.sampled_from(["inf", "-inf", "nan", "1e999", "[", "{", "[]", "{}", '{"a": 1}', "[1, 2]", "a,b", "NaN", '[Infinity]',
                     '{"timeout": 5}', '[{"kind": "retry"}]', "[" * 3000, KEY_TEXT, f"{KEY_TEXT},{KEY_TEXT}", "0", "-5", "true"]),
    trees(8).map(lambda t: __import__("json").dumps(t, default=str)),
)


@FUZZ
@given(env=st.dictionaries(env_names, env_values, max_size=5))
def test_environment_variables(tmp_path: Path, env: dict[str, str]):
    load(ROOT / "config" / "default.yaml", {**ENV, **env})


@FUZZ
@given(dotenv=st.one_of(st.text(max_size=200), st.binary(max_size=200)))
def test_dotenv_files(tmp_path: Path, dotenv: str | bytes):
    path = tmp_path / ".env"
    if isinstance(dotenv, str):
        path.write_text(dotenv, encoding="utf-8", errors="surrogatepass")
    else:
        path.write_bytes(dotenv)
    config = tmp_path / "c.yaml"
    config.write_text("http: {timeout: 5}\n")
    started = time.monotonic()
    try:
        assert isinstance(load_settings(config, env={}, dotenv=path), Settings)
    except ConfigError as exc:
        assert str(path) in str(exc) or "ONERINGAI_" in str(exc)
    assert time.monotonic() - started < 20
