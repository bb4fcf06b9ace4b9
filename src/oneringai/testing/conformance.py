"""A reusable pytest suite for any ``IOAuthTokenStorage`` (built-in or your own).

    from oneringai.testing import TokenStorageConformance

    class TestMongoStorage(TokenStorageConformance):
        @pytest.fixture
        async def storage(self):
            store = MongoOAuthStorage(...)
            yield store
            await store.drop_all()

It runs under pytest-asyncio in ``strict`` mode as well as ``auto``: the kit's tests carry
the asyncio mark, and an ``async`` ``storage`` fixture written with plain ``@pytest.fixture``
(as above, and as in the guide) is handed to pytest-asyncio for you.

Every failure says what the store did wrong and how to fix it. Tampering is tested without
any hook where possible: through ``_get``/``_put`` (stores built on ``EncryptedTokenStorage``),
or by writing a record through your own ``store_token`` while the store's key (a ``KeyRing``,
32 key bytes or an ``AESGCM`` attribute) is briefly swapped. Override ``tamper(storage, key)``
for a store that keeps its key elsewhere. The simplest way to pass: encrypt with
``oneringai.infrastructure.token_storage.KeyRing`` (``ring.seal(key, token)`` /
``ring.open(key, envelope)``), which raises ``TokenDecryptionError`` for you.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import os
import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from oneringai.domain.errors import TokenDecryptionError
from oneringai.domain.interfaces import IOAuthTokenStorage
from oneringai.domain.tokens import StoredToken

try:
    import pytest_asyncio
except ImportError as exc:  # pragma: no cover - the kit's async tests need it
    raise ImportError("the storage conformance kit needs pytest-asyncio: pip install pytest-asyncio") from exc

__all__ = ["TokenStorageConformance"]

_USE_KEY_RING = (
    "The one-line way: encrypt with oneringai's KeyRing — "
    "`from oneringai.infrastructure.token_storage import KeyRing`, "
    "`envelope = ring.seal(key, token)` in store_token and `ring.open(key, envelope)` in get_token — "
    "which raises TokenDecryptionError itself; or catch your cipher's error and raise TokenDecryptionError."
)


def _token(access: str = "at", refresh: str | None = "rt", expires_in: float | None = 3600) -> StoredToken:
    return StoredToken(access_token=access, refresh_token=refresh, expires_in=expires_in, scope="read write")


def _value(token: StoredToken | None) -> str | None:
    return None if token is None else token.access_token.get_secret_value()


async def _target(storage: IOAuthTokenStorage) -> Any:
    resolve = getattr(storage, "resolve", None)
    return await resolve() if resolve is not None else storage


def _key_slots(store: Any) -> list[tuple[str, Any]]:
    """Attributes of ``store`` that hold its encryption key, with a wrong replacement each."""
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    from oneringai.infrastructure.token_storage.encryption import KeyRing

    slots: list[tuple[str, Any]] = []
    for name, value in list(vars(store).items()):
        if isinstance(value, KeyRing):
            slots.append((name, KeyRing.generate()))
        elif isinstance(value, bytes | bytearray) and len(value) in (16, 24, 32):
            slots.append((name, os.urandom(len(value))))
        elif isinstance(value, AESGCM):
            slots.append((name, AESGCM(AESGCM.generate_key(bit_length=256))))
    return slots


@contextlib.contextmanager
def _swapped_key(store: Any) -> Iterator[bool]:
    """Briefly gives ``store`` a wrong key; yields False when no key attribute was found."""
    slots = _key_slots(store)
    saved = {name: getattr(store, name) for name, _ in slots}
    try:
        for name, wrong in slots:
            setattr(store, name, wrong)
        yield bool(slots)
    finally:
        for name, value in saved.items():
            setattr(store, name, value)


def _as_asyncio_fixture(fixture: Any) -> Any:
    """A ``@pytest.fixture`` over an async function, re-made as a pytest-asyncio fixture (so
    strict mode runs it); anything else unchanged."""
    function = getattr(fixture, "__wrapped__", None)
    if function is None or getattr(function, "_force_asyncio_fixture", False):
        return fixture
    if not (inspect.isasyncgenfunction(function) or inspect.iscoroutinefunction(function)):
        return fixture
    return pytest_asyncio.fixture(function)


class TokenStorageConformance:
    """Subclass in your tests and provide a ``storage`` fixture (sync or async)."""

    pytestmark = [pytest.mark.asyncio]
    concurrent_writers = 200

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "storage" in cls.__dict__:
            setattr(cls, "storage", _as_asyncio_fixture(cls.__dict__["storage"]))  # noqa: B010

    @pytest.fixture
    def key_prefix(self) -> str:
        return f"conformance:{uuid.uuid4().hex[:8]}"

    async def tamper(self, storage: IOAuthTokenStorage, key: str) -> bool:
        """Make the stored record for ``key`` unauthenticatable; False if this store cannot.

        Default: flip a byte of the envelope through ``_get``/``_put``; else rewrite the
        record through the store's own ``store_token`` while its key is swapped."""
        target = await _target(storage)
        if hasattr(target, "_get") and hasattr(target, "_put"):
            record = await target._get(key)
            if record is not None and isinstance(record[0], str) and ":" in record[0]:
                envelope, expires_at = record
                head, _, payload = envelope.rpartition(":")
                flipped = payload[:-6] + ("A" if payload[-6] != "A" else "B") + payload[-5:]
                await target._put(key, f"{head}:{flipped}", expires_at)
                return True
        token = await storage.get_token(key)
        if token is None:
            return False
        with _swapped_key(target) as swapped:
            if swapped:
                await storage.store_token(key, token)
        return swapped

    # --- the tests ----------------------------------------------------------------------------
    async def test_round_trip(self, storage: IOAuthTokenStorage, key_prefix: str) -> None:
        key = f"{key_prefix}:github:client"
        token = _token("access-1", "refresh-1")
        await storage.store_token(key, token)
        got = await storage.get_token(key)
        assert got is not None, "get_token returned None right after store_token for the same key"
        assert isinstance(got, StoredToken), f"get_token must return a StoredToken, got {type(got).__name__}"
        assert _value(got) == "access-1", "get_token returned another access token than was stored"
        assert got.refresh_token is not None and got.refresh_token.get_secret_value() == "refresh-1", (
            "the refresh token was lost: a store must keep every field of the token"
        )
        assert got.expires_in == token.expires_in and got.scope == "read write", (
            "expires_in or scope changed between store_token and get_token"
        )
        assert got.obtained_at == pytest.approx(token.obtained_at), (
            "obtained_at changed: keep it (in seconds), or tokens look fresh or expired at the wrong time"
        )

    async def test_overwrite(self, storage: IOAuthTokenStorage, key_prefix: str) -> None:
        key = f"{key_prefix}:k"
        await storage.store_token(key, _token("one"))
        await storage.store_token(key, _token("two"))
        got = await storage.get_token(key)
        assert _value(got) == "two", (
            f"after storing 'one' then 'two' under one key, get_token returned {_value(got)!r}: "
            "store_token must replace the record (an upsert), not keep the first"
        )

    async def test_delete_and_has(self, storage: IOAuthTokenStorage, key_prefix: str) -> None:
        key = f"{key_prefix}:k"
        assert not await storage.has_token(key), "has_token is True for a key never stored"
        await storage.store_token(key, _token())
        assert await storage.has_token(key), "has_token is False right after store_token"
        await storage.delete_token(key)
        assert not await storage.has_token(key), "has_token is still True after delete_token"
        assert await storage.get_token(key) is None, "get_token still returns a token after delete_token"
        await storage.delete_token(key)  # deleting twice must be fine

    async def test_missing_key(self, storage: IOAuthTokenStorage, key_prefix: str) -> None:
        got = await storage.get_token(f"{key_prefix}:absent")
        assert got is None, "get_token must return None for a key never stored (not raise, not a default)"

    async def test_unicode_keys_and_users_are_isolated(self, storage: IOAuthTokenStorage, key_prefix: str) -> None:
        keys = {
            "alice": f"{key_prefix}:prov:client:ålice-日本",
            "bob": f"{key_prefix}:prov:client:bob/../x",
            "base": f"{key_prefix}:prov:client",
            "longer": f"{key_prefix}:prov:client:ålice-日本x",
            "escaped": f"{key_prefix}:prov:client%3Ax:y",
            "spaces": f"{key_prefix}:prov:client: a b *?[]",
        }
        for name, key in keys.items():
            await storage.store_token(key, _token(f"{name}-token"))
        for name, key in keys.items():
            got = _value(await storage.get_token(key))
            assert got == f"{name}-token", (
                f"key {key!r} returned {got!r}: keys are opaque strings — a store must not normalise, "
                "truncate or strip them, and must keep prefixes (p:c vs p:c:u) and users apart"
            )

    async def test_list_keys_by_prefix(self, storage: IOAuthTokenStorage, key_prefix: str) -> None:
        await storage.store_token(f"{key_prefix}:a:1", _token())
        await storage.store_token(f"{key_prefix}:a:2", _token())
        await storage.store_token(f"{key_prefix}:b:1", _token())
        try:
            keys = await storage.list_keys(f"{key_prefix}:a:")
        except NotImplementedError:
            pytest.skip("this storage cannot list keys (optional: needed by `oneringai tokens` admin)")
        assert sorted(keys) == [f"{key_prefix}:a:1", f"{key_prefix}:a:2"], (
            f"list_keys({key_prefix + ':a:'!r}) returned {sorted(keys)!r}: it must return exactly "
            "the stored keys that start with the prefix (a literal prefix, not a pattern)"
        )

    async def test_concurrent_writers_lose_nothing(self, storage: IOAuthTokenStorage, key_prefix: str) -> None:
        keys = [f"{key_prefix}:user:{i}" for i in range(self.concurrent_writers)]
        await asyncio.gather(*(storage.store_token(k, _token(f"t{i}")) for i, k in enumerate(keys)))
        same = f"{key_prefix}:same"
        await asyncio.gather(*(storage.store_token(same, _token(f"s{i}")) for i in range(50)))
        results = await asyncio.gather(*(storage.get_token(k) for k in keys))
        lost = [k for k, r, i in zip(keys, results, range(len(keys)), strict=True) if _value(r) != f"t{i}"]
        assert not lost, (
            f"{len(lost)} of {len(keys)} concurrent writes to different keys were lost or mixed up "
            f"(first: {lost[0]!r}): store_token must be safe to call concurrently"
        )
        last = _value(await storage.get_token(same))
        assert last is not None and last.startswith("s"), (
            "50 concurrent writes to one key left no readable token: writes must be atomic"
        )

    async def test_expired_token_without_refresh_is_gone(self, storage: IOAuthTokenStorage, key_prefix: str) -> None:
        key = f"{key_prefix}:expired"
        old = StoredToken(access_token="old", expires_in=1, obtained_at=time.time() - 10)
        await storage.store_token(key, old)
        got = await storage.get_token(key)
        assert got is None or got.is_expired(), "an expired token came back as if it were valid"
        kept = f"{key_prefix}:refreshable"
        await storage.store_token(
            kept, StoredToken(access_token="old", refresh_token="r", expires_in=1, obtained_at=time.time() - 10)
        )
        got = await storage.get_token(kept)
        assert got is not None, (
            "get_token returned None for an expired token that still has a refresh token: a store must "
            "keep refreshable tokens — the guide's `WHERE expires_at > NOW()` / Redis TTL = expires_in "
            "is the bug (expire a record only when it has no refresh token)"
        )
        assert got.is_expired() and got.refresh_token is not None, "the refreshable token came back changed"

    async def test_tampering_is_detected(self, storage: IOAuthTokenStorage, key_prefix: str) -> None:
        key = f"{key_prefix}:tamper"
        await storage.store_token(key, _token("secret-value"))
        if not await self.tamper(storage, key):
            pytest.skip(
                "the kit found no way to corrupt a record of this store (no _get/_put, no key attribute): "
                "override tamper(storage, key), or encrypt with KeyRing held as an attribute"
            )
        await self._expect_decryption_error(storage, key, "a tampered record")
        assert await storage.has_token(key), (
            "the tampered record was deleted: a store must keep it (and raise) so someone can look at it"
        )

    async def test_wrong_key_is_detected(self, storage: IOAuthTokenStorage, key_prefix: str) -> None:
        key = f"{key_prefix}:wrong-key"
        await storage.store_token(key, _token("secret-value"))
        target = await _target(storage)
        with _swapped_key(target) as swapped:
            if not swapped:
                pytest.skip("the kit found no key attribute (KeyRing, 32 key bytes, AESGCM) on this store")
            await self._expect_decryption_error(storage, key, "a record read with the wrong key")

    async def _expect_decryption_error(self, storage: IOAuthTokenStorage, key: str, what: str) -> None:
        try:
            got = await storage.get_token(key)
        except TokenDecryptionError:
            return
        except Exception as exc:
            pytest.fail(
                f"get_token raised {type(exc).__module__}.{type(exc).__name__} for {what}: a store must raise "
                f"oneringai's TokenDecryptionError (callers catch that one type). {_USE_KEY_RING}",
                pytrace=False,
            )
        pytest.fail(
            f"get_token returned {'None' if got is None else 'a token'} for {what}: it must raise "
            f"TokenDecryptionError — never return garbage, never pretend the record is absent. {_USE_KEY_RING}",
            pytrace=False,
        )

