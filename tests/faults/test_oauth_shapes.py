"""A token endpoint's answer is a token or an ``OAuthError`` — whatever its shape. Fuzzed at the
parsing boundary with hypothesis, and the hostile shapes checked over a real loopback endpoint."""

from __future__ import annotations

import json
import os
from collections.abc import AsyncIterator

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from oneringai import OAuthError, StoredToken
from oneringai.application.oauth.token_endpoint import MAX_BODY_BYTES, parse_token_response
from tests.faults.oauth_support import HostileTokenServer, hostile_server, manager_for, reply

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=12,
)
field_values = st.one_of(
    json_values, st.just("abc"), st.just(""), st.just("  "), st.just("3600"), st.just(-5), st.just(1e308), st.just(True)
)
token_like = st.fixed_dictionaries(
    {},
    optional={
        "access_token": field_values,
        "token_type": field_values,
        "expires_in": field_values,
        "refresh_token": field_values,
        "scope": field_values | st.lists(st.text(max_size=5), max_size=3),
        "error": field_values,
        "error_description": field_values,
        "id_token": field_values,
    },
)


def _check(status: int, body: bytes, content_type: str = "application/json") -> None:
    try:
        token = parse_token_response(status, body, content_type, connection="fuzz")
    except OAuthError as exc:
        assert exc.connection == "fuzz"
        return
    assert isinstance(token, StoredToken)
    assert 200 <= status < 300
    assert isinstance(token.access_token.get_secret_value(), str) and token.access_token.get_secret_value().strip()
    assert token.expires_in is None or token.expires_in >= 0


@settings(max_examples=int(os.environ.get("ONERINGAI_FUZZ_EXAMPLES", "400")), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(status=st.sampled_from([200, 201, 204, 301, 400, 401, 500]), payload=token_like)
def test_token_shaped_objects(status: int, payload: dict[str, object]) -> None:
    _check(status, json.dumps(payload, allow_nan=True).encode())


@settings(max_examples=int(os.environ.get("ONERINGAI_FUZZ_EXAMPLES", "300")), deadline=None)
@given(status=st.sampled_from([200, 400]), payload=json_values)
def test_any_json_value(status: int, payload: object) -> None:
    _check(status, json.dumps(payload).encode())


@settings(max_examples=int(os.environ.get("ONERINGAI_FUZZ_EXAMPLES", "300")), deadline=None)
@given(body=st.binary(max_size=300), content_type=st.sampled_from(["application/json", "text/plain", "application/x-www-form-urlencoded", ""]))
def test_any_bytes(body: bytes, content_type: str) -> None:
    _check(200, body, content_type)


def test_lenient_where_vendors_differ() -> None:
    token = parse_token_response(200, b'{"access_token": "a-token-1", "expires_in": "3600", "scope": ["a", "b"]}')
    assert token.expires_in == 3600 and token.scope == "a b"
    form = parse_token_response(200, b"access_token=form-token-1&token_type=bearer&scope=repo", "application/x-www-form-urlencoded")
    assert form.access_token.get_secret_value() == "form-token-1"
    spoofed = parse_token_response(200, b'{"access_token": "t-123", "expires_in": 60, "obtained_at": 9e18, "needs_login": true}')
    assert spoofed.is_expired(skew=120) and not spoofed.needs_login  # the server cannot fake our bookkeeping
    github_style = b'{"error": "bad_verification_code", "error_description": "The code passed is incorrect"}'
    with pytest.raises(OAuthError) as info:
        parse_token_response(200, github_style)  # an error with status 200
    assert info.value.error == "bad_verification_code"


@pytest.fixture
async def server() -> AsyncIterator[HostileTokenServer]:
    async for running in hostile_server():
        yield running


HOSTILE = {
    "array": reply(200, []),
    "null": reply(200, None),
    "string": reply(200, "x"),
    "number": reply(200, 42),
    "no-access-token": reply(200, {"token_type": "bearer"}),
    "access-token-number": reply(200, {"access_token": 12345}),
    "access-token-object": reply(200, {"access_token": {"v": "x"}}),
    "access-token-empty": reply(200, {"access_token": ""}),
    "expires-in-abc": reply(200, {"access_token": "t-1", "expires_in": "abc"}),
    "expires-in-negative": reply(200, {"access_token": "t-1", "expires_in": -1}),
    "expires-in-bool": reply(200, {"access_token": "t-1", "expires_in": True}),
    "refresh-token-list": reply(200, {"access_token": "t-1", "refresh_token": ["r"]}),
    "html": reply(200, raw=b"<html><body>login</body></html>", content_type="text/html"),
    "html-502": reply(502, raw=b"<html>Bad Gateway</html>", content_type="text/html"),
    "not-utf8": reply(200, raw=b"\xff\xfe\xfd", content_type="application/json"),
    "nested-bomb": reply(200, raw=b"[" * 100_000 + b"]" * 100_000),
    "huge": reply(200, raw=b'{"access_token": "' + b"a" * (MAX_BODY_BYTES + 10) + b'"}'),
    "redirect": reply(302, raw=b"", content_type="text/plain"),
    "error-number": reply(400, {"error": 7, "error_description": ["x"]}),
}


@pytest.mark.parametrize("shape", sorted(HOSTILE))
async def test_hostile_shapes_over_http_are_oauth_errors(server: HostileTokenServer, shape: str) -> None:
    server.responder = HOSTILE[shape]
    manager = manager_for(server, "client_credentials")
    with pytest.raises(OAuthError):
        await manager.get_token()
    assert not await manager.storage.has_token(manager.storage_key())  # nothing half-valid stored
