"""store+get ops/s per backend, with encryption, vs the raw driver running the same
statements with plaintext (no encryption). Needs the local PostgreSQL and Redis."""

from __future__ import annotations

import asyncio
import os
import time
import uuid

from oneringai import StoredToken
from oneringai.infrastructure.token_storage.encryption import KeyRing
from oneringai.infrastructure.token_storage.postgres import PostgresTokenStorage
from oneringai.infrastructure.token_storage.redis import RedisTokenStorage

DSN = os.environ.get("ONERINGAI_TEST_POSTGRES_DSN", "postgresql://postgres@127.0.0.1:5432/test")
REDIS = os.environ.get("ONERINGAI_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
TOKEN = StoredToken(access_token="a" * 40, refresh_token="r" * 40, expires_in=3600, scope="read write")
OPS = 2000


async def rate(op, keys: list[str]) -> float:  # type: ignore[no-untyped-def]
    for key in keys[:100]:
        await op(key)
    started = time.perf_counter()
    for key in keys:
        await op(key)
    return len(keys) / (time.perf_counter() - started)


async def postgres() -> tuple[float, float]:
    import asyncpg

    pool = await asyncpg.create_pool(DSN, min_size=1, max_size=2)
    table = f"bench_{uuid.uuid4().hex[:8]}"
    store = PostgresTokenStorage(pool, KeyRing.generate(), table=table)
    await store.ensure_schema()
    keys = [f"p:c:{i}" for i in range(OPS)]

    async def ours(key: str) -> None:
        await store.store_token(key, TOKEN)
        await store.get_token(key)

    plain = TOKEN.to_storage_json()

    async def raw(key: str) -> None:
        await pool.execute(
            f'INSERT INTO "public"."{table}" (key, envelope, key_id, expires_at) VALUES ($1, $2, $3, to_timestamp($4)) '
            "ON CONFLICT (key) DO UPDATE SET envelope = EXCLUDED.envelope, key_id = EXCLUDED.key_id, "
            "expires_at = EXCLUDED.expires_at, updated_at = now()", key, plain, "", None)
        row = await pool.fetchrow(
            f'SELECT envelope, extract(epoch FROM expires_at)::float8 AS expires FROM "public"."{table}" '
            "WHERE key = $1 AND (expires_at IS NULL OR expires_at > now())", key)
        StoredToken.model_validate_json(row["envelope"])

    results = (await rate(raw, keys), await rate(ours, keys))
    await pool.execute(f'DROP TABLE "public"."{table}"')
    await pool.close()
    return results


async def redis() -> tuple[float, float]:
    from oneringai.infrastructure.redis_client import make_redis_client

    client = make_redis_client(REDIS)
    prefix = f"bench:{uuid.uuid4().hex[:6]}:"
    store = RedisTokenStorage(client, KeyRing.generate(), prefix=prefix)
    keys = [f"p:c:{i}" for i in range(OPS)]

    async def ours(key: str) -> None:
        await store.store_token(key, TOKEN)
        await store.get_token(key)

    plain = TOKEN.to_storage_json()

    async def raw(key: str) -> None:
        await client.set(prefix + "raw:" + key, plain)
        StoredToken.model_validate_json(await client.get(prefix + "raw:" + key))

    results = (await rate(raw, keys), await rate(ours, keys))
    async for key in client.scan_iter(match=prefix + "*"):
        await client.delete(key)
    await client.aclose()
    return results


async def main() -> None:
    print(f"{'backend':10} {'raw driver ops/s':>18} {'oneringai ops/s':>16} {'ratio':>7}   (one op = store + get)")
    for name, bench in (("postgres", postgres), ("redis", redis)):
        try:
            raw, ours = await bench()
        except Exception as exc:  # a backend that is not running is reported, not fatal
            print(f"{name:10} unavailable: {exc}")
            continue
        print(f"{name:10} {raw:18.0f} {ours:16.0f} {ours / raw:6.2f}x")
    ring = KeyRing.generate()
    started = time.perf_counter()
    for _ in range(20000):
        ring.open_token("k", ring.seal_token("k", TOKEN))
    print(f"encryption alone: {(time.perf_counter() - started) / 20000 * 1e6:.1f} µs per seal+open")


if __name__ == "__main__":
    import argparse

    argparse.ArgumentParser(description=__doc__).parse_args()  # --help describes, never runs
    asyncio.run(main())
