"""Token lifetimes no store can keep: an infinite, NaN or 1e308 ``expires_in`` (or an
``obtained_at`` of -1e308) was accepted, then the file and AWS stores wrote a record they could
not read back ("Infinity" in JSON — the token lost), Postgres and Redis failed the write with
their own errors. Now such a token is refused when built, and a sealed record holding one is a
``TokenDecryptionError``; the longest valid lifetime round-trips in every store (found by the
adversarial review, issue #10 class 3)."""

from __future__ import annotations

import json

import pytest
from pydantic import ValidationError

from oneringai import StoredToken, TokenDecryptionError
from tests.faults.storage_support import RING, Backend

IMPOSSIBLE = {
    "expires-in-inf": {"expires_in": float("inf")},
    "expires-in-nan": {"expires_in": float("nan")},
    "expires-in-1e308": {"expires_in": 1e308},
    "expires-in-10**30": {"expires_in": 10**30},
    "obtained-at-minus-1e308": {"expires_in": 10.0, "obtained_at": -1e308},
    "obtained-at-inf": {"obtained_at": float("inf")},
}


@pytest.mark.parametrize("name", list(IMPOSSIBLE))
def test_an_impossible_lifetime_is_refused_when_built(name: str) -> None:
    with pytest.raises(ValidationError):
        StoredToken(access_token="life-token-123", **IMPOSSIBLE[name])


async def test_a_sealed_record_with_an_impossible_lifetime_is_a_typed_error(backend: Backend) -> None:
    store = backend.store
    for name, fields in IMPOSSIBLE.items():
        key = f"life:{name}"
        await store.store_token(key, StoredToken(access_token="placeholder-token"))
        plaintext = json.dumps({"access_token": "tampered-token-1", **fields}).encode()  # NaN/Infinity as JSON allows
        envelope = RING.encrypt(key, plaintext)
        if backend.kind in ("file", "aws"):
            await backend.plant(key, json.dumps({"key": "K", "envelope": envelope, "expires_at": None}).encode())
        else:
            await backend.plant(key, envelope.encode())
        with pytest.raises(TokenDecryptionError):
            await store.get_token(key)


async def test_the_longest_valid_lifetime_round_trips(backend: Backend) -> None:
    store = backend.store
    for fields in ({"expires_in": 1e10}, {"expires_in": -1e10}, {"expires_in": 3600.0, "obtained_at": 1.7e12}):
        key = f"long:{sorted(fields.items())}"
        token = StoredToken(access_token="long-life-token", **fields)
        await store.store_token(key, token)
        got = await store.get_token(key)
        if got is None:  # an expired token without a refresh token is gone (TTL or expiry check)
            assert token.is_expired()
            continue
        assert got.access_token.get_secret_value() == "long-life-token" and got.expires_in == token.expires_in
