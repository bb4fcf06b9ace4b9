"""Hostile tools: whatever a tool returns or raises has one defined outcome.

Returned values become bounded text; raised exceptions (any ``BaseException`` subclass, a
``CancelledError`` of the tool's own, ``StopIteration`` from a thread) become error results;
``KeyboardInterrupt`` and ``SystemExit`` propagate (the process is stopping); a returned
coroutine is awaited once. Synchronous tools run on the tools' own bounded pool, so hung
ones cannot starve ``asyncio.to_thread``.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import dataclasses
import gc
import json
import threading
import warnings
from typing import Any

import pytest
from pydantic import BaseModel

from oneringai import OneRingAI, ToolExecutionContext, ToolResult, tool
from oneringai.application.tools import DirectToolExecutor, ToolRegistry, ToolThreadPool
from oneringai.application.tools.output import MAX_OUTPUT_CHARS, serialise_output
from oneringai.config import Settings
from oneringai.testing import tool_call


async def run_tool(func: Any, executor: DirectToolExecutor | None = None, **arguments: Any) -> ToolResult:
    wrapped = tool(func)
    call = tool_call(wrapped.name, **arguments)
    result = await (executor or DirectToolExecutor()).execute_tool(call, ToolExecutionContext(tools=[wrapped]))
    assert isinstance(result, ToolResult) and result.tool_call_id == call.id
    result.output.encode("utf-8")
    return result


# --- what tools return --------------------------------------------------------------------------

class Point(BaseModel):
    x: int


@dataclasses.dataclass
class Pair:
    a: int
    b: str


class Hostile:
    def __str__(self) -> str:
        raise RuntimeError("no str")

    def __repr__(self) -> str:
        raise RuntimeError("no repr")


def _self_referencing() -> dict[str, Any]:
    loop: dict[str, Any] = {"name": "loop"}
    loop["self"] = loop
    return loop


def _deep() -> list[Any]:
    value: list[Any] = []
    for _ in range(100_000):
        value = [value]
    return value


RETURNS: dict[str, tuple[Any, Any]] = {
    # name: (value, check on the output text)
    "object()": (object(), lambda out: "<object object" in out),
    "self-referencing dict": (_self_referencing(), lambda out: "loop" in out),
    "100k-deep list": (_deep(), lambda out: "nested too deeply" in out or out.startswith("[")),
    "hostile str and repr": (Hostile(), lambda out: "<unprintable Hostile>" in out),
    "huge int": (10**5000, lambda out: len(out) <= MAX_OUTPUT_CHARS + 100),
    "lone surrogate": ("a\ud800b", lambda out: out.startswith("a") and out.endswith("b")),
    "bytes": (b"\xff\x00", lambda out: "xff" in out),
    "set": ({3}, lambda out: out == "[3]"),
    "pydantic model": (Point(x=1), lambda out: json.loads(out) == {"x": 1}),
    "dataclass": (Pair(1, "b"), lambda out: json.loads(out) == {"a": 1, "b": "b"}),
    "dict with tuple keys": ({(1, 2): "v"}, lambda out: "(1, 2)" in out),
    "None": (None, lambda out: out == "null"),
}


@pytest.mark.parametrize("name", sorted(RETURNS))
@pytest.mark.parametrize("kind", ["sync", "async"])
async def test_any_return_value_becomes_bounded_text(name, kind):
    value, check = RETURNS[name]

    def sync_tool() -> Any:
        return value

    async def async_tool() -> Any:
        return value

    result = await run_tool(sync_tool if kind == "sync" else async_tool)
    assert not result.is_error and check(result.output), result.output[:200]


async def test_huge_output_is_truncated_with_a_note_and_the_bound_is_configurable():
    def flood() -> str:
        return "x" * 5_000_000

    result = await run_tool(flood)
    assert len(result.output) < MAX_OUTPUT_CHARS + 200
    assert result.output.endswith("[output truncated: 4900000 of 5000000 characters omitted]")
    small = await run_tool(flood, DirectToolExecutor(max_output_chars=1000))
    assert small.output.startswith("x" * 1000) and "4999000 of 5000000" in small.output
    assert serialise_output(list(range(100_000)), 50).endswith("characters omitted]")


async def test_returned_coroutines_are_awaited_once():
    async def inner() -> str:
        return "from the coroutine"

    def sync_returning_coroutine() -> Any:
        return inner()

    async def async_returning_coroutine() -> Any:
        return inner()

    async def nested() -> Any:
        return inner()

    def twice() -> Any:
        return nested()

    assert (await run_tool(sync_returning_coroutine)).output == "from the coroutine"
    assert (await run_tool(async_returning_coroutine)).output == "from the coroutine"
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # "coroutine ... was never awaited" would be a RuntimeWarning
        result = await run_tool(twice)
        gc.collect()
    assert result.metadata["code"] == "tool_error" and "another awaitable" in result.error


# --- what tools raise ---------------------------------------------------------------------------

class CustomBase(BaseException):
    pass


RAISES: dict[str, BaseException] = {
    "ValueError": ValueError("bad value"),
    "custom BaseException": CustomBase("odd"),
    "GeneratorExit": GeneratorExit(),
    "StopIteration": StopIteration(),
    "StopAsyncIteration": StopAsyncIteration(),
    "own CancelledError": asyncio.CancelledError(),
    "concurrent CancelledError": concurrent.futures.CancelledError(),
    "RecursionError": RecursionError("deep"),
    "MemoryError": MemoryError(),
    "exception group": ExceptionGroup("many", [ValueError("a"), KeyError("b")]),
    "hostile message": type("Weird", (Exception,), {"__str__": lambda self: 1 / 0})(),
}


@pytest.mark.parametrize("name", sorted(RAISES))
@pytest.mark.parametrize("kind", ["sync", "async"])
async def test_any_raised_exception_becomes_an_error_result(name, kind):
    error = RAISES[name]

    def sync_tool() -> None:
        raise error

    async def async_tool() -> None:
        raise error

    result = await asyncio.wait_for(run_tool(sync_tool if kind == "sync" else async_tool), 10)
    assert result.is_error and result.metadata["code"] == "tool_error", result


@pytest.mark.parametrize("error", [KeyboardInterrupt, SystemExit])
@pytest.mark.parametrize("kind", ["sync", "async"])
async def test_keyboard_interrupt_and_system_exit_are_not_swallowed(error, kind):
    def sync_tool() -> None:
        raise error()

    async def async_tool() -> None:
        raise error()

    wrapped = tool(sync_tool if kind == "sync" else async_tool)
    registry = ToolRegistry([wrapped])
    with pytest.raises(error):
        await registry.execute(tool_call(wrapped.name))


async def test_a_cancelled_caller_is_still_cancelled():
    started = asyncio.Event()

    async def slow() -> None:
        started.set()
        await asyncio.sleep(30)

    task = asyncio.create_task(run_tool(slow))
    await started.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task


# --- the tools' own thread pool -----------------------------------------------------------------

async def test_hung_sync_tools_do_not_starve_the_default_executor():
    release = threading.Event()
    running = {"now": 0, "peak": 0}
    lock = threading.Lock()

    def hang() -> str:
        with lock:
            running["now"] += 1
            running["peak"] = max(running["peak"], running["now"])
        release.wait(20)
        with lock:
            running["now"] -= 1
        return "released"

    executor = DirectToolExecutor(max_threads=3)
    hung = tool(hang)
    context = ToolExecutionContext(tools=[hung])
    try:
        calls = [asyncio.create_task(asyncio.wait_for(executor.execute_tool(tool_call("hang"), context), 0.3))
                 for _ in range(12)]
        outcomes = await asyncio.gather(*calls, return_exceptions=True)
        assert all(isinstance(o, TimeoutError) for o in outcomes)  # abandoned, as a timeout does
        assert running["peak"] == 3  # bounded by max_threads, not by asyncio's default pool
        # meanwhile asyncio's default executor (file token store, DNS, user code) is free
        assert await asyncio.wait_for(asyncio.to_thread(lambda: "free"), 5) == "free"
        assert running["now"] == 3  # the hung ones are still there, on our threads
    finally:
        release.set()
        await executor.aclose()


async def test_pool_is_closed_by_aclose_and_reopens_on_demand():
    names: list[str] = []

    def who() -> str:
        names.append(threading.current_thread().name)
        return "ok"

    executor = DirectToolExecutor(max_threads=2)
    assert (await run_tool(who, executor)).output == "ok"
    pool = executor.threads._executor
    assert pool is not None and names[0].startswith("oneringai-tool")
    await executor.aclose()
    assert executor.threads._executor is None and pool._shutdown
    assert (await run_tool(who, executor)).output == "ok"  # a later call opens a fresh pool
    await executor.aclose()


async def test_yaml_agents_tool_threads_sizes_the_pool_and_shutdown_closes_it():
    settings = Settings.model_validate({"text": {"default": None, "providers": {}}, "oauth": {"storage": {"kind": "memory"}},
                                        "tools": {"executor": [{"kind": "retry"}]}, "agents": {"tool_threads": 3}})
    client = OneRingAI(settings=settings)
    direct = client.agents.executor.find(DirectToolExecutor)  # type: ignore[attr-defined]
    assert isinstance(direct, DirectToolExecutor) and direct.threads.max_workers == 3

    def thread_name() -> str:
        return threading.current_thread().name

    result = await ToolRegistry([thread_name], client.agents.executor).execute(tool_call("thread_name"))
    assert result.output.startswith("oneringai-tool")
    pool = direct.threads._executor
    await client.destroy()
    assert pool is not None and pool._shutdown


async def test_context_variables_reach_sync_tools_and_a_pool_shut_down_mid_queue_is_a_result():
    import contextvars

    request_id: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="-")
    request_id.set("r-42")

    def read_request_id() -> str:
        return request_id.get()

    assert (await run_tool(read_request_id)).output == "r-42"
    with pytest.raises(ValueError, match=r"tool\(name=...\)"):
        tool(lambda: None)

    pool = ToolThreadPool(1)
    gate = threading.Event()
    first = asyncio.create_task(pool.run(gate.wait, 5))
    queued = asyncio.create_task(pool.run(lambda: "never"))
    await asyncio.sleep(0.05)
    pool.shutdown()  # the queued call is cancelled by the pool, not by its caller
    gate.set()
    assert await first is True
    from oneringai import ToolExecutionError

    with pytest.raises(ToolExecutionError, match="shut down"):
        await queued
