"""The guide's tool executors (rate-limited, caching), its executor interface and checklist,
ported as literally as Python allows — and how they compose in Python: bound in the container,
passed to an agent or a ``ToolRegistry``, or as a layer of the YAML stack found by entry point.

(The line-by-line ports' object literals are also covered by ``test_guide_fidelity_domain.py``;
here: the behaviour of the guide's logic, and the examples' executors that fix it.)
"""

from __future__ import annotations

import json
import sys
import textwrap
import time
from typing import Any

import pytest
from dependency_injector import providers

from oneringai import (
    IToolExecutor,
    OneRingAI,
    ToolCall,
    ToolExecutionContext,
    ToolRegistry,
    ToolResult,
    tool,
)
from oneringai.application.tools import DirectToolExecutor
from oneringai.testing import ScriptedTextProvider, tool_call
from tests.guide_examples import load_example

example = load_example("custom_infrastructure")
calls: list[str] = []


@tool
def lookup(city: str) -> dict[str, str]:
    """A tool that counts its real runs."""
    calls.append(city)
    return {"city": city, "sky": "sunny"}


@tool(cacheable=False)
def now(city: str) -> float:
    """Side-effect-free but time-dependent: must not be cached."""
    calls.append(city)
    return time.time()


@tool
def broken(city: str) -> str:
    """Always fails."""
    calls.append(city)
    raise RuntimeError(f"backend down for {city}")


CONTEXT = ToolExecutionContext(tools=[lookup, now, broken])


@pytest.fixture(autouse=True)
def _reset_calls():
    calls.clear()


# --- the guide's two executors, line by line ------------------------------------------------
class GuideRateLimitedToolExecutor(IToolExecutor):
    def __init__(self) -> None:
        self.call_counts: dict[str, int] = {}
        self.window_start = time.time()
        self.max_calls_per_minute = 10

    async def execute_tool(self, tool_call: ToolCall, context: ToolExecutionContext) -> ToolResult:
        count = self.call_counts.get(tool_call.function.name) or 0  # Check rate limit
        if count >= self.max_calls_per_minute:
            return ToolResult(tool_call_id=tool_call.id, error=True, output=json.dumps(
                {"error": f"Rate limit exceeded: {self.max_calls_per_minute} calls/minute"}))
        if time.time() - self.window_start > 60:  # Reset window
            self.call_counts.clear()
            self.window_start = time.time()
        self.call_counts[tool_call.function.name] = count + 1  # Increment counter
        found = next((t for t in context.tools if t.definition.function.name == tool_call.function.name), None)
        if not found:
            return ToolResult(tool_call_id=tool_call.id, output=json.dumps({"error": "Tool not found"}), error=True)
        try:
            result = await found.execute(tool_call.function.arguments)  # type: ignore[arg-type]
            return ToolResult(tool_call_id=tool_call.id, output=json.dumps(result))
        except Exception as error:
            return ToolResult(tool_call_id=tool_call.id, output=json.dumps({"error": str(error)}), error=True)


class GuideCachingToolExecutor(IToolExecutor):
    def __init__(self) -> None:
        self.cache: dict[str, Any] = {}

    async def execute_tool(self, tool_call: ToolCall, context: ToolExecutionContext) -> ToolResult:
        cache_key = self.get_cache_key(tool_call)  # Generate cache key from tool name + arguments
        if cache_key in self.cache:  # Check cache
            print(f"✅ Cache hit for {tool_call.function.name}")
            return ToolResult(tool_call_id=tool_call.id, output=self.cache[cache_key])
        found = next((t for t in context.tools if t.definition.function.name == tool_call.function.name), None)
        if not found:
            return ToolResult(tool_call_id=tool_call.id, output=json.dumps({"error": "Tool not found"}), error=True)
        result = await found.execute(json.loads(tool_call.function.arguments))  # Execute tool
        output = json.dumps(result)
        self.cache[cache_key] = output  # Cache result
        return ToolResult(tool_call_id=tool_call.id, output=output)

    def get_cache_key(self, tool_call: ToolCall) -> str:
        return f"{tool_call.function.name}:{json.dumps(tool_call.function.arguments)}"


