"""The agent loop: call the model, run the tool calls it asks for, feed results back,
until a final answer, ``max_iterations``, the total timeout, or cancellation.

What stays true however a run ends (answer, timeout, cancellation, an error, a stream the
consumer stopped reading):

* tool failures never escape: every one is an error ``ToolResult`` the model sees (an
  exception, a swallowed ``CancelledError``, a schema violation, an unknown tool, malformed
  JSON, a custom executor or hook that raises or returns the wrong thing);
* ``agent.messages`` stays valid for OpenAI and Anthropic: every tool call is answered by
  exactly one result, in order (unfinished calls as cancelled / timed out), ids are unique,
  no message is empty;
* one run at a time: a run started while another is busy raises ``AgentBusyError``; one
  started while another is paused at a ``yield`` of ``stream()`` supersedes it (the old
  stream stops with ``AgentBusyError`` if resumed and leaves the history alone);
* cancellation propagates (``task.cancel()`` cancels the run), also when a tool swallowed it.
"""
from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable, Generator, Mapping, Sequence
from typing import Any

from oneringai.application.agents.config import DEFAULT_TOOL_TIMEOUT
from oneringai.application.agents.history import (
    answer_open_calls,
    call_ids,
    input_items,
    refuse_excess_calls,
    restored_history,
    result_part,
    with_unique_call_ids,
)
from oneringai.application.agents.provider_options import ProviderOptionsSetting
from oneringai.application.agents.support import (
    AgentBusyError,
    AgentHooks,
    AgentInputError,
    RunState,
    before_tool_decision,
    call_hook,
    cancelling,
    check_limits,
    closing,
    remaining,
    run_timed_out,
    within,
)
from oneringai.application.guide_spelling import (
    model_events,
    require_llm_response,
    require_model_capabilities,
)
from oneringai.application.tools.bounded import bounded
from oneringai.application.tools.output import (
    MAX_OUTPUT_CHARS,
    NOTE_ROOM,
    describe_exception,
    serialise_output,
)
from oneringai.application.tools.registry import answer_of, execute_safely
from oneringai.domain.content import InputItem, Message, MessageRole
from oneringai.domain.errors import ProviderResponseError
from oneringai.domain.events import (
    IterationCompleteEvent,
    ResponseCompleteEvent,
    StreamEvent,
    ToolExecutionDoneEvent,
    ToolExecutionStartEvent,
)
from oneringai.domain.interfaces import ITextProvider, IToolExecutor
from oneringai.domain.options import TextGenerateOptions
from oneringai.domain.response import LLMResponse, Usage
from oneringai.domain.telemetry import NOOP_TELEMETRY, Telemetry
from oneringai.domain.tools import Tool, ToolCall, ToolExecutionContext, ToolResult, role_set

__all__ = ["Agent", "AgentBusyError", "AgentHooks", "AgentInputError"]


