"""The guide's PostgreSQL token store, with expiry done right.

The guide's ``WHERE key = $1 AND expires_at > NOW()`` hides every token whose *access* token
has expired — also those with a refresh token, which are exactly the ones the OAuth manager
would have refreshed — so users are sent to log in again, and its index "auto-cleanup" would
delete them. Here ``expires_at`` is the expiry of the *record*: NULL while the token can be
refreshed, the access token's expiry only when there is nothing to refresh it with. Reads
ignore expired records; ``cleanup_expired()`` removes them.

The guide's ``encrypted_data``/``iv``/``auth_tag`` columns become one ``envelope`` column: the
kit's ``KeyRing`` seals nonce, ciphertext and tag together with a key id (rotation), and binds
the storage key in, so a row copied to another key fails to decrypt (``TokenDecryptionError``).

Run: .venv/bin/python examples/postgres_token_storage.py   (needs PostgreSQL; DATABASE_URL,
default postgresql://postgres@127.0.0.1:5432/test)
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import time
import uuid
from collections.abc import AsyncIterator

import asyncpg

from oneringai import IOAuthTokenStorage, KeyRing, StoredToken, TokenStorageError

SCHEMA = """
CREATE TABLE IF NOT EXISTS {table} (
  key        TEXT PRIMARY KEY,
  envelope   TEXT NOT NULL,                    -- v1:<key id>:<base64(nonce + ciphertext + tag)>
  expires_at TIMESTAMPTZ NULL,                 -- NULL while the token can be refreshed
  created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
  updated_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS {table}_expires_at_idx ON {table} (expires_at);
"""
_LIVE = "(expires_at IS NULL OR expires_at > now())"


class PostgresOAuthStorage(IOAuthTokenStorage):
    def __init__(self, pool: asyncpg.Pool, key_ring: KeyRing, *, table: str = "oauth_tokens") -> None:
        if not re.fullmatch(r"[a-z_][a-z0-9_]{0,62}", table):  # it is spliced into SQL
            raise TokenStorageError(f"invalid table name {table!r}", backend="postgres")
        self.pool = pool
        self.key_ring = key_ring
        self.table = table

    @contextlib.asynccontextmanager
    async def _errors(self) -> AsyncIterator[None]:
        try:
            yield
        except (asyncpg.PostgresError, OSError) as exc:  # our typed error, not asyncpg's
            raise TokenStorageError(f"{type(exc).__name__}: {exc}", backend="postgres") from exc

    async def create_table(self) -> None:
        async with self._errors():
            await self.pool.execute(SCHEMA.format(table=self.table))

    async def store_token(self, key: str, token: StoredToken) -> None:
        expires_at = None if token.refresh_token is not None else token.expires_at
        async with self._errors():
            await self.pool.execute(
                f"INSERT INTO {self.table} (key, envelope, expires_at) VALUES ($1, $2, to_timestamp($3)) "
                "ON CONFLICT (key) DO UPDATE SET envelope = EXCLUDED.envelope, "
                "expires_at = EXCLUDED.expires_at, updated_at = now()",
                key, self.key_ring.seal(key, token), expires_at)

    async def get_token(self, key: str) -> StoredToken | None:
        async with self._errors():
            envelope = await self.pool.fetchval(f"SELECT envelope FROM {self.table} WHERE key = $1 AND {_LIVE}", key)
        return None if envelope is None else self.key_ring.open(key, envelope)

    async def delete_token(self, key: str) -> None:
        async with self._errors():
            await self.pool.execute(f"DELETE FROM {self.table} WHERE key = $1", key)

    async def has_token(self, key: str) -> bool:
        async with self._errors():
            return bool(await self.pool.fetchval(f"SELECT 1 FROM {self.table} WHERE key = $1 AND {_LIVE}", key))

    async def list_keys(self, prefix: str = "") -> list[str]:
        async with self._errors():
            rows = await self.pool.fetch(
                f"SELECT key FROM {self.table} WHERE left(key, length($1)) = $1 AND {_LIVE} ORDER BY key", prefix)
        return [row["key"] for row in rows]

    async def cleanup_expired(self) -> int:
        """Delete records nobody can use any more (run it from a scheduled job)."""
        async with self._errors():
            status = await self.pool.execute(f"DELETE FROM {self.table} WHERE expires_at <= now()")
        return int(status.split()[-1])


async def main() -> None:
    pool = await asyncpg.create_pool(os.environ.get("DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test"),
                                     min_size=1, max_size=4)
    # In production the ring comes from configuration: KeyRing.from_strings([os.environ["ONERINGAI_TOKEN_KEY"]])
    storage = PostgresOAuthStorage(pool, KeyRing.generate(), table=f"example_tokens_{uuid.uuid4().hex[:8]}")
    await storage.create_table()
    try:
        long_ago = time.time() - 7200  # both access tokens expired an hour ago
        await storage.store_token("github:client:user123", StoredToken(
            access_token="gho_old", refresh_token="ghr_refresh", expires_in=3600, obtained_at=long_ago))
        await storage.store_token("github:client:user456", StoredToken(
            access_token="gho_gone", expires_in=3600, obtained_at=long_ago))
        kept = await storage.get_token("github:client:user123")
        print("expired but refreshable, kept:", kept is not None and kept.is_expired())
        print("expired, nothing to refresh with, gone:", await storage.get_token("github:client:user456") is None)
        print("rows cleaned up:", await storage.cleanup_expired())
        envelope = await pool.fetchval(f"SELECT envelope FROM {storage.table} WHERE key = $1", "github:client:user123")
        print("plaintext in the table?", "ghr_refresh" in envelope)
        print("keys:", await storage.list_keys("github:"))
    finally:
        await pool.execute(f"DROP TABLE IF EXISTS {storage.table}")
        await pool.close()


if __name__ == "__main__":
    asyncio.run(main())
