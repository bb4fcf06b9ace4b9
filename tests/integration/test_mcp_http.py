"""Tools from a real streamable-HTTP MCP server on loopback (tests/mcp_servers/demo.py under
uvicorn) that wants an API key header and a bearer token from the Authlib OAuth server."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from oneringai import OneRingAI, ToolExecutionError
from tests.oauth_server import OAuthTestServer

pytest.importorskip("mcp")

ROOT = Path(__file__).resolve().parents[2]
API_KEY = "mcp-key-7f3a9c1e5b"


class DemoHttpServer:
    """The demo MCP server as a uvicorn subprocess on a fixed loopback port (restartable)."""

    def __init__(self, introspect_url: str) -> None:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}/mcp"
        self.env = {**os.environ, "DEMO_API_KEY": API_KEY, "DEMO_INTROSPECT_URL": introspect_url}
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "tests.mcp_servers.demo", "http", str(self.port)],
            cwd=ROOT, env=self.env, stderr=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"demo MCP server exited with {self.process.returncode}")
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.5).close()
                return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError("demo MCP server did not start")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)


@pytest.fixture(scope="module")
def oauth_server() -> Iterator[OAuthTestServer]:
    server = OAuthTestServer().start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def mcp_http(oauth_server: OAuthTestServer) -> Iterator[DemoHttpServer]:
    server = DemoHttpServer(f"{oauth_server.url}/api/me")
    server.start()
    yield server
    server.stop()


def write_config(tmp_path: Path, mcp_url: str, oauth_url: str) -> Path:
    path = tmp_path / "mcp-http.yaml"
    path.write_text(
        f"""
oauth:
  storage: {{kind: memory}}
  connections:
    partner: {{flow: client_credentials, client_id: svc, client_secret: "${{PARTNER_SECRET}}", token_url: "{oauth_url}/token"}}
tools:
  mcp_servers:
    partner:
      url: "{mcp_url}"
      headers: {{X-Api-Key: "${{PARTNER_MCP_KEY}}"}}
      oauth_connection: partner
      timeout: 1.5
      connect_timeout: 10
"""
    )
    return path


def env(key: str = API_KEY) -> dict[str, str]:
    return {"PARTNER_MCP_KEY": key, "PARTNER_SECRET": "svc-secret"}


async def test_header_and_oauth_bearer_reach_the_server_with_one_token_request(tmp_path, mcp_http, oauth_server):
    before = oauth_server.token_requests.get("svc", 0)
    config = write_config(tmp_path, mcp_http.url, oauth_server.url)
    async with OneRingAI.from_config(config, env=env()) as client:
        tools = await client.tools.from_mcp("partner")
        assert "whoami" in {tool.name for tool in tools}
        for _ in range(3):
            who = await client.tools.execute("whoami", {})
            assert json.loads(who.output) == {"authenticated": True, "user": None, "client": "svc"}
        added = await client.tools.execute("add", {"a": 20, "b": 22})
        assert json.loads(added.output) == {"result": 42}
        assert oauth_server.token_requests["svc"] - before == 1  # every request reused one token

        # The server rejects the token (revoked): the bearer is replaced once and the call resent.
        token = await client.oauth("partner").get_token()
        httpx.post(f"{oauth_server.url}/revoke", data={"token": token}, timeout=10)
        again = await client.tools.execute("whoami", {})
        assert not again.is_error and json.loads(again.output)["authenticated"] is True
        assert oauth_server.token_requests["svc"] - before == 2
        assert client.container.mcp_servers().session("partner").connects == 1


async def test_a_wrong_api_key_is_a_named_error_and_never_printed(tmp_path, mcp_http, oauth_server, capsys):
    wrong = "wrong-key-0c9d8e7f6a"
    config = write_config(tmp_path, mcp_http.url, oauth_server.url)
    async with OneRingAI.from_config(config, env=env(wrong)) as client:
        with pytest.raises(ToolExecutionError, match=r"HTTP 401 \(check tools\.mcp_servers\.partner\.headers") as info:
            await client.tools.from_mcp("partner")
        assert wrong not in str(info.value)
        assert wrong not in repr(client.settings.tools.mcp_servers)
        assert wrong not in client.settings.model_dump_json()
        # A message that echoes a header value is scrubbed.
        assert wrong not in str(ToolExecutionError(f"server said: bad key {wrong}"))


async def test_slow_tool_times_out_and_a_killed_server_is_an_error_then_reconnects(tmp_path, mcp_http, oauth_server):
    config = write_config(tmp_path, mcp_http.url, oauth_server.url)
    async with OneRingAI.from_config(config, env=env()) as client:
        await client.tools.from_mcp("partner")
        started = time.monotonic()
        slow = await client.tools.execute("hang", {"seconds": 30})
        assert slow.is_error and "within 1.5s" in slow.error and time.monotonic() - started < 15
        assert not (await client.tools.execute("echo", {"text": "still here"})).is_error
        session = client.container.mcp_servers().session("partner")
        assert session.connects == 1  # a slow tool does not cost the connection

        mcp_http.stop()  # the server dies between calls
        down = await client.tools.execute("echo", {"text": "anyone?"})
        assert down.is_error and down.metadata["retryable"] is True
        mcp_http.start()
        back = await client.tools.execute("echo", {"text": "back"})
        assert not back.is_error and json.loads(back.output) == {"result": "back"}
        assert session.connects == 2
