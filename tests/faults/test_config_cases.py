"""Named cases of the hardening and first-run issues, one test each, through ``load_settings``
(the CLI's own cases are in ``test_cli_bad_input.py``)."""

from __future__ import annotations

import base64
import time
import tracemalloc
from collections import OrderedDict
from pathlib import Path

import pytest
from pydantic import BaseModel, ValidationError

from oneringai.config import Settings, load_configuration, load_settings
from oneringai.config.checks import usage_findings
from oneringai.config.display import redacted_view
from oneringai.domain import redaction
from oneringai.domain.errors import ConfigError

ROOT = Path(__file__).resolve().parents[2]
KEY = base64.b64encode(bytes(range(32))).decode()


@pytest.fixture(autouse=True)
def _keep_redaction_registry():
    saved = OrderedDict(redaction._REGISTRY._values)
    yield
    redaction._REGISTRY._values = saved
    redaction._REGISTRY._pattern = None


def write(tmp_path: Path, text: str | bytes, name: str = "c.yaml") -> Path:
    path = tmp_path / name
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text)
    return path


def fails(path: Path, pattern: str, env: dict[str, str] | None = None, **kwargs: object) -> str:
    with pytest.raises(ConfigError, match=pattern) as info:
        load_settings(path, env=env or {}, dotenv=None, **kwargs)  # type: ignore[arg-type]
    message = str(info.value)
    assert "\n" not in message
    return message


# --- (4) bounded YAML -----------------------------------------------------------------------
BILLION_LAUGHS = "a: &a ['lol','lol','lol','lol','lol','lol','lol','lol','lol']\n" + "".join(
    f"{chr(98 + i)}: &{chr(98 + i)} [{','.join(['*' + chr(97 + i)] * 9)}]\n" for i in range(8)
)


def test_billion_laughs_fails_fast_in_little_memory(tmp_path):
    path = write(tmp_path, "http:\n  " + BILLION_LAUGHS.replace("\n", "\n  "))
    tracemalloc.start()
    started = time.monotonic()
    try:
        message = fails(path, r"expands to more than 100000 values")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert str(path) in message
    assert peak < 50 * 2**20, f"peak {peak} bytes"  # the old loader reached 2 GiB
    assert time.monotonic() - started < 30  # the old loader took ~50 s before failing


def test_billion_laughs_in_a_profile_names_the_profile(tmp_path):
    base = write(tmp_path, "http: {timeout: 5}\n", "default.yaml")
    write(tmp_path, "text:\n  " + BILLION_LAUGHS.replace("\n", "\n  "), "bomb.yaml")
    message = fails(base, "expands", profile="bomb")
    assert "bomb.yaml" in message


def test_shared_aliases_within_bounds_are_interpolated_once(tmp_path):
    """Aliases a user writes on purpose (one header set for many providers) load, and each
    ${VAR} inside is resolved in every place it appears."""
    shared = "text:\n  default: p0\n  providers:\n    p0: {kind: ollama, headers: &h {X-Org: '${ORG}'}}\n" + "".join(
        f"    p{i}: {{kind: ollama, headers: *h}}\n" for i in range(1, 50)
    )
    settings = load_settings(write(tmp_path, shared, "ok.yaml"), env={"ORG": "acme"}, dotenv=None)
    assert {p.headers["X-Org"] for p in settings.text.providers.values()} == {"acme"}


@pytest.mark.parametrize("text", ["[" * 5000 + "]" * 5000, "a:\n" + "".join("  " * i + "b:\n" for i in range(1, 200))])
def test_deep_nesting_is_a_config_error(tmp_path, text):
    path = write(tmp_path, "http: " + text if text.startswith("[") else text)
    assert str(path) in fails(path, r"nested deeper than 48 levels|exceeded maximum nesting depth")


def test_recursive_alias_is_a_config_error(tmp_path):
    fails(write(tmp_path, "http: &a {x: *a}\n"), r"alias \*a refers to a mapping or list that contains it")