class Agent:
    provider_options = ProviderOptionsSetting()  # vendor knobs of every model request, checked when set

    def __init__(
        self,
        *,
        provider: ITextProvider | Callable[[], Awaitable[ITextProvider]],
        model: str,
        executor: IToolExecutor,
        tools: Sequence[Tool] = (),
        instructions: str | None = None,
        max_iterations: int = 10,
        max_parallel_tools: int = 4,
        timeout: float | None = None,
        user_id: str | None = None,
        roles: Sequence[str] = (),
        hooks: AgentHooks | None = None,
        temperature: float | None = None,
        max_output_tokens: int | None = None,
        agent_id: str | None = None,
        tool_timeout: float | None = DEFAULT_TOOL_TIMEOUT,
        max_tool_output_chars: int = MAX_OUTPUT_CHARS,
        name: str | None = None,
        telemetry: Telemetry | None = None,
        provider_options: Mapping[str, Any] | None = None,
    ) -> None:
        check_limits(max_iterations, max_parallel_tools, timeout, tool_timeout, max_tool_output_chars, user_id, roles)
        self.name = name
        #: Spans: an ``invoke_agent`` span per run, parent of its chat and tool spans.
        self.telemetry = telemetry or NOOP_TELEMETRY
        self.tool_timeout, self.max_tool_output_chars = tool_timeout, max_tool_output_chars
        self._provider = provider  # or a coroutine function resolving it on first run (lazy resources)
        self.model, self.executor = model, executor
        from oneringai.application.tools import ToolRegistry

        self.registry = ToolRegistry(tools, executor)  # this agent's own tools, never shared
        self.instructions = instructions
        self.max_iterations, self.max_parallel_tools = max_iterations, max_parallel_tools
        self.timeout, self.user_id = timeout, user_id
        self.roles, self.hooks = role_set(roles), AgentHooks.checked(hooks)
        self.temperature, self.max_output_tokens = temperature, max_output_tokens
        self.provider_options = provider_options  # a checked copy (AgentLimitError if unusable)
        self.id = agent_id or f"agent_{uuid.uuid4().hex[:12]}"
        self.messages: list[InputItem] = []
        self.usage, self.cost, self.last_iterations = Usage(), 0.0, 0
        self._active: RunState | None = None

    @property
    def tools(self) -> list[Tool]:
        return self.registry.tools

    async def resolve_provider(self) -> ITextProvider:
        if not isinstance(self._provider, ITextProvider):
            self._provider = await self._provider()
        return self._provider

    @property
    def provider(self) -> ITextProvider | None:
        """The provider, once resolved (after the first run)."""
        return self._provider if isinstance(self._provider, ITextProvider) else None

    def __await__(self) -> Generator[Any, None, Agent]:
        """``await client.agents.create(...)`` works as well as the plain call."""
        yield from self.resolve_provider().__await__()
        return self

    def reset(self) -> None:
        """Forget the conversation. A stream paused at a ``yield`` is superseded; a run that is
        busy (awaiting the model or tools) makes this an ``AgentBusyError``."""
        active = self._active
        if active is not None and not active.superseded:
            if not active.paused:
                raise AgentBusyError(f"agent {self.id} is running; reset it after the run ends")
            active.supersede()
        self._active = None
        self.messages = []

    async def run(self, input: str | Sequence[InputItem]) -> LLMResponse:
        """The final response; the conversation is kept for a follow-up ``run``."""
        final: LLMResponse | None = None
        async with contextlib.aclosing(self._loop(input, streaming=False)) as events:
            async for event in events:
                if isinstance(event, ResponseCompleteEvent):
                    final = event.response
        if final is None:  # only a superseded run ends without one, and that one raises
            raise AgentBusyError(f"agent {self.id}: the run ended without a response")
        return final

    async def stream(self, input: str | Sequence[InputItem]) -> AsyncIterator[StreamEvent]:
        """Model events plus tool execution and iteration events; the last is the final
        ``response.complete``. Stop early with ``async with contextlib.aclosing(...)`` /
        ``aclose()`` to settle the history at once (otherwise the next run does it)."""
        async with contextlib.aclosing(self._loop(input, streaming=True)) as events:
            async for event in events:  # closing this stream closes the loop (settles history) at once
                yield event

    def _options(self) -> TextGenerateOptions:
        return TextGenerateOptions(
            model=self.model,
            input=list(self.messages),
            instructions=self.instructions,
            tools=self.registry.definitions or None,
            temperature=self.temperature,
            max_output_tokens=self.max_output_tokens,
            metadata={"user_id": self.user_id} if self.user_id else None,
            provider_options=self.provider_options,  # a fresh copy: a hook may change it in place
        )

    def _begin(self) -> RunState:
        previous = self._active
        if previous is not None and not previous.superseded:
            if not previous.paused:
                raise AgentBusyError(
                    f"agent {self.id} is already running; an agent holds one conversation — "
                    "await the running call, or create another agent for concurrent work"
                )
            previous.supersede()  # paused at a yield, or abandoned there: its tools stop
        run = RunState(cancelling=cancelling())
        run.span = self.telemetry.start_span(
            f"invoke_agent {self.name or self.id}",
            attributes={
                "gen_ai.operation.name": "invoke_agent",
                "gen_ai.agent.id": self.id,
                "gen_ai.agent.name": self.name or self.id,
                "gen_ai.request.model": self.model,
            },
        )
        self._active = run
        # Calls a superseded or abandoned run left open: answer them before anything else.
        answer_open_calls(
            self.messages, {}, code="cancelled", reason="the run ended before this tool finished"
        )
        return run

    def _resume(self, run: RunState) -> None:
        run.paused = False
        if run.superseded:
            raise AgentBusyError(f"agent {self.id}: this stream was superseded by a newer run")

    async def _loop(self, input: str | Sequence[InputItem], *, streaming: bool) -> AsyncGenerator[StreamEvent, None]:
        self.messages = restored_history(self.messages)  # the same list, or one assigned back as dicts, validated
        items = input_items(input, self.messages)  # before anything changes: a bad input leaves the agent usable
        run = self._begin()
        calls: list[ToolCall] = []  # this iteration's calls, not yet answered in the history
        done: dict[str, ToolResult] = {}
        code, reason = "cancelled", "the run was cancelled before this tool finished"
        response: LLMResponse | None = None
        stop_reason: str | None = None
        run_usage = Usage()
        partial: list[str] = []  # this model call's text deltas (streaming): kept on a timeout error
        deadline = None if self.timeout is None else time.monotonic() + self.timeout
        provider: ITextProvider | None = None
        span, activate = run.span, self.telemetry.activate
        try:
            self.messages.extend(items)
            with activate(span):
                provider = await self.resolve_provider()
            if span.recording:
                span.set_attribute("gen_ai.provider.name", getattr(provider, "gen_ai_provider_name", provider.name))
            capabilities = require_model_capabilities(provider.get_model_capabilities(self.model), provider)
            for iteration in range(1, self.max_iterations + 1):
                self.last_iterations = iteration
                options = self._options()
                with activate(span):
                    changed = await call_hook(self.hooks.before_model, options)
                if isinstance(changed, TextGenerateOptions):
                    options = changed
                answer: LLMResponse | None = None
                if streaming:  # the deadline bounds each await, never a yield (the consumer's time)
                    partial.clear()
                    async with closing(model_events(provider, options, capabilities)) as events:
                        iterator, started = aiter(events), False
                        while True:
                            try:
                                if started:
                                    event = await within(deadline, anext(iterator))
                                else:  # the request (and the chat span) starts here: under the run's span
                                    with activate(span):
                                        event = await within(deadline, anext(iterator))
                                    started = True
                            except StopAsyncIteration:
                                break
                            if isinstance(event, ResponseCompleteEvent):
                                answer = event.response
                                continue
                            if event.type == "response.output_text.delta":
                                partial.append(event.delta)
                            run.paused = True
                            yield event
                            self._resume(run)
                else:
                    with activate(span):
                        answer = require_llm_response(await within(deadline, provider.generate(options)), provider)
                if answer is None:
                    raise ProviderResponseError(
                        "the provider's stream ended without response.complete",
                        provider=getattr(provider, "name", None), model=self.model,
                    )
                response = with_unique_call_ids(answer, call_ids(self.messages))
                with activate(span):
                    await call_hook(self.hooks.after_model, response)
                run_usage = run_usage + response.usage
                self.cost += capabilities.cost(response.usage.input_tokens, response.usage.output_tokens)
                self.messages.extend(item for item in response.output if item.content)
                calls = response.tool_calls
                if not calls:
                    run.paused = True
                    yield IterationCompleteEvent(iteration=iteration, tool_calls=0, usage=response.usage)
                    self._resume(run)
                    break
                async for event in self._run_tools(calls, iteration, deadline, done, run):
                    run.paused = True
                    yield event
                    self._resume(run)
                self.messages.append(
                    Message(
                        role=MessageRole.USER, content=[result_part(done[c.id]) for c in calls]
                    )
                )
                answered, calls, done = len(calls), [], {}
                run.paused = True
                yield IterationCompleteEvent(iteration=iteration, tool_calls=answered, usage=response.usage)
                self._resume(run)
            else:
                stop_reason = "max_iterations"
        except TimeoutError as exc:
            if deadline is None or time.monotonic() < deadline:
                code, reason = "aborted", "the run failed before this tool finished"
                span.record_error(exc)
                raise  # not ours: a provider or tool timeout that escaped
            if response is None:
                error = run_timed_out(self.timeout or 0.0, getattr(provider, "name", None), self.model, partial)
                span.record_error(error)
                raise error from None
            code, reason, stop_reason = "timeout", "agent timed out before this tool finished", "timeout"
        except GeneratorExit:  # the consumer closed the stream: not a failure of the run
            raise
        except asyncio.CancelledError as exc:
            span.record_error(exc, error_type="cancelled")
            raise
        except BaseException as exc:
            code, reason = "aborted", "the run failed before this tool finished"
            span.record_error(exc)
            raise
        finally:
            if span.recording:
                span.set_attributes(
                    {
                        "gen_ai.usage.input_tokens": run_usage.input_tokens,
                        "gen_ai.usage.output_tokens": run_usage.output_tokens,
                        "oneringai.agent.iterations": self.last_iterations,
                    }
                )
                if stop_reason is not None:
                    span.set_attribute("gen_ai.response.finish_reasons", [stop_reason])
            span.end()
            if not run.superseded:
                if calls:
                    answer_open_calls(self.messages, done, code=code, reason=reason)
                self._active = None
        if stop_reason is not None and response is not None:
            response = response.model_copy(update={"status": "incomplete", "stop_reason": stop_reason})
        assert response is not None
        self.usage = self.usage + run_usage
        yield ResponseCompleteEvent(response=response.model_copy(update={"usage": run_usage}))

    async def _run_tools(
        self, calls: list[ToolCall], iteration: int, deadline: float | None, done: dict[str, ToolResult], run: RunState
    ) -> AsyncIterator[StreamEvent]:
        """Runs ``calls``, recording each result in ``done`` as soon as it exists."""
        calls = refuse_excess_calls(calls, done)
        context = ToolExecutionContext(
            tools=self.tools, user_id=self.user_id, roles=self.roles, agent_id=self.id, iteration=iteration
        )
        if len(calls) == 1:  # the common case: no tasks, no queue
            call = calls[0]
            yield ToolExecutionStartEvent(
                tool_call_id=call.id, tool_name=call.function.name, arguments=call.function.arguments
            )
            started = time.perf_counter()
            async with asyncio.timeout(remaining(deadline)):
                with self.telemetry.activate(run.span):
                    done[call.id] = result = await self._execute(call, context)
                if cancelling() > run.cancelling:  # a tool swallowed our cancellation: honour it
                    raise asyncio.CancelledError
            yield ToolExecutionDoneEvent(
                tool_call_id=call.id, tool_name=call.function.name, result=result,
                duration_ms=(time.perf_counter() - started) * 1000,
            )
            return
        limit = asyncio.Semaphore(self.max_parallel_tools)
        queue: asyncio.Queue[StreamEvent] = asyncio.Queue()

        async def one(call: ToolCall) -> None:
            async with limit:
                await queue.put(
                    ToolExecutionStartEvent(
                        tool_call_id=call.id, tool_name=call.function.name, arguments=call.function.arguments
                    )
                )
                started = time.perf_counter()
                done[call.id] = result = await self._execute(call, context)
                await queue.put(
                    ToolExecutionDoneEvent(
                        tool_call_id=call.id,
                        tool_name=call.function.name,
                        result=result,
                        duration_ms=(time.perf_counter() - started) * 1000,
                    )
                )

        # Plain tasks, not a TaskGroup: events are yielded while they run, and a TaskGroup
        # would turn the consumer's GeneratorExit (aclose) into an exception group.
        with self.telemetry.activate(run.span):  # the tasks' tool spans are the run's children
            tasks = [asyncio.create_task(one(call)) for call in calls]
        run.tasks.update(tasks)  # a newer run superseding this one cancels them
        try:
            finished = 0
            while finished < len(calls):
                event = await within(deadline, queue.get())
                if isinstance(event, ToolExecutionDoneEvent):
                    finished += 1
                yield event
        finally:
            run.tasks.difference_update(tasks)
            running = [task for task in tasks if not task.done()]
            for task in running:
                task.cancel()
            if running:
                await asyncio.wait(running)

    async def _execute(self, call: ToolCall, context: ToolExecutionContext) -> ToolResult:
        """The result answering ``call``: hooks, the executor under ``tool_timeout``, bounds."""
        original = call
        try:
            decision = await before_tool_decision(self.hooks.before_tool, call, context)
            if isinstance(decision, ToolResult | Mapping):  # a result (a denial), or the guide's literal of one
                return self._bounded(answer_of(original, decision, "the before_tool hook"))
            if isinstance(decision, ToolCall):
                call = decision.model_copy(update={"id": call.id})
            try:  # bounded: a tool that ignores cancellation is abandoned, not awaited forever
                result = await bounded(execute_safely(self.executor, call, context), self.tool_timeout)
            except TimeoutError:
                result = ToolResult.failure(
                    call,
                    f"tool timed out after {self.tool_timeout:g}s (agents.tool_timeout)",
                    code="timeout",
                )
            replaced = await call_hook(self.hooks.after_tool, call, result)
            if isinstance(replaced, ToolResult | Mapping):  # a mapping was ignored: now read as a result
                result = answer_of(original, replaced, "the after_tool hook")
            return self._bounded(result)
        except (KeyboardInterrupt, SystemExit):
            raise
        except asyncio.CancelledError:
            if cancelling():
                raise
            return ToolResult.failure(original, "a hook raised CancelledError", code="executor_error")
        except BaseException as exc:
            return ToolResult.failure(original, describe_exception(exc), code="executor_error")

    def _bounded(self, result: ToolResult) -> ToolResult:
        output = result.output
        if isinstance(output, str) and len(output) <= self.max_tool_output_chars + NOTE_ROOM:
            return result
        return result.model_copy(update={"output": serialise_output(output, self.max_tool_output_chars)})

