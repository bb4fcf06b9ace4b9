"""The guide's domain-model and tool code blocks, ported as literally as Python allows.

Readers of the TypeScript guide (``seed/EXTENSIBILITY.md``) copy its object literals and
calls. Each must either work as written (camelCase keys, ``error: true``, the raw JSON
text passed to ``tool.execute``) or fail at once with an error naming the Python spelling —
never be silently accepted with a different meaning.
"""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
from pydantic import ValidationError

from oneringai import (
    ContentType,
    IToolExecutor,
    LLMResponse,
    MessageRole,
    ModelCapabilities,
    ProviderCapabilities,
    TextGenerateOptions,
    ToolCall,
    ToolExecutionContext,
    ToolResult,
    Usage,
    tool,
)
from oneringai.domain.tools import ToolArgumentsError
from oneringai.testing import tool_call


@tool
def get_weather(city: str, unit: str = "C") -> dict[str, Any]:
    """Weather for a city."""
    return {"city": city, "unit": unit, "sky": "sunny"}


# --- "Approach 1": capabilities and getModelCapabilities ---------------------------------------


def test_provider_capabilities_literal_from_the_guide():
    capabilities = ProviderCapabilities(**{"text": True, "images": False, "videos": False, "audio": False})
    assert capabilities == ProviderCapabilities(text=True, images=False, videos=False, audio=False)


def test_model_capabilities_camel_case_literal_is_honoured_not_defaulted():
    # getModelCapabilities(model) { return { maxInputTokens: 128000, ... supportsJSON: true } }
    literal = {
        "maxInputTokens": 128000,
        "maxOutputTokens": 4096,
        "supportsTools": True,
        "supportsVision": False,
        "supportsStreaming": False,
        "supportsJSON": True,
    }
    for built in (ModelCapabilities(**literal), ModelCapabilities.model_validate(literal)):
        assert built.max_input_tokens == 128000 and built.max_output_tokens == 4096
        assert built.supports_streaming is False and built.supports_json is True


def test_the_issue_example_no_longer_returns_defaults():
    capabilities = ModelCapabilities(maxInputTokens=5, supportsTools=False)
    assert capabilities.max_input_tokens == 5 and capabilities.supports_tools is False


def test_ollama_example_capabilities_and_cohere_table_lookup():
    # the Ollama example's capabilities, then the Cohere example's Record<string, ModelCapabilities>
    ollama = ModelCapabilities(maxInputTokens=2048, maxOutputTokens=2048, supportsTools=False,
                               supportsVision=False, supportsStreaming=True, supportsJSON=False)
    assert (ollama.max_input_tokens, ollama.supports_tools, ollama.supports_json) == (2048, False, False)
    table = {
        "command-r-plus": ModelCapabilities(maxInputTokens=128000, maxOutputTokens=4096, supportsTools=True,
                                            supportsVision=False, supportsStreaming=True, supportsJSON=True),
        "command-r": ModelCapabilities(maxInputTokens=128000, maxOutputTokens=4096, supportsTools=True,
                                       supportsVision=False, supportsStreaming=True, supportsJSON=True),
    }
    assert (table.get("unknown") or table["command-r"]).max_input_tokens == 128000


def test_snake_case_still_works_and_dumps_stay_snake_case():
    built = ModelCapabilities(max_input_tokens=7, supports_json=False)
    assert built.model_dump()["max_input_tokens"] == 7 and "maxInputTokens" not in built.model_dump()


@pytest.mark.parametrize(
    ("model", "data", "field", "allowed"),
    [
        (ProviderCapabilities, {"imagez": True}, "imagez", "text, images, videos, audio"),
        (ModelCapabilities, {"maxInputTokenz": 5}, "maxInputTokenz", "max_input_tokens"),
        (TextGenerateOptions, {"model": "m", "input": "x", "temprature": 0.1}, "temprature", "temperature"),
        (Usage, {"inputTokens": 1, "prompt_tokens": 2}, "prompt_tokens", "input_tokens"),
        (ToolResult, {"tool_call_id": "1", "outptu": "x"}, "outptu", "output"),
        (ToolCall, {"id": "1", "function": {"name": "f", "args": "{}"}}, "args", "arguments"),
    ],
)
def test_unknown_keys_fail_at_once_naming_the_allowed_fields(model, data, field, allowed):
    with pytest.raises(ValidationError) as raised:
        model.model_validate(data)
    message = str(raised.value)
    assert f"unknown field '{field}'" in message and allowed in message
    with pytest.raises(ValidationError, match="allowed fields"):
        model(**data)