@pytest.mark.parametrize(
    ("data", "pattern"),
    [
        (b"http: {timeout: \xff}\n", r"not valid UTF-8 text \(byte 16"),
        (b"\xff\xfeh\x00t\x00\x00\xd8", r"not valid UTF-16 text"),
        ("http: {timeout: 5}\n".encode("utf-16")[:-1], r"not valid UTF-16 text"),
        (b"\x00\x00\xfe\xff\x00\x00\x00", r"not valid UTF-32 text"),
        (b"http: {timeout: 5}\x00\n", r"malformed YAML"),
        (b"a: 2024-02-30\n", r"malformed YAML: day is out of range"),
        (b"a: !!int 1" + b"0" * 5000 + b"\n", r"malformed YAML: Exceeds the limit"),
        (b"a: !!python/object:os.system x\n", r"malformed YAML"),
        (b"http: !replace [1]\n", r"!replace applies to a mapping"),
    ],
)
def test_undecodable_or_unsafe_files_name_the_file(tmp_path, data, pattern):
    path = write(tmp_path, data)
    assert str(path) in fails(path, pattern)


def test_utf16_and_bom_files_load(tmp_path):
    for encoding in ("utf-16", "utf-32", "utf-8-sig"):
        path = write(tmp_path, "http: {timeout: 7}\n".encode(encoding), f"{encoding}.yaml")
        assert load_settings(path, env={}, dotenv=None).http.timeout == 7


def test_huge_file_is_refused_without_reading_it_all(tmp_path):
    path = write(tmp_path, "# " + "x" * (2 * 2**20) + "\nhttp: {timeout: 5}\n")
    assert str(path) in fails(path, r"larger than 1024 KiB")
    fails(Path("/dev/zero"), r"not a regular file")
    fails(tmp_path, r"is a directory")


def test_dotenv_files_are_bounded_and_checked(tmp_path):
    config = write(tmp_path, "http: {timeout: 5}\n")
    dotenv = write(tmp_path, b"ONERINGAI_HTTP__TIMEOUT=\xff\n", ".env")
    with pytest.raises(ConfigError, match=r"\.env: not valid UTF-8"):
        load_settings(config, env={}, dotenv=dotenv)
    dotenv.write_text("A=1\nsk-live-secret-value without equals\n")
    with pytest.raises(ConfigError, match=r"\.env: line 2: cannot parse") as info:
        load_settings(config, env={}, dotenv=dotenv)
    assert "sk-live" not in str(info.value)  # the line may be a secret: not shown
    dotenv.write_text("ONERINGAI_HTTP__TIMEOUT=9\n" + "# padding\n" * 200_000)
    with pytest.raises(ConfigError, match="larger than"):
        load_settings(config, env={}, dotenv=dotenv)
    dotenv.write_text("ONERINGAI_HTTP__TIMEOUT=9\n")
    assert load_settings(config, env={}, dotenv=dotenv).http.timeout == 9
    venv = tmp_path / "venv"
    venv.mkdir()  # a virtualenv named .env is not a dotenv file
    assert load_settings(config, env={}, dotenv=venv).http.timeout == 5


# --- (10) values checked where they enter ----------------------------------------------------
@pytest.mark.parametrize(
    ("yaml_text", "path"),
    [
        ("http: {timeout: .inf}\n", "http.timeout"),
        ("http: {keepalive_expiry: .nan}\n", "http.keepalive_expiry"),
        ("agents: {tool_timeout: -.inf}\n", "agents.tool_timeout"),
        ("text:\n  default: o\n  providers:\n    o: {kind: ollama, timeout: .inf}\n", "text.providers.o.timeout"),
        ("text:\n  default: o\n  providers:\n    o: {kind: ollama, options: {temperature: .nan}}\n", "text.providers.o.options.temperature"),
        ("text:\n  default: o\n  providers:\n    o: {kind: mine, weight: .inf}\n", "text.providers.o.weight"),
        ("tools:\n  executor:\n    - {kind: timeout, per_tool: {slow: .inf}}\n", "tools.executor[0].per_tool.slow"),
        ("tools:\n  executor:\n    - {kind: cache, ttl: .nan}\n", "tools.executor[0].ttl"),
        ("oauth: {refresh_skew: .inf}\n", "oauth.refresh_skew"),
    ],
)
def test_non_finite_numbers_are_rejected_in_yaml(tmp_path, yaml_text, path):
    message = fails(write(tmp_path, yaml_text), "finite number")
    assert path in message


