import subprocess
import sys
from pathlib import Path

import pytest

from oneringai.config import load_settings
from oneringai.domain.errors import ConfigError


def write(tmp_path: Path, text: str, name: str = "c.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_defaults_without_file(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    settings = load_settings(env={})
    assert settings.text.default == "ollama"
    assert settings.oauth.storage.kind == "file"


def test_env_beats_yaml_and_profile_beats_base(tmp_path):
    base = write(tmp_path, "http: {timeout: 5, max_connections: 7}\n", "default.yaml")
    write(tmp_path, "http: {timeout: 9}\n", "prod.yaml")
    settings = load_settings(base, profile="prod", env={"ONERINGAI_HTTP__MAX_CONNECTIONS": "3"})
    assert settings.http.timeout == 9
    assert settings.http.max_connections == 3
    assert load_settings(base, env={}).http.max_connections == 7


def test_var_references(tmp_path):
    path = write(
        tmp_path,
        'text:\n  providers:\n    openai: {kind: openai, api_key: "${MY_KEY}", base_url: "${BASE:-http://x}"}\n  default: openai\n',
    )
    settings = load_settings(path, env={"MY_KEY": "sk-abcdef123456"})
    assert settings.text.providers["openai"].api_key.get_secret_value() == "sk-abcdef123456"
    assert settings.text.providers["openai"].base_url == "http://x"
    with pytest.raises(
        ConfigError, match=r"c.yaml: text.providers.openai.api_key: environment variable MY_KEY is not set"
    ):
        load_settings(path, env={})


@pytest.mark.parametrize(
    ("text", "pattern"),
    [
        (
            "text:\n  providers:\n    ollama: {kind: ollama, bse_url: x}\n",
            r"text.providers.ollama.bse_url: unknown key \(allowed: .*base_url",
        ),
        (
            "text:\n  default: o\n  providers:\n    o: {kind: nope}\n",
            r"text.providers.o.kind: unknown kind 'nope' \(allowed: anthropic",
        ),
        ("oauth:\n  storage: {kind: mongo}\n", r"oauth.storage.kind: unknown kind 'mongo'"),
        ("http: {timeout: abc}\n", r"http.timeout: .*number"),
        ("bogus: 1\n", r"bogus: unknown section"),
        ("text: [\n", r"malformed YAML: line 2"),
        ("- a\n- b\n", r"top level must be a mapping"),
        (
            "tools:\n  executor:\n    - {kind: cache, tll: 3}\n",
            r"tools.executor\[0\].tll: unknown key \(allowed: .*ttl",
        ),
        ("tools:\n  executor:\n    - {kind: shiny}\n", r"tools.executor\[0\].kind: unknown kind 'shiny'"),
        ("text:\n  default: gone\n", r"text.default: default 'gone' is not a configured provider"),
    ],
)
def test_bad_config_names_file_and_path(tmp_path, text, pattern):
    path = write(tmp_path, text)
    with pytest.raises(ConfigError, match=pattern) as info:
        load_settings(path, env={})
    assert str(path) in str(info.value) or "malformed" not in pattern


def test_missing_file_is_an_error(tmp_path):
    with pytest.raises(ConfigError, match="config file not found"):
        load_settings(tmp_path / "nope.yaml", env={})


def test_missing_relative_file_names_the_directory_and_the_way_out(tmp_path, monkeypatch):
    """The README's ``from_config("config/default.yaml")`` run outside the checkout said only
    "config/default.yaml: config file not found": not where it looked, nor that no path works."""
    from oneringai import OneRingAI

    monkeypatch.chdir(tmp_path)
    with pytest.raises(ConfigError) as info:
        OneRingAI.from_config("config/default.yaml")
    assert str(info.value) == (
        f"config/default.yaml: config file not found in {tmp_path}; without a path, from_config() (and the CLI "
        "without --config) reads ./config/default.yaml, else the packaged defaults"
    )
    with pytest.raises(ConfigError, match=r"^other.yaml: config file not found in .*[^s]$"):
        load_settings("other.yaml", env={})


def test_env_error_names_variable(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ConfigError, match="ONERINGAI_HTTP__TIMEOUT"):
        load_settings(env={"ONERINGAI_HTTP__TIMEOUT": "soon"})


def run_cli(
    *args: str, env: dict[str, str] | None = None, cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    import os

    full_env = {**os.environ, **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "oneringai.cli", *args],
        capture_output=True,
        text=True,
        env=full_env,
        cwd=cwd,
        timeout=60,
    )


def test_cli_config_error_is_one_line_exit_2(tmp_path):
    path = write(tmp_path, "text:\n  providers:\n    o: {kind: nope}\n  default: o\n")
    result = run_cli("config", "validate", "--config", str(path))
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert "text.providers.o.kind" in result.stderr


def test_no_secret_in_config_show(tmp_path):
    secret = "sk-supersecretvalue123456"
    path = write(
        tmp_path,
        'text:\n  default: openai\n  providers:\n    openai: {kind: openai, api_key: "${K}"}\noauth:\n  encryption_keys: ["${TK}"]\n',
    )
    token_key = "QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVphYmNkZWY="
    result = run_cli("config", "show", "--config", str(path), env={"K": secret, "TK": token_key})
    assert result.returncode == 0, result.stderr
    assert secret not in result.stdout and token_key not in result.stdout
    assert "[REDACTED]" in result.stdout
    settings = load_settings(path, env={"K": secret, "TK": token_key})
    assert secret not in repr(settings) and token_key not in repr(settings)


def test_cli_unreachable_provider_is_one_line_exit_1(tmp_path):
    path = write(
        tmp_path,
        "text:\n  default: o\n  providers:\n    o: {kind: ollama, base_url: 'http://127.0.0.1:9', max_retries: 0, default_model: m}\n",
    )
    result = run_cli("chat", "hi", "--config", str(path))
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, lines
    assert "http://127.0.0.1:9" in lines[0] and "ollama serve" in lines[0]


def test_builtin_local_profile_works_outside_a_checkout(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    settings = load_settings(profile="local", env={})
    assert settings.text.default == "local" and settings.text.providers["local"].kind == "llamacpp"
    root = Path(__file__).resolve().parents[2]
    packaged = root / "src/oneringai/config/profiles/local.yaml"
    assert packaged.read_text() == (root / "config/local.yaml").read_text(), "keep the two local profiles equal"
    with pytest.raises(ConfigError, match="profile 'nope' not found"):
        load_settings(profile="nope", env={})
