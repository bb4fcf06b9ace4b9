"""The innermost executor: find the tool, validate arguments, run it — and never raise.

Every outcome of a call is a ``ToolResult`` (``metadata["code"]`` says which):

* ``unknown_tool`` — the model named a tool that is not in ``context.tools``;
* ``invalid_arguments`` — invalid JSON, longer than ``max_argument_chars``, nested deeper
  than ``max_argument_depth``, or not matching the tool's schema;
* ``tool_error`` — the tool raised: any ``Exception``, any other ``BaseException`` subclass,
  or a ``CancelledError`` of its own (nobody cancelled the call);
* success — the return value as text (``serialise_output``: bounded to
  ``max_output_chars``, always producible). A coroutine returned by a tool is awaited once.

Two things do propagate, on purpose: cancellation of the caller (a ``CancelledError`` while
our task is being cancelled, so timeouts and ``task.cancel()`` work) and
``KeyboardInterrupt`` / ``SystemExit`` (the process is stopping; swallowing them would keep
it alive). Synchronous tools run on this executor's own bounded ``ToolThreadPool``, closed by
``aclose()``.
"""

from __future__ import annotations

import asyncio
import inspect
import time
from collections.abc import Mapping

from pydantic import ValidationError

from oneringai.application.tools.output import (
    MAX_OUTPUT_CHARS,
    describe_exception,
    serialise_output,
)
from oneringai.application.tools.threads import DEFAULT_TOOL_THREADS, TOOL_THREADS, ToolThreadPool
from oneringai.domain.errors import ConfigError, ToolExecutionError, brief_repr
from oneringai.domain.interfaces import IToolExecutor
from oneringai.domain.tools import (
    MAX_ARGUMENT_CHARS,
    MAX_ARGUMENT_DEPTH,
    ToolCall,
    ToolExecutionContext,
    ToolResult,
)

__all__ = ["DirectToolExecutor", "cancel_requested", "serialise_output"]

_PROCESS_EXITS = (KeyboardInterrupt, SystemExit)
_PLAIN = frozenset({str, int, float, bool, type(None), dict, list})  # never awaitable: skip the check


def cancel_requested() -> bool:
    """Whether someone asked to cancel the running task (``task.cancel()``, a timeout).

    Tells a ``CancelledError`` that is ours to honour from one a tool raised by itself.
    """
    task = asyncio.current_task()
    return task is not None and task.cancelling() > 0


class DirectToolExecutor(IToolExecutor):
    """See the module docstring. Limits are keywords; ``configure`` changes them later
    (``AgentManager`` applies the YAML ``agents:`` section that way)."""

    def __init__(
        self,
        *,
        max_threads: int = DEFAULT_TOOL_THREADS,
        max_argument_chars: int = MAX_ARGUMENT_CHARS,
        max_argument_depth: int = MAX_ARGUMENT_DEPTH,
        max_output_chars: int = MAX_OUTPUT_CHARS,
    ) -> None:
        _check_limits(False, max_argument_chars=max_argument_chars, max_argument_depth=max_argument_depth,
                      max_output_chars=max_output_chars)
        self.threads = ToolThreadPool(max_threads)
        self.max_argument_chars = max_argument_chars
        self.max_argument_depth = max_argument_depth
        self.max_output_chars = max_output_chars

    def configure(
        self,
        *,
        max_threads: int | None = None,
        max_argument_chars: int | None = None,
        max_argument_depth: int | None = None,
        max_output_chars: int | None = None,
    ) -> None:
        """Change limits; ``None`` keeps the current value."""
        _check_limits(True, max_argument_chars=max_argument_chars, max_argument_depth=max_argument_depth,
                      max_output_chars=max_output_chars)
        if max_threads is not None:
            self.threads.resize(max_threads)
        if max_argument_chars is not None:
            self.max_argument_chars = max_argument_chars
        if max_argument_depth is not None:
            self.max_argument_depth = max_argument_depth
        if max_output_chars is not None:
            self.max_output_chars = max_output_chars

    async def execute_tool(self, tool_call: ToolCall, context: ToolExecutionContext) -> ToolResult:
        if type(tool_call) is not ToolCall or type(context) is not ToolExecutionContext:  # the hot path: one check
            tool_call, context = _as_call(tool_call), _as_context(context)
        started = time.perf_counter()
        name = tool_call.function.name
        try:
            tool = context.find_tool(name)
            if tool is None:
                available = ", ".join(t.name for t in context.tools) or "none"
                return ToolResult.failure(
                    tool_call, f"unknown tool {name!r} (available: {available})", code="unknown_tool"
                )
            raw = tool_call.parsed_arguments(max_chars=self.max_argument_chars, max_depth=self.max_argument_depth)
            arguments = tool.validate_arguments(raw)
        except ValueError as exc:  # ToolArgumentsError, a schema mismatch
            return ToolResult.failure(tool_call, str(exc), code="invalid_arguments")
        except RecursionError:  # a custom validate_arguments that walks recursively
            return ToolResult.failure(tool_call, "arguments are nested too deeply", code="invalid_arguments")
        except BaseException as exc:  # a hostile tool definition or validator
            return _failure(tool_call, exc)
        token = TOOL_THREADS.set(self.threads)  # what FunctionTool runs sync functions on
        try:
            value = await tool.execute(arguments)
            if type(value) not in _PLAIN and inspect.isawaitable(value):  # a coroutine handed back: run it once
                value = await value
        except BaseException as exc:
            return _failure(tool_call, exc)
        finally:
            TOOL_THREADS.reset(token)
        if type(value) not in _PLAIN and inspect.isawaitable(value):
            close = getattr(value, "close", None)
            if callable(close):
                close()  # no "coroutine was never awaited" warning
            return ToolResult.failure(
                tool_call, "the tool returned an awaitable that returned another awaitable", code="tool_error"
            )
        return ToolResult(
            tool_call_id=tool_call.id,
            tool_name=name,
            output=serialise_output(value, self.max_output_chars),
            execution_time_ms=(time.perf_counter() - started) * 1000,
        )

    async def aclose(self) -> None:
        """Shut the synchronous tools' thread pool down (a later call opens a new one)."""
        self.threads.shutdown()