@pytest.mark.parametrize("value", ["inf", "-inf", "nan", "NaN", "Infinity", "1e999"])
def test_non_finite_numbers_are_rejected_from_the_environment(tmp_path, value):
    path = write(tmp_path, "")
    message = fails(path, "finite number", env={"ONERINGAI_HTTP__TIMEOUT": value})
    assert "ONERINGAI_HTTP__TIMEOUT" in message


def _settings_models() -> list[type[BaseModel]]:
    from oneringai.domain._base import SettingsSection
    from oneringai.infrastructure.providers.config import ProviderConfig
    from oneringai.infrastructure.tool_executors import config as executors

    found: set[type[BaseModel]] = set()
    todo: list[type[BaseModel]] = [SettingsSection, ProviderConfig, executors.ExecutorLayerConfig, executors._Layer, Settings]
    while todo:
        model = todo.pop()
        if model not in found:
            found.add(model)
            todo.extend(model.__subclasses__())
    return sorted(found, key=lambda m: m.__qualname__)


def test_every_float_field_of_every_settings_model_rejects_non_finite():
    checked = 0
    for model in _settings_models():
        for name, field in model.model_fields.items():
            if "float" not in str(field.annotation):
                continue
            value: object = float("inf")
            if "dict" in str(field.annotation):
                value = {"k": float("inf")}
            with pytest.raises(ValidationError, match="finite"):
                model.model_validate({"kind": getattr(model.model_fields.get("kind"), "default", None) or "x", name: value}
                                     if "kind" in model.model_fields else {name: value})
            checked += 1
    assert checked >= 25, checked


def test_encryption_keys_are_checked_at_load_time_without_printing_them(tmp_path):
    path = write(tmp_path, 'oauth:\n  encryption_keys: ["${K1}", "${K2}"]\n')
    short = base64.b64encode(b"12345").decode()
    message = fails(path, r"oauth.encryption_keys\[1\]: is 5 bytes; AES-256 needs exactly 32", env={"K1": KEY, "K2": short})
    assert short not in message and KEY not in message
    fails(path, r"oauth.encryption_keys\[0\]: is malformed", env={"K1": "not a key!", "K2": KEY})
    assert len(load_settings(path, env={"K1": KEY, "K2": bytes(range(32)).hex()}, dotenv=None).oauth.encryption_keys) == 2


def test_passphrase_and_salt_are_checked_at_load_time(tmp_path):
    fails(write(tmp_path, "oauth: {passphrase: short}\n"), r"oauth.passphrase: must be at least 12 characters")
    fails(write(tmp_path, "oauth: {passphrase_salt: 'YWJj'}\n"), r"oauth.passphrase_salt: is 3 bytes; use at least 16")
    fails(write(tmp_path, "oauth: {passphrase_salt: '!!'}\n"), r"oauth.passphrase_salt: is not valid base64")
    settings = load_settings(write(tmp_path, "oauth: {passphrase: '${P:-}'}\n"), env={}, dotenv=None)
    assert settings.oauth.passphrase is None


@pytest.mark.parametrize("form", ["one", "comma", "comma-spaces", "json"])
def test_encryption_keys_from_the_environment_in_the_forms_the_cli_suggests(tmp_path, form):
    other = base64.b64encode(bytes(range(1, 33))).decode()
    value = {"one": KEY, "comma": f"{KEY},{other}", "comma-spaces": f" {KEY} , {other} ", "json": f'["{KEY}", "{other}"]'}[form]
    settings = load_settings(write(tmp_path, ""), env={"ONERINGAI_OAUTH__ENCRYPTION_KEYS": value}, dotenv=None)
    keys = [k.get_secret_value() for k in settings.oauth.encryption_keys]
    assert keys == ([KEY] if form == "one" else [KEY, other])


