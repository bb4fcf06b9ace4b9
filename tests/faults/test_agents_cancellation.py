"""Runs that end early leave a valid conversation, and the next run is accepted.

Cancellation is tried at every await point of a run: the run task is cancelled after
0, 1, 2, … event-loop steps until a run completes on its own. After each, ``agent.messages``
and every request the provider received pass the strict validator (every tool call answered
exactly once, in order), and a second run on the same agent completes. The same for
timeouts, a stream the consumer stops reading at every event, an abandoned stream, and
concurrent use.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from typing import Any

import pytest

from oneringai import ToolExecutionContext, ToolResult, tool
from oneringai.application.agents import Agent
from oneringai.application.agents.agent import AgentBusyError
from oneringai.application.tools import DirectToolExecutor
from oneringai.domain.content import ToolResultContent
from oneringai.domain.options import TextGenerateOptions
from oneringai.testing import ScriptedTextProvider, tool_call
from tests.faults.test_agents_history import validate_history, validate_requests


@tool
async def step(n: int) -> int:
    for _ in range(n):
        await asyncio.sleep(0)
    return n


@tool
def blocking(n: int) -> int:
    threading.Event().wait(0.001 * n)
    return n


def responder(name: str, parallel: int) -> Any:
    """A stateless model: tool calls after a user prompt, a text answer after tool results."""

    async def answer(options: TextGenerateOptions) -> Any:
        await asyncio.sleep(0)
        last = options.input[-1] if isinstance(options.input, list) else None
        if last is not None and last.content and isinstance(last.content[0], ToolResultContent):
            await asyncio.sleep(0)
            return "done"
        return [tool_call(name, n=i + 1) for i in range(parallel)]

    return answer


def make_agent(name: str = "step", parallel: int = 1, **options: Any) -> tuple[Agent, ScriptedTextProvider]:
    provider = ScriptedTextProvider([responder(name, parallel)], repeat_last=True)
    agent = Agent(provider=provider, model="m", executor=DirectToolExecutor(), tools=[step, blocking], **options)
    return agent, provider


async def consume(agent: Agent, prompt: str, streaming: bool) -> str:
    if streaming:
        final = None
        async for event in agent.stream(prompt):
            if event.type == "response.complete":
                final = event.response
        assert final is not None
        return final.output_text
    return (await agent.run(prompt)).output_text


def assert_consistent(agent: Agent, provider: ScriptedTextProvider) -> None:
    validate_history(agent.messages)
    validate_requests(provider.requests)


VARIANTS = [("step", 1), ("step", 3), ("blocking", 1), ("blocking", 2)]


@pytest.mark.parametrize("streaming", [False, True], ids=["run", "stream"])
@pytest.mark.parametrize(("name", "parallel"), VARIANTS, ids=[f"{n}x{p}" for n, p in VARIANTS])
async def test_cancellation_at_every_await_point_then_a_second_run(name, parallel, streaming):
    completed = False
    cancelled_runs = 0
    for ticks in range(400):
        agent, provider = make_agent(name, parallel)
        task = asyncio.create_task(consume(agent, "go", streaming))
        for _ in range(ticks):
            await asyncio.sleep(0)
        if ticks > 200:  # thread-run tools finish in time, not in loop steps: a loaded machine needs more
            await asyncio.sleep(0.001 * (ticks - 200))
        if task.done():
            assert task.result() == "done"
            completed = True
        else:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
            cancelled_runs += 1
        assert_consistent(agent, provider)
        assert await asyncio.wait_for(consume(agent, "again", streaming), 10) == "done"
        assert_consistent(agent, provider)
        if completed:
            break
    assert completed and cancelled_runs >= 5, cancelled_runs


async def test_cancelled_calls_are_answered_as_cancelled_and_finished_ones_keep_their_result():
    release = asyncio.Event()

    @tool
    async def fast() -> str:
        return "fast result"

    @tool
    async def hang() -> str:
        await release.wait()
        return "never"

    provider = ScriptedTextProvider([[tool_call("fast"), tool_call("hang")], "done"])
    agent = Agent(provider=provider, model="m", executor=DirectToolExecutor(), tools=[fast, hang])
    task = asyncio.create_task(agent.run("go"))
    for _ in range(100):
        await asyncio.sleep(0)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    validate_history(agent.messages)
    results = agent.messages[-1].content
    assert results[0].content == "fast result" and results[0].error is None
    assert results[1].error is not None and "cancelled" in results[1].error


@pytest.mark.parametrize("streaming", [False, True], ids=["run", "stream"])
async def test_a_run_timing_out_during_tools_or_the_model_stays_valid(streaming):
    release = asyncio.Event()

    @tool
    async def hang() -> str:
        await release.wait()
        return "late"

    async def slow_model(options: TextGenerateOptions) -> str:
        await asyncio.sleep(30)
        return "late"

    provider = ScriptedTextProvider([[tool_call("hang"), tool_call("hang")], slow_model, "done"])
    agent = Agent(provider=provider, model="m", executor=DirectToolExecutor(), tools=[hang], timeout=0.2)
    if streaming:
        events = [e async for e in agent.stream("go")]
        response = events[-1].response
    else:
        response = await agent.run("go")
    assert response.stop_reason == "timeout" and response.status == "incomplete"
    validate_history(agent.messages)
    assert all("timed out" in p.error for p in agent.messages[-1].content)
    from oneringai import ProviderTimeoutError

    with pytest.raises(ProviderTimeoutError):  # the model itself is too slow: typed, history valid
        await agent.run("second")
    validate_history(agent.messages)
    agent.timeout = None
    assert (await agent.run("third")).output_text == "done"
    validate_requests(provider.requests)


async def test_the_deadline_never_fires_while_the_consumer_holds_the_stream():
    agent, provider = make_agent("step", 2, timeout=0.3)
    async for event in agent.stream("go"):
        if event.type == "response.tool_execution.start":
            await asyncio.sleep(0.5)  # the consumer's own slow await: must not be cancelled by us
    validate_history(agent.messages)
    assert_consistent(agent, provider)


async def test_closing_the_stream_at_every_event_settles_the_history_at_once():
    agent, provider = make_agent("step", 3)
    count = len([e async for e in agent.stream("probe")])
    for stop in range(count):
        agent.reset()
        async with contextlib.aclosing(agent.stream("go")) as events:
            index = 0
            async for _event in events:
                if index == stop:
                    break
                index += 1
        validate_history(agent.messages)  # at once, without another run
        assert await consume(agent, "again", streaming=True) == "done"
    assert_consistent(agent, provider)


async def test_an_abandoned_stream_is_superseded_by_the_next_run():
    agent, provider = make_agent("step", 2)
    stream = agent.stream("go")
    async for event in stream:
        if event.type == "response.tool_execution.start":
            break  # abandoned without aclose, still referenced
    assert (await agent.run("again")).output_text == "done"
    validate_history(agent.messages)
    with pytest.raises(AgentBusyError, match="superseded"):
        await anext(stream)
    await stream.aclose()
    validate_history(agent.messages)
    assert_consistent(agent, provider)


async def test_a_second_concurrent_run_is_refused_and_the_first_finishes():
    release = asyncio.Event()

    @tool
    async def wait() -> str:
        await release.wait()
        return "ok"

    provider = ScriptedTextProvider([tool_call("wait"), "done"])
    agent = Agent(provider=provider, model="m", executor=DirectToolExecutor(), tools=[wait])
    first = asyncio.create_task(agent.run("go"))
    for _ in range(50):
        await asyncio.sleep(0)
    with pytest.raises(AgentBusyError, match="already running"):
        await agent.run("meanwhile")
    release.set()
    assert (await first).output_text == "done"
    validate_history(agent.messages)
    validate_requests(provider.requests)


async def test_a_tool_raising_cancelled_error_on_its_own_is_an_error_result():
    @tool
    async def rogue() -> None:
        raise asyncio.CancelledError

    @tool
    def rogue_sync() -> None:
        raise asyncio.CancelledError

    provider = ScriptedTextProvider([tool_call("rogue"), [tool_call("rogue"), tool_call("rogue_sync")], "recovered"])
    agent = Agent(provider=provider, model="m", executor=DirectToolExecutor(), tools=[rogue, rogue_sync])
    response = await agent.run("go")
    assert response.output_text == "recovered"
    fed_back = [p for m in agent.messages for p in m.content if p.type == "tool_result"]
    assert len(fed_back) == 3 and all("CancelledError" in p.error for p in fed_back)
    validate_history(agent.messages)


async def test_a_tool_that_swallows_cancellation_does_not_keep_the_run_alive():
    entered = asyncio.Event()

    @tool
    async def stubborn() -> str:
        entered.set()
        try:
            await asyncio.sleep(30)
        except asyncio.CancelledError:
            return "swallowed"
        return "slept"

    provider = ScriptedTextProvider([tool_call("stubborn"), "should not be asked"])
    agent = Agent(provider=provider, model="m", executor=DirectToolExecutor(), tools=[stubborn])
    task = asyncio.create_task(agent.run("go"))
    await entered.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await asyncio.wait_for(task, 5)
    assert len(provider.requests) == 1
    validate_history(agent.messages)


async def test_cancelling_a_tool_call_through_the_executor_directly_propagates():
    started = asyncio.Event()

    @tool
    async def slow() -> None:
        started.set()
        await asyncio.sleep(30)

    task = asyncio.create_task(
        DirectToolExecutor().execute_tool(tool_call("slow"), ToolExecutionContext(tools=[slow]))
    )
    await started.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert isinstance(await DirectToolExecutor().execute_tool(tool_call("slow"), ToolExecutionContext(tools=[])),
                      ToolResult)


async def test_reset_supersedes_a_paused_stream_and_refuses_a_busy_run():
    release = asyncio.Event()

    @tool
    async def wait() -> str:
        await release.wait()
        return "ok"

    provider = ScriptedTextProvider([tool_call("wait"), "done", "never read", "fresh"])
    agent = Agent(provider=provider, model="m", executor=DirectToolExecutor(), tools=[wait])
    busy = asyncio.create_task(agent.run("go"))
    for _ in range(50):
        await asyncio.sleep(0)
    with pytest.raises(AgentBusyError, match="running"):
        agent.reset()
    release.set()
    await busy
    stream = agent.stream("paused")
    await anext(stream)  # paused at its first event
    agent.reset()
    assert agent.messages == []
    with pytest.raises(AgentBusyError, match="superseded"):
        await anext(stream)
    assert agent.messages == []  # the superseded run wrote nothing into the new conversation
    assert (await agent.run("new")).output_text == "fresh"
    validate_history(agent.messages)
