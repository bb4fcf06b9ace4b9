"""A token too large to read back is refused before anything is written. Before, the file and
Redis stores wrote a sealed token of more than ``MAX_RECORD_BYTES`` over the good one and then
refused to read it (a file "too large to be a token record", a Redis value cut at the limit):
the working token was lost for one that could never be used. Now ``store_token`` raises
``TokenStorageError`` first and the stored token is unchanged — on every backend."""

from __future__ import annotations

import pytest

from oneringai import StoredToken, TokenStorageError
from oneringai.infrastructure.token_storage.base import MAX_RECORD_BYTES
from tests.faults.storage_support import Backend


async def test_a_token_too_large_to_read_back_is_refused_and_the_old_one_kept(backend: Backend) -> None:
    store = backend.store
    key = "huge:user"
    good = StoredToken(access_token="good-small-token-1", refresh_token="good-refresh-1")
    await store.store_token(key, good)
    huge = StoredToken(access_token="A" * MAX_RECORD_BYTES, refresh_token="huge-refresh-1")
    with pytest.raises(TokenStorageError) as info:
        await store.store_token(key, huge)
    assert "A" * 100 not in str(info.value)
    assert await store.get_token(key) == good, f"{backend.kind}: the stored token was replaced"
    assert await store.list_keys("huge:") == [key]


async def test_the_largest_storable_token_reads_back(backend: Backend) -> None:
    if backend.kind == "aws":
        pytest.skip("AWS Secrets Manager holds at most 64 KiB per secret (its own limit)")
    store = backend.store
    key = "huge:largest"
    token = StoredToken(access_token="B" * (MAX_RECORD_BYTES * 2 // 3), refresh_token="largest-refresh-1")
    await store.store_token(key, token)
    assert await store.get_token(key) == token


@pytest.mark.parametrize("key", ["nul-\x00-key", "k" * 1025, "lone-\udcff"])
async def test_a_key_one_backend_cannot_hold_is_refused_by_all(backend: Backend, key: str) -> None:
    """A NUL was refused by Postgres only (its text type), after an OAuth login had stored
    nothing: now every store refuses such keys alike, before touching the backend."""
    store = backend.store
    for call in (
        lambda: store.store_token(key, StoredToken(access_token="never-stored-1")),
        lambda: store.get_token(key),
        lambda: store.has_token(key),
        lambda: store.delete_token(key),
    ):
        with pytest.raises(TokenStorageError, match="token key"):
            await call()
