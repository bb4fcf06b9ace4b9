"""A vendor-shaped model for end-to-end agent tests: a loopback server that answers each
request with what a test script decides (tool calls of any shape, a stream cut mid-call,
a slow stream), in OpenAI chat-completions, Anthropic messages or Ollama chat wire format;
and checks of the request bodies it received, by each vendor's rules for tool use.

The agent drives the real providers over the real HTTP clients (``aiohttp`` and ``httpx``):
what is checked is what would reach the vendor.
"""

from __future__ import annotations

import asyncio
import itertools
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from tests.faults.providers_fixtures import VENDORS, FaultServer, head, read_request

Call = tuple[str, str, str]  # (id, name, raw argument text)
#: A turn: ("body", dict) answers a plain request, ("events", list) a stream, and
#: ("cut", list) sends those stream events, then closes the connection mid-stream;
#: ("error", dict) answers 401 with that body.
Turn = tuple[str, Any]


def _usage(kind: str) -> dict[str, int]:
    if kind == "openai":
        return {"prompt_tokens": 3, "completion_tokens": 2, "total_tokens": 5}
    return {"input_tokens": 3, "output_tokens": 2}


def turn(kind: str, *, stream: bool, calls: tuple[Call, ...] = (), text: str | None = None,
         finished: bool = True) -> Turn:
    """A model turn with ``text`` and ``calls``, as a body or a stream of ``kind``."""
    if kind == "openai":
        return _openai(calls, text, stream=stream, finished=finished)
    if kind == "anthropic":
        return _anthropic(calls, text, stream=stream, finished=finished)
    message: dict[str, Any] = {"role": "assistant", "content": text or ""}
    if calls:
        message["tool_calls"] = [{"function": {"name": n, "arguments": _ollama_arguments(a)}} for _, n, a in calls]
    body = {"model": "m", "created_at": "x", "message": message, "done": finished, "done_reason": "stop",
            "prompt_eval_count": 3, "eval_count": 2}
    return ("events", [body]) if stream else ("body", body)


def _ollama_arguments(raw: str) -> Any:
    try:
        return json.loads(raw)
    except (ValueError, RecursionError):
        return raw  # Ollama sends an object; a hostile server sends the text as it is


def _openai(calls: tuple[Call, ...], text: str | None, *, stream: bool, finished: bool) -> Turn:
    finish = "tool_calls" if calls else "stop"
    if not stream:
        message: dict[str, Any] = {"role": "assistant", "content": text}
        if calls:
            message["tool_calls"] = [{"id": i, "type": "function", "function": {"name": n, "arguments": a}}
                                     for i, n, a in calls]
        return ("body", {"id": "x", "object": "chat.completion", "created": 1, "model": "m",
                         "choices": [{"index": 0, "message": message, "finish_reason": finish}],
                         "usage": _usage("openai")})
    base = {"id": "c", "object": "chat.completion.chunk", "created": 1, "model": "m"}

    def chunk(delta: dict[str, Any], reason: str | None = None) -> dict[str, Any]:
        return {**base, "choices": [{"index": 0, "delta": delta, "finish_reason": reason}]}

    events: list[Any] = [chunk({"content": text})] if text else []
    for index, (call_id, name, arguments) in enumerate(calls):
        events.append(chunk({"tool_calls": [{"index": index, "id": call_id, "type": "function",
                                             "function": {"name": name, "arguments": ""}}]}))
        half = len(arguments) // 2  # arguments in two deltas: a cut can fall between them
        events.append(chunk({"tool_calls": [{"index": index, "function": {"arguments": arguments[:half]}}]}))
        events.append(chunk({"tool_calls": [{"index": index, "function": {"arguments": arguments[half:]}}]}))
    if finished:
        events += [chunk({}, finish), {**base, "choices": [], "usage": _usage("openai")}, "[DONE]"]
    return ("events", events)


