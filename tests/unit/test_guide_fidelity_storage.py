"""The guide's token stores (MongoDB, Redis, PostgreSQL), ported as literally as Python allows,
against the examples that do them right (``examples/*_token_storage.py``).

Each guide port shows what its code does in Python: where it works, where it fails at once, and
where it quietly loses tokens (the reason ``docs/extensibility.md`` warns at each example). Each
example store passes the conformance kit against the real Redis and PostgreSQL (own prefix or
table per test) or, for MongoDB, the in-memory collection with the same calls.
"""

from __future__ import annotations

import base64
import json
import os
import time
import uuid
from datetime import UTC, datetime
from typing import Any

import pytest
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from oneringai import (
    IOAuthTokenStorage,
    KeyRing,
    OAuthManager,
    StoredToken,
    TokenDecryptionError,
    TokenStorageError,
)
from oneringai.testing import TokenStorageConformance
from tests.conftest import POSTGRES_DSN, REDIS_URL, require_postgres, require_redis
from tests.guide_examples import load_example

mongo_example = load_example("mongo_token_storage")
redis_example = load_example("redis_token_storage")
postgres_example = load_example("postgres_token_storage")

HOUR_AGO = time.time() - 3600


def flip(envelope: str) -> str:
    """One changed character in the middle of the sealed payload."""
    head, _, payload = envelope.rpartition(":")
    i = len(payload) // 2
    return f"{head}:{payload[:i]}{'A' if payload[i] != 'A' else 'B'}{payload[i + 1:]}"


def refreshable_but_expired() -> StoredToken:
    return StoredToken(access_token="at-old", refresh_token="rt-keep", expires_in=60, obtained_at=HOUR_AGO)


# ============================================================================================
# MongoDB: the guide's store, line by line (Node's crypto -> cryptography's AESGCM)
# ============================================================================================
class GuideMongoOAuthStorage(IOAuthTokenStorage):
    def __init__(self, collection: Any, encryption_key: str) -> None:
        self.collection = collection
        self.encryption_key = bytes.fromhex(encryption_key)  # Buffer.from(encryptionKey, 'hex')

    async def store_token(self, key: str, token: StoredToken) -> None:
        encrypted = self.encrypt(token)
        await self.collection.update_one(
            {"_id": key},
            {"$set": {**encrypted,
                      # new Date(token.obtained_at + token.expires_in * 1000): obtained_at is seconds here
                      "expiresAt": datetime.fromtimestamp(token.obtained_at + (token.expires_in or 0), UTC),
                      "updatedAt": datetime.now(UTC)}},
            upsert=True,
        )

    async def get_token(self, key: str) -> StoredToken | None:
        doc = await self.collection.find_one({"_id": key})
        return self.decrypt(doc) if doc else None

    async def delete_token(self, key: str) -> None:
        await self.collection.delete_one({"_id": key})

    async def has_token(self, key: str) -> bool:
        return await self.collection.find_one({"_id": key}) is not None  # countDocuments({_id: key}) > 0

    def encrypt(self, token: StoredToken) -> dict[str, str]:
        iv = os.urandom(12)
        sealed = AESGCM(self.encryption_key).encrypt(iv, token.to_storage_json().encode(), None)
        return {"encrypted": base64.b64encode(sealed[:-16]).decode(), "iv": base64.b64encode(iv).decode(),
                "authTag": base64.b64encode(sealed[-16:]).decode()}

    def decrypt(self, doc: dict[str, Any]) -> StoredToken:
        sealed = base64.b64decode(doc["encrypted"]) + base64.b64decode(doc["authTag"])
        plaintext = AESGCM(self.encryption_key).decrypt(base64.b64decode(doc["iv"]), sealed, None)
        return StoredToken.model_validate_json(plaintext)


def guide_mongo() -> Any:
    return GuideMongoOAuthStorage(mongo_example.DictCollection(), os.urandom(32).hex())


async def test_guide_mongo_round_trip_works():
    storage = guide_mongo()
    await storage.store_token("github:client:user123", StoredToken(access_token="gho_1", expires_in=3600))
    got = await storage.get_token("github:client:user123")
    assert got is not None and got.access_token.get_secret_value() == "gho_1"
    assert await storage.has_token("github:client:user123") and not await storage.has_token("github:client:x")


