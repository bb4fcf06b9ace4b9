import asyncio
import json

import pytest

from oneringai import OneRingAI
from oneringai.application.agents.agent import AgentHooks
from oneringai.application.tools import tool
from oneringai.testing import ScriptedTextProvider, tool_call


@tool
def get_weather(city: str) -> dict:
    """Weather for a city."""
    return {"city": city, "sky": "sunny"}


@tool
async def slow(seconds: float) -> str:
    await asyncio.sleep(seconds)
    return "done"


@tool
def explode() -> None:
    raise ValueError("bad tool")


async def make(script, **settings):
    from oneringai.config import Settings

    fake = ScriptedTextProvider(script)
    client = OneRingAI(providers={"fake": fake}, settings=Settings.model_validate({
        "text": {"default": None, "providers": {}}, "oauth": {"storage": {"kind": "memory"}}, **settings,
    }))
    return client, fake


async def test_tool_loop_with_parallel_calls():
    client, fake = await make([[tool_call("get_weather", city="Paris"), tool_call("get_weather", city="Oslo")], "Both sunny."])
    agent = await client.agents.create(provider="fake", model="m", tools=[get_weather], instructions="be nice")
    response = await agent.run("weather?")
    assert response.output_text == "Both sunny."
    second = fake.requests[1].input
    results = [p for item in second for p in item.content if p.type == "tool_result"]
    assert [json.loads(r.content)["city"] for r in results] == ["Paris", "Oslo"]
    assert response.usage.total_tokens == 15 + 12  # tool turn (15) + text turn (10 in, 2 out), summed
    await client.destroy()


async def test_stream_events_and_conversation_kept():
    client, fake = await make([tool_call("get_weather", city="Paris"), "Sunny.", "You asked about Paris."])
    agent = await client.agents.create(provider="fake", model="m", tools=[get_weather])
    types = [e.type async for e in agent.stream("weather?")]
    assert "response.tool_execution.start" in types and "response.tool_execution.done" in types
    assert types.count("response.iteration.complete") == 2 and types[-1] == "response.complete"
    follow = await agent.run("what did I ask?")
    assert follow.output_text == "You asked about Paris."
    assert len(fake.requests[2].input) == 5  # user, assistant call, tool result, assistant, user
    await client.destroy()


async def test_stream_of_a_model_that_does_not_stream_uses_generate():
    # The guide's provider: supportsStreaming false and a streamGenerate that "can throw if not
    # supported". agent.stream called it anyway and died with the provider's raw exception.
    from oneringai import ModelCapabilities

    class NoStream(ScriptedTextProvider):
        async def stream_generate(self, options):
            raise NotImplementedError("Streaming not implemented")
            yield

    fake = NoStream([tool_call("get_weather", city="Paris"), "Sunny."],
                    capabilities=ModelCapabilities(supports_streaming=False))
    async with OneRingAI(providers={"fake": fake}) as client:
        agent = client.agents.create(provider="fake", model="m", tools=[get_weather])
        events = [e async for e in agent.stream("weather?")]
    types = [e.type for e in events]
    assert types[0] == "response.created" and types[-1] == "response.complete"
    assert [t for t in types if t.startswith("response.tool_")] == [
        "response.tool_call.start", "response.tool_call_arguments.delta", "response.tool_call_arguments.done",
        "response.tool_execution.start", "response.tool_execution.done"]
    assert "".join(e.delta for e in events if e.type == "response.output_text.delta") == "Sunny."
    assert events[-1].response.output_text == "Sunny."
    assert len(fake.requests) == 2


async def test_a_real_stream_failure_of_a_model_that_does_not_stream_is_not_retried_by_generate():
    from oneringai import ModelCapabilities, ProviderAuthError

    class Refused(ScriptedTextProvider):
        async def stream_generate(self, options):
            raise ProviderAuthError("bad key", provider="fake")
            yield

    fake = Refused(["never"], capabilities=ModelCapabilities(supports_streaming=False))
    async with OneRingAI(providers={"fake": fake}) as client:
        with pytest.raises(ProviderAuthError):
            async for _ in client.agents.create(provider="fake", model="m").stream("hi"):
                pass
    assert fake.requests == []  # generate was not asked: a 401 is not "streaming not supported"


