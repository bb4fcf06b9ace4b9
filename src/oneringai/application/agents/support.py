"""What the agent loop leans on: its hooks, its run state, and deadline-bounded awaits."""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from oneringai.domain.errors import ConfigError, OneRingAIError, ProviderTimeoutError, brief_repr
from oneringai.domain.events import StreamEvent
from oneringai.domain.telemetry import NOOP_SPAN, Span
from oneringai.domain.tools import ToolCall, ToolResult

__all__ = [
    "MAX_ITERATIONS",
    "MAX_TOOL_OUTPUT_LIMIT",
    "MAX_TOOL_THREADS",
    "AgentBusyError",
    "AgentHooks",
    "AgentInputError",
    "AgentLimitError",
    "Hook",
    "RunState",
    "call_hook",
    "cancelling",
    "check_limits",
    "closing",
    "remaining",
    "run_timed_out",
    "within",
]

Hook = Callable[..., Awaitable[Any] | Any]


class AgentBusyError(OneRingAIError, RuntimeError):
    """A run was started while another run of the same agent is busy, or a superseded
    stream was resumed. An agent holds one conversation; create one agent per conversation.
    A ``OneRingAIError`` (``except OneRingAIError`` catches it), still a ``RuntimeError``."""


class AgentInputError(OneRingAIError, ValueError):
    """``run``/``stream`` was given an input no vendor accepts: not a string or a sequence of
    messages, an item that is not a message, a message without content, or an empty prompt
    on an empty conversation. Raised before the history is touched: the agent stays usable."""


#: Upper bounds of an agent's limits (``agents.*`` in YAML, ``Agent(...)`` and
#: ``client.agents.create(...)`` in code). ``max_iterations: 1000000000`` let one run call the
#: model for ever (and bill it); a tool output limit of 10^12 characters is no limit at all
#: (every output held and sent whole); each tool thread costs a stack.
MAX_ITERATIONS = 1000
MAX_TOOL_OUTPUT_LIMIT = 10_000_000
MAX_TOOL_THREADS = 1024


class AgentLimitError(ConfigError, ValueError):
    """An agent limit given in code is not usable (a bool, below 1, above its bound, not
    finite), or its ``provider_options`` are not a bounded mapping of JSON values. A
    ``ConfigError`` (so a ``OneRingAIError``), still a ``ValueError`` for callers that caught
    the bare ``ValueError`` raised before."""


@dataclass
class AgentHooks:
    """Optional callbacks (sync or async).

    * ``before_model(options)`` may return new options;
    * ``after_model(response)`` observes each model response;
    * ``before_tool(call, context)`` may return a modified ``ToolCall`` (new arguments),
      a ``ToolResult`` (skip the tool with that result), or ``False`` (deny);
    * ``after_tool(call, result)`` may return a replacement ``ToolResult``.

    A ``ToolResult`` may also be returned as its mapping (``{"tool_call_id", "output",
    "error"}``, the guide's literal), a ``ToolCall`` as its mapping (with ``function``); a
    mapping that is neither is an ``executor_error`` result naming the hook and the field.
    Any other value (``None`` included) changes nothing. A tool hook that raises becomes an
    ``executor_error`` result; a model hook that raises ends the run with its exception (the
    history stays valid).
    """

    before_model: Hook | None = None
    after_model: Hook | None = None
    before_tool: Hook | None = None
    after_tool: Hook | None = None

    @staticmethod
    def checked(hooks: object) -> AgentHooks:
        """``Agent(hooks=...)`` checked (see ``check_hooks``)."""
        return check_hooks(hooks)


_HOOKS = ("before_model", "after_model", "before_tool", "after_tool")


def check_hooks(hooks: object) -> AgentHooks:
    """``Agent(hooks=...)``: ``None`` or an ``AgentHooks`` (or an object with its four
    attributes), each ``None`` or callable. Anything else failed at the run's first model call
    with an ``AttributeError`` (``hooks={"before_model": f}``) or ``TypeError`` (a hook of 5)."""
    if hooks is None:
        return AgentHooks()
    for name in _HOOKS:
        hook = getattr(hooks, name, _MISSING)
        if hook is _MISSING or not (hook is None or callable(hook)):
            raise AgentLimitError(
                f"Agent(hooks=...) must be an AgentHooks(before_model=..., after_model=..., before_tool=..., "
                f"after_tool=...) of callables or None; {type(hooks).__name__} "
                + ("has no " + name if hook is _MISSING else f"has {name}={brief_repr(hook)}, which is not callable")
            )
    return hooks  # type: ignore[return-value]


_MISSING = object()


async def call_hook(hook: Hook | None, *args: Any) -> Any:
    if hook is None:
        return None
    result = hook(*args)
    return await result if inspect.isawaitable(result) else result


