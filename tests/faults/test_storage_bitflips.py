"""Every single-bit flip of a stored record is a ``TokenDecryptionError`` — or leaves the same
token. Before, the record's expiry (kept beside the authenticated envelope) and its field
names were not checked: of 2,800 flips of a file-store record 118 passed silently — a token
with another expiry, or ``None`` (the token dropped as expired) for ``"expires_as"`` or a
flipped digit. Now the record has exactly its three fields, and its expiry must be the one the
decrypted token implies."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from oneringai import StoredToken
from oneringai.domain.errors import TokenDecryptionError
from oneringai.infrastructure.token_storage.encryption import KeyRing
from oneringai.infrastructure.token_storage.file import FileTokenStorage
from tests.faults.storage_support import Backend

TOKENS = {
    "refreshable": StoredToken(access_token="flip-access-1", refresh_token="flip-refresh-1", expires_in=3600),
    "expiring": StoredToken(access_token="flip-access-2", expires_in=3600),
}


@pytest.mark.parametrize("kind", sorted(TOKENS))
async def test_every_bit_flip_of_a_file_record_is_detected(tmp_path: Path, kind: str) -> None:
    store = FileTokenStorage(tmp_path / "tokens", KeyRing.generate())
    token = TOKENS[kind]
    await store.store_token("flip:user", token)
    path = store._path("flip:user")
    original = path.read_bytes()
    silent = []
    for index in range(len(original)):
        for bit in range(8):
            flipped = bytearray(original)
            flipped[index] ^= 1 << bit
            path.write_bytes(bytes(flipped))
            try:
                got = await store.get_token("flip:user")
            except TokenDecryptionError:
                continue
            same = got is not None and got.access_token == token.access_token and got.expires_at == token.expires_at
            if not same:
                silent.append((index, bit, chr(original[index]), None if got is None else "another token"))
    assert not silent, f"{len(silent)} flips passed silently, e.g. {silent[:5]}"
    path.write_bytes(original)
    assert await store.get_token("flip:user") == token


async def test_a_changed_expiry_or_field_is_detected_on_every_store(backend: Backend) -> None:
    """The same in each backend's own terms: the expiry moved, or an extra field added."""
    store = backend.store
    key = "flip:expiry"
    token = StoredToken(access_token="flip-access-3", expires_in=3600, obtained_at=time.time())
    await store.store_token(key, token)
    assert await store.get_token(key) == token
    later = time.time() + 7 * 86400
    if backend.kind == "redis":
        pytest.skip("Redis keeps no expiry beside the envelope (the key's TTL expires it)")
    envelope = await store.get_envelope(key)
    if backend.kind == "postgres":
        await store.pool.execute(f"UPDATE {store.table} SET expires_at = to_timestamp($2) WHERE key = $1", key, later)
        with pytest.raises(TokenDecryptionError, match="expiry"):
            await store.get_token(key)
        await store.pool.execute(f"UPDATE {store.table} SET expires_at = NULL WHERE key = $1", key)
        with pytest.raises(TokenDecryptionError, match="expiry"):
            await store.get_token(key)
        return
    for record in (
        {"key": key, "envelope": envelope, "expires_at": later},
        {"key": key, "envelope": envelope, "expires_at": None},
        {"key": key, "envelope": envelope, "expires_as": token.expires_at},
        {"key": key, "envelope": envelope, "expires_at": token.expires_at, "extra": 1},
    ):
        if backend.kind == "memory":
            if set(record) != {"key", "envelope", "expires_at"}:
                continue  # the memory store keeps (envelope, expiry), not a document
            store.raw_records()[key] = (envelope, record["expires_at"])  # type: ignore[attr-defined]
        else:
            await backend.plant(key, json.dumps(record).encode())
        with pytest.raises(TokenDecryptionError):
            await store.get_token(key)