async def test_guide_mongo_sets_a_ttl_date_on_refreshable_tokens_example_does_not():
    guide, fixed = guide_mongo(), mongo_example.MongoOAuthStorage(mongo_example.DictCollection(), KeyRing.generate())
    for storage in (guide, fixed):
        await storage.store_token("k", refreshable_but_expired())
    # With the guide's TTL index on expiresAt, MongoDB deletes this document (refresh token and all).
    assert guide.collection.docs["k"]["expiresAt"] < datetime.now(UTC)
    assert fixed.collection.docs["k"]["expiresAt"] is None  # the TTL index ignores it
    kept = await fixed.get_token("k")
    assert kept is not None and kept.is_expired() and kept.refresh_token is not None


async def test_guide_mongo_tamper_raises_raw_invalid_tag_example_raises_ours():
    guide = guide_mongo()
    await guide.store_token("k", StoredToken(access_token="secret", expires_in=3600))
    guide.collection.docs["k"]["encrypted"] = base64.b64encode(b"x" * 40).decode()
    with pytest.raises(InvalidTag):  # not a TokenDecryptionError: callers cannot catch one type
        await guide.get_token("k")
    fixed = mongo_example.MongoOAuthStorage(mongo_example.DictCollection(), KeyRing.generate())
    await fixed.store_token("k", StoredToken(access_token="secret", expires_in=3600))
    fixed.collection.docs["k"]["envelope"] = flip(fixed.collection.docs["k"]["envelope"])
    with pytest.raises(TokenDecryptionError):
        await fixed.get_token("k")


async def test_guide_mongo_hands_a_copied_record_to_another_user_example_refuses():
    guide = guide_mongo()
    await guide.store_token("github:client:alice", StoredToken(access_token="alice-token", expires_in=3600))
    guide.collection.docs["github:client:mallory"] = {**guide.collection.docs["github:client:alice"],
                                                      "_id": "github:client:mallory"}
    stolen = await guide.get_token("github:client:mallory")
    assert stolen is not None and stolen.access_token.get_secret_value() == "alice-token"
    fixed = mongo_example.MongoOAuthStorage(mongo_example.DictCollection(), KeyRing.generate())
    await fixed.store_token("github:client:alice", StoredToken(access_token="alice-token", expires_in=3600))
    fixed.collection.docs["github:client:mallory"] = dict(fixed.collection.docs["github:client:alice"])
    with pytest.raises(TokenDecryptionError):  # the storage key is bound into the envelope
        await fixed.get_token("github:client:mallory")


def test_obtained_at_is_seconds_and_milliseconds_from_typescript_are_converted():
    # The guide computes obtained_at + expires_in * 1000 (milliseconds); Python's spelling is token.expires_at.
    token = StoredToken(access_token="a", expires_in=3600, obtained_at=1_700_000_000_000)  # a TypeScript record
    assert token.obtained_at == 1_700_000_000 and token.expires_at == 1_700_003_600


class TestMongoExample(TokenStorageConformance):
    @pytest.fixture
    async def storage(self):
        yield mongo_example.MongoOAuthStorage(mongo_example.DictCollection(), KeyRing.generate())

    async def tamper(self, storage, key):
        doc = storage.collection.docs[key]
        doc["envelope"] = flip(doc["envelope"])
        return True


async def test_mongo_example_creates_the_ttl_index_and_skips_expired_documents():
    storage = mongo_example.MongoOAuthStorage(mongo_example.DictCollection(), KeyRing.generate())
    await storage.create_indexes()
    assert storage.collection.indexes == [("expiresAt", {"expireAfterSeconds": 0})]
    await storage.store_token("gone", StoredToken(access_token="a", expires_in=60, obtained_at=HOUR_AGO))
    assert "gone" in storage.collection.docs  # the TTL monitor has not run yet...
    assert await storage.get_token("gone") is None and not await storage.has_token("gone")  # ...reads check
    assert await storage.list_keys() == []


# ============================================================================================
# Redis: the guide's store (setex with expires_in)
# ============================================================================================
class GuideRedisOAuthStorage(IOAuthTokenStorage):
    def __init__(self, redis_client: Any, encryption_key: str, *, literal: bool = True) -> None:
        self.redis = redis_client
        self.key_ring = KeyRing([bytes.fromhex(encryption_key)])  # "same AES-256-GCM encryption as FileStorage"
        self.literal = literal

    async def store_token(self, key: str, token: StoredToken) -> None:
        encrypted = self.key_ring.seal_token(key, token)
        ttl = token.expires_in if self.literal else int(token.expires_in or 0)
        await self.redis.setex(key, ttl, json.dumps(encrypted))  # Store with automatic expiration (TTL)

    async def get_token(self, key: str) -> StoredToken | None:
        data = await self.redis.get(key)
        return self.key_ring.open_token(key, json.loads(data)) if data else None

    async def delete_token(self, key: str) -> None:
        await self.redis.delete(key)

    async def has_token(self, key: str) -> bool:
        return (await self.redis.exists(key)) > 0


