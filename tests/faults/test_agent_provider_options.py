"""An agent's ``provider_options`` (2026-11-30): vendor knobs sent with every model request of
its runs. Before, ``Agent`` and ``client.agents.create`` had no such argument (a ``TypeError``):
Anthropic extended thinking, OpenAI's ``seed`` or ``reasoning_effort`` needed a ``before_model``
hook. Against loopback vendor-shaped servers, on both HTTP transports, ``run`` and ``stream``:
the options reach every iteration's request; a hook still sees and overrides them; unusable
options are an ``AgentLimitError`` when the agent is built, naming where, never quoting a value.
"""

from __future__ import annotations

import json
import math
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from oneringai import OneRingAIError, TextGenerateOptions
from oneringai.application.agents import Agent, AgentHooks
from oneringai.application.agents.support import AgentLimitError
from oneringai.application.tools import DirectToolExecutor
from oneringai.domain.errors import ConfigError
from oneringai.testing import ScriptedTextProvider
from tests.faults.agent_vendors import ScriptedVendor, answered, turn
from tests.faults.providers_fixtures import TRANSPORTS, VENDORS
from tests.faults.test_agents_client_e2e import client_for, lookup
from tests.faults.test_thinking_blocks_agent import CASES, THINKING, drive, get_weather, serving

SEED = {"seed": 42, "reasoning_effort": "low"}


@pytest.mark.parametrize("streaming", [False, True], ids=["run", "stream"])
@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_anthropic_thinking_from_the_agent_reaches_every_request(transport, streaming):
    """The server refuses (400, as the API does) a request without ``thinking`` or an
    assistant ``tool_use`` turn without its signed blocks: both requests of the loop pass."""
    async for vendor in serving(CASES["signed"]):
        provider = VENDORS["anthropic"].provider(vendor.server.url, transport=transport)
        agent = Agent(provider=provider, model="claude-sonnet-4-5", executor=DirectToolExecutor(),
                      tools=[get_weather], max_output_tokens=4096, provider_options={"thinking": THINKING})
        try:
            response = await drive(agent, "What is the weather in Paris?", streaming)
        finally:
            await provider.aclose()  # type: ignore[attr-defined]
        assert vendor.refusals == [] and len(vendor.bodies) == 2
        assert [body["thinking"] for body in vendor.bodies] == [THINKING, THINKING]
        assert response.output_text == "It is sunny in Paris."


def _two_turns(kind: str) -> Any:
    def script(number: int, body: dict[str, Any]) -> Any:
        stream = bool(body.get("stream"))
        if answered(kind, body):
            return turn(kind, stream=stream, text="done")
        return turn(kind, stream=stream, calls=((f"c{number}", "lookup", '{"key": "k"}'),))

    return script


@pytest.mark.parametrize("streaming", [False, True], ids=["run", "stream"])
@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_openai_seed_from_create_reaches_every_request_body(transport, streaming):
    vendor = ScriptedVendor("openai", _two_turns("openai"))
    await vendor.server.start()
    try:
        async with client_for("openai", vendor.url, transport) as client:
            agent = await client.agents.create(provider="p", model="m", tools=[lookup], provider_options=SEED)
            assert (await drive(agent, "look it up", streaming)).output_text == "done"
            # and again, in the same conversation: nothing of the options was consumed
            assert (await drive(agent, "once more", streaming)).output_text == "done"
    finally:
        await vendor.server.stop()
    assert len(vendor.bodies) == 4
    for body in vendor.bodies:
        assert body["seed"] == 42 and body["reasoning_effort"] == "low"


async def test_the_guide_spelling_of_the_options_object_is_accepted():
    """``create({"providerOptions": ...})``: the key is camelCase, the vendor's keys inside stay as given."""
    vendor = ScriptedVendor("openai", _two_turns("openai"))
    await vendor.server.start()
    try:
        async with client_for("openai", vendor.url, "aiohttp") as client:
            agent = client.agents.create({"provider": "p", "model": "m", "providerOptions": {"logit_bias": {"50256": -100}}})
            assert (await agent.run("hi")).output_text == "done"
    finally:
        await vendor.server.stop()
    assert vendor.bodies[0]["logit_bias"] == {"50256": -100}


async def test_a_hook_sees_the_options_and_may_override_them_without_changing_the_agent():
    seen: list[dict[str, Any]] = []

    def before_model(options: TextGenerateOptions) -> TextGenerateOptions:
        seen.append(json.loads(json.dumps(options.provider_options)))
        options.provider_options["nested"]["n"] += 1  # in place: must not leak into the next request
        return options.model_copy(update={"provider_options": {**options.provider_options, "seed": 7}})

    vendor = ScriptedVendor("openai", _two_turns("openai"))
    await vendor.server.start()
    try:
        async with client_for("openai", vendor.url, "httpx") as client:
            agent = client.agents.create(provider="p", model="m", tools=[lookup], hooks=AgentHooks(before_model=before_model),
                                         provider_options={"seed": 42, "nested": {"n": 0}})
            assert (await agent.run("look it up")).output_text == "done"
    finally:
        await vendor.server.stop()
    assert seen == [{"seed": 42, "nested": {"n": 0}}] * 2
    assert [(body["seed"], body["nested"]) for body in vendor.bodies] == [(7, {"n": 1})] * 2
    assert agent.provider_options == {"seed": 42, "nested": {"n": 0}}