async def before_tool_decision(hook: Hook | None, call: ToolCall, context: object) -> Any:
    """What a ``before_tool`` hook decided about ``call``: ``False`` is a denial (an error
    result), the guide's literal of a ``ToolCall`` (a mapping with ``function``) is read as one;
    anything else is returned as the hook gave it."""
    decision = await call_hook(hook, call, context)
    if decision is False:
        return ToolResult.failure(call, "tool call denied by hook", code="denied_by_hook")
    if isinstance(decision, Mapping) and "function" in decision:
        problem = ""
        try:
            return ToolCall.model_validate(dict(decision))
        except ValidationError as exc:  # its text quotes the input: what the hook put in the arguments
            errors = exc.errors(include_input=False, include_url=False, include_context=False)
            where = ".".join(str(part) for part in errors[0]["loc"]) if errors else "the mapping"
            problem = f"{where}: {errors[0]['msg'][:200]}" if errors else "invalid"
        return ToolResult.failure(  # outside the handler: the error does not chain the input
            call, f"the before_tool hook returned a ToolCall mapping that is not one ({problem})", code="executor_error"
        )
    return decision


@dataclass
class RunState:
    """One ``_loop``: whether it waits at a ``yield`` (its consumer has the control) and
    whether a newer run took the conversation over."""

    paused: bool = False
    superseded: bool = False
    cancelling: int = 0  # the task's cancel requests when the run started
    span: Span = NOOP_SPAN  # the run's ``invoke_agent`` span
    #: Parallel tool calls running for this run (they go on while its stream is paused).
    tasks: set[asyncio.Task[None]] = field(default_factory=set)

    def supersede(self) -> None:
        """A newer run takes the conversation over: it answers this run's open calls as
        cancelled, so their tools must stop now. Left running, the calls of a paused stream
        finished in the background — their side effects done after the model was told
        "the run ended before this tool finished"."""
        self.superseded = True
        for task in self.tasks:
            task.cancel()


def cancelling() -> int:
    task = asyncio.current_task()
    return task.cancelling() if task is not None else 0


@contextlib.asynccontextmanager
async def closing(events: AsyncIterator[StreamEvent]) -> AsyncIterator[AsyncIterator[StreamEvent]]:
    """Close the provider's stream (its connection) however we leave it."""
    try:
        yield events
    finally:
        close = getattr(events, "aclose", None)
        if close is not None:
            await close()


async def within(deadline: float | None, awaitable: Awaitable[Any]) -> Any:
    """``await awaitable``, bounded by the run's deadline (``TimeoutError`` past it)."""
    if deadline is None:
        return await awaitable
    async with asyncio.timeout(remaining(deadline)):
        return await awaitable


def run_timed_out(seconds: float, provider: str | None, model: str, partial: list[str]) -> ProviderTimeoutError:
    """The run's ``timeout`` passed before the model answered: the error carries the text the
    stream had delivered of that answer (``partial_output_text``)."""
    error = ProviderTimeoutError(
        f"agent timed out after {seconds:g}s before the model answered", provider=provider, model=model
    )
    error.partial_output_text = "".join(partial)
    return error


def remaining(deadline: float | None) -> float | None:
    if deadline is None:
        return None
    return max(0.0, deadline - time.monotonic())

def check_limits(
    max_iterations: int,
    max_parallel_tools: int,
    timeout: float | None,
    tool_timeout: float | None,
    max_output: int,
    user_id: object = None,
    roles: object = (),
) -> None:
    """The YAML ``agents:`` section is validated by its schema; an ``Agent`` built in code is
    checked here. ``max_iterations=0`` ended every run in an ``AssertionError``, and
    ``max_parallel_tools=0`` made a response with two tool calls wait forever."""
    for name, value, bound in (
        ("max_iterations", max_iterations, MAX_ITERATIONS), ("max_parallel_tools", max_parallel_tools, None),
        ("max_tool_output_chars", max_output, MAX_TOOL_OUTPUT_LIMIT),
    ):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise AgentLimitError(f"Agent({name}=...) must be a whole number >= 1, not {brief_repr(value)}")
        if bound is not None and value > bound:
            raise AgentLimitError(f"Agent({name}=...) must be at most {bound}, not {brief_repr(value)}")
    for name, limit in (("timeout", timeout), ("tool_timeout", tool_timeout)):
        if limit is not None and (  # an int beyond the largest float (10**400) is no float: OverflowError later
            isinstance(limit, bool) or not isinstance(limit, int | float) or not 0 < limit <= sys.float_info.max
        ):
            raise AgentLimitError(
                f"Agent({name}=...) must be a finite number of seconds > 0 or None, not {brief_repr(limit)}"
            )
    # Who runs: ``user_id=5`` failed the first model call with pydantic's error about
    # ``metadata.user_id``; ``roles=5`` / ``roles=[[1]]`` Python's "not iterable" / "unhashable".
    if user_id is not None and not isinstance(user_id, str):
        raise AgentLimitError(f"Agent(user_id=...) must be a string or None, not {type(user_id).__name__}")
    if not isinstance(roles, str) and (  # an iterator is not walked here: role_set still needs it
        not isinstance(roles, Iterable)
        or (not isinstance(roles, Iterator) and not all(isinstance(r, str) for r in roles))
    ):
        raise AgentLimitError(f"Agent(roles=...) must be a role name or a list of role names, not {brief_repr(roles)}")
