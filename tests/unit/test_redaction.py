"""The one scrubbing mechanism: registered values and credential shapes never leave."""

from __future__ import annotations

import logging
import secrets as secrets_module

from hypothesis import given, settings
from hypothesis import strategies as st

from oneringai import OAuthError, ProviderUnavailableError, StoredToken, TokenStorageError
from oneringai.domain.redaction import REDACTED, get_logger, redact, register_secret


def _secret() -> str:
    return "s3cr3t-" + secrets_module.token_urlsafe(12)


@settings(max_examples=200, deadline=None)
@given(before=st.text(max_size=40), after=st.text(max_size=40))
def test_a_registered_secret_never_survives_redaction(before: str, after: str):
    value = _secret()
    register_secret(value)
    assert value not in redact(before + value + after)


def test_every_error_type_scrubs_its_message():
    value = _secret()
    register_secret(value)
    for error in (
        OAuthError(f"invalid_grant: refresh token {value} is revoked", error="invalid_grant"),
        ProviderUnavailableError(f"upstream echoed {value}", provider="p", body=f'{{"key": "{value}"}}'),
        TokenStorageError(f"cannot write {value}", backend="redis"),
    ):
        assert value not in str(error) and value not in repr(error)
        assert REDACTED in str(error)
    assert value not in (ProviderUnavailableError("x", body=value).body or "")


def test_credential_shapes_are_replaced_without_registration():
    text = (
        "key sk-proj-abcdefghijklmnop, header Bearer abc.def-123, url postgres://app:hunter2@db/x, "
        'body {"client_secret": "shh-secret", "access_token": "tok"} form refresh_token=rt-1&scope=a '
        "jwt eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0In0.c2lnbmF0dXJl"
    )
    cleaned = redact(text)
    for leaked in ("abcdefghijklmnop", "abc.def-123", "hunter2", "shh-secret", '"tok"', "rt-1", "eyJzdWIi"):
        assert leaked not in cleaned, leaked
    assert "postgres://app:" in cleaned and "scope=a" in cleaned  # only the secret part goes


def test_short_and_placeholder_values_are_not_registered_globally():
    register_secret("ollama")  # a common placeholder key: hiding every "ollama" would hurt
    assert redact("provider=ollama") == "provider=ollama"


def test_stored_token_repr_hides_every_token_field():
    token = StoredToken(access_token=_secret(), refresh_token=_secret(), id_token=_secret(), scope="read")
    shown = repr(token) + str(token)
    for value in (token.access_token.get_secret_value(), token.refresh_token.get_secret_value(), token.id_token):  # type: ignore[union-attr, attr-defined]
        assert value not in shown
    assert "scope='read'" in shown


def test_millisecond_obtained_at_is_read_as_seconds():
    token = StoredToken(access_token="a" * 10, expires_in=60, obtained_at=1_700_000_000_000)
    assert token.obtained_at == 1_700_000_000.0 and token.is_expired()


def test_log_records_are_scrubbed(caplog):
    value = _secret()
    register_secret(value)
    logger = get_logger("oneringai.test_redaction")
    with caplog.at_level(logging.INFO, logger="oneringai.test_redaction"):
        logger.info("token %s refreshed", value)
        try:
            raise RuntimeError(f"boom {value}")
        except RuntimeError:
            logger.exception("failed")
    assert value not in caplog.text
    assert all(value not in (r.exc_text or "") for r in caplog.records)