def test_the_agent_keeps_its_own_copy():
    given_options: dict[str, Any] = {"thinking": {"type": "enabled", "budget_tokens": 2048}}
    agent = Agent(provider=ScriptedTextProvider(["x"]), model="m", executor=DirectToolExecutor(),
                  provider_options=given_options)
    given_options["thinking"]["budget_tokens"] = 1
    agent.provider_options["thinking"]["budget_tokens"] = 2  # a read is a copy
    assert agent._options().provider_options == {"thinking": {"type": "enabled", "budget_tokens": 2048}}
    agent.provider_options = {"seed": 1}  # assigned later: checked and used
    assert agent._options().provider_options == {"seed": 1}
    agent.provider_options = None
    assert agent._options().provider_options == {}


def _deep(levels: int) -> dict[str, Any]:
    value: dict[str, Any] = {}
    for _ in range(levels):
        value = {"a": value}
    return value


def _cycle() -> dict[str, Any]:
    value: dict[str, Any] = {"list": []}
    value["list"].append(value)
    return value


@pytest.mark.parametrize(
    ("options", "where"),
    [
        ("seed=42", "must be a mapping"), (["seed", 42], "must be a mapping"), (42, "must be a mapping"),
        ({1: "x"}, "key that is not a string"), ({"a": {("t",): 1}}, r"provider_options\['a'\] has a key"),
        ({"a": {1, 2}}, r"provider_options\['a'\] is a set"), ({"a": b"x"}, "is a bytes"),
        ({"a": object()}, "is a object"), ({"a": [1, math.nan]}, r"provider_options\['a'\]\[1\] is not a finite"),
        ({"a": math.inf}, "not a finite"), ({"a": 10**5000}, "beyond"), ({"a": _deep(100)}, "deeper than 64"),
        (_cycle(), "deeper than 64"), ({"a": "x" * 1_000_001}, "longer than 1000000"),
        ({f"k{i}": "x" * 1000 for i in range(1001)}, "longer than 1000000"),
        ({"a": "\x00" * 200_000}, "longer than 1000000"),  # six characters each as JSON
        ({"a": [None] * 2_000_000}, "longer than 1000000"), ({"a": [[1, 2]] * 400_000}, "longer than 1000000"),
    ],
    ids=lambda value: value if isinstance(value, str) and len(value) < 40 else type(value).__name__,
)
def test_unusable_options_are_a_typed_error_when_the_agent_is_built(options, where):
    with pytest.raises(AgentLimitError, match=where) as raised:
        Agent(provider=ScriptedTextProvider(["x"]), model="m", executor=DirectToolExecutor(), provider_options=options)
    assert isinstance(raised.value, ConfigError) and isinstance(raised.value, ValueError)
    assert "provider_options" in str(raised.value) and len(str(raised.value)) < 300  # no value quoted


async def test_create_checks_them_too_and_a_later_assignment_as_well():
    async with client_for("openai", "http://127.0.0.1:9", "aiohttp") as client:
        _checks(client)


def _checks(client: Any) -> None:
    with pytest.raises(AgentLimitError, match="provider_options"):
        client.agents.create(provider="p", model="m", provider_options={"seed": math.nan})
    with pytest.raises(AgentLimitError, match="provider_options"):
        client.agents.create({"provider": "p", "model": "m", "providerOptions": "seed"})
    agent = client.agents.create(provider="p", model="m", provider_options={"seed": 1})
    with pytest.raises(AgentLimitError, match="provider_options"):
        agent.provider_options = {"seed": {1, 2}}  # type: ignore[dict-item]
    assert agent.provider_options == {"seed": 1}


_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=30,
)
_anything = st.recursive(
    _json | st.binary(max_size=4) | st.sets(st.integers(), max_size=2) | st.tuples(st.integers()),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4) | st.integers(), inner, max_size=3),
    max_leaves=20,
)


@settings(max_examples=200, suppress_health_check=[HealthCheck.too_slow])
@given(st.dictionaries(st.text(max_size=8), _anything, max_size=4) | _anything)
def test_any_value_is_accepted_as_its_json_or_refused_with_a_typed_error(value):
    try:
        agent = Agent(provider=ScriptedTextProvider(["x"]), model="m", executor=DirectToolExecutor(),
                      provider_options=value)
    except AgentLimitError as error:
        assert isinstance(error, OneRingAIError)
        return
    sent = agent._options().provider_options
    assert sent == ({} if value is None else json.loads(json.dumps(value, allow_nan=False)))


def test_an_agents_unusable_options_are_the_error_a_request_gives_too():
    """One mistake, one family: ``except RequestOptionsError`` (a single request's) and
    ``except AgentLimitError`` (the agent's) both catch it."""
    from oneringai import RequestOptionsError, TextGenerateOptions

    with pytest.raises(RequestOptionsError) as on_request:
        TextGenerateOptions(model="m", input="hi", provider_options={"x": {1, 2}})
    with pytest.raises(RequestOptionsError) as on_agent:
        Agent(provider=ScriptedTextProvider(["ok"]), model="m", executor=DirectToolExecutor(),
              provider_options={"x": {1, 2}})
    assert isinstance(on_agent.value, AgentLimitError) and isinstance(on_agent.value, ConfigError)
    assert "provider_options" in str(on_request.value) and "provider_options" in str(on_agent.value)
