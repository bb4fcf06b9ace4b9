"""The agent loop: call the model, run the tool calls it asks for, feed results back,
until a final answer, ``max_iterations``, the total timeout, or cancellation.

Tool failures never escape: every one is an error ``ToolResult`` the model sees.
"""

from __future__ import annotations

import asyncio
import inspect
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Generator, Sequence
from dataclasses import dataclass
from typing import Any

from oneringai.domain.content import InputItem, Message, MessageRole, ToolResultContent
from oneringai.domain.errors import ProviderTimeoutError
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
from oneringai.domain.tools import Tool, ToolCall, ToolExecutionContext, ToolResult

__all__ = ["Agent", "AgentHooks"]

Hook = Callable[..., Awaitable[Any] | Any]


@dataclass
class AgentHooks:
    """Optional callbacks (sync or async).

    * ``before_model(options)`` may return new options;
    * ``after_model(response)`` observes each model response;
    * ``before_tool(call, context)`` may return a modified ``ToolCall`` (new arguments),
      a ``ToolResult`` (skip the tool with that result), or ``False`` (deny);
    * ``after_tool(call, result)`` may return a replacement ``ToolResult``.
    """

    before_model: Hook | None = None
    after_model: Hook | None = None
    before_tool: Hook | None = None
    after_tool: Hook | None = None


async def _call(hook: Hook | None, *args: Any) -> Any:
    if hook is None:
        return None
    result = hook(*args)
    return await result if inspect.isawaitable(result) else result


