"""Secrets never leave: a token endpoint that echoes everything it was sent (raw body, Basic
header, values form-encoded and JSON-escaped) — on refresh, client credentials, code
exchange, JWT bearer and revocation — and nothing secret reaches a message, repr or log."""

from __future__ import annotations

import base64
import logging
import time
import traceback
from collections.abc import AsyncIterator
from urllib.parse import quote_plus

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from oneringai import OAuthError, StoredToken
from tests.faults.oauth_support import HostileTokenServer, echo_everything, hostile_server, manager_for, reply

SECRET = "client-secret-value-123"
EXTRA = "extra-param-secret-xyz"
REFRESH = "refresh+token/with=odd&chars-987"


@pytest.fixture
async def server() -> AsyncIterator[HostileTokenServer]:
    async for running in hostile_server():
        yield running


def _leaks(exc: BaseException, records: list[logging.LogRecord], secrets: list[str]) -> list[str]:
    texts = [str(exc), repr(exc), *map(str, exc.args), "".join(traceback.format_exception(exc))]
    texts += [str(getattr(exc, "error", "")), str(exc.__cause__), str(exc.__context__)]
    texts += [r.getMessage() for r in records if r.name.startswith(("oneringai", "httpx"))]
    found = []
    for secret in secrets:
        variants = {secret, quote_plus(secret), base64.b64encode(f"hostile-client:{secret}".encode()).decode()}
        if any(v in text for v in variants for text in texts):
            found.append(secret)
    return found


async def test_refresh_failure_echoing_the_request_leaks_nothing(server: HostileTokenServer, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    server.responder = echo_everything(400, "invalid_request")
    manager = manager_for(server, extra_token_params={"tenant_secret": EXTRA})
    await manager.storage.store_token(
        manager.storage_key("u1"),
        StoredToken(access_token="old-access-token-1", refresh_token=REFRESH, expires_in=1, obtained_at=time.time() - 60),
    )
    with pytest.raises(OAuthError) as info:
        await manager.get_token("u1")
    assert server.requests == 1 and "[REDACTED]" in str(info.value)
    assert not _leaks(info.value, caplog.records, [SECRET, EXTRA, REFRESH, "old-access-token-1"])


async def test_client_credentials_failure_echoing_the_request_leaks_nothing(server: HostileTokenServer, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    server.responder = echo_everything(401, "invalid_client")
    short = "s3cr"  # shorter than the global floor: still scrubbed from this request's errors
    manager = manager_for(server, "client_credentials", client_secret=short, extra_token_params={"audience_key": EXTRA})
    with pytest.raises(OAuthError) as info:
        await manager.get_token()
    assert info.value.status_code == 401 and info.value.error == "invalid_client"
    assert not _leaks(info.value, caplog.records, [short, EXTRA])


async def test_code_exchange_failure_hides_code_verifier_and_state(server: HostileTokenServer, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    server.responder = echo_everything(400, "invalid_grant")
    manager = manager_for(server)
    _url, state = manager.get_authorization_url("alice")
    verifier = manager._pending[state].verifier
    assert verifier is not None
    code = "authorization-code-abcdef123"
    with pytest.raises(OAuthError) as info:
        await manager.handle_callback(f"http://127.0.0.1:8765/callback?code={code}&state={state}")
    assert info.value.error == "invalid_grant"  # a failed code exchange is not a login-required refresh
    assert not _leaks(info.value, caplog.records, [code, verifier, state, SECRET])
    assert verifier not in repr(manager._pending) and verifier not in repr(manager)


async def test_error_callback_echoing_code_and_state_leaks_nothing(server: HostileTokenServer) -> None:
    manager = manager_for(server)
    _, state = manager.get_authorization_url()
    code = "leaked-code-value-999"
    callback = {"state": state, "code": code, "error": "access_denied", "error_description": f"denied {code} {state}"}
    with pytest.raises(OAuthError) as info:
        await manager.handle_callback(callback)
    assert code not in str(info.value) and state not in str(info.value)


async def test_jwt_bearer_assertion_is_never_shown(server: HostileTokenServer, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    server.responder = echo_everything(400, "invalid_grant")
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()).decode()
    manager = manager_for(server, "jwt_bearer", private_key=pem, client_secret=None)
    with pytest.raises(OAuthError) as info:
        await manager.get_token()
    assertion = server.forms[-1]["assertion"]
    assert not _leaks(info.value, caplog.records, [assertion, pem.splitlines()[1]])


async def test_revocation_refusal_is_logged_scrubbed(server: HostileTokenServer, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    server.responder = echo_everything(400, "unsupported_token_type")
    manager = manager_for(server)
    key = manager.storage_key("bob")
    await manager.storage.store_token(key, StoredToken(access_token="bob-access-token-42", refresh_token=REFRESH))
    await manager.revoke("bob")
    assert not await manager.storage.has_token(key)  # deleted locally anyway
    messages = [r.getMessage() for r in caplog.records if r.name.startswith("oneringai")]
    assert any("revocation" in m for m in messages)
    assert not [m for m in messages for s in ("bob-access-token-42", REFRESH, SECRET, quote_plus(REFRESH)) if s in m]


async def test_a_token_in_a_malformed_response_is_not_shown(server: HostileTokenServer) -> None:
    server.responder = reply(200, {"access_token": "half-valid-access-token", "expires_in": "soon"})
    manager = manager_for(server, "client_credentials")
    with pytest.raises(OAuthError, match="expires_in") as info:
        await manager.get_token()
    assert "half-valid-access-token" not in str(info.value) and info.value.__cause__ is None


async def test_a_revocation_refusal_echoing_the_basic_header_is_scrubbed(
    server: HostileTokenServer, caplog: pytest.LogCaptureFixture
) -> None:
    """The client secret travels as HTTP Basic (base64 of ``id:secret``): a server quoting the
    header put the encoded secret in the log — the token request hid it, revocation did not."""
    caplog.set_level(logging.DEBUG)
    server.responder = lambda form, raw, auth: reply(400, {"error": "invalid_request", "error_description": f"client {auth.split()[-1]} unknown"})(
        form, raw, auth
    )
    manager = manager_for(server)
    key = manager.storage_key("bob")
    await manager.storage.store_token(key, StoredToken(access_token="bob-access-token-43"))
    await manager.revoke("bob")
    basic = base64.b64encode(f"hostile-client:{SECRET}".encode()).decode()
    messages = [r.getMessage() for r in caplog.records if r.name.startswith("oneringai")]
    assert any("revocation" in m for m in messages)
    assert not [m for m in messages if basic in m], messages
