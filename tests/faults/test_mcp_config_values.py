"""MCP server settings no connection can use — a URL with a bad IPv6 literal, a port out of
range, a line break or a space; header names or values HTTP cannot carry; a NUL in the command —
are ``ConfigError``s naming ``tools.mcp_servers.<name>.<key>`` at load, not a "could not be
reached" at first use (found by the adversarial review, issue #10 class 5)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from oneringai.config import load_settings
from oneringai.domain.errors import ConfigError

BAD: dict[str, tuple[dict[str, Any], str]] = {
    "url bad IPv6": ({"url": "http://[::1/mcp"}, "url"),
    "url port out of range": ({"url": "http://127.0.0.1:99999/mcp"}, "url"),
    "url line break": ({"url": "http://127.0.0.1:1/mcp\nX-Evil: 1"}, "url"),
    "url space": ({"url": "http://127.0.0.1 :1/mcp"}, "url"),
    "url without host": ({"url": "http:///mcp"}, "url"),
    "header value CR/LF": ({"url": "http://127.0.0.1:1/mcp", "headers": {"X-Api-Key": "k\r\nX-Evil: 1"}}, "headers"),
    "header value non-ASCII": ({"url": "http://127.0.0.1:1/mcp", "headers": {"X-Api-Key": "clé-secrète"}}, "headers"),
    "header name with a space": ({"url": "http://127.0.0.1:1/mcp", "headers": {"X Api": "k"}}, "headers"),
    "NUL in command": ({"command": ["pyt\x00hon"]}, "command"),
    "NUL in args": ({"command": ["python3"], "args": ["-c", "\x00"]}, "args"),
}


@pytest.mark.parametrize("case", list(BAD))
def test_unusable_mcp_settings_are_config_errors_naming_the_path(tmp_path: Path, case: str) -> None:
    server, key = BAD[case]
    path = tmp_path / "c.yaml"
    path.write_text(json.dumps({"tools": {"mcp_servers": {"s": server}}}, ensure_ascii=False))
    with pytest.raises(ConfigError, match=rf"tools\.mcp_servers\.s\.{key}") as caught:
        load_settings(path, env={}, dotenv=None)
    assert "clé-secrète" not in str(caught.value) and "X-Evil" not in str(caught.value)


@pytest.mark.parametrize("url", ["http://127.0.0.1:8000/mcp", "https://[::1]:8443/mcp", "https://mcp.example.com"])
def test_usable_urls_still_load(tmp_path: Path, url: str) -> None:
    path = tmp_path / "c.yaml"
    path.write_text(json.dumps({"tools": {"mcp_servers": {"s": {"url": url, "headers": {"X-Api-Key": "k v"}}}}}))
    assert load_settings(path, env={}, dotenv=None).tools.mcp_servers["s"].url == url