@pytest.mark.parametrize(
    ("env", "pattern"),
    [
        ({"ONERINGAI_HTPP__TIMEOUT": "5"}, r"environment variable ONERINGAI_HTPP__TIMEOUT: unknown section 'htpp' \(allowed: agents, http"),
        ({"ONERINGAI_HTTP__TIMOUT": "5"}, r"environment variable ONERINGAI_HTTP__TIMOUT: http.timout: unknown key \(allowed: .*timeout"),
        ({"ONERINGAI_HTTP__TIMEOUT": "soon"}, r"environment variable ONERINGAI_HTTP__TIMEOUT: http.timeout: .*number"),
        ({"ONERINGAI_OAUTH__ENCRYPTION_KEYS": "[oops"}, r"ONERINGAI_OAUTH__ENCRYPTION_KEYS: not valid JSON .*expected a JSON list"),
        ({"ONERINGAI_HTTP": "timeout=5"}, r"ONERINGAI_HTTP: expected a JSON object"),
        ({"ONERINGAI_TOOLS__EXECUTOR": "retry"}, r"ONERINGAI_TOOLS__EXECUTOR: expected a JSON list of objects"),
        ({"ONERINGAI_TOOLS__EXECUTOR__9__TTL": "5"}, r"ONERINGAI_TOOLS__EXECUTOR__9__TTL: tools.executor has 1 item\(s\); index 9"),
        ({"ONERINGAI_HTTP____TIMEOUT": "5"}, r"ONERINGAI_HTTP____TIMEOUT: malformed name"),
        ({"ONERINGAI_TEXT__PROVIDERS__O__HEADERS": '{"a": NaN}'}, r"NaN is not a finite number"),
    ],
)
def test_environment_errors_name_the_variable_and_the_form(tmp_path, env, pattern):
    path = write(tmp_path, "text:\n  default: o\n  providers:\n    o: {kind: ollama}\ntools:\n  executor:\n    - {kind: cache}\n")
    message = fails(path, pattern, env=env)
    assert "EnvSource" not in message and "pydantic" not in message


def test_environment_values_by_type_and_index(tmp_path):
    path = write(tmp_path, "text:\n  default: O\n  providers:\n    O: {kind: ollama}\ntools:\n  executor:\n    - {kind: cache}\n    - {kind: retry}\n")
    settings = load_settings(path, dotenv=None, env={
        "ONERINGAI_TOOLS__EXECUTOR__1__ATTEMPTS": "5",
        "ONERINGAI_TEXT__PROVIDERS__O__HEADERS": '{"X-Org": "acme"}',
        "ONERINGAI_TEXT__PROVIDERS__O__HEADERS__X-TEAM": "core",
        "ONERINGAI_HTTP": '{"timeout": 3, "max_connections": 4}',
        "ONERINGAI_HTTP__TIMEOUT": "9",
        "ONERINGAI_CONFIG": "", "ONERINGAI_TOKEN_KEY": "not-a-setting", "ONERINGAI_LOG_LEVEL": "DEBUG",
    })
    assert settings.tools.executor[1].attempts == 5
    assert settings.text.providers["O"].headers == {"X-Org": "acme", "x-team": "core"}
    assert (settings.http.timeout, settings.http.max_connections) == (9, 4)


# --- (5, 8) interpolation ---------------------------------------------------------------------
@pytest.mark.parametrize(
    ("value", "pattern"),
    [
        ("${VAR", r"http.user_agent: unterminated reference '\$\{VAR' \(missing '\}'\)"),
        ("x ${VAR:-abc", r"http.user_agent: unterminated \$\{...\} default"),
        ("${}", r"http.user_agent: malformed reference"),
        ("${1X}", r"http.user_agent: malformed reference"),
        ("${VAR-x}", r"http.user_agent: malformed reference '\$\{VAR-'"),
        ("${EMPTY}", r"http.user_agent: environment variable EMPTY is empty \(set it"),
        ("${UNSET}", r"http.user_agent: environment variable UNSET is not set"),
    ],
)
def test_interpolation_errors_name_the_path(tmp_path, value, pattern):
    path = write(tmp_path, f"http: {{user_agent: '{value}'}}\n")
    assert str(path) in fails(path, pattern, env={"EMPTY": ""})


