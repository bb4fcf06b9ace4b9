"""``client.agents.create(...)`` from configuration, on both HTTP transports, against a
vendor-shaped server whose model misbehaves mid-conversation: the run's error is typed and
free of the key, the conversation stays one the vendor accepts, and the agent goes on.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from oneringai import OneRingAI, tool
from oneringai.domain.errors import ProviderAuthError, ProviderError
from tests.faults.agent_vendors import ScriptedVendor, answered, check_request, turn
from tests.faults.providers_fixtures import KINDS, SECRET, TRANSPORTS, VENDORS


@tool
def lookup(key: str) -> str:
    """Looks a key up."""
    return f"value of {key}"


def client_for(kind: str, url: str, transport: str) -> Any:
    provider = {"kind": kind, "api_key": SECRET, "max_retries": 0, "timeout": 10,
                "base_url": f"{url}/v1" if kind == "openai" else url}
    overrides = {"http": {"transport": transport}, "text": {"default": "p", "providers": {"p": provider}}}
    return OneRingAI.from_config(None, env={}, overrides=overrides)


@pytest.mark.parametrize("streaming", [False, True], ids=["run", "stream"])
@pytest.mark.parametrize("transport", TRANSPORTS)
@pytest.mark.parametrize("kind", KINDS)
async def test_an_error_echoing_the_key_after_tool_calls_leaves_a_usable_agent(kind, transport, streaming):
    """Request 1: three tool calls (one unknown, one with broken arguments); request 2: a 401
    whose body quotes the key; request 3 on: answers."""
    calls = (("a", "lookup", '{"key": "k"}'), ("b", "nope", "{}"), ("c", "lookup", '{"key": '))
    failed: list[int] = []

    def script(number: int, body: dict[str, Any]) -> Any:
        stream = bool(body.get("stream"))
        if number == 0:
            return turn(kind, stream=stream, calls=calls, text="checking")
        if number == 1:
            failed.append(number)
            return ("error", VENDORS[kind].error_body(f"Incorrect API key provided: {SECRET}", "invalid_api_key"))
        return turn(kind, stream=stream, text="final answer")

    vendor = ScriptedVendor(kind, script)
    await vendor.server.start()
    try:
        async with client_for(kind, vendor.url, transport) as client:
            agent = await client.agents.create(provider="p", model="m", tools=[lookup])

            async def go(prompt: str) -> Any:
                if not streaming:
                    return await agent.run(prompt)
                events = [event async for event in agent.stream(prompt)]
                return events[-1].response

            with pytest.raises(ProviderError) as raised:
                await go("look it up")
            assert isinstance(raised.value, ProviderAuthError), repr(raised.value)
            text = repr(raised.value) + str(raised.value) + repr(agent.messages)
            assert SECRET not in text and SECRET[:12] not in text
            results = [p for m in agent.messages for p in m.content if p.type == "tool_result"]
            ids = [r.tool_use_id for r in results]
            assert ids == ["a", "b", "c"] if kind != "ollama" else len(set(ids)) == 3  # Ollama sends no ids
            assert (await go("try again")).output_text == "final answer"
            assert answered(kind, vendor.bodies[1])
    finally:
        await vendor.server.stop()
    assert failed == [1] and len(vendor.bodies) == 3
    for body in vendor.bodies:
        check_request(kind, body)
        assert SECRET not in json.dumps(body)
