"""OAuth URLs httpx cannot request: before, a bad IPv6 literal or a line break in ``token_url``
raised httpx ``InvalidURL`` (no ``HTTPError``, so no ``OAuthError``) and a port out of range an
``ExceptionGroup`` from inside the request. Now each is a ``ConfigError`` naming the connection
and the key, from YAML and from the guide's standalone ``OAuthManager(config)`` (found by the
adversarial review, issue #10 class 5)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from oneringai.config import load_settings
from oneringai.domain.errors import ConfigError
from tests.faults.oauth_support import HostileTokenServer, hostile_server, manager_for


@pytest.fixture
async def server() -> AsyncIterator[HostileTokenServer]:
    async for running in hostile_server():
        yield running


BAD_URLS = {
    "bad IPv6 literal": "http://[::1/token",
    "port out of range": "http://127.0.0.1:99999/token",
    "port not a number": "http://127.0.0.1:port/token",
    "line break": "http://127.0.0.1:1/token\nX-Evil: 1",
    "NUL": "http://127.0.0.1\x00:1/token",
    "space": "http://127.0.0.1 /token",
    "no scheme": "127.0.0.1/token",
    "other scheme": "ftp://127.0.0.1/token",
    "no host": "https:///token",
}


@pytest.mark.parametrize("field", ["token_url", "revocation_url", "authorization_url"])
@pytest.mark.parametrize("case", list(BAD_URLS))
async def test_a_bad_server_url_is_a_config_error(server: HostileTokenServer, field: str, case: str) -> None:
    with pytest.raises(ConfigError, match=rf"oauth\.connections\.hostile.*{field}"):
        manager_for(server, flow="client_credentials", **{field: BAD_URLS[case]})
    assert server.requests == 0


@pytest.mark.parametrize("case", ["bad IPv6 literal", "port out of range", "line break", "space"])
def test_a_bad_url_in_yaml_names_its_path(tmp_path: Path, case: str) -> None:
    path = tmp_path / "c.yaml"
    url = BAD_URLS[case].replace("\n", "\\n").replace("\x00", "\\0")
    path.write_text(f'oauth:\n  connections:\n    gh:\n      flow: client_credentials\n      client_id: x\n      token_url: "{url}"\n')
    with pytest.raises(ConfigError, match=r"oauth\.connections\.gh\.token_url"):
        load_settings(path, env={}, dotenv=None)


@pytest.mark.parametrize("redirect", ["com.example.app:/oauth2redirect", "myapp://callback", "http://127.0.0.1:8765/cb"])
async def test_native_app_redirect_uris_still_load(server: HostileTokenServer, redirect: str) -> None:
    manager = manager_for(server, redirect_uri=redirect)
    assert manager.config.redirect_uri == redirect


@pytest.mark.parametrize("redirect", ["http://[::1/cb", "myapp://call back", "/relative/cb"])
async def test_a_broken_redirect_uri_is_a_config_error(server: HostileTokenServer, redirect: str) -> None:
    with pytest.raises(ConfigError, match="redirect_uri"):
        manager_for(server, redirect_uri=redirect)
