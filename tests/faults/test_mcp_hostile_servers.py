"""Hostile MCP servers over real stdio (tests/mcp_servers/raw.py speaks the protocol by hand):
tool listings and schemas the SDK's own server would never produce."""

from __future__ import annotations

import asyncio
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from oneringai import OneRingAI, ToolExecutionError
from oneringai.infrastructure.mcp._schema import checkable_schema

pytest.importorskip("mcp")

ROOT = Path(__file__).resolve().parents[2]


def config(tmp_path: Path, mode: str) -> Path:
    path = tmp_path / "mcp.yaml"
    path.write_text(
        f"""
oauth: {{storage: {{kind: memory}}}}
tools:
  executor: [{{kind: timeout, default: 60}}]
  mcp_servers:
    raw:
      command: ["{sys.executable}", "{ROOT / 'tests' / 'mcp_servers' / 'raw.py'}"]
      env: {{MODE: {mode}}}
      timeout: 20
      connect_timeout: 30
"""
    )
    return path


async def test_a_tool_listed_twice_is_one_tool(tmp_path):
    """Before: from_mcp returned ``echo`` twice, and ``agents.create(tools=...)`` raised a raw
    ``ValueError`` (a tool named 'echo' is already registered)."""
    async with OneRingAI.from_config(config(tmp_path, "dup")) as client:
        tools = await client.tools.from_mcp("raw")
        assert [t.name for t in tools] == ["echo"]
        assert tools[0].definition.function.description == "echo"  # the first listing wins
        agent = client.agents.create(tools=tools, model="m")
        assert [t.name for t in agent.tools] == ["echo"]
        result = await client.tools.execute("echo", {"text": "hi"})
        assert not result.is_error and result.output == '{"text": "hi"}'


async def test_a_catastrophic_pattern_in_a_schema_does_not_stop_the_process(tmp_path):
    """``"^(a+)+$"`` against ``a…a!``: Python's ``re`` backtracks exponentially, holding the GIL
    (39 ``a`` would take hours; 24 take seconds). Before: the kit ran it in the event loop, then
    answered ``invalid_arguments``; now patterns are the server's to check, and the call reaches it."""
    arguments = {"s": "a" * 24 + "!"}
    async with OneRingAI.from_config(config(tmp_path, "redos")) as client:
        await client.tools.from_mcp("raw")
        result = await client.tools.execute("slowpat", arguments)
    assert not result.is_error, result.error
    assert result.output == '{"s": "' + "a" * 24 + '!"}'


async def test_a_ref_that_cannot_be_resolved_leaves_judging_to_the_server(tmp_path):
    """Before: a ``$ref`` to a URL or to nowhere made every call an ``executor_error`` quoting
    jsonschema's ``_WrappedReferencingError``; the tool could never be used."""
    async with OneRingAI.from_config(config(tmp_path, "ref")) as client:
        await client.tools.from_mcp("raw")
        for name in ("remote", "localref"):
            result = await client.tools.execute(name, {"s": "x"})
            assert not result.is_error, result.error
            assert result.output == '{"s": "x"}'
        still_checked = await client.tools.execute("echo", {"text": 3})
    assert still_checked.is_error and still_checked.metadata.get("code") == "invalid_arguments"


def test_only_regular_expressions_leave_the_checked_schema():
    schema = {
        "type": "object",
        "properties": {
            "pattern": {"type": "string", "pattern": "^(a+)+$", "maxLength": 3},  # a property named "pattern"
            "tags": {"type": "array", "items": {"type": "string", "pattern": "x*"}},
            "meta": {"type": "object", "patternProperties": {"^x": {}}, "additionalProperties": False},
        },
        "anyOf": [{"required": ["pattern"]}, {"properties": {"q": {"pattern": "y"}}}],
        "required": ["tags"],
    }
    made = checkable_schema(schema)
    assert made["properties"]["pattern"] == {"type": "string", "maxLength": 3}
    assert made["properties"]["tags"]["items"] == {"type": "string"}
    assert made["properties"]["meta"] == {"type": "object"}
    assert made["anyOf"][1] == {"properties": {"q": {}}}
    assert made["required"] == ["tags"]
    assert schema["properties"]["pattern"]["pattern"] == "^(a+)+$"  # the original is untouched


async def test_an_endless_json_answer_over_http_is_cut_at_the_limit(tmp_path):
    """Before: the SDK read the whole body (``aread``); memory grew ~100 MB/s until the timeout
    (852 MB in 8 s), and the error said the server did not greet in time."""
    from oneringai.infrastructure.mcp._bounded import MAX_RESPONSE_BYTES

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = subprocess.Popen([sys.executable, "-m", "tests.mcp_servers.endless_http", str(port)], cwd=ROOT)
    try:
        deadline = time.monotonic() + 30
        while True:
            with socket.socket() as probe:
                if probe.connect_ex(("127.0.0.1", port)) == 0:
                    break
            assert time.monotonic() < deadline and server.poll() is None
            await asyncio.sleep(0.1)
        path = tmp_path / "http.yaml"
        path.write_text(
            f"""
oauth: {{storage: {{kind: memory}}}}
tools:
  mcp_servers:
    endless: {{url: "http://127.0.0.1:{port}/mcp", timeout: 60, connect_timeout: 60}}
"""
        )
        async with OneRingAI.from_config(path) as client:
            with pytest.raises(ToolExecutionError, match=f"exceeds {MAX_RESPONSE_BYTES} bytes"):
                await client.tools.from_mcp("endless")
    finally:
        server.kill()
        server.wait(10)


async def test_the_sdk_logs_no_secret_of_an_mcp_url(tmp_path, caplog, monkeypatch):
    """The SDK logs ``Connecting to StreamableHTTP endpoint: <url>`` (its own ``mcp.*`` logger,
    DEBUG), query string included: an ``?api_key=`` there reached the application's logs as it
    was. The kit's redacting filter now sits on the SDK's loggers too."""
    import logging

    secret = "qq" + "secretvalue" + "987654"
    monkeypatch.setenv("MCP_QUERY_KEY", secret)
    path = tmp_path / "q.yaml"
    path.write_text(
        """
oauth: {storage: {kind: memory}}
tools:
  mcp_servers:
    q: {url: "http://127.0.0.1:9/mcp?api_key=${MCP_QUERY_KEY}", connect_timeout: 5}
"""
    )
    with caplog.at_level(logging.DEBUG):
        async with OneRingAI.from_config(path) as client:
            with pytest.raises(ToolExecutionError):
                await client.tools.from_mcp("q")
    assert "StreamableHTTP endpoint" in caplog.text  # the SDK did log the URL
    assert secret not in caplog.text
