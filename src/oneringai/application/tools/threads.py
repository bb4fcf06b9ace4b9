"""The tools' own bounded thread pool for synchronous tools.

Why not ``asyncio.to_thread``: it uses the loop's default executor, which everything else
shares (the file token store, DNS lookups, user code). A synchronous tool that hangs keeps
its thread even after its timeout (threads cannot be killed), so eight hung tools would
starve every ``to_thread`` user of the process. Tools run here instead:

* a ``ThreadPoolExecutor`` of ``max_workers`` threads (``agents.tool_threads``), created on
  first use, shut down by ``shutdown()`` (the direct executor's ``aclose``, hence container
  shutdown); a later call opens a fresh one;
* whatever the function raises comes back as it was raised — including exceptions a
  ``concurrent.futures`` future cannot carry into asyncio (``StopIteration`` would otherwise
  be lost in a callback and leave the caller waiting forever; it becomes a ``RuntimeError``);
* the caller's context variables are visible in the thread.

Which pool a ``FunctionTool`` uses: the one the running executor installed with
``using_tool_threads`` (the direct executor installs its own), else a process-wide default.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import functools
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from oneringai.domain.errors import ToolExecutionError

__all__ = ["DEFAULT_TOOL_THREADS", "TOOL_THREADS", "ToolThreadPool", "current_tool_threads", "using_tool_threads"]

DEFAULT_TOOL_THREADS = 8


def _capture(context: contextvars.Context, call: Callable[[], Any]) -> tuple[bool, Any]:
    """Runs in the worker: the outcome as a value, so no exception type is lost on the way."""
    try:
        return True, context.run(call)
    except BaseException as exc:
        return False, exc


class ToolThreadPool:
    """A bounded pool of threads for synchronous tools (see the module docstring)."""

    def __init__(self, max_workers: int = DEFAULT_TOOL_THREADS, *, name: str = "oneringai-tool") -> None:
        if max_workers < 1:
            raise ValueError("max_workers must be at least 1 (agents.tool_threads)")
        self._max_workers = max_workers
        self._name = name
        self._executor: ThreadPoolExecutor | None = None
        self._lock = threading.Lock()

    @property
    def max_workers(self) -> int:
        return self._max_workers

    def resize(self, max_workers: int) -> None:
        """Use ``max_workers`` threads from now on; calls already running finish where they are."""
        if max_workers < 1:
            raise ValueError("max_workers must be at least 1 (agents.tool_threads)")
        if max_workers == self._max_workers:
            return
        self._max_workers = max_workers
        self.shutdown()

    def _pool(self) -> ThreadPoolExecutor:
        executor = self._executor
        if executor is None:
            with self._lock:
                executor = self._executor
                if executor is None:
                    executor = self._executor = ThreadPoolExecutor(
                        self._max_workers, thread_name_prefix=self._name
                    )
        return executor

    async def run(self, func: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Any:
        """``func(*args, **kwargs)`` in a pool thread; its result, or what it raised."""
        loop = asyncio.get_running_loop()
        call = functools.partial(func, *args, **kwargs)
        try:
            try:
                ok, value = await loop.run_in_executor(
                    self._pool(), _capture, contextvars.copy_context(), call
                )
            except RuntimeError:  # shut down between _pool() and submit: once more, on a fresh pool
                ok, value = await loop.run_in_executor(
                    self._pool(), _capture, contextvars.copy_context(), call
                )
        except asyncio.CancelledError:
            task = asyncio.current_task()
            if task is not None and task.cancelling():
                raise
            # Nobody cancelled us: shutdown() dropped the call while it was queued.
            raise ToolExecutionError(
                "the tool thread pool was shut down before this call started", is_retryable=True
            ) from None
        if ok:
            return value
        if isinstance(value, StopIteration | StopAsyncIteration):
            raise RuntimeError(f"tool raised {type(value).__name__}") from value
        raise value

    def shutdown(self) -> None:
        """Stop taking work and let idle threads go; running calls finish in the background
        (a hung thread cannot be stopped, only abandoned). Queued calls are cancelled."""
        with self._lock:
            executor, self._executor = self._executor, None
        if executor is not None:
            executor.shutdown(wait=False, cancel_futures=True)

    def __repr__(self) -> str:
        return f"ToolThreadPool(max_workers={self._max_workers})"


_DEFAULT = ToolThreadPool()
#: The pool of the running executor (``DirectToolExecutor`` sets it around each call).
TOOL_THREADS: contextvars.ContextVar[ToolThreadPool | None] = contextvars.ContextVar(
    "oneringai_tool_threads", default=None
)


def current_tool_threads() -> ToolThreadPool:
    """The pool synchronous tools run on here: the executor's, else the process default."""
    return TOOL_THREADS.get() or _DEFAULT


@contextlib.contextmanager
def using_tool_threads(pool: ToolThreadPool) -> Iterator[ToolThreadPool]:
    """Run the synchronous tools called inside this block on ``pool``."""
    token = TOOL_THREADS.set(pool)
    try:
        yield pool
    finally:
        TOOL_THREADS.reset(token)