@pytest.mark.parametrize(
    ("value", "expected"),
    [("$${VAR}", "${VAR}"), ("${EMPTY:-d}", "d"), ("${UNSET:-${SET}}", "s"), ("${SET:-${UNSET}}", "s"),
     ("a${SET}b${SET}", "asbs"), ("$$ and $x {}", "$$ and $x {}"), ("${UNSET:-}", "")],
)
def test_interpolation_forms(tmp_path, value, expected):
    path = write(tmp_path, f"http: {{user_agent: '{value}'}}\n")
    assert load_settings(path, env={"EMPTY": "", "SET": "s"}, dotenv=None).http.user_agent == expected


def test_production_profile_reports_every_missing_variable_at_once(monkeypatch):
    monkeypatch.chdir(ROOT)
    with pytest.raises(ConfigError) as info:
        load_settings(profile="production", env={}, dotenv=None)
    message = str(info.value)
    for name in ("OPENAI_API_KEY", "ONERINGAI_TOKEN_KEY", "DATABASE_URL", "REDIS_URL"):
        assert f"{name} is not set" in message
    assert "config/production.yaml: oauth.storage.postgres.dsn, tools.executor[0].dsn" in message


DESIGN_STORAGE = """
oauth:
  storage:
    kind: {kind}
    file: {{directory: {dir}}}
    postgres: {{dsn: "${{DATABASE_URL}}", table: oauth_tokens}}
    redis: {{url: "${{REDIS_URL}}", prefix: "oneringai:tokens:"}}
"""


def test_a_missing_variable_in_an_unselected_storage_branch_is_not_an_error(tmp_path):
    # DESIGN.md's YAML lists every storage branch beside `kind: file`; `${DATABASE_URL}` in the
    # unused postgres branch made the whole configuration fail until DATABASE_URL was set.
    path = write(tmp_path, DESIGN_STORAGE.format(kind="file", dir=tmp_path / "t"))
    settings = load_settings(path, env={}, dotenv=None)
    assert settings.oauth.storage.kind == "file" and settings.oauth.storage.postgres.dsn is None
    # ...but the selected branch still needs its variables, also when the environment selects it
    fails(path, r"oauth\.storage\.postgres\.dsn: environment variable DATABASE_URL is not set",
          env={"ONERINGAI_OAUTH__STORAGE__KIND": "postgres"})
    fails(write(tmp_path, DESIGN_STORAGE.format(kind="redis", dir=tmp_path / "t")),
          r"oauth\.storage\.redis\.url: environment variable REDIS_URL is not set")


@pytest.mark.parametrize(
    ("yaml_text", "env", "check"),
    [
        ('text:\n  default: o\n  providers:\n    o: {kind: openai, api_key: "${OPENAI_API_KEY}"}\n',
         {"ONERINGAI_TEXT__PROVIDERS__O__API_KEY": "sk-from-the-environment-1"},
         lambda s: s.text.providers["o"].api_key.get_secret_value() == "sk-from-the-environment-1"),
        ('oauth:\n  encryption_keys: ["${ONERINGAI_TOKEN_KEY}"]\n',
         {"ONERINGAI_OAUTH__ENCRYPTION_KEYS": "11" * 32}, lambda s: len(s.oauth.encryption_keys) == 1),
        ('tools:\n  executor:\n    - {kind: audit, sink: postgres, dsn: "${AUDIT_DSN}"}\n',
         {"ONERINGAI_TOOLS__EXECUTOR__0__DSN": "postgresql://db.example/audit"},
         lambda s: s.tools.executor[0].dsn is not None),
    ],
)
def test_a_missing_variable_the_environment_replaces_is_not_an_error(tmp_path, yaml_text, env, check):
    # The environment wins over YAML, yet a `${VAR}` it replaces had to be set anyway: setting
    # ONERINGAI_TEXT__PROVIDERS__O__API_KEY (as the README shows) failed on OPENAI_API_KEY.
    assert check(load_settings(write(tmp_path, yaml_text), env=env, dotenv=None))
    fails(write(tmp_path, yaml_text), "is not set")  # without it: the same error as before


