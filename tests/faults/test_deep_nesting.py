"""JSON nested past the interpreter's recursion limit, wherever text from a model or a caller is
parsed again after the wire: the next turn's history (Anthropic ``input``, Ollama ``arguments``),
``generate_json``, span content and ``${VAR}``-fed encryption keys. Each is a typed error or a
value — never a raw ``RecursionError`` (found by the adversarial review, issue #10 class 4)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from oneringai import OneRingAI, ProviderResponseError
from oneringai.application.observability.genai import input_messages, output_messages
from oneringai.config import load_settings
from oneringai.domain.content import InputTextContent, Message, MessageRole, ToolResultContent, ToolUseContent
from oneringai.domain.errors import ConfigError
from oneringai.domain.options import TextGenerateOptions
from oneringai.domain.response import LLMResponse
from tests.faults.providers_fixtures import (
    VENDORS,
    FaultServer,
    fault_server_fixture,  # noqa: F401 - provides the fault_server fixture
)

DEEP = "[" * 5000 + "]" * 5000
DEEP_OBJECT = '{"a": ' * 3000 + "1" + "}" * 3000
#: Arguments a model may write that are JSON, but not the object Anthropic and Ollama require.
NOT_OBJECTS = [DEEP, DEEP_OBJECT, "5", "[1, 2]", "null", '"text"', "1" * 5000, "{not json"]


def _history(arguments: str, result: object = "ok") -> list[Message]:
    return [
        Message(role=MessageRole.USER, content=[InputTextContent(text="hi")]),
        Message(role=MessageRole.ASSISTANT, content=[ToolUseContent(id="t1", name="f", arguments=arguments)]),
        Message(role=MessageRole.USER, content=[ToolResultContent(tool_use_id="t1", content=result)]),
    ]


def _sent_call(kind: str, body: dict) -> object:
    """The tool call's arguments as the provider sent them back to the server."""
    if kind == "anthropic":
        return next(b["input"] for m in body["messages"] for b in m["content"] if b["type"] == "tool_use")
    return next(m["tool_calls"][0]["function"]["arguments"] for m in body["messages"] if m.get("tool_calls"))


@pytest.mark.parametrize("kind", ["anthropic", "ollama"])
@pytest.mark.parametrize("arguments", NOT_OBJECTS, ids=lambda a: a[:12])
async def test_history_arguments_that_are_no_object_still_make_a_valid_request(
    fault_server: FaultServer, kind: str, arguments: str
) -> None:
    vendor = VENDORS[kind]
    fault_server.answer(200, json.dumps(vendor.body()).encode())
    async with vendor.provider(fault_server.url) as provider:
        response = await provider.generate(TextGenerateOptions(model="m", input=_history(arguments)))
    assert response.output_text
    sent = _sent_call(kind, json.loads(fault_server.requests[-1].body))
    assert isinstance(sent, dict), "Anthropic and Ollama refuse a tool call whose input is no object"
    if kind == "anthropic":
        assert sent == {"_raw": arguments}, "the model's text is kept for the model to see"


@pytest.mark.parametrize("kind", ["openai", "anthropic", "ollama"])
@pytest.mark.parametrize(
    "result",
    [object(), {1, 2}, {"when": __import__("datetime").date(2026, 1, 1)}],
    ids=["object", "set", "date-in-dict"],
)
async def test_a_tool_result_json_cannot_hold_is_sent_as_text(fault_server: FaultServer, kind: str, result: object) -> None:
    vendor = VENDORS[kind]
    fault_server.answer(200, json.dumps(vendor.body()).encode())
    async with vendor.provider(fault_server.url) as provider:
        response = await provider.generate(TextGenerateOptions(model="m", input=_history("{}", result)))
    assert response.output_text


async def test_a_cyclic_tool_result_is_sent_as_a_note(fault_server: FaultServer) -> None:
    cyclic: list[object] = []
    cyclic.append(cyclic)
    vendor = VENDORS["openai"]
    fault_server.answer(200, json.dumps(vendor.body()).encode())
    async with vendor.provider(fault_server.url) as provider:
        await provider.generate(TextGenerateOptions(model="m", input=_history("{}", cyclic)))
    tool_message = next(m for m in json.loads(fault_server.requests[-1].body)["messages"] if m["role"] == "tool")
    assert "cannot be written as JSON" in tool_message["content"]


@pytest.mark.parametrize("text", [DEEP, DEEP_OBJECT], ids=["array", "object"])
async def test_generate_json_of_deeply_nested_model_output_is_a_provider_error(
    fault_server: FaultServer, text: str
) -> None:
    vendor = VENDORS["openai"]
    body = vendor.body()
    body["choices"][0]["message"]["content"] = text
    fault_server.answer(200, json.dumps(body).encode())
    async with OneRingAI(providers={"f": vendor.provider(fault_server.url)}) as client:
        with pytest.raises(ProviderResponseError, match="valid JSON"):
            await client.text.generate_json("obj?", model="m")


@pytest.mark.parametrize("arguments", [DEEP, DEEP_OBJECT], ids=["array", "object"])
def test_span_content_of_deeply_nested_arguments_is_text(arguments: str) -> None:
    history = _history(arguments)
    recorded = json.loads(input_messages(TextGenerateOptions(model="m", input=history), 100_000))
    call = recorded[1]["parts"][0]
    assert call["type"] == "tool_call" and isinstance(call["arguments"], str)
    response = LLMResponse(output=[history[1]], model="m")
    produced = json.loads(output_messages(response, 100_000))
    assert isinstance(produced[0]["parts"][0]["arguments"], str)


def test_shallow_arguments_stay_an_object_in_spans() -> None:
    recorded = json.loads(input_messages(TextGenerateOptions(model="m", input=_history('{"city": "Paris"}')), 1000))
    assert recorded[1]["parts"][0]["arguments"] == {"city": "Paris"}


@pytest.mark.parametrize("via", ["yaml", "variable"])
def test_deeply_nested_encryption_keys_are_a_config_error(tmp_path: Path, via: str) -> None:
    path = tmp_path / "c.yaml"
    value = f"'{DEEP}'" if via == "yaml" else "${KEYS}"
    path.write_text(f"oauth:\n  encryption_keys: {value}\n")
    with pytest.raises(ConfigError, match=r"oauth\.encryption_keys: .*nested too deeply"):
        load_settings(path, env={"KEYS": DEEP}, dotenv=None)