def test_the_interface_in_camel_case_fails_at_once_naming_execute_tool():
    class CamelExecutor(IToolExecutor):
        async def executeTool(self, tool_call: ToolCall, context: ToolExecutionContext) -> ToolResult:
            return ToolResult(tool_call_id=tool_call.id)

    with pytest.raises(TypeError, match="execute_tool"):
        CamelExecutor()  # type: ignore[abstract]


async def test_guide_rate_limiter_blocks_a_busy_tool_forever_example_resets_first():
    guide = GuideRateLimitedToolExecutor()
    guide.max_calls_per_minute = 1
    fixed = example.RateLimitedToolExecutor(DirectToolExecutor(), max_calls_per_minute=1)
    for executor in (guide, fixed):
        await executor.execute_tool(tool_call("lookup", city="Oslo"), CONTEXT)
        assert (await executor.execute_tool(tool_call("lookup", city="Oslo"), CONTEXT)).is_error  # limited
    guide.window_start -= 61  # a minute later...
    fixed.window_start -= 61
    # ...the guide checks the count before resetting the window: the tool stays blocked.
    assert "Rate limit exceeded" in (await guide.execute_tool(tool_call("lookup", city="Oslo"), CONTEXT)).output
    allowed = await fixed.execute_tool(tool_call("lookup", city="Oslo"), CONTEXT)
    assert not allowed.is_error and json.loads(allowed.output)["city"] == "Oslo"


async def test_guide_rate_limiter_runs_tools_from_the_raw_json_text():
    result = await GuideRateLimitedToolExecutor().execute_tool(tool_call("lookup", city="Oslo"), CONTEXT)
    assert not result.is_error and json.loads(result.output)["city"] == "Oslo"


async def test_guide_cache_raises_for_a_failing_tool_agent_survives_example_returns_an_error():
    with pytest.raises(RuntimeError, match="backend down"):  # breaks IToolExecutor's "never raise"
        await GuideCachingToolExecutor().execute_tool(tool_call("broken", city="Oslo"), CONTEXT)
    fixed = example.CachingToolExecutor(DirectToolExecutor())
    for _ in range(2):
        result = await fixed.execute_tool(tool_call("broken", city="Oslo"), CONTEXT)
        assert result.is_error and "backend down" in result.output
    assert calls == ["Oslo", "Oslo", "Oslo"] and fixed.cache == {}  # failures are never cached
    script = ScriptedTextProvider([tool_call("broken", city="Oslo"), "sorry"])
    async with OneRingAI(providers={"fake": script}) as client:
        agent = client.agents.create(model="m", tools=[broken], executor=GuideCachingToolExecutor())
        assert (await agent.run("go")).output_text == "sorry"  # the agent turned the raise into a result
    fed_back = [p for item in script.requests[1].input for p in item.content if p.type == "tool_result"]
    assert fed_back[0].error and "backend down" in fed_back[0].content


async def test_guide_cache_keys_on_the_raw_text_example_on_the_arguments():
    a = ToolCall.model_validate({"id": "1", "function": {"name": "lookup", "arguments": '{"city": "Oslo"}'}})
    b = ToolCall.model_validate({"id": "2", "function": {"name": "lookup", "arguments": '{ "city":"Oslo" }'}})
    guide, fixed = GuideCachingToolExecutor(), example.CachingToolExecutor(DirectToolExecutor())
    for executor in (guide, fixed):
        await executor.execute_tool(a, CONTEXT)
        await executor.execute_tool(b, CONTEXT)
    assert len(guide.cache) == 2 and len(fixed.cache) == 1
    assert calls == ["Oslo", "Oslo", "Oslo"]  # guide: two runs; example: one run and a hit


