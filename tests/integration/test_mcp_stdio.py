"""Tools from a real stdio MCP server (tests/mcp_servers/demo.py, built with the official SDK),
configured in YAML and run through the executor stack — also when the server crashes or hangs."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import signal
import sys
import time
import uuid
from pathlib import Path

import pytest

from oneringai import ConfigError, OneRingAI, ToolExecutionError

pytest.importorskip("mcp")

ROOT = Path(__file__).resolve().parents[2]


def write_config(tmp_path: Path, vendor_url: str = "http://127.0.0.1:9", *, executor: str = "[]", extra: str = "") -> Path:
    path = tmp_path / "mcp.yaml"
    path.write_text(
        f"""
text:
  default: vendor
  providers:
    vendor: {{kind: openai, base_url: "{vendor_url}/v1", api_key: sk-test-000000, default_model: tools}}
oauth: {{storage: {{kind: memory}}}}
tools:
  executor: {executor}
  mcp_servers:
    demo:
      command: ["{sys.executable}", -m, tests.mcp_servers.demo]
      args: [stdio]
      cwd: "{ROOT}"
      env: {{DEMO_TOKEN: "${{DEMO_TOKEN:-tok-unset-0000}}"{extra}}}
      stderr: discard
      timeout: 1.5
      connect_timeout: 20
"""
    )
    return path


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def processes_with(marker: str) -> list[int]:
    """Pids of live processes whose command line holds ``marker``."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                cmdline = (entry / "cmdline").read_bytes()
            except OSError:
                continue
            if marker.encode() in cmdline and alive(int(entry.name)):
                found.append(int(entry.name))
    return found


async def server_pid(client: OneRingAI) -> int:
    result = await client.tools.execute("get_weather", {"city": "Oslo"})
    assert not result.is_error, result.error
    return int(json.loads(result.output)["pid"])


async def test_agent_runs_mcp_tools_through_the_yaml_executor_stack(tmp_path, vendor_server, caplog):
    executor = (
        "[{kind: audit}, {kind: permissions, deny: [crash]}, {kind: timeout, default: 30, per_tool: {hang: 0.5}}]"
    )
    config = write_config(tmp_path, vendor_server.url, executor=executor)
    caplog.set_level(logging.INFO, logger="oneringai.audit")
    async with OneRingAI.from_config(config, env={}) as client:
        assert client.tools.mcp_servers == ["demo"]
        tools = await client.tools.from_mcp("demo")
        by_name = {tool.name: tool for tool in tools}
        assert {"add", "get_weather", "crash", "hang"} <= set(by_name)
        add = by_name["add"].definition.function
        assert add.description == "Add two integers."
        assert add.parameters["required"] == ["a", "b"]
        assert add.parameters["properties"]["a"]["type"] == "integer"

        # The vendor's "tools" model calls get_weather(Paris) and get_weather(Oslo) in parallel.
        agent = await client.agents.create(tools=tools, instructions="Use the tools.")
        response = await agent.run("Weather in Paris and Oslo?")
        assert response.output_text.strip() == "Hello from the stub server."
        fed_back = [m for m in vendor_server.requests[-1][1]["messages"] if m.get("role") == "tool"]
        assert sorted(json.loads(m["content"])["city"] for m in fed_back) == ["Oslo", "Paris"]
        audited = [r.getMessage() for r in caplog.records if r.name == "oneringai.audit"]
        assert sum("get_weather" in line for line in audited) == 2

        # A schema violation never reaches the server; a denied tool neither.
        bad = await client.tools.execute("add", {"a": "x"})
        assert bad.metadata["code"] == "invalid_arguments" and "'b' is a required property" in bad.error
        denied = await client.tools.execute("crash", {})
        assert denied.is_error and denied.metadata["code"] != "tool_error"
        # A tool error is an error result (not retryable), the timeout layer bounds a slow tool.
        failed = await client.tools.execute("fail", {"message": "no such order"})
        assert failed.is_error and "no such order" in failed.error and not failed.metadata.get("retryable")
        started = time.monotonic()
        slow = await client.tools.execute("hang", {"seconds": 60})
        assert slow.metadata["code"] == "timeout" and time.monotonic() - started < 10
        counts = json.loads((await client.tools.execute("calls", {})).output)
        assert counts == {"get_weather": 2, "fail": 1, "hang": 1}  # no add, no crash
        session = client.container.mcp_servers().session("demo")
        assert session.connects == 1  # one server process served all of it
        pid = await server_pid(client)
        assert alive(pid)
    assert not alive(pid)  # closing the client stopped the server


