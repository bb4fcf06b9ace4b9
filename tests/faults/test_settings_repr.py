"""Settings end up in tracebacks and log lines through their repr. A secret query value in a
provider's ``base_url`` (``?api_key=…``), an ``extra_token_params`` value and the password in an
MCP server's URL were shown by ``repr(settings)``; ``config show`` already hid them (found by the
adversarial review, issue #10 class 1)."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

from oneringai.config import load_settings
from oneringai.infrastructure.providers.config import OpenAIProviderConfig

QUERY_KEY = "qk" + uuid.uuid4().hex[:12]
EXTRA = "ex" + uuid.uuid4().hex[:12]
MCP_PASSWORD = "mp" + uuid.uuid4().hex[:12]


def test_no_secret_in_the_repr_of_loaded_settings(tmp_path: Path) -> None:
    config = {
        "text": {"default": "p", "providers": {"p": {"kind": "openai", "base_url": f"https://api.example.com/v1?api_key={QUERY_KEY}&v=1"}}},
        "oauth": {"connections": {"gh": {"flow": "client_credentials", "client_id": "c", "token_url": "https://ex.com/token",
                                         "extra_token_params": {"resource": EXTRA}}}},
        "tools": {"mcp_servers": {"m": {"url": f"https://user:{MCP_PASSWORD}@mcp.example.com/mcp"}}},
    }
    path = tmp_path / "c.yaml"
    path.write_text(json.dumps(config))
    settings = load_settings(path, env={}, dotenv=None)
    for text in (repr(settings), str(settings), repr(settings.text), repr(settings.oauth), repr(settings.tools)):
        for secret in (QUERY_KEY, EXTRA, MCP_PASSWORD):
            assert secret not in text
    assert "mcp.example.com" in repr(settings.tools), "what is not secret stays readable"


def test_a_provider_config_built_in_code_hides_query_keys() -> None:
    config = OpenAIProviderConfig(base_url=f"https://api.example.com/v1?key=1&api_key={QUERY_KEY}")
    assert QUERY_KEY not in repr(config) and "api.example.com" in repr(config)


def test_a_credential_variable_used_in_a_plain_string_is_hidden(tmp_path: Path) -> None:
    """``args: ["--token", "${GH_TOKEN}"]`` put the token in a plain list of strings, which
    ``config show`` printed as it was; a variable named like a credential is now a secret
    wherever its value lands. Other variables stay readable."""
    from oneringai.config.display import redacted_view

    token = "gt" + uuid.uuid4().hex[:14]
    plain = "pl" + uuid.uuid4().hex[:14]
    path = tmp_path / "c.yaml"
    path.write_text(
        "tools:\n  mcp_servers:\n    gh:\n      command: [python, -m, server]\n"
        "      args: ['--token', '${GH_TOKEN}', '--org', '${GH_ORG}']\n"
    )
    settings = load_settings(path, env={"GH_TOKEN": token, "GH_ORG": plain}, dotenv=None)
    assert token in settings.tools.mcp_servers["gh"].args, "the server still gets its token"
    shown = json.dumps(redacted_view(settings))
    assert token not in shown and token not in repr(settings)
    assert plain in shown, "a variable not named like a credential is shown"