def _anthropic(calls: tuple[Call, ...], text: str | None, *, stream: bool, finished: bool) -> Turn:
    reason = "tool_use" if calls else "end_turn"
    if not stream:
        blocks: list[dict[str, Any]] = [{"type": "text", "text": text}] if text else []
        blocks += [{"type": "tool_use", "id": i, "name": n, "input": _ollama_arguments(a)} for i, n, a in calls]
        return ("body", {"id": "m", "type": "message", "role": "assistant", "model": "m", "content": blocks,
                         "stop_reason": reason, "stop_sequence": None, "usage": _usage("anthropic")})
    events: list[Any] = [{"type": "message_start", "message": {
        "id": "m", "type": "message", "role": "assistant", "model": "m", "content": [], "stop_reason": None,
        "usage": {"input_tokens": 3, "output_tokens": 1}}}]
    blocks_in = [("text", text)] if text else []
    for number, (kind, value) in enumerate([*blocks_in, *(("tool", call) for call in calls)]):
        if kind == "text":
            events += [{"type": "content_block_start", "index": number, "content_block": {"type": "text", "text": ""}},
                       {"type": "content_block_delta", "index": number,
                        "delta": {"type": "text_delta", "text": value}}]
        else:
            call_id, name, arguments = value
            half = len(arguments) // 2
            events.append({"type": "content_block_start", "index": number,
                           "content_block": {"type": "tool_use", "id": call_id, "name": name, "input": {}}})
            events += [{"type": "content_block_delta", "index": number,
                        "delta": {"type": "input_json_delta", "partial_json": part}}
                       for part in (arguments[:half], arguments[half:])]
        events.append({"type": "content_block_stop", "index": number})
    if finished:
        events += [{"type": "message_delta", "delta": {"stop_reason": reason, "stop_sequence": None},
                    "usage": {"output_tokens": 2}}, {"type": "message_stop"}]
    return ("events", events)


@dataclass
class ScriptedVendor:
    """Answers request ``n`` (its parsed body) with ``script(n, body)``; keeps every body."""

    kind: str
    script: Callable[[int, dict[str, Any]], Turn]
    pause: float = 0.0  # between stream events, and before a body: room for a cancellation
    bodies: list[dict[str, Any]] = field(default_factory=list)
    server: FaultServer = field(default_factory=FaultServer)

    def __post_init__(self) -> None:
        self.server.script = self._serve

    @property
    def url(self) -> str:
        return self.server.url

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        vendor = VENDORS[self.kind]
        while (request := await read_request(reader)) is not None:
            body = json.loads(request.body)
            self.bodies.append(body)
            what, payload = self.script(len(self.bodies) - 1, body)
            if what in ("body", "error"):
                await asyncio.sleep(self.pause)
                data = json.dumps(payload).encode()
                writer.write(head(200 if what == "body" else 401, "application/json", len(data)) + data)
                await writer.drain()
                continue
            writer.write(head(200, vendor.stream_type, None, {"connection": "close"}))
            for event in payload:
                writer.write(vendor.frame(event))
                await writer.drain()
                if self.pause:
                    await asyncio.sleep(self.pause)
            return  # end of stream (and, for "cut", before the stream was complete)


def answered(kind: str, body: dict[str, Any]) -> bool:
    """Whether the conversation in ``body`` ends with tool results."""
    last = body["messages"][-1]
    if kind == "anthropic":
        content = last["content"]
        return isinstance(content, list) and any(part.get("type") == "tool_result" for part in content)
    return bool(last["role"] == "tool")


def check_request(kind: str, body: dict[str, Any]) -> None:
    """Raise ``AssertionError`` when the vendor would refuse ``body``'s conversation: a tool
    call not answered exactly once right after it, an orphan result, an empty message;
    a tool call id used twice in the conversation (Anthropic refuses it); for Anthropic also
    roles that do not alternate starting with ``user``."""
    messages = body["messages"]
    assert messages, "no messages"
    every_id = [part["id"] for m in messages if isinstance(m["content"], list) for part in m["content"]
                if part.get("type") == "tool_use"] + [c["id"] for m in messages for c in m.get("tool_calls") or []
                                                       if "id" in c]
    assert len(set(every_id)) == len(every_id), f"tool call ids repeat in the conversation: {every_id}"
    if kind == "anthropic":
        roles = [message["role"] for message in messages]
        assert roles[0] == "user" and all(a != b for a, b in itertools.pairwise(roles)), roles
        for index, message in enumerate(messages):
            content = message["content"]
            assert content, f"message {index} is empty"
            if not isinstance(content, list):
                continue
            calls = [part["id"] for part in content if part["type"] == "tool_use"]
            results = [part["tool_use_id"] for part in content if part["type"] == "tool_result"]
            previous = messages[index - 1]["content"] if index else []
            expected = [p["id"] for p in previous if isinstance(previous, list) and p["type"] == "tool_use"]
            assert results == expected[: len(results)] and (not expected or results == expected), (expected, results)
            assert all(calls) and len(set(calls)) == len(calls), calls
        return
    index = 0
    while index < len(messages):
        message = messages[index]
        assert message["role"] != "tool" or kind == "ollama", f"orphan tool message {index}"
        calls = message.get("tool_calls") or []
        index += 1
        if message["role"] != "assistant" or not calls:
            continue
        results = []
        while index < len(messages) and messages[index]["role"] == "tool":
            results.append(messages[index].get("tool_call_id"))
            index += 1
        if kind == "openai":
            ids = [call["id"] for call in calls]
            assert all(ids) and len(set(ids)) == len(ids), ids
            assert results == ids, (ids, results)
        else:
            assert len(results) == len(calls), (calls, results)