async def test_a_crashed_server_is_an_error_result_then_a_new_process(tmp_path):
    async with OneRingAI.from_config(write_config(tmp_path), env={}) as client:
        await client.tools.from_mcp("demo")
        first = await server_pid(client)
        crashed = await client.tools.execute("crash", {})
        assert crashed.is_error and crashed.metadata["retryable"] is True
        assert "closed the connection" in crashed.error
        second = await server_pid(client)
        assert second != first and not alive(first)
        # A process killed from outside between calls: with a retry layer the caller never notices.
    async with OneRingAI.from_config(
        write_config(tmp_path, executor="[{kind: retry, attempts: 2, initial_delay: 0}]"), env={}
    ) as client:
        await client.tools.from_mcp("demo")
        pid = await server_pid(client)
        os.kill(pid, signal.SIGKILL)
        result = await client.tools.execute("add", {"a": 2, "b": 3})
        assert not result.is_error and json.loads(result.output) == {"result": 5}
        assert result.metadata["attempts"] == 2


async def test_a_hung_server_is_an_error_result_within_bounds_then_replaced(tmp_path):
    async with OneRingAI.from_config(write_config(tmp_path), env={}) as client:
        await client.tools.from_mcp("demo")
        # A slow tool: the server still answers, the connection stays.
        slow = await client.tools.execute("hang", {"seconds": 30})
        assert slow.is_error and "did not answer tools/call hang within 1.5s" in slow.error
        assert slow.metadata["retryable"] is True
        first = await server_pid(client)
        # A frozen server (SIGSTOP): error result, then a new process on the next call.
        started = time.monotonic()
        frozen = await client.tools.execute("freeze", {})
        assert frozen.is_error and "within 1.5s" in frozen.error
        assert time.monotonic() - started < 5 * 1.5 * 2  # timeout + one bounded probe, generously
        second = await server_pid(client)
        assert second != first
        assert client.container.mcp_servers().session("demo").connects == 2


async def test_servers_that_cannot_start_and_unknown_servers_fail_with_named_errors(tmp_path):
    config = write_config(tmp_path, extra=', DEMO_EXIT_ON_START: "1"')
    async with OneRingAI.from_config(config, env={}) as client:
        with pytest.raises(ToolExecutionError, match="MCP server 'demo' could not be reached"):
            await client.tools.from_mcp("demo")
        with pytest.raises(ConfigError, match=r"tools\.mcp_servers\.nope.*configured: demo"):
            await client.tools.from_mcp("nope")
        unknown = await client.tools.execute("nope", {})
        assert unknown.metadata["code"] == "unknown_tool"
    missing = tmp_path / "missing.yaml"
    missing.write_text(
        "oauth: {storage: {kind: memory}}\n"
        "tools: {mcp_servers: {ghost: {command: [/nonexistent/mcp-server], connect_timeout: 5}}}\n"
    )
    async with OneRingAI.from_config(missing, env={}) as client:
        with pytest.raises(ToolExecutionError, match="could not be reached: FileNotFoundError"):
            await client.tools.from_mcp("ghost")
    marker = f"mute-{uuid.uuid4().hex}"
    mute = tmp_path / "mute.yaml"  # a process that starts but never speaks MCP
    mute.write_text(
        "oauth: {storage: {kind: memory}}\n"
        f"tools: {{mcp_servers: {{mute: {{command: [\"{sys.executable}\", -c, 'import time; time.sleep(60)', {marker}], "
        "connect_timeout: 1}}}\n"
    )
    async with OneRingAI.from_config(mute, env={}) as client:
        started = time.monotonic()
        with pytest.raises(ToolExecutionError, match=r"did not start and greet within 1s.*connect_timeout"):
            await client.tools.from_mcp("mute")
        assert time.monotonic() - started < 15  # the timeout plus the SDK's bounded stop of the process
        assert not processes_with(marker)
        # A caller that gives up while the server is still starting leaves no process behind either.
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(client.tools.from_mcp("mute"), 0.3)
    assert not processes_with(marker)


async def test_credential_like_env_values_are_secrets(tmp_path):
    secret = "tok-live-5d41402abc4b2a76"
    async with OneRingAI.from_config(write_config(tmp_path), env={"DEMO_TOKEN": secret}) as client:
        await client.tools.from_mcp("demo")
        result = await client.tools.execute("fail", {"message": f"the token {secret} was refused"})
        assert result.is_error and secret not in result.error and "[REDACTED]" in result.error
        assert secret not in result.output


async def test_missing_extra_names_it(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "mcp", None)  # as if the mcp extra were not installed
    async with OneRingAI.from_config(write_config(tmp_path), env={}) as client:
        with pytest.raises(ConfigError, match=r"the mcp extra: \.venv/bin/pip install -e '\.\[mcp\]'"):
            await client.tools.from_mcp("demo")
