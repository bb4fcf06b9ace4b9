"""The README's promise, run as a user runs it: every bad input on the command line — an
argument, a file, an environment variable — prints one line and exits 2, with no traceback.

The commands run in subprocesses (a few at a time, so the file stays quick) from a directory
without ``config/``: the packaged defaults apply, as they do for a user outside a checkout.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
KEY = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="
FILES = {
    "unterminated.yaml": "http: {user_agent: '${VAR'}\n",
    "empty.yaml": "http: {user_agent: '${EMPTY}'}\n",
    "bomb.yaml": "a: &a ['lol','lol','lol','lol','lol','lol','lol','lol','lol']\n"
    + "".join(f"{chr(98 + i)}: &{chr(98 + i)} [{','.join(['*' + chr(97 + i)] * 9)}]\n" for i in range(8)),
    "deep.yaml": "http: " + "[" * 3000 + "]" * 3000 + "\n",
    "latin1.yaml": "http: {user_agent: 'caf\xe9'}\n",
    "openai.yaml": "text:\n  default: openai\n  providers:\n    openai: {kind: openai}\n",
    "unsafe.yaml": "http: !!python/object/apply:os.system ['true']\n",
    "nan.yaml": "tools:\n  executor:\n    - {kind: cache, ttl: .nan}\n",
    "duplicate.yaml": "text:\n  default: a\n  providers: {}\n  default: b\n",
    "rate-zero.yaml": "tools:\n  executor:\n    - {kind: rate_limit, per_tool: {search: 0}}\n",
}

#: name -> (argv, extra environment, pattern the single stderr line must match, cwd is ROOT)
BAD: dict[str, tuple[list[str], dict[str, str], str, bool]] = {
    "temperature-too-high": (["chat", "hi", "--temperature", "5"], {}, r"argument --temperature: must be a number from 0 to 2, got '5'", False),
    "temperature-nan": (["chat", "hi", "--temperature", "nan"], {}, r"--temperature: must be a number from 0 to 2", False),
    "max-tokens-negative": (["chat", "hi", "--max-tokens", "-5"], {}, r"--max-tokens: must be a positive whole number, got '-5'", False),
    "max-tokens-text": (["chat", "hi", "--max-tokens", "lots"], {}, r"--max-tokens: expected a whole number", False),
    "unknown-option": (["chat", "hi", "--bogus"], {}, r"unrecognized arguments: --bogus", False),
    "no-command": ([], {}, r"the following arguments are required: command", False),
    "unknown-command": (["chta"], {}, r"invalid choice: 'chta'", False),
    "config-without-subcommand": (["config"], {}, r"required: config_command", False),
    "provider-not-configured": (["chat", "hi", "--provider", "nope"], {}, r"--provider 'nope' is not configured \(configured under text.providers: ollama\)", False),
    "profile-not-found": (["config", "validate", "--profile", "nope"], {}, r"profile 'nope' not found \(available: local", False),
    "profile-from-env-invalid": (["config", "validate"], {"ONERINGAI_PROFILE": "../etc"}, r"invalid profile name '../etc'", False),
    "config-is-a-directory": (["config", "validate", "-c", "{dir}"], {}, r"config file is a directory", False),
    "config-missing": (["config", "show", "-c", "{dir}/nope.yaml"], {}, r"nope.yaml: config file not found", False),
    "config-env-missing": (["config", "show"], {"ONERINGAI_CONFIG": "{dir}/gone.yaml"}, r"named by ONERINGAI_CONFIG not found", False),
    "env-unknown-section": (["config", "validate"], {"ONERINGAI_HTPP__TIMEOUT": "5"}, r"environment variable ONERINGAI_HTPP__TIMEOUT: unknown section 'htpp'", False),
    "env-unknown-key": (["config", "validate"], {"ONERINGAI_HTTP__TIMOUT": "5"}, r"environment variable ONERINGAI_HTTP__TIMOUT: http.timout: unknown key", False),
    "env-inf": (["config", "validate"], {"ONERINGAI_HTTP__TIMEOUT": "inf"}, r"ONERINGAI_HTTP__TIMEOUT: http.timeout: must be a finite number", False),
    "env-short-key": (["config", "validate"], {"ONERINGAI_OAUTH__ENCRYPTION_KEYS": "QUJDREU="}, r"oauth.encryption_keys\[0\]: is 5 bytes", False),
    "env-bad-json": (["config", "validate"], {"ONERINGAI_TOOLS__EXECUTOR": "[{"}, r"ONERINGAI_TOOLS__EXECUTOR: not valid JSON", False),
    "yaml-unterminated-var": (["config", "validate", "-c", "{dir}/unterminated.yaml"], {}, r"http.user_agent: unterminated reference '\$\{VAR'", False),
    "yaml-empty-var": (["config", "validate", "-c", "{dir}/empty.yaml"], {"EMPTY": ""}, r"environment variable EMPTY is empty", False),
    "yaml-billion-laughs": (["config", "show", "-c", "{dir}/bomb.yaml"], {}, r"bomb.yaml: .*expands to more than", False),
    "yaml-deep": (["config", "validate", "-c", "{dir}/deep.yaml"], {}, r"deep.yaml: .*(nest)", False),
    "yaml-not-utf8": (["config", "validate", "-c", "{dir}/latin1.yaml"], {}, r"latin1.yaml: not valid UTF-8 text", False),
    "yaml-unsafe-tag": (["config", "validate", "-c", "{dir}/unsafe.yaml"], {}, r"unsafe.yaml: malformed YAML", False),
    "yaml-nan": (["doctor", "-c", "{dir}/nan.yaml"], {}, r"tools.executor\[0\].ttl: must be a finite number", False),
    "validate-needs-a-key": (["config", "validate", "-c", "{dir}/openai.yaml"], {}, r"text.providers.openai.api_key: no API key", False),
    "production-missing-variables": (["config", "validate", "--profile", "production"], {}, r"4 environment variables are missing: OPENAI_API_KEY is not set .* ONERINGAI_TOKEN_KEY .* DATABASE_URL .* REDIS_URL", True),
    "yaml-duplicate-key": (["config", "validate", "-c", "{dir}/duplicate.yaml"], {}, r"duplicate.yaml: text.default: line 4: duplicate key \(first set on line 2\)", False),
    "executor-per-tool-zero": (["config", "validate", "-c", "{dir}/rate-zero.yaml"], {}, r"tools.executor\[0\].per_tool.search: must be greater than 0", False),
    "config-empty-name": (["config", "validate", "-c", ""], {}, r"the config file name is empty", False),
    "config-before-the-command": (["--config", "{dir}/nan.yaml", "config", "validate"], {}, r"nan.yaml: tools.executor\[0\].ttl: must be a finite number", False),
    "profile-before-the-command": (["-p", "nope", "doctor"], {}, r"profile 'nope' not found", False),
    "tokens-with-bad-config": (["tokens", "list", "-c", "{dir}/nan.yaml"], {}, r"must be a finite number", False),
}


def _environment(extra: dict[str, str], directory: Path) -> dict[str, str]:
    clean = {k: v for k, v in os.environ.items()
             if not k.startswith("ONERINGAI_") and k not in ("OPENAI_API_KEY", "OLLAMA_HOST", "DATABASE_URL", "REDIS_URL")}
    return {**clean, "PYTHONPATH": str(ROOT / "src"), **{k: v.replace("{dir}", str(directory)) for k, v in extra.items()}}


def _run(argv: list[str], extra: dict[str, str], directory: Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "oneringai.cli", *(a.replace("{dir}", str(directory)) for a in argv)],
        capture_output=True, text=True, env=_environment(extra, directory), cwd=cwd, timeout=120,
    )


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("cli")
    for name, text in FILES.items():
        (directory / name).write_bytes(text.encode("latin-1") if name == "latin1.yaml" else text.encode())
    return directory


@pytest.fixture(scope="module")
def bad_results(workdir: Path) -> dict[str, subprocess.CompletedProcess[str]]:
    with ThreadPoolExecutor(max_workers=3) as pool:
        futures = {name: pool.submit(_run, argv, env, workdir, ROOT if in_root else workdir)
                   for name, (argv, env, _, in_root) in BAD.items()}
        return {name: future.result() for name, future in futures.items()}


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_input_prints_one_line_and_exits_2(bad_results, case):
    result = bad_results[case]
    pattern = BAD[case][2]
    lines = result.stderr.strip().splitlines()
    assert "Traceback" not in result.stderr, result.stderr
    assert result.returncode == 2, (result.returncode, result.stderr)
    assert len(lines) == 1, lines
    assert re.search(pattern, lines[0]), lines[0]
    assert "errors.pydantic.dev" not in lines[0] and "EnvSource" not in lines[0]


def test_version(workdir):
    result = _run(["--version"], {}, workdir, workdir)
    assert result.returncode == 0 and re.fullmatch(r"oneringai \d+\.\d+\.\d+\S*\n", result.stdout), result


def test_the_key_forms_the_cli_suggests_work_from_the_environment(workdir):
    key = _run(["tokens", "generate-key"], {}, workdir, workdir).stdout.strip()
    other = _run(["tokens", "generate-key"], {}, workdir, workdir).stdout.strip()
    for value in (key, f"{key},{other}", f'["{key}", "{other}"]'):
        result = _run(["config", "validate"], {"ONERINGAI_OAUTH__ENCRYPTION_KEYS": value}, workdir, workdir)
        assert result.returncode == 0, result.stderr
        assert key not in result.stdout + result.stderr


def test_config_show_names_the_files_read_and_hides_only_secrets(workdir):
    (workdir / "show.yaml").write_text(
        "tools:\n  executor:\n    - {kind: cache, backend: redis, redis_url: 'redis://127.0.0.1:6379/0'}\n"
        "oauth:\n  storage: {kind: redis, redis: {url: 'redis://:s3cret-pass-word@cache:6379/2'}}\n"
        "text:\n  default: o\n  providers:\n    o: {kind: ollama, headers: {Authorization: 'Bearer tok-123456789'}}\n"
    )
    result = _run(["config", "show", "-c", "{dir}/show.yaml"], {}, workdir, workdir)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == f"# config: {workdir / 'show.yaml'} (given)" and lines[1] == "# profile: none"
    assert "redis_url: redis://127.0.0.1:6379/0" in result.stdout
    assert "url: redis://:[REDACTED]@cache:6379/2" in result.stdout
    assert "s3cret" not in result.stdout and "tok-123456789" not in result.stdout
    outside = _run(["config", "show"], {}, workdir, workdir)
    assert outside.stdout.startswith("# config: ") and "(packaged defaults: no config/default.yaml" in outside.stdout


def test_validate_warns_on_what_calls_must_supply(workdir):
    (workdir / "nomodel.yaml").write_text("text:\n  default: o\n  providers:\n    o: {kind: ollama}\n")
    result = _run(["config", "validate", "-c", "{dir}/nomodel.yaml"], {}, workdir, workdir)
    assert result.returncode == 0, result.stderr
    assert result.stderr.strip() == "warning: text.providers.o.default_model: not set: every call must name a model (oneringai chat --model ID)"
    assert result.stdout.splitlines()[0].startswith("config: ") and "configuration is valid" in result.stdout


def test_an_unexpected_error_is_one_line_too(monkeypatch, capsys):
    import importlib

    cli = importlib.import_module("oneringai.cli.main")

    def broken(parser, args):
        raise RuntimeError("boom\nsecond line")

    monkeypatch.setattr(cli, "_dispatch", broken)
    assert cli.main(["config", "validate"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert err == ["error: unexpected RuntimeError: boom second line — please report it (ONERINGAI_LOG_LEVEL=DEBUG shows the traceback)"]