def test_a_missing_variable_an_override_replaces_is_not_an_error(tmp_path):
    path = write(tmp_path, 'http: {user_agent: "${UA}", timeout: "${T}"}\n')
    settings = load_settings(path, env={}, dotenv=None, overrides={"http": {"user_agent": "mine/1", "timeout": 5}})
    assert settings.http.user_agent == "mine/1"
    fails(path, r"http\.timeout: environment variable T is not set", overrides={"http": {"user_agent": "mine/1"}})


@pytest.mark.parametrize(
    ("host", "url"),
    [("example.org:1234", "http://example.org:1234"), ("10.0.0.5", "http://10.0.0.5:11434"),
     (":11500", "http://127.0.0.1:11500"), ("https://o.example", "https://o.example")],
)
def test_ollama_host_without_a_scheme_is_accepted(monkeypatch, host, url):
    monkeypatch.chdir(ROOT)
    settings = load_settings(env={"OLLAMA_HOST": host}, dotenv=None)
    assert settings.text.providers["ollama"].base_url == url


# --- (3, 6) profiles and the files read -------------------------------------------------------
def test_a_profile_drops_or_replaces_what_it_inherits(tmp_path):
    base = write(tmp_path, "text:\n  default: ollama\n  providers:\n    ollama: {kind: ollama}\n    openai: {kind: openai, api_key: sk-abcdefgh12345}\nhttp: {timeout: 5, max_connections: 3}\n", "default.yaml")
    write(tmp_path, "text:\n  default: openai\n  providers:\n    ollama: null\nhttp: !replace {timeout: 9}\n", "lean.yaml")
    settings = load_settings(base, profile="lean", env={}, dotenv=None)
    assert list(settings.text.providers) == ["openai"]
    assert (settings.http.timeout, settings.http.max_connections) == (9, 100)
    write(tmp_path, "text:\n  providers:\n    ollama: null\n", "broken.yaml")
    fails(base, r"text.default: default 'ollama' is not a configured provider", profile="broken")


def test_unknown_profile_lists_the_profiles_there_are(tmp_path):
    base = write(tmp_path, "", "default.yaml")
    write(tmp_path, "", "staging.yaml")
    fails(base, r"profile 'nope' not found \(available: local, staging;", profile="nope")
    fails(base, r"invalid profile name '../x' \(available: local, staging\)", profile="../x")


def test_outside_a_checkout_the_packaged_defaults_apply_and_say_so(tmp_path, monkeypatch):
    packaged = ROOT / "src/oneringai/config/profiles/default.yaml"
    assert packaged.read_text() == (ROOT / "config/default.yaml").read_text(), "keep the two default.yaml equal"
    monkeypatch.chdir(tmp_path)
    loaded = load_configuration(env={}, dotenv=None)
    assert loaded.base == packaged
    assert "packaged defaults: no config/default.yaml or oneringai.yaml in" in loaded.describe()[0]
    monkeypatch.chdir(ROOT)
    inside = load_configuration(profile="production", dotenv=None, env={
        "OPENAI_API_KEY": "sk-x1234567890", "ONERINGAI_TOKEN_KEY": KEY, "DATABASE_URL": "postgresql://h/db", "REDIS_URL": "redis://h"})
    assert inside.base == Path("config/default.yaml") and inside.profile == "production"
    assert [line.split(":")[0] for line in inside.describe()] == ["config", "profile"]
    assert loaded.settings.tools.executor == load_settings(env={}, dotenv=None).tools.executor


def test_default_yaml_takes_database_url_like_the_readme(monkeypatch):
    monkeypatch.chdir(ROOT)
    postgres = {"oauth": {"storage": {"kind": "postgres"}}}
    settings = load_settings(env={"DATABASE_URL": "postgresql://u:pw@db/app"}, dotenv=None, overrides=postgres)
    assert settings.oauth.storage.postgres.dsn.get_secret_value() == "postgresql://u:pw@db/app"
    unset = load_settings(env={}, dotenv=None, overrides=postgres)
    assert unset.oauth.storage.postgres.dsn is None
    assert "oauth.storage.postgres.dsn: not set" in [str(f) for f in usage_findings(unset) if f.level == "error"][-1]