class Agent:
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
        tool_timeout: float | None = None,
    ) -> None:
        self.tool_timeout = tool_timeout
        # A provider, or a coroutine function resolving it on first run (container resources
        # open lazily, so ``AgentManager.create`` can stay synchronous).
        self._provider = provider
        self.model = model
        self.executor = executor
        from oneringai.application.tools import ToolRegistry

        self.registry = ToolRegistry(tools, executor)  # this agent's own tools, never shared
        self.instructions = instructions
        self.max_iterations = max_iterations
        self.max_parallel_tools = max_parallel_tools
        self.timeout = timeout
        self.user_id = user_id
        self.roles = frozenset(roles)
        self.hooks = hooks or AgentHooks()
        self.temperature = temperature
        self.max_output_tokens = max_output_tokens
        self.id = agent_id or f"agent_{uuid.uuid4().hex[:12]}"
        self.messages: list[InputItem] = []
        self.usage = Usage()
        self.cost = 0.0
        self.last_iterations = 0

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
        """Forget the conversation."""
        self.messages = []

    async def run(self, input: str | Sequence[InputItem]) -> LLMResponse:
        """The final response; the conversation is kept for a follow-up ``run``."""
        final: LLMResponse | None = None
        async for event in self._loop(input, streaming=False):
            if isinstance(event, ResponseCompleteEvent):
                final = event.response
        assert final is not None
        return final

    async def stream(self, input: str | Sequence[InputItem]) -> AsyncIterator[StreamEvent]:
        """Model events plus tool execution and iteration events; the last is the final
        ``response.complete``."""
        async for event in self._loop(input, streaming=True):
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
        )

    async def _loop(self, input: str | Sequence[InputItem], *, streaming: bool) -> AsyncIterator[StreamEvent]:
        self.messages.extend([Message.user(input)] if isinstance(input, str) else list(input))
        deadline = None if self.timeout is None else time.monotonic() + self.timeout
        provider = await self.resolve_provider()
        capabilities = provider.get_model_capabilities(self.model)
        run_usage = Usage()
        response: LLMResponse | None = None
        pending: list[ToolCall] = []  # calls made but not yet answered, for a clean history
        stop_reason: str | None = None
        try:
            for iteration in range(1, self.max_iterations + 1):
                self.last_iterations = iteration
                options = self._options()
                changed = await _call(self.hooks.before_model, options)
                if isinstance(changed, TextGenerateOptions):
                    options = changed
                answer: LLMResponse | None = None
                async with asyncio.timeout(_remaining(deadline)):
                    if streaming:
                        async for event in provider.stream_generate(options):
                            if isinstance(event, ResponseCompleteEvent):
                                answer = event.response
                            else:
                                yield event
                    else:
                        answer = await provider.generate(options)
                if answer is None:
                    raise RuntimeError("provider stream ended without response.complete")
                response = answer
                await _call(self.hooks.after_model, response)
                run_usage = run_usage + response.usage
                self.cost += capabilities.cost(response.usage.input_tokens, response.usage.output_tokens)
                self.messages.extend(response.output)
                calls = response.tool_calls
                if not calls:
                    yield IterationCompleteEvent(iteration=iteration, tool_calls=0, usage=response.usage)
                    break
                pending = list(calls)
                results: list[ToolResult] = []
                async for event in self._run_tools(calls, iteration, deadline):
                    if isinstance(event, ToolExecutionDoneEvent):
                        results.append(event.result)
                    yield event
                pending = []
                self._append_results(calls, results)
                yield IterationCompleteEvent(iteration=iteration, tool_calls=len(calls), usage=response.usage)
            else:
                stop_reason = "max_iterations"
        except TimeoutError:
            if deadline is None or time.monotonic() < deadline:
                raise  # not ours: a provider or tool timeout that escaped
            if response is None:
                raise ProviderTimeoutError(
                    f"agent timed out after {self.timeout:g}s before the model answered",
                    provider=getattr(provider, "name", None), model=self.model,
                ) from None
            if pending:  # keep the conversation valid for a follow-up run
                self._append_results(
                    pending, [ToolResult.failure(c, "agent timed out before this tool finished", code="timeout") for c in pending]
                )
            stop_reason = "timeout"
        if stop_reason is not None and response is not None:
            response = response.model_copy(update={"status": "incomplete", "stop_reason": stop_reason})
        assert response is not None
        self.usage = self.usage + run_usage
        yield ResponseCompleteEvent(response=response.model_copy(update={"usage": run_usage}))

    def _append_results(self, calls: list[ToolCall], results: list[ToolResult]) -> None:
        order = {c.id: i for i, c in enumerate(calls)}
        results = sorted(results, key=lambda r: order.get(r.tool_call_id, 0))
        self.messages.append(
            Message(
                role=MessageRole.USER,
                content=[
                    ToolResultContent(tool_use_id=r.tool_call_id, content=r.output, error=r.error)
                    for r in results
                ],
            )
        )

    async def _run_tools(
        self, calls: list[ToolCall], iteration: int, deadline: float | None
    ) -> AsyncIterator[StreamEvent]:
        context = ToolExecutionContext(
            tools=self.tools, user_id=self.user_id, roles=self.roles, agent_id=self.id, iteration=iteration
        )
        if len(calls) == 1:  # the common case: no tasks, no queue
            call = calls[0]
            yield ToolExecutionStartEvent(
                tool_call_id=call.id, tool_name=call.function.name, arguments=call.function.arguments
            )
            started = time.perf_counter()
            async with asyncio.timeout(_remaining(deadline)):
                result = await self._execute(call, context)
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
                result = await self._execute(call, context)
                await queue.put(
                    ToolExecutionDoneEvent(
                        tool_call_id=call.id,
                        tool_name=call.function.name,
                        result=result,
                        duration_ms=(time.perf_counter() - started) * 1000,
                    )
                )

        async with asyncio.timeout(_remaining(deadline)), asyncio.TaskGroup() as group:
            for call in calls:
                group.create_task(one(call))
            done = 0
            while done < len(calls):
                event = await queue.get()
                if isinstance(event, ToolExecutionDoneEvent):
                    done += 1
                yield event

    async def _execute(self, call: ToolCall, context: ToolExecutionContext) -> ToolResult:
        try:
            decision = await _call(self.hooks.before_tool, call, context)
            if decision is False:
                return ToolResult.failure(call, "tool call denied by hook", code="denied_by_hook")
            if isinstance(decision, ToolResult):
                return decision
            if isinstance(decision, ToolCall):
                call = decision.model_copy(update={"id": call.id})
            try:
                async with asyncio.timeout(self.tool_timeout):
                    result = await self.executor.execute_tool(call, context)
            except TimeoutError:
                result = ToolResult.failure(
                    call,
                    f"tool timed out after {self.tool_timeout:g}s (agents.tool_timeout)",
                    code="timeout",
                )
            replaced = await _call(self.hooks.after_tool, call, result)
            return replaced if isinstance(replaced, ToolResult) else result
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # an executor or hook bug still becomes a result the model sees
            return ToolResult.failure(call, f"{type(exc).__name__}: {exc}", code="executor_error")


def _remaining(deadline: float | None) -> float | None:
    if deadline is None:
        return None
    return max(0.0, deadline - time.monotonic())