def test_nested_unknown_key_names_the_nested_model():
    with pytest.raises(ValidationError) as raised:
        LLMResponse.model_validate({"output": [{"type": "message", "role": "assistant",
                                               "content": [{"type": "output_text", "txt": "hi"}]}]})
    assert "unknown field 'txt' of OutputTextContent; allowed fields: type, text" in str(raised.value)


# --- convertToLLMResponse / the Cohere and Ollama examples' return literals -----------------------


def test_convert_to_llm_response_literal():
    data = {"choices": [{"message": {"content": "Hi!"}, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 3, "completion_tokens": 2, "total_tokens": 5}}
    response = LLMResponse.model_validate({
        "output": [{"type": "message", "role": "assistant",
                    "content": [{"type": "output_text", "text": data["choices"][0]["message"]["content"]}]}],
        "usage": {"input_tokens": data["usage"]["prompt_tokens"], "output_tokens": data["usage"]["completion_tokens"],
                  "total_tokens": data["usage"]["total_tokens"]},
        "stop_reason": data["choices"][0]["finish_reason"],
    })
    assert response.output_text == "Hi!" and response.usage.total_tokens == 5 and response.stop_reason == "stop"


def test_cohere_literal_with_enums_and_camel_case_usage():
    response = LLMResponse(**{
        "output": [{"type": "message", "role": MessageRole.ASSISTANT,
                    "content": [{"type": ContentType.OUTPUT_TEXT, "text": "response.text"}]}],
        "usage": {"inputTokens": 0, "outputTokens": 0, "totalTokens": 0},
        "stopReason": "complete",
    })
    assert response.output_text == "response.text" and response.stop_reason == "complete"


def test_text_generate_options_as_the_guide_reads_them():
    options = TextGenerateOptions(model="command-r", input="Hello", temperature=0.3, maxOutputTokens=100)
    assert (options.model, options.input, options.temperature, options.max_output_tokens) == (
        "command-r", "Hello", 0.3, 100)


# --- "Custom Tool Executors": the two examples, ported line by line ------------------------------


class RateLimitedToolExecutor(IToolExecutor):
    def __init__(self) -> None:
        self.call_counts: dict[str, int] = {}
        self.window_start = time.time()
        self.max_calls_per_minute = 10

    async def execute_tool(self, tool_call: ToolCall, context: ToolExecutionContext) -> ToolResult:
        count = self.call_counts.get(tool_call.function.name) or 0
        if count >= self.max_calls_per_minute:
            return ToolResult(
                tool_call_id=tool_call.id,
                output=json.dumps({"error": f"Rate limit exceeded: {self.max_calls_per_minute} calls/minute"}),
                error=True,
            )
        if time.time() - self.window_start > 60:
            self.call_counts.clear()
            self.window_start = time.time()
        self.call_counts[tool_call.function.name] = count + 1
        tool_ = next((t for t in context.tools if t.definition.function.name == tool_call.function.name), None)
        if not tool_:
            return ToolResult(tool_call_id=tool_call.id, output=json.dumps({"error": "Tool not found"}), error=True)
        try:
            result = await tool_.execute(tool_call.function.arguments)  # the raw JSON text, as in the guide
            return ToolResult(tool_call_id=tool_call.id, output=json.dumps(result))
        except Exception as error:
            return ToolResult(tool_call_id=tool_call.id, output=json.dumps({"error": str(error)}), error=True)


class CachingToolExecutor(IToolExecutor):
    def __init__(self) -> None:
        self.cache: dict[str, Any] = {}

    async def execute_tool(self, tool_call: ToolCall, context: ToolExecutionContext) -> ToolResult:
        cache_key = self.get_cache_key(tool_call)
        if cache_key in self.cache:
            return ToolResult(tool_call_id=tool_call.id, output=self.cache[cache_key])
        tool_ = next((t for t in context.tools if t.definition.function.name == tool_call.function.name), None)
        if not tool_:
            return ToolResult(tool_call_id=tool_call.id, output=json.dumps({"error": "Tool not found"}), error=True)
        result = await tool_.execute(tool_call.function.arguments)
        output = json.dumps(result)
        self.cache[cache_key] = output
        return ToolResult(tool_call_id=tool_call.id, output=output)

    def get_cache_key(self, tool_call: ToolCall) -> str:
        return f"{tool_call.function.name}:{json.dumps(tool_call.function.arguments)}"


async def test_rate_limited_executor_port_runs_tools_from_the_raw_json_text():
    executor = RateLimitedToolExecutor()
    executor.max_calls_per_minute = 2
    context = ToolExecutionContext(tools=[get_weather])
    first = await executor.execute_tool(tool_call("get_weather", city="Oslo"), context)
    assert json.loads(first.output) == {"city": "Oslo", "unit": "C", "sky": "sunny"} and not first.is_error
    invalid = await executor.execute_tool(tool_call("get_weather", town="Oslo"), context)
    assert invalid.is_error and "city" in json.loads(invalid.output)["error"]  # validated, message names it
    limited = await executor.execute_tool(tool_call("get_weather", city="Rome"), context)
    assert limited.error == "tool error" and "Rate limit exceeded" in limited.output  # error: true
    missing = await RateLimitedToolExecutor().execute_tool(tool_call("nope"), context)
    assert missing.is_error and json.loads(missing.output) == {"error": "Tool not found"}


async def test_caching_executor_port_caches_by_the_raw_text():
    executor = CachingToolExecutor()
    context = ToolExecutionContext(tools=[get_weather])
    call = tool_call("get_weather", city="Paris", unit="F")
    first = await executor.execute_tool(call, context)
    second = await executor.execute_tool(call.model_copy(update={"id": "again"}), context)
    assert first.output == second.output and json.loads(second.output)["unit"] == "F"
    assert second.tool_call_id == "again" and len(executor.cache) == 1


async def test_guide_ports_drive_an_agent():
    from oneringai import OneRingAI
    from oneringai.config import Settings
    from oneringai.testing import ScriptedTextProvider

    fake = ScriptedTextProvider([tool_call("get_weather", city="Lima"), "It is sunny in Lima."])
    settings = Settings.model_validate({"text": {"default": None, "providers": {}}, "oauth": {"storage": {"kind": "memory"}}})
    async with OneRingAI(providers={"fake": fake}, settings=settings) as client:
        agent = await client.agents.create(provider="fake", model="m", tools=[get_weather],
                                           executor=RateLimitedToolExecutor())
        response = await agent.run("weather in Lima?")
    assert response.output_text == "It is sunny in Lima."
    fed_back = [p for item in fake.requests[1].input for p in item.content if p.type == "tool_result"]
    assert json.loads(fed_back[0].content)["city"] == "Lima"


async def test_execute_takes_a_mapping_or_the_json_text_and_names_both_otherwise():
    assert (await get_weather.execute({"city": "Oslo"}))["city"] == "Oslo"
    assert (await get_weather.execute('{"city": "Oslo", "unit": "K"}'))["unit"] == "K"
    with pytest.raises(ToolArgumentsError, match="not valid JSON"):
        await get_weather.execute('{"city": ')
    with pytest.raises(ValueError, match="city"):
        await get_weather.execute("{}")
    for wrong in (["Oslo"], 42, None, b'{"city": "Oslo"}'):
        with pytest.raises(TypeError, match=r"parsed_arguments\(\)"):
            await get_weather.execute(wrong)  # type: ignore[arg-type]


def test_tool_result_error_true_and_camel_case_ids():
    assert ToolResult(tool_call_id="c", output="x", error=True).is_error
    assert not ToolResult(tool_call_id="c", output="x", error=False).is_error
    assert ToolResult(toolCallId="c", toolName="t").tool_call_id == "c"
    call = ToolCall.model_validate({"id": "c", "type": "function", "function": {"name": "f", "arguments": "{}"}})
    assert call.function.name == "f" and call.parsed_arguments() == {}