async def test_example_cache_skips_non_cacheable_tools_invalid_json_and_stays_bounded():
    cache = example.CachingToolExecutor(DirectToolExecutor(), max_entries=2)
    await cache.execute_tool(tool_call("now", city="Oslo"), CONTEXT)
    await cache.execute_tool(tool_call("now", city="Oslo"), CONTEXT)
    assert calls == ["Oslo", "Oslo"] and cache.cache == {}
    bad = ToolCall.model_validate({"id": "x", "function": {"name": "lookup", "arguments": "{not json"}})
    result = await cache.execute_tool(bad, CONTEXT)
    assert result.is_error and result.metadata["code"] == "invalid_arguments"
    for city in ("A", "B", "C"):
        await cache.execute_tool(tool_call("lookup", city=city), CONTEXT)
    assert len(cache.cache) == 2 and not any('"A"' in key for key in cache.cache)  # the oldest went


# --- composition: where an executor plugs in ----------------------------------------------------
async def test_checklist_pass_to_tool_registry():
    registry = ToolRegistry([lookup], executor=example.CachingToolExecutor(DirectToolExecutor()))
    first = await registry.execute(tool_call("lookup", city="Rome"))
    second = await registry.execute(tool_call("lookup", city="Rome"))
    assert first.output == second.output and calls == ["Rome"]


async def test_bound_in_the_container_every_agent_uses_it():
    script = ScriptedTextProvider([tool_call("lookup", city="Lima"), "one", tool_call("lookup", city="Lima"), "two"])
    stack = example.CachingToolExecutor(example.RateLimitedToolExecutor(DirectToolExecutor(), max_calls_per_minute=5))
    async with OneRingAI(providers={"fake": script}) as client:
        client.container.tool_executor.override(providers.Object(stack))  # before client.agents is used
        for expected in ("one", "two"):
            agent = client.agents.create(model="m", tools=[lookup])
            assert (await agent.run("weather?")).output_text == expected
        assert client.agents.executor is stack
    assert calls == ["Lima"] and stack.inner.counts == {"lookup": 1}  # the second agent's call was a hit


LAYER_MODULE = '''
from oneringai.infrastructure.tool_executors.wrapper import WrapperToolExecutor


class CountingLayer(WrapperToolExecutor):
    """A custom YAML layer: constructed as (wrapped, config), extra keys of the layer in config."""

    seen: list[str] = []

    async def execute_tool(self, tool_call, context):
        CountingLayer.seen.append(f"{self.config.label}:{tool_call.function.name}")
        return await self.wrapped.execute_tool(tool_call, context)
'''


async def test_a_custom_kind_found_by_entry_point_composes_with_the_yaml_stack(tmp_path, monkeypatch):
    from oneringai import plugins

    (tmp_path / "guide_layers.py").write_text(textwrap.dedent(LAYER_MODULE))
    dist = tmp_path / "guide_layers-0.1.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: guide-layers\nVersion: 0.1\n")
    (dist / "entry_points.txt").write_text("[oneringai.tool_executors]\ncounting = guide_layers:CountingLayer\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    plugins.clear_cache()
    config = tmp_path / "oneringai.yaml"
    config.write_text(textwrap.dedent("""
        text: {default: null, providers: {}}
        oauth: {storage: {kind: memory}}
        tools:
          executor:                         # outermost first
            - {kind: counting, label: outer}
            - {kind: cache, ttl: 60}
            - {kind: counting, label: inner}
    """))
    script = ScriptedTextProvider([tool_call("lookup", city="Kyiv"), tool_call("lookup", city="Kyiv"), "done"])
    try:
        async with OneRingAI.from_config(config, providers={"fake": script}) as client:
            agent = client.agents.create(provider="fake", model="m", tools=[lookup])
            assert (await agent.run("twice")).output_text == "done"
        layer = sys.modules["guide_layers"].CountingLayer
        assert sorted(layer.seen) == ["inner:lookup", "outer:lookup", "outer:lookup"]  # one hit in the cache
        assert calls == ["Kyiv"]
    finally:
        sys.modules.pop("guide_layers", None)
        plugins.clear_cache()