# --- (1) what config show prints ---------------------------------------------------------------
def test_config_view_hides_only_the_secret_parts(tmp_path):
    path = write(tmp_path, """
text:
  default: x
  providers:
    x: {kind: openai, base_url: "https://bob:hunter2hunter@llm.example/v1", api_key: sk-abcdef1234567890,
        headers: {Authorization: Bearer abc.def, x-api-key: k-123456789, X-Plain: visible-but-hidden}}
oauth:
  passphrase: correct horse battery staple
  storage: {kind: redis, redis: {url: "redis://:p4ssw0rd-redis@cache:6379/1"}, postgres: {dsn: "postgresql://app:pg-pass-123@db/app"}}
  connections:
    gh: {flow: client_credentials, token_url: "https://t.example/token", extra_token_params: {resource: res-secret-1}}
tools:
  executor:
    - {kind: cache, backend: redis, redis_url: "redis://127.0.0.1:6379/0"}
    - {kind: audit, sink: postgres, dsn: "postgresql://postgres@127.0.0.1/test"}
""")
    view = redacted_view(load_settings(path, env={}, dotenv=None))
    text = repr(view)
    for secret in ("hunter2hunter", "sk-abcdef", "abc.def", "k-123456789", "visible-but-hidden", "correct horse",
                   "p4ssw0rd", "pg-pass-123", "res-secret-1"):
        assert secret not in text, secret
    provider = view["text"]["providers"]["x"]
    assert provider["base_url"] == "https://bob:[REDACTED]@llm.example/v1"
    assert set(provider["headers"].values()) == {"[REDACTED]"}
    assert view["oauth"]["storage"]["redis"]["url"] == "redis://:[REDACTED]@cache:6379/1"
    assert view["oauth"]["storage"]["postgres"]["dsn"] == "postgresql://app:[REDACTED]@db/app"
    assert view["tools"]["executor"][0]["redis_url"] == "redis://127.0.0.1:6379/0"  # no password: shown
    assert view["tools"]["executor"][1]["dsn"] == "postgresql://postgres@127.0.0.1/test"
    assert view["oauth"]["connections"]["gh"]["token_url"] == "https://t.example/token"


def test_config_view_hides_secret_named_extras_of_custom_kinds():
    from oneringai.infrastructure.providers.config import ProviderConfig

    view = redacted_view(ProviderConfig(kind="mine", auth_token="plain-custom-token", region="eu-1", key_id="k1"))
    assert (view["auth_token"], view["region"], view["key_id"]) == ("[REDACTED]", "eu-1", "k1")


def test_validate_says_what_use_will_need(tmp_path):
    path = write(tmp_path, "text:\n  default: openai\n  providers:\n    openai: {kind: openai}\n    claude: {kind: anthropic}\n")
    findings = usage_findings(load_settings(path, env={}, dotenv=None))
    by_path = {f.path: f.level for f in findings}
    assert by_path == {
        "text.providers.openai.api_key": "error",
        "text.providers.openai.default_model": "warning",
        "text.providers.claude.api_key": "warning",
    }
    local = write(tmp_path, "text:\n  default: l\n  providers:\n    l: {kind: openai, base_url: 'http://127.0.0.1:8080/v1', default_model: m}\n", "l.yaml")
    assert usage_findings(load_settings(local, env={}, dotenv=None)) == []


def test_settings_built_directly_read_the_environment_by_the_same_rules(monkeypatch):
    monkeypatch.setenv("ONERINGAI_OAUTH__ENCRYPTION_KEYS", f"{KEY},{KEY}")
    monkeypatch.setenv("ONERINGAI_HTTP__TIMEOUT", "4")
    settings = Settings()
    assert settings.http.timeout == 4 and len(settings.oauth.encryption_keys) == 2
    monkeypatch.setenv("ONERINGAI_HTPP__X", "1")
    with pytest.raises(ConfigError, match="ONERINGAI_HTPP__X: unknown section"):
        Settings()