@pytest.fixture
async def redis():
    require_redis()
    pool = redis_example.BlockingConnectionPool.from_url(REDIS_URL, max_connections=32)
    client = redis_example.Redis(connection_pool=pool)
    prefix = f"guide-fidelity:{uuid.uuid4().hex}:"
    yield client, prefix
    names = [name async for name in client.scan_iter(match=prefix + "*")]
    if names:
        await client.delete(*names)
    await client.aclose()


@pytest.mark.filterwarnings("ignore:Call to deprecated setex")
async def test_guide_redis_setex_takes_a_whole_expires_in_and_fails_on_none(redis):
    client, prefix = redis
    storage = GuideRedisOAuthStorage(client, os.urandom(32).hex())
    # expires_in is an int when whole (3600, also from 3600.0): the guide's SETEX line works as written.
    await storage.store_token(prefix + "k", StoredToken(access_token="a", expires_in=3600.0))
    assert 3590 < await client.ttl(prefix + "k") <= 3600
    assert isinstance(StoredToken(access_token="a", expires_in=3600.0).expires_in, int)
    assert StoredToken(access_token="a", expires_in=1.5).expires_in == 1.5
    with pytest.raises(redis_example.RedisError):  # no expiry: SETEX cannot express it
        await storage.store_token(prefix + "none", StoredToken(access_token="a"))


@pytest.mark.filterwarnings("ignore:Call to deprecated setex")
async def test_guide_redis_ttl_drops_refreshable_tokens_and_counts_from_the_write(redis):
    client, prefix = redis
    guide = GuideRedisOAuthStorage(client, os.urandom(32).hex(), literal=False)
    fixed = redis_example.RedisOAuthStorage(client, KeyRing.generate(), prefix=prefix + "fixed:")
    await guide.store_token(prefix + "k", refreshable_but_expired())
    await fixed.store_token("k", refreshable_but_expired())
    # The guide: expired an hour ago, yet readable for another minute, then gone with its refresh token.
    assert 0 < await client.pttl(prefix + "k") <= 60_000
    assert (await guide.get_token(prefix + "k")) is not None
    assert await client.pttl(fixed.prefix + "k") == -1  # the example: kept until refreshed or deleted


async def test_redis_example_expires_unrefreshable_tokens_at_their_own_instant(redis):
    client, prefix = redis
    storage = redis_example.RedisOAuthStorage(client, KeyRing.generate(), prefix=prefix)
    started = time.time()
    await storage.store_token("fresh", StoredToken(access_token="a", expires_in=120, obtained_at=started - 60))
    assert 0 < await client.pttl(prefix + "fresh") <= 60_000  # 60 s left, not 120
    await storage.store_token("stale", StoredToken(access_token="a", expires_in=60, obtained_at=HOUR_AGO))
    assert not await client.exists(prefix + "stale")
    await storage.store_token("forever", StoredToken(access_token="a"))
    assert await client.pttl(prefix + "forever") == -1


async def test_redis_example_errors_are_token_storage_errors():
    from redis.backoff import NoBackoff
    from redis.retry import Retry

    # The example's own Redis class: another test may have re-imported redis (new exception classes).
    client = redis_example.Redis(host="127.0.0.1", port=1, socket_connect_timeout=2, retry=Retry(NoBackoff(), 0))
    storage = redis_example.RedisOAuthStorage(client, KeyRing.generate())
    try:
        with pytest.raises(TokenStorageError, match="redis token storage: ConnectionError"):
            await storage.get_token("k")
    finally:
        await client.aclose()


class TestRedisExample(TokenStorageConformance):
    @pytest.fixture
    async def storage(self, redis):
        client, prefix = redis
        yield redis_example.RedisOAuthStorage(client, KeyRing.generate(), prefix=prefix)

    async def tamper(self, storage, key):
        value = await storage.redis.get(storage.prefix + key)
        await storage.redis.set(storage.prefix + key, flip(value.decode()))
        return True


# ============================================================================================
# PostgreSQL: the guide's store (WHERE expires_at > NOW())
# ============================================================================================
GUIDE_SCHEMA = """
CREATE TABLE {table} (
  key VARCHAR(255) PRIMARY KEY,
  encrypted_data TEXT NOT NULL,
  iv VARCHAR(24) NOT NULL,
  auth_tag VARCHAR(24) NOT NULL,
  expires_at TIMESTAMPTZ NOT NULL,
  created_at TIMESTAMP DEFAULT NOW(),
  updated_at TIMESTAMP DEFAULT NOW()
);
CREATE INDEX {table}_idx_expires_at ON {table}(expires_at);
"""