def _check_limits(keep_none: bool, /, **limits: object) -> None:
    """Whole numbers >= 1 (``None`` keeps the value in ``configure``): ``max_output_chars="x"`` was
    accepted and every later call raised ``TypeError`` out of the executor that never raises."""
    for name, value in limits.items():
        if value is None and keep_none:
            continue
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ConfigError(f"DirectToolExecutor({name}=...) must be a whole number >= 1, not {brief_repr(value)}")


def _as_call(tool_call: object) -> ToolCall:
    """A caller's ``tool_call``: a ``ToolCall`` (or subclass), or the guide's object literal
    ``{"id": ..., "function": {"name": ..., "arguments": ...}}`` read as one. Anything else is a
    ``ToolExecutionError``: without a call id there is no result to answer with (it was an
    ``AttributeError`` reading ``tool_call.function``)."""
    if isinstance(tool_call, ToolCall):
        return tool_call
    if isinstance(tool_call, Mapping):
        try:
            return ToolCall.model_validate(tool_call)
        except ValidationError as exc:  # named by field: pydantic's own text quotes the input (the arguments)
            problem = _fields_problem(exc)
        raise ToolExecutionError(f"execute_tool: tool_call is no ToolCall: {problem}")
    raise ToolExecutionError(
        f"execute_tool needs a ToolCall (id, function.name, function.arguments), not {type(tool_call).__name__}"
    )


def _as_context(context: object) -> ToolExecutionContext:
    """``None`` is an empty context (no tools: the call is ``unknown_tool``); a mapping is read
    as one; anything else is a ``ToolExecutionError``."""
    if isinstance(context, ToolExecutionContext):
        return context
    if context is None:
        return ToolExecutionContext()
    if isinstance(context, Mapping):
        try:
            return ToolExecutionContext.model_validate(context)
        except ValidationError as exc:
            problem = _fields_problem(exc)
        raise ToolExecutionError(f"execute_tool: context is no ToolExecutionContext: {problem}")
    raise ToolExecutionError(f"execute_tool needs a ToolExecutionContext, not {type(context).__name__}")


def _failure(tool_call: ToolCall, exc: BaseException) -> ToolResult:
    """The result for what a tool raised; re-raises what must propagate (see module doc)."""
    if isinstance(exc, _PROCESS_EXITS):
        raise exc
    if isinstance(exc, asyncio.CancelledError):
        if cancel_requested():
            raise exc
        return ToolResult.failure(
            tool_call, "the tool raised CancelledError (nobody cancelled the call)", code="tool_error"
        )
    if isinstance(exc, ToolExecutionError):
        return ToolResult.failure(tool_call, str(exc), code="tool_error", retryable=exc.is_retryable)
    retryable = isinstance(exc, TimeoutError | ConnectionError)
    return ToolResult.failure(tool_call, describe_exception(exc), code="tool_error", retryable=retryable)


def _fields_problem(exc: ValidationError) -> str:
    """The fields a literal got wrong and why, never their values (a call's arguments, a
    context's metadata may hold what a hook or caller put there: a credential)."""
    errors = exc.errors(include_input=False, include_url=False, include_context=False)[:3]
    return "; ".join(f"{'.'.join(str(p) for p in e['loc']) or 'the mapping'}: {e['msg'][:200]}" for e in errors) or "invalid"
