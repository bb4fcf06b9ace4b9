"""Token endpoint answers whose JSON is valid and whose shape is right, but whose values are not:
numbers past a float, tokens with control characters, lone surrogates or CR/LF (header
injection at first use), and token-like values nested in extras. Each is an ``OAuthError`` or a
token whose repr hides them (found by the adversarial review, issue #10 classes 1 and 2)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import pytest

from oneringai import OAuthError, StoredToken
from oneringai.application.oauth.token_endpoint import parse_token_response
from oneringai.domain.redaction import redact
from tests.faults.oauth_support import HostileTokenServer, hostile_server, manager_for, reply


@pytest.fixture
async def server() -> AsyncIterator[HostileTokenServer]:
    async for running in hostile_server():
        yield running


#: Raw JSON bodies (written by hand: ``json.dumps`` would not produce some of them).
HOSTILE_BODIES = {
    "expires-in-400-digits": b'{"access_token": "good-access-123456", "expires_in": 1' + b"0" * 400 + b"}",
    "expires-in-negative-huge": b'{"access_token": "good-access-123456", "expires_in": -1' + b"0" * 400 + b"}",
    "access-lone-surrogate": b'{"access_token": "good-access-123456\\ud800"}',
    "access-nul": b'{"access_token": "good-access-123456\\u0000"}',
    "access-crlf-injection": b'{"access_token": "good-access-123456\\r\\nX-Evil: 1"}',
    "access-non-ascii": b'{"access_token": "g\\u00f6\\u00f6d-access-123456"}',
    "refresh-crlf": b'{"access_token": "good-access-123456", "refresh_token": "r\\r\\nX: y"}',
    "token-type-newline": b'{"access_token": "good-access-123456", "token_type": "Bearer\\n"}',
}


@pytest.mark.parametrize("name", list(HOSTILE_BODIES))
def test_hostile_values_are_an_oauth_error(name: str) -> None:
    with pytest.raises(OAuthError, match="malformed"):
        parse_token_response(200, HOSTILE_BODIES[name])


@pytest.mark.parametrize("name", list(HOSTILE_BODIES))
async def test_hostile_values_from_a_real_endpoint(server: HostileTokenServer, name: str) -> None:
    server.responder = reply(200, raw=HOSTILE_BODIES[name])
    manager = manager_for(server, flow="client_credentials")
    with pytest.raises(OAuthError):
        await manager.get_token()


def test_a_secret_named_extra_with_a_lone_surrogate_does_not_break_scrubbing() -> None:
    body = b'{"access_token": "good-access-123456", "session_token": "s\\ud800-secret", "expires_in": "x"}'
    with pytest.raises(OAuthError, match="expires_in"):
        parse_token_response(200, body)


def test_an_error_description_next_to_surrogate_tokens_is_scrubbed() -> None:
    body = b'{"error": "invalid_grant", "error_description": "bad good-access-123456", "access_token": "good-access-123456", "refresh_token": "r\\udfff"}'
    with pytest.raises(OAuthError) as caught:
        parse_token_response(400, body)
    assert "good-access-123456" not in str(caught.value)


NESTED = {
    "access_token": "nested-access-1234567",
    "openid": {"refresh_token": "nested-refresh-7654321", "n": 1, "more": [{"id_token": "nested-id-token-99887"}]},
    "tokens": ["listed-token-11223344"],
}


def test_stored_token_repr_hides_token_like_values_at_any_depth() -> None:
    token = StoredToken.from_token_response(json.loads(json.dumps(NESTED)))
    shown = repr(token) + str(token)
    for value in ("nested-refresh-7654321", "nested-id-token-99887", "listed-token-11223344"):
        assert value not in shown
        assert value not in redact(f"server said {value}"), "nested token values are registered for scrubbing"
    assert "'n': 1" in shown, "what is not a secret stays readable"


def test_stored_token_repr_of_deeply_nested_extras_is_bounded() -> None:
    deep: object = "deep-secret-value-0001"
    for _ in range(3000):
        deep = {"x": deep}
    token = StoredToken(access_token="deep-access-token-1", session=deep)
    assert "deep-secret-value-0001" not in repr(token)


async def test_nested_token_in_a_real_response_is_not_in_repr(server: HostileTokenServer) -> None:
    server.responder = reply(200, NESTED)
    manager = manager_for(server, flow="client_credentials")
    assert await manager.get_token() == "nested-access-1234567"
    stored = await manager.storage.get_token(manager.storage_key())
    assert stored is not None and "nested-refresh-7654321" not in repr(stored)


@pytest.mark.parametrize(
    "callback",
    [
        "http://[::1/cb?code=c&state={state}",  # urlsplit: ValueError "Invalid IPv6 URL"
        {"code": "c\udc00", "state": "{state}"},  # a lone surrogate: UnicodeEncodeError
        "http://127.0.0.1/cb?code=c&state={state}\udc00",
    ],
    ids=["bad IPv6 host", "surrogate in code", "surrogate in state"],
)
async def test_a_hostile_redirect_is_an_oauth_error(server: HostileTokenServer, callback: object) -> None:
    manager = manager_for(server)
    _, state = manager.get_authorization_url("u1")
    filled = (
        callback.replace("{state}", state) if isinstance(callback, str)
        else {k: v.replace("{state}", state) for k, v in callback.items()}  # type: ignore[attr-defined]
    )
    with pytest.raises(OAuthError):
        await manager.handle_callback(filled)
    assert server.requests == 0, "no code exchange for a refused callback"


def test_a_url_password_in_an_ordinary_extra_is_hidden_in_repr() -> None:
    token = StoredToken(access_token="extra-url-token-1", instance_url="https://user:Pw9x8c7v6b5n@crm.example.com")
    assert "Pw9x8c7v6b5n" not in repr(token) and "crm.example.com" in repr(token)