class GuidePostgresOAuthStorage(IOAuthTokenStorage):
    def __init__(self, pool: Any, key_ring: KeyRing, table: str) -> None:
        self.pool, self.key_ring, self.table = pool, key_ring, table

    async def store_token(self, key: str, token: StoredToken) -> None:
        expires_at = datetime.fromtimestamp(token.expires_at or 0, UTC)  # new Date(obtained_at + expires_in*1000)
        await self.pool.execute(
            f"""INSERT INTO {self.table} (key, encrypted_data, iv, auth_tag, expires_at, updated_at)
               VALUES ($1, $2, $3, $4, $5, NOW())
               ON CONFLICT (key) DO UPDATE
               SET encrypted_data = $2, iv = $3, auth_tag = $4, expires_at = $5, updated_at = NOW()""",
            key, self.key_ring.seal_token(key, token), "", "", expires_at)

    async def get_token(self, key: str) -> StoredToken | None:
        rows = await self.pool.fetch(
            f"SELECT encrypted_data, iv, auth_tag FROM {self.table} WHERE key = $1 AND expires_at > NOW()", key)
        return self.key_ring.open_token(key, rows[0]["encrypted_data"]) if rows else None

    async def delete_token(self, key: str) -> None:
        await self.pool.execute(f"DELETE FROM {self.table} WHERE key = $1", key)

    async def has_token(self, key: str) -> bool:
        rows = await self.pool.fetch(f"SELECT 1 FROM {self.table} WHERE key = $1 AND expires_at > NOW()", key)
        return len(rows) > 0


@pytest.fixture
async def pg_pool():
    require_postgres()
    # The example's own asyncpg: another test may have re-imported it (new exception classes).
    pool = await postgres_example.asyncpg.create_pool(POSTGRES_DSN, min_size=1, max_size=8)
    tables: list[str] = []
    yield pool, tables
    for table in tables:
        await pool.execute(f"DROP TABLE IF EXISTS {table}")
    await pool.close()


def new_table(tables: list[str]) -> str:
    tables.append(f"guide_fidelity_{uuid.uuid4().hex[:12]}")
    return tables[-1]


async def test_guide_postgres_hides_refreshable_tokens_example_keeps_them(pg_pool):
    pool, tables = pg_pool
    guide = GuidePostgresOAuthStorage(pool, KeyRing.generate(), new_table(tables))
    await pool.execute(GUIDE_SCHEMA.format(table=guide.table))
    await guide.store_token("github:client:user123", refreshable_but_expired())
    assert await guide.get_token("github:client:user123") is None  # -> the user must log in again
    assert not await guide.has_token("github:client:user123")
    with pytest.raises(AssertionError):  # and the conformance kit says so
        await TokenStorageConformance().test_expired_token_without_refresh_is_gone(guide, "kit")

    fixed = postgres_example.PostgresOAuthStorage(pool, KeyRing.generate(), table=new_table(tables))
    await fixed.create_table()
    await fixed.store_token("github:client:user123", refreshable_but_expired())
    kept = await fixed.get_token("github:client:user123")
    assert kept is not None and kept.refresh_token is not None
    assert await pool.fetchval(f"SELECT expires_at FROM {fixed.table}") is None


async def test_postgres_example_cleans_up_only_unusable_rows(pg_pool):
    pool, tables = pg_pool
    storage = postgres_example.PostgresOAuthStorage(pool, KeyRing.generate(), table=new_table(tables))
    await storage.create_table()
    await storage.store_token("refreshable", refreshable_but_expired())
    await storage.store_token("dead", StoredToken(access_token="a", expires_in=60, obtained_at=HOUR_AGO))
    await storage.store_token("fresh", StoredToken(access_token="a", expires_in=3600))
    assert await storage.list_keys() == ["fresh", "refreshable"]
    assert await storage.cleanup_expired() == 1
    assert await pool.fetchval(f"SELECT count(*) FROM {storage.table}") == 2


def test_postgres_example_refuses_a_table_name_it_would_splice_into_sql():
    with pytest.raises(TokenStorageError, match="invalid table name"):
        postgres_example.PostgresOAuthStorage(None, KeyRing.generate(), table="t; DROP TABLE x")


