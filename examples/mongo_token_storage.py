"""The guide's MongoDB token store, with expiry done right.

The guide's store sets ``expiresAt`` to the access token's expiry on every document and puts a
TTL index on it, so MongoDB deletes tokens that still have a refresh token — the user must log
in again — and it computes that instant from ``obtained_at`` in *milliseconds* (Python's
``StoredToken.obtained_at`` is in seconds: use ``token.expires_at``). Here ``expiresAt`` is set
only when there is nothing to refresh with; MongoDB's TTL index ignores documents without a
date there, and since its TTL monitor runs only once a minute, reads check the date too.

Encryption is the kit's ``KeyRing`` (AES-256-GCM, the storage key bound in, a key id for
rotation) instead of the guide's hand-written ``crypto`` calls: one envelope string, and a
tampered document raises ``TokenDecryptionError``.

The store speaks the async collection API of PyMongo (``AsyncMongoClient``) and Motor —
``find_one``, ``update_one(..., upsert=True)``, ``delete_one``, ``find`` —
so it runs here against ``DictCollection``, a stand-in kept in memory; in production pass
``AsyncMongoClient(url).oauth.tokens``.

Run: .venv/bin/python examples/mongo_token_storage.py
"""

from __future__ import annotations

import asyncio
import re
import time
from datetime import UTC, datetime
from typing import Any

from oneringai import IOAuthTokenStorage, KeyRing, StoredToken


def _epoch(value: datetime) -> float:
    return (value if value.tzinfo else value.replace(tzinfo=UTC)).timestamp()  # PyMongo returns naive UTC


class MongoOAuthStorage(IOAuthTokenStorage):
    def __init__(self, collection: Any, key_ring: KeyRing) -> None:
        self.collection = collection
        self.key_ring = key_ring

    async def create_indexes(self) -> None:
        # Documents without a date in expiresAt (refreshable tokens) are never removed by it.
        await self.collection.create_index("expiresAt", expireAfterSeconds=0)

    async def store_token(self, key: str, token: StoredToken) -> None:
        expires_at = None if token.refresh_token is not None else token.expires_at
        await self.collection.update_one(
            {"_id": key},
            {"$set": {
                "envelope": self.key_ring.seal(key, token),
                "expiresAt": None if expires_at is None else datetime.fromtimestamp(expires_at, UTC),
                "updatedAt": datetime.now(UTC),
            }},
            upsert=True,
        )

    async def _live(self, key: str) -> dict[str, Any] | None:
        doc: dict[str, Any] | None = await self.collection.find_one({"_id": key})
        if doc is None or (doc.get("expiresAt") is not None and _epoch(doc["expiresAt"]) <= time.time()):
            return None
        return doc

    async def get_token(self, key: str) -> StoredToken | None:
        doc = await self._live(key)
        return None if doc is None else self.key_ring.open(key, doc.get("envelope"))

    async def delete_token(self, key: str) -> None:
        await self.collection.delete_one({"_id": key})

    async def has_token(self, key: str) -> bool:  # the guide's countDocuments would count expired ones
        return await self._live(key) is not None

    async def list_keys(self, prefix: str = "") -> list[str]:
        cursor = self.collection.find({"_id": {"$regex": f"^{re.escape(prefix)}"}}, {"_id": 1})
        return sorted([doc["_id"] async for doc in cursor if await self._live(doc["_id"]) is not None])


class DictCollection:
    """An in-memory collection answering the calls above the way MongoDB does (only those)."""

    def __init__(self) -> None:
        self.docs: dict[str, dict[str, Any]] = {}
        self.indexes: list[tuple[str, dict[str, Any]]] = []

    async def create_index(self, field: str, **options: Any) -> str:
        self.indexes.append((field, options))
        return f"{field}_1"

    async def find_one(self, filter: dict[str, Any]) -> dict[str, Any] | None:
        doc = self.docs.get(filter["_id"])
        return None if doc is None else dict(doc)

    async def update_one(self, filter: dict[str, Any], update: dict[str, Any], *, upsert: bool = False) -> None:
        if filter["_id"] in self.docs or upsert:
            self.docs.setdefault(filter["_id"], {"_id": filter["_id"]}).update(update["$set"])

    async def delete_one(self, filter: dict[str, Any]) -> None:
        self.docs.pop(filter["_id"], None)

    async def find(self, filter: dict[str, Any], projection: dict[str, int] | None = None) -> Any:
        pattern = re.compile(filter["_id"]["$regex"])
        for key in list(self.docs):
            if pattern.search(key):
                yield {"_id": key}


async def main() -> None:
    collection = DictCollection()  # production: AsyncMongoClient(os.environ["MONGO_URL"]).oauth.tokens
    storage = MongoOAuthStorage(collection, KeyRing.generate())  # production: KeyRing.from_strings([...])
    await storage.create_indexes()
    long_ago = time.time() - 7200  # both access tokens expired an hour ago
    await storage.store_token("github:client:user123", StoredToken(
        access_token="gho_old", refresh_token="ghr_refresh", expires_in=3600, obtained_at=long_ago))
    await storage.store_token("github:client:user456", StoredToken(
        access_token="gho_gone", expires_in=3600, obtained_at=long_ago))
    kept = await storage.get_token("github:client:user123")
    print("expired but refreshable, kept:", kept is not None and kept.is_expired())
    print("expired, nothing to refresh with, gone:", await storage.get_token("github:client:user456") is None)
    print("TTL date only on the unrefreshable one:",
          [key for key, doc in collection.docs.items() if doc["expiresAt"] is not None])
    print("plaintext in the documents?", "ghr_refresh" in repr(collection.docs))
    print("keys:", await storage.list_keys("github:"))


if __name__ == "__main__":
    asyncio.run(main())
