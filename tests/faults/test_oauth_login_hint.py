"""A LoginRequiredError says how to log in, and only in a way that can work.

Before: a manager built in code (the guide's ``OAuthManager({"flow": ..., "storage": store})``)
told the user to run ``oneringai oauth login oauth --user user123`` — a command that reads
``oauth.connections`` from YAML and answers "no OAuth connection 'oauth'".
"""

from __future__ import annotations

import pytest

from oneringai import LoginRequiredError, OAuthManager, OneRingAI
from oneringai.config import load_settings
from oneringai.testing import MemoryTokenStorage

CONNECTION = {
    "flow": "authorization_code", "client_id": "abc", "authorization_url": "https://auth.example/authorize",
    "token_url": "https://auth.example/token", "redirect_uri": "http://127.0.0.1:8765/callback",
}


async def test_a_manager_built_in_code_points_to_the_authorization_url():
    manager = OAuthManager({**CONNECTION, "storage": MemoryTokenStorage()})
    with pytest.raises(LoginRequiredError) as caught:
        await manager.get_token("user123")
    message = str(caught.value)
    assert "oneringai oauth login" not in message.split("(`")[0]  # no command to run
    assert "manager.get_authorization_url()" in message and "only connections under oauth.connections" in message


async def test_a_yaml_connection_names_the_command(tmp_path):
    path = tmp_path / "c.yaml"
    items = ", ".join(f"{k}: '{v}'" for k, v in CONNECTION.items())
    path.write_text(f"oauth:\n  storage: {{kind: memory}}\n  connections:\n    gh: {{{items}}}\n")
    async with OneRingAI(settings=load_settings(path, env={}, dotenv=None)) as client:
        with pytest.raises(LoginRequiredError) as caught:
            await client.oauth("gh").get_token("user123")
    assert "Run `oneringai oauth login gh --user user123`" in str(caught.value)


def test_one_key_in_both_spellings_is_not_called_unknown():
    """``client_id`` and the guide's ``clientId`` together were "unknown key(s) 'clientId'", while
    the same message listed ``client_id / clientId`` as accepted."""
    from oneringai import ConfigError

    with pytest.raises(ConfigError) as caught:
        OAuthManager({**CONNECTION, "clientId": "abc", "storage": MemoryTokenStorage()})
    assert "'client_id' and 'clientId' are one key given twice: keep one" in str(caught.value)
    assert "unknown" not in str(caught.value)
