"""A reusable pytest suite for any ``IOAuthTokenStorage`` (built-in or your own).

    from oneringai.testing import TokenStorageConformance

    class TestMongoStorage(TokenStorageConformance):
        @pytest.fixture
        async def storage(self):
            store = MongoOAuthStorage(...)
            yield store
            await store.drop_all()

Override ``tamper(storage, key)`` to corrupt one stored record of your backend; the
built-in stores need nothing (they expose their envelopes).
"""

from __future__ import annotations

import asyncio
import time
import uuid
from typing import Any

import pytest

from oneringai.domain.errors import TokenDecryptionError
from oneringai.domain.interfaces import IOAuthTokenStorage
from oneringai.domain.tokens import StoredToken

__all__ = ["TokenStorageConformance"]


def _token(access: str = "at", refresh: str | None = "rt", expires_in: float | None = 3600) -> StoredToken:
    return StoredToken(access_token=access, refresh_token=refresh, expires_in=expires_in, scope="read write")


class TokenStorageConformance:
    """Subclass in your tests and provide an async ``storage`` fixture."""

    concurrent_writers = 200

    @pytest.fixture
    def key_prefix(self) -> str:
        return f"conformance:{uuid.uuid4().hex[:8]}"

    async def tamper(self, storage: IOAuthTokenStorage, key: str) -> bool:
        """Corrupt the stored record for ``key``; return False if this backend cannot."""
        target: Any = storage
        resolve = getattr(target, "resolve", None)
        if resolve is not None:
            target = await resolve()
        if not (hasattr(target, "_get") and hasattr(target, "_put")):
            return False
        envelope, expires_at = await target._get(key)
        head, _, payload = envelope.rpartition(":")
        flipped = payload[:-6] + ("A" if payload[-6] != "A" else "B") + payload[-5:]
        await target._put(key, f"{head}:{flipped}", expires_at)
        return True

    async def test_round_trip(self, storage: IOAuthTokenStorage, key_prefix: str) -> None:
        key = f"{key_prefix}:github:client"
        token = _token("access-1", "refresh-1")
        await storage.store_token(key, token)
        got = await storage.get_token(key)
        assert got is not None
        assert got.access_token.get_secret_value() == "access-1"
        assert got.refresh_token is not None and got.refresh_token.get_secret_value() == "refresh-1"
        assert got.expires_in == token.expires_in and got.scope == "read write"
        assert got.obtained_at == pytest.approx(token.obtained_at)

    async def test_overwrite(self, storage: IOAuthTokenStorage, key_prefix: str) -> None:
        key = f"{key_prefix}:k"
        await storage.store_token(key, _token("one"))
        await storage.store_token(key, _token("two"))
        got = await storage.get_token(key)
        assert got is not None and got.access_token.get_secret_value() == "two"

    async def test_delete_and_has(self, storage: IOAuthTokenStorage, key_prefix: str) -> None:
        key = f"{key_prefix}:k"
        assert not await storage.has_token(key)
        await storage.store_token(key, _token())
        assert await storage.has_token(key)
        await storage.delete_token(key)
        assert not await storage.has_token(key)
        assert await storage.get_token(key) is None
        await storage.delete_token(key)  # deleting twice is fine

    async def test_missing_key(self, storage: IOAuthTokenStorage, key_prefix: str) -> None:
        assert await storage.get_token(f"{key_prefix}:absent") is None

    async def test_unicode_keys_and_users_are_isolated(self, storage: IOAuthTokenStorage, key_prefix: str) -> None:
        alice, bob = f"{key_prefix}:prov:client:ålice-日本", f"{key_prefix}:prov:client:bob/../x"
        await storage.store_token(alice, _token("alice-token"))
        await storage.store_token(bob, _token("bob-token"))
        got_a, got_b = await storage.get_token(alice), await storage.get_token(bob)
        assert got_a is not None and got_a.access_token.get_secret_value() == "alice-token"
        assert got_b is not None and got_b.access_token.get_secret_value() == "bob-token"

    async def test_list_keys_by_prefix(self, storage: IOAuthTokenStorage, key_prefix: str) -> None:
        await storage.store_token(f"{key_prefix}:a:1", _token())
        await storage.store_token(f"{key_prefix}:a:2", _token())
        await storage.store_token(f"{key_prefix}:b:1", _token())
        try:
            keys = await storage.list_keys(f"{key_prefix}:a:")
        except NotImplementedError:
            pytest.skip("this storage cannot list keys")
        assert sorted(keys) == [f"{key_prefix}:a:1", f"{key_prefix}:a:2"]

    async def test_concurrent_writers_lose_nothing(self, storage: IOAuthTokenStorage, key_prefix: str) -> None:
        keys = [f"{key_prefix}:user:{i}" for i in range(self.concurrent_writers)]
        await asyncio.gather(*(storage.store_token(k, _token(f"t{i}")) for i, k in enumerate(keys)))
        same = f"{key_prefix}:same"
        await asyncio.gather(*(storage.store_token(same, _token(f"s{i}")) for i in range(50)))
        results = await asyncio.gather(*(storage.get_token(k) for k in keys))
        assert [r.access_token.get_secret_value() if r else None for r in results] == [f"t{i}" for i in range(len(keys))]
        last = await storage.get_token(same)
        assert last is not None and last.access_token.get_secret_value().startswith("s")

    async def test_expired_token_without_refresh_is_gone(self, storage: IOAuthTokenStorage, key_prefix: str) -> None:
        key = f"{key_prefix}:expired"
        old = StoredToken(access_token="old", expires_in=1, obtained_at=time.time() - 10)
        await storage.store_token(key, old)
        assert await storage.get_token(key) is None
        kept = f"{key_prefix}:refreshable"
        await storage.store_token(kept, StoredToken(access_token="old", refresh_token="r", expires_in=1, obtained_at=time.time() - 10))
        got = await storage.get_token(kept)
        assert got is not None and got.is_expired()  # still there: it can be refreshed

    async def test_tampering_is_detected(self, storage: IOAuthTokenStorage, key_prefix: str) -> None:
        key = f"{key_prefix}:tamper"
        await storage.store_token(key, _token("secret-value"))
        if not await self.tamper(storage, key):
            pytest.skip("override tamper() to corrupt a record of this backend")
        with pytest.raises(TokenDecryptionError):
            await storage.get_token(key)
        assert await storage.has_token(key)  # never silently deleted
