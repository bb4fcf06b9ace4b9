"""Tamper matrix: every store x every kind of garbage. A stored value is a token or a
``TokenDecryptionError`` for that key; ``list_keys`` skips foreign entries and never fails."""

from __future__ import annotations

import contextlib
import logging

import pytest

from oneringai import StoredToken, TokenDecryptionError, TokenStorageError
from tests.faults.storage_support import GARBAGE, RING, Backend


async def test_every_kind_of_garbage_is_a_typed_error_for_its_key(backend: Backend, caplog: pytest.LogCaptureFixture) -> None:
    store = backend.store
    await store.store_token("good:one", StoredToken(access_token="good-token-1", refresh_token="r-1"))
    for name, raw in GARBAGE.items():
        key = f"bad:{name}"
        await backend.plant(key, raw)
        with pytest.raises(TokenDecryptionError) as info:
            await store.get_token(key)
        assert repr(key) in str(info.value), f"{backend.kind}/{name}: the error must name the key"
        assert await store.has_token(key), f"{backend.kind}/{name}: an unreadable record is not absent"
    caplog.set_level(logging.WARNING)
    listed = await store.list_keys("")
    assert listed == ["good:one"], f"{backend.kind}: foreign entries must be skipped, got {listed}"
    assert "foreign entry" in caplog.text, "skipping a foreign entry is logged"
    got = await store.get_token("good:one")
    assert got is not None and got.access_token.get_secret_value() == "good-token-1"
    # a rotation run over a store with garbage re-encrypts what it can, never raises a raw error
    for key in ["good:one", *[f"bad:{n}" for n in GARBAGE]]:
        with contextlib.suppress(TokenDecryptionError):
            await store.rotate_key(key)
    assert await store.cleanup_expired() >= 0  # never deletes what it cannot read
    assert await store.has_token("bad:json-array")


async def test_a_record_under_another_key_fails_to_open(backend: Backend) -> None:
    """A valid envelope copied to another key (user B reading user A's token) is refused."""
    store = backend.store
    await store.store_token("p:c:alice", StoredToken(access_token="alice-token"))
    envelope = await store.get_envelope("p:c:alice")
    assert envelope is not None and "alice-token" not in envelope
    if backend.kind in ("file", "aws"):  # these keep the key inside the record too
        payload = f'{{"key": "K", "envelope": "{envelope}", "expires_at": null}}'.encode()
    else:
        payload = envelope.encode()
    await backend.plant("p:c:bob", payload)
    with pytest.raises(TokenDecryptionError):
        await store.get_token("p:c:bob")


async def test_flipped_bytes_in_an_envelope(backend: Backend) -> None:
    store = backend.store
    await store.store_token("k", StoredToken(access_token="flip-me-token"))
    envelope = await store.get_envelope("k")
    assert envelope is not None
    head, _, payload = envelope.rpartition(":")
    for position in (0, len(payload) // 2, len(payload) - 3):
        flipped = payload[:position] + ("B" if payload[position] == "A" else "A") + payload[position + 1 :]
        await store._put("k", f"{head}:{flipped}", None)
        with pytest.raises(TokenDecryptionError):
            await store.get_token("k")


async def test_keys_that_look_alike_never_alias(backend: Backend) -> None:
    store = backend.store
    keys = [
        "crm:x%3Abob", "crm%3Ax:bob", "crm:x:bob", "crm:x", "crm:x:", "crm:x:bob ", "Crm:x:bob",
        "crm:x:böb", "crm:x:bo\u0308b", "crm/x:bob", "crm_3ax:bob", "lock:crm", "oauth-refresh:crm",
        "k" * 900,
    ]
    for index, key in enumerate(keys):
        await store.store_token(key, StoredToken(access_token=f"token-{index:03d}"))
    for index, key in enumerate(keys):
        got = await store.get_token(key)
        assert got is not None and got.access_token.get_secret_value() == f"token-{index:03d}", key
    assert sorted(await store.list_keys("")) == sorted(keys)


@pytest.mark.parametrize("key", ["", 42, None, "x" * 1100, "\ud800lone"])
async def test_invalid_keys_are_typed_errors(backend: Backend, key: object) -> None:
    with pytest.raises(TokenStorageError):
        await backend.store.store_token(key, StoredToken(access_token="t"))  # type: ignore[arg-type]
    with pytest.raises(TokenStorageError):
        await backend.store.get_token(key)  # type: ignore[arg-type]


async def test_storing_a_non_token_is_a_typed_error(backend: Backend) -> None:
    with pytest.raises(TokenStorageError):
        await backend.store.store_token("k", {"access_token": "t"})  # type: ignore[arg-type]


def test_postgres_identifiers_are_fully_matched() -> None:
    from oneringai.infrastructure.token_storage.postgres import PostgresTokenStorage

    for bad in ["tokens\n", "tokens;drop", "1tokens", "", "a" * 64, 'to"kens', "tokens\x00"]:
        with pytest.raises(TokenStorageError, match="invalid table name"):
            PostgresTokenStorage(object(), RING, table=bad)
        with pytest.raises(TokenStorageError, match="invalid schema name"):
            PostgresTokenStorage(object(), RING, schema=bad)
    assert PostgresTokenStorage(object(), RING, table="oauth_tokens_2").table == '"public"."oauth_tokens_2"'