async def test_an_error_event_from_the_provider_is_raised_with_its_message():
    # StreamEvent includes response.error; a provider that reported its failure that way made
    # agent.stream say only "the provider's stream ended without response.complete".
    from oneringai import ProviderResponseError

    class Reports(ScriptedTextProvider):
        async def stream_generate(self, options):
            yield {"type": "response.created", "model": "m"}
            yield {"type": "response.error", "message": "the vendor is overloaded", "code": "overloaded"}

    async with OneRingAI(providers={"fake": Reports([])}) as client:
        agent = client.agents.create(provider="fake", model="m")
        seen = []
        with pytest.raises(ProviderResponseError, match=r"the vendor is overloaded \(overloaded\)") as info:
            async for event in agent.stream("hi"):
                seen.append(event.type)
    assert seen == ["response.created", "response.error"]
    assert info.value.provider == "scripted"
    async with OneRingAI(providers={"fake": Reports([])}) as client:  # client.text.stream: the same
        seen = []
        with pytest.raises(ProviderResponseError, match="the vendor is overloaded"):
            async for event in client.text.stream("hi", provider="fake", model="m"):
                seen.append(event.type)
    assert seen == ["response.created", "response.error"]


@pytest.mark.parametrize(
    ("call", "code"),
    [
        (tool_call("nope"), "unknown_tool"),
        (tool_call("get_weather"), "invalid_arguments"),
        (tool_call("explode"), "tool_error"),
        (tool_call("slow", seconds=30), "timeout"),
    ],
)
async def test_tool_failures_become_results_the_model_sees(call, code):
    client, _fake = await make([call, "recovered"])
    agent = await client.agents.create(provider="fake", model="m", tools=[get_weather, slow, explode], tool_timeout=0.1)
    events = [e async for e in agent.stream("go")]
    done = [e for e in events if e.type == "response.tool_execution.done"]
    assert done[0].result.metadata["code"] == code
    assert events[-1].response.output_text == "recovered"
    await client.destroy()


async def test_model_looping_forever_stops_at_max_iterations():
    client, fake = await make([tool_call("get_weather", city="X")], )
    fake._repeat_last = True
    agent = await client.agents.create(provider="fake", model="m", tools=[get_weather], max_iterations=4)
    response = await agent.run("loop")
    assert response.stop_reason == "max_iterations" and response.status == "incomplete"
    assert len(fake.requests) == 4
    await client.destroy()


async def test_agents_do_not_share_tools():
    client, _ = await make(["a", "b"])
    one = await client.agents.create(provider="fake", model="m", tools=[get_weather])
    two = await client.agents.create(provider="fake", model="m", tools=[])
    assert [t.name for t in one.tools] == ["get_weather"] and two.tools == []
    await client.destroy()


async def test_hooks_modify_skip_and_deny():
    seen = []

    def before_tool(call, context):
        seen.append(call.function.name)
        if call.function.name == "explode":
            return False
        if call.function.arguments == '{"city": "Paris"}':
            return call.model_copy(update={"function": call.function.model_copy(update={"arguments": '{"city": "Rome"}'})})
        return None

    client, _fake = await make([[tool_call("get_weather", city="Paris"), tool_call("explode")], "ok"])
    agent = await client.agents.create(provider="fake", model="m", tools=[get_weather, explode], hooks=AgentHooks(before_tool=before_tool))
    events = [e async for e in agent.stream("go")]
    done = {e.tool_name: e.result for e in events if e.type == "response.tool_execution.done"}
    assert json.loads(done["get_weather"].output)["city"] == "Rome"
    assert done["explode"].metadata["code"] == "denied_by_hook"
    await client.destroy()


