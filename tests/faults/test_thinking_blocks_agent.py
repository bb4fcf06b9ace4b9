"""Anthropic extended thinking across an agent's tool loop, against a loopback server that
checks what the real API checks: while ``thinking`` is enabled, the assistant turn holding
``tool_use`` must come back starting with the ``thinking`` (with its ``signature``) and
``redacted_thinking`` (``data``) blocks of the answer, unchanged — otherwise a 400
(``messages.1.content.0.type: Expected `thinking` or `redacted_thinking`, but found `text```).

Both the ``generate`` and the stream path, both HTTP transports; a history saved as JSON and
restored keeps them too. This file imports no new name, so it runs (and fails) on the code
before thinking parts existed.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import pytest

from oneringai import TextGenerateOptions, tool
from oneringai.application.agents import Agent, AgentHooks
from oneringai.application.tools import DirectToolExecutor
from oneringai.domain.errors import ProviderError
from tests.faults.providers_fixtures import TRANSPORTS, VENDORS, FaultServer, head, read_request

THOUGHT = "The user asks for the weather in Paris. I should call get_weather with city Paris."
SIGNATURE = "EqQBCgIYAhIM1gbcDa9GJwZA2b3hGgxBdjrkzLoky3dl1pkiMOYds+/=="
REDACTED = "EmwKAhgBEgy3va3pzix/LafPsn4aDFIT2Xlxh0L5L8rLVyIwxtE3rAFBa"
THINKING = {"type": "enabled", "budget_tokens": 2048}

#: The reasoning blocks of the first answer, per case, as the API sends them.
CASES: dict[str, list[dict[str, Any]]] = {
    "signed": [{"type": "thinking", "thinking": THOUGHT, "signature": SIGNATURE}],
    "redacted": [{"type": "redacted_thinking", "data": REDACTED}],
    "both": [
        {"type": "thinking", "thinking": THOUGHT, "signature": SIGNATURE},
        {"type": "redacted_thinking", "data": REDACTED},
    ],
}


@tool
def get_weather(city: str) -> str:
    """Weather for a city."""
    return f"sunny in {city}"


def _usage() -> dict[str, int]:
    return {"input_tokens": 30, "output_tokens": 20}


def answer(blocks: list[dict[str, Any]], reason: str, *, stream: bool) -> tuple[str, Any]:
    """An Anthropic answer holding ``blocks``: a body, or the stream the API sends for it
    (thinking text and signature as deltas, redacted data whole in its start event)."""
    if not stream:
        return "body", {"id": "msg_1", "type": "message", "role": "assistant", "model": "claude", "content": blocks,
                        "stop_reason": reason, "stop_sequence": None, "usage": _usage()}
    events: list[dict[str, Any]] = [{"type": "message_start", "message": {
        "id": "msg_1", "type": "message", "role": "assistant", "model": "claude", "content": [],
        "stop_reason": None, "stop_sequence": None, "usage": {"input_tokens": 30, "output_tokens": 1}}}]
    for index, block in enumerate(blocks):

        def delta(value: dict[str, Any], index: int = index) -> dict[str, Any]:
            return {"type": "content_block_delta", "index": index, "delta": value}

        kind = block["type"]
        if kind == "thinking":
            half = len(block["thinking"]) // 2
            events += [{"type": "content_block_start", "index": index,
                        "content_block": {"type": "thinking", "thinking": "", "signature": ""}},
                       delta({"type": "thinking_delta", "thinking": block["thinking"][:half]}),
                       delta({"type": "thinking_delta", "thinking": block["thinking"][half:]}),
                       delta({"type": "signature_delta", "signature": block["signature"]})]
        elif kind == "redacted_thinking":
            events.append({"type": "content_block_start", "index": index, "content_block": block})
        elif kind == "text":
            events += [{"type": "content_block_start", "index": index, "content_block": {"type": "text", "text": ""}},
                       delta({"type": "text_delta", "text": block["text"]})]
        else:
            events += [{"type": "content_block_start", "index": index,
                        "content_block": {**block, "input": {}}},
                       delta({"type": "input_json_delta", "partial_json": json.dumps(block["input"])})]
        events.append({"type": "content_block_stop", "index": index})
    events += [{"type": "message_delta", "delta": {"stop_reason": reason, "stop_sequence": None},
                "usage": {"output_tokens": 20}}, {"type": "message_stop"}]
    return "events", events


def refusal(body: dict[str, Any]) -> str | None:
    """What the API says of ``body`` with thinking enabled: every assistant turn holding
    ``tool_use`` must start with its reasoning blocks as they were answered (the signature checks
    the text), before any other block. None when it would be accepted."""
    if body.get("thinking") != THINKING:
        return "thinking is not enabled on this request"
    for number, message in enumerate(body["messages"]):
        content = message["content"]
        if message["role"] != "assistant" or not isinstance(content, list):
            continue
        if not any(block.get("type") == "tool_use" for block in content):
            continue
        if content[0].get("type") not in ("thinking", "redacted_thinking"):
            return (f"messages.{number}.content.0.type: Expected `thinking` or `redacted_thinking`, but found "
                    f"`{content[0].get('type')}`. When `thinking` is enabled, a final `assistant` message must "
                    "start with a thinking block")
        leading = [block for block in content if block.get("type") in ("thinking", "redacted_thinking")]
        if content[: len(leading)] != leading:
            return f"messages.{number}.content: thinking blocks must precede other blocks"
        for block in leading:
            if block not in [b for case in CASES.values() for b in case]:
                return f"messages.{number}.content: Invalid `signature` in `thinking` block"
    return None


@dataclass
class CheckingAnthropic:
    """Answers the first request of a conversation with ``reasoning`` + text + a tool call, a
    request with tool results with a final text; refuses (400) a request the API would refuse."""

    reasoning: list[dict[str, Any]]
    bodies: list[dict[str, Any]] = field(default_factory=list)
    refusals: list[str] = field(default_factory=list)
    server: FaultServer = field(default_factory=FaultServer)

    def __post_init__(self) -> None:
        self.server.script = self._serve

    def _turn(self, body: dict[str, Any]) -> tuple[str, Any]:
        stream = bool(body.get("stream"))
        last = body["messages"][-1]["content"]
        if isinstance(last, list) and any(block.get("type") == "tool_result" for block in last):
            return answer([{"type": "text", "text": "It is sunny in Paris."}], "end_turn", stream=stream)
        blocks = [*self.reasoning, {"type": "text", "text": "Let me check."},
                  {"type": "tool_use", "id": "toolu_0", "name": "get_weather",
                   "input": {"city": "Paris"}}]
        return answer(blocks, "tool_use", stream=stream)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while (request := await read_request(reader)) is not None:
            body = json.loads(request.body)
            self.bodies.append(body)
            problem = refusal(body)
            if problem is not None:
                self.refusals.append(problem)
                data = json.dumps({"type": "error", "error": {"type": "invalid_request_error",
                                                              "message": problem}}).encode()
                writer.write(head(400, "application/json", len(data)) + data)
                await writer.drain()
                continue
            what, payload = self._turn(body)
            if what == "body":
                data = json.dumps(payload).encode()
                writer.write(head(200, "application/json", len(data)) + data)
                await writer.drain()
                continue
            writer.write(head(200, "text/event-stream", None, {"connection": "close"}))
            writer.write(VENDORS["anthropic"].stream_body(payload))
            await writer.drain()
            return


def thinking_on(options: TextGenerateOptions) -> TextGenerateOptions:
    """Thinking through a ``before_model`` hook (as before ``provider_options`` existed; still supported)."""
    return options.model_copy(update={"provider_options": {**options.provider_options, "thinking": THINKING}})


async def drive(agent: Agent, prompt: Any, streaming: bool) -> Any:
    if not streaming:
        return await agent.run(prompt)
    final, kinds = None, []
    async for event in agent.stream(prompt):
        kinds.append(event.type)
        if event.type == "response.complete":
            final = event.response
    assert not any("thinking" in kind for kind in kinds), kinds  # no event type was added
    return final


async def serving(reasoning: list[dict[str, Any]]) -> AsyncIterator[CheckingAnthropic]:
    vendor = CheckingAnthropic(reasoning)
    await vendor.server.start()
    try:
        yield vendor
    finally:
        await vendor.server.stop()


def agent_on(vendor: CheckingAnthropic, transport: str) -> Agent:
    provider = VENDORS["anthropic"].provider(vendor.server.url, transport=transport)
    return Agent(provider=provider, model="claude-sonnet-4-5", executor=DirectToolExecutor(), tools=[get_weather],
                 hooks=AgentHooks(before_model=thinking_on), max_output_tokens=4096)


@pytest.mark.parametrize("case", sorted(CASES))
@pytest.mark.parametrize("streaming", [False, True], ids=["run", "stream"])
@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_a_tool_loop_with_extended_thinking_sends_the_signed_blocks_back(case, streaming, transport):
    async for vendor in serving(CASES[case]):
        agent = agent_on(vendor, transport)
        try:
            try:
                response = await drive(agent, "What is the weather in Paris?", streaming)
            except ProviderError as error:
                raise AssertionError(f"the API would refuse the second request: {vendor.refusals}") from error
        finally:
            await agent.provider.aclose()  # type: ignore[union-attr]
        assert vendor.refusals == [] and len(vendor.bodies) == 2
        assert response.output_text == "It is sunny in Paris."
        second = vendor.bodies[1]["messages"]
        assert [m["role"] for m in second] == ["user", "assistant", "user"]
        # the assistant turn as answered: reasoning first and unchanged, then text and the call
        assert second[1]["content"] == [*CASES[case], {"type": "text", "text": "Let me check."},
                                        {"type": "tool_use", "id": "toolu_0", "name": "get_weather",
                                         "input": {"city": "Paris"}}]
        assert second[2]["content"][0]["type"] == "tool_result"
        # thinking is kept in the history, never in the text of an answer
        first_answer = agent.messages[1]
        assert THOUGHT not in first_answer.text and first_answer.text == "Let me check."
        assert [part.type for part in first_answer.content][: len(CASES[case])] == [b["type"] for b in CASES[case]]


@pytest.mark.parametrize("streaming", [False, True], ids=["run", "stream"])
async def test_a_history_saved_as_json_and_restored_keeps_the_thinking(streaming):
    async for vendor in serving(CASES["both"]):
        first = agent_on(vendor, "aiohttp")
        second = agent_on(vendor, "aiohttp")
        try:
            # one tool turn, then stop before the results are sent (as a process that saved its
            # history mid-loop and ended): max_iterations=1
            first.max_iterations = 1
            await drive(first, "What is the weather in Paris?", streaming)
            saved = json.dumps([message.model_dump(mode="json") for message in first.messages])
            assert SIGNATURE in saved and REDACTED in saved
            second.messages = json.loads(saved)  # dicts, validated on the next run
            response = await drive(second, [{"type": "message", "role": "user",
                                             "content": [{"type": "input_text", "text": "Go on."}]}], streaming)
        finally:
            await first.provider.aclose()  # type: ignore[union-attr]
            await second.provider.aclose()  # type: ignore[union-attr]
        assert vendor.refusals == []
        assert response.output_text == "It is sunny in Paris."
        assistant = vendor.bodies[-1]["messages"][1]
        assert assistant["content"][:2] == CASES["both"]