async def test_postgres_example_errors_are_token_storage_errors(pg_pool):
    pool, _ = pg_pool
    storage = postgres_example.PostgresOAuthStorage(pool, KeyRing.generate(), table=f"absent_{uuid.uuid4().hex[:8]}")
    with pytest.raises(TokenStorageError, match="postgres token storage: UndefinedTableError"):
        await storage.get_token("k")


class TestPostgresExample(TokenStorageConformance):
    @pytest.fixture
    async def storage(self, pg_pool):
        pool, tables = pg_pool
        store = postgres_example.PostgresOAuthStorage(pool, KeyRing.generate(), table=new_table(tables))
        await store.create_table()
        yield store

    async def tamper(self, storage, key):
        envelope = await storage.pool.fetchval(f"SELECT envelope FROM {storage.table} WHERE key = $1", key)
        await storage.pool.execute(f"UPDATE {storage.table} SET envelope = $2 WHERE key = $1", key, flip(envelope))
        return True


# ============================================================================================
# Usage and checklist: "Pass to OAuthManager", "Test with oauth.getToken(userId) for multiple users"
# ============================================================================================
@pytest.fixture(scope="module")
def auth_server():
    from tests.oauth_server import OAuthTestServer

    server = OAuthTestServer().start()
    try:
        yield server
    finally:
        server.stop()


async def log_in(manager: OAuthManager, user: str) -> None:
    import httpx

    url, _ = manager.get_authorization_url(user)
    async with httpx.AsyncClient() as http:
        redirect = (await http.get(url + f"&login_hint={user}")).headers["location"]
    await manager.handle_callback(redirect)


async def test_custom_store_serves_several_users_through_oauth_manager(auth_server):
    store = mongo_example.MongoOAuthStorage(mongo_example.DictCollection(), KeyRing.generate())
    oauth = OAuthManager(
        {"flow": "authorization_code", "client_id": "web", "client_secret": "web-secret",
         "authorization_url": f"{auth_server.url}/authorize", "token_url": f"{auth_server.url}/token",
         "redirect_uri": auth_server.redirect_uri, "scopes": ["read"]},
        storage=store, name="github",
    )
    for user in ("user123", "user456"):
        await log_in(oauth, user)
    token1, token2 = await oauth.get_token("user123"), await oauth.get_token("user456")
    assert token1 != token2
    # "key is provider:clientId:userId for multi-user": the store saw opaque, user-scoped keys
    assert sorted(store.collection.docs) == ["github:web:user123", "github:web:user456"]
    assert "web-secret" not in repr(store.collection.docs) and token1 not in repr(store.collection.docs)


# ============================================================================================
# Checklist: "Implement all 4 methods" — in the guide's spelling they fail at once
# ============================================================================================
def test_the_interface_in_camel_case_fails_at_once_naming_the_python_methods():
    class CamelStorage(IOAuthTokenStorage):
        async def storeToken(self, key: str, token: StoredToken) -> None: ...
        async def getToken(self, key: str) -> StoredToken | None: ...
        async def deleteToken(self, key: str) -> None: ...
        async def hasToken(self, key: str) -> bool: ...

    with pytest.raises(TypeError) as raised:
        CamelStorage()  # type: ignore[abstract]
    for python in ("store_token", "get_token", "delete_token", "has_token"):
        assert python in str(raised.value)


def test_an_optional_method_in_camel_case_fails_when_the_store_is_bound():
    from oneringai import OneRingAI

    class ListingStore(GuideMongoOAuthStorage):  # the four methods, plus the optional one in camelCase
        async def listKeys(self, prefix: str = "") -> list[str]:
            return []

    with pytest.raises(TypeError, match=r"'listKeys'.*'list_keys'"):
        OneRingAI(token_storage=ListingStore(mongo_example.DictCollection(), os.urandom(32).hex()))


async def test_the_guides_usage_block_one_config_with_storage_inside(auth_server):
    storage = mongo_example.MongoOAuthStorage(mongo_example.DictCollection(), KeyRing.generate())
    oauth = OAuthManager({
        "flow": "authorization_code",
        "clientId": "web",
        "clientSecret": "web-secret",
        "authorizationUrl": f"{auth_server.url}/authorize",
        "tokenUrl": f"{auth_server.url}/token",
        "redirectUri": auth_server.redirect_uri,
        "scope": "read",
        "storage": storage,  # Use your custom storage!
    })
    for user in ("user123", "user456"):
        await log_in(oauth, user)
    # Works automatically with multi-user!
    token1 = await oauth.get_token("user123")
    token2 = await oauth.get_token("user456")
    assert token1 != token2 and sorted(storage.collection.docs) == ["oauth:web:user123", "oauth:web:user456"]