async def test_total_timeout_and_cancellation():
    client, _ = await make([tool_call("slow", seconds=30), "never"])
    agent = await client.agents.create(provider="fake", model="m", tools=[slow], timeout=0.2, tool_timeout=60)
    response = await agent.run("go")
    assert response.status == "incomplete" and response.stop_reason == "timeout"
    last = agent.messages[-1].content[0]
    assert last.type == "tool_result" and "timed out" in last.content  # history stays valid
    await client.destroy()
    client, _fake = await make([tool_call("slow", seconds=30), "never"])
    agent = await client.agents.create(provider="fake", model="m", tools=[slow], tool_timeout=60)
    task = asyncio.create_task(agent.run("go"))
    await asyncio.sleep(0.1)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    await client.destroy()


async def test_agent_against_vendor_server_end_to_end(vendor_server):
    from oneringai.config import Settings

    settings = Settings.model_validate({"text": {"default": "o", "providers": {"o": {"kind": "openai", "base_url": f"{vendor_server.url}/v1", "api_key": "sk-test-123456789"}}}})
    async with OneRingAI(settings=settings) as client:
        agent = await client.agents.create(model="ok", tools=[get_weather])
        response = await agent.run("weather?")
    assert response.output_text == "Hello from the stub server."
    assert response.usage.total_tokens == 38


async def test_model_hooks_see_and_change_each_call():
    seen_models: list[str] = []
    responses: list[str] = []

    def before_model(options):
        seen_models.append(options.model)
        return options.model_copy(update={"temperature": 0.0})

    async def after_model(response):
        responses.append(response.output_text)

    client, fake = await make([tool_call("get_weather", city="Oslo"), "final"])
    agent = await client.agents.create(provider="fake", model="m", tools=[get_weather],
                                       hooks=AgentHooks(before_model=before_model, after_model=after_model))
    await agent.run("go")
    assert seen_models == ["m", "m"] and responses == ["", "final"]
    assert all(r.temperature == 0.0 for r in fake.requests)
    await client.destroy()


async def test_timeout_before_the_model_answers_is_typed():
    from oneringai import ProviderTimeoutError

    async def slow_model(options):
        await asyncio.sleep(5)
        return "late"

    client, _ = await make([slow_model])
    agent = await client.agents.create(provider="fake", model="m", timeout=0.1)
    with pytest.raises(ProviderTimeoutError, match="before the model answered"):
        await agent.run("go")
    await client.destroy()


async def test_create_is_sync_and_awaitable():
    from oneringai import Agent, ProviderNotFoundError

    client, _ = await make(["one", "two"])
    plain = client.agents.create(provider="fake", model="m")
    assert isinstance(plain, Agent) and plain.provider is None  # resolved on first run
    assert (await plain.run("x")).output_text == "one" and plain.provider is not None
    awaited = await client.agents.create(provider="fake", model="m")
    assert awaited.provider is not None and (await awaited.run("y")).output_text == "two"
    with pytest.raises(ProviderNotFoundError):
        client.agents.create(provider="nope", model="m")
    await client.destroy()


async def test_parallel_tool_calls_are_bounded():
    from oneringai.config import Settings

    running = {"now": 0, "peak": 0}

    @tool
    async def work(n: int) -> int:
        running["now"] += 1
        running["peak"] = max(running["peak"], running["now"])
        await asyncio.sleep(0.05)
        running["now"] -= 1
        return n

    calls = [tool_call("work", n=i) for i in range(7)]
    fake = ScriptedTextProvider([calls, "done"])
    settings = Settings.model_validate({"text": {"default": None, "providers": {}}, "oauth": {"storage": {"kind": "memory"}},
                                        "agents": {"max_parallel_tools": 3}})
    async with OneRingAI(providers={"fake": fake}, settings=settings) as client:
        agent = client.agents.create(provider="fake", model="m", tools=[work])
        events = [e async for e in agent.stream("go")]
    assert running["peak"] == 3
    done = [e for e in events if e.type == "response.tool_execution.done"]
    assert sorted(int(e.result.output) for e in done) == list(range(7))
    results = [p.tool_use_id for p in agent.messages[2].content]
    assert results == [c.id for c in calls]  # fed back in the model's order
