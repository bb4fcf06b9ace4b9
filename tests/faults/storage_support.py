"""Every built-in token store against its real backend, plus a way to plant raw values in it.

``open_backend(kind)`` yields a ``Backend``: the store and ``plant(key, raw)``, which writes
``raw`` where the store keeps the record for ``key`` — bypassing the store, as another
program or a corrupted disk would.
"""

from __future__ import annotations

import contextlib
import json
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from oneringai.infrastructure.token_storage.base import EncryptedTokenStorage
from oneringai.infrastructure.token_storage.config import (
    AwsSecretsManagerStorageSettings,
    PostgresStorageSettings,
    RedisStorageSettings,
)
from oneringai.infrastructure.token_storage.encryption import KeyRing
from oneringai.infrastructure.token_storage.file import FileTokenStorage
from oneringai.infrastructure.token_storage.memory import MemoryTokenStorage
from tests.conftest import POSTGRES_DSN, REDIS_URL, service_unavailable

KINDS = ["memory", "file", "postgres", "redis", "aws"]
RING = KeyRing.generate()

#: A value another program could have left: JSON of every type, empty, bytes that are not UTF-8.
GARBAGE: dict[str, bytes] = {
    "json-array": b"[]",
    "json-null": b"null",
    "json-string": b'"x"',
    "json-number": b"42",
    "json-float": b"1e400",
    "json-bool": b"true",
    "json-object": b"{}",
    "json-object-other": b'{"access_token": "plain"}',
    "envelope-wrong-type": b'{"key": "K", "envelope": 5, "expires_at": null}',
    "expires-wrong-type": b'{"key": "K", "envelope": "v1:0000000000000000:AAAA", "expires_at": "soon"}',
    "empty": b"",
    "spaces": b"   ",
    "not-utf8": b"\xff\xfe\x00\x81",
    "nested-bomb": b"[" * 50_000 + b"]" * 50_000,
    "not-an-envelope": b"hello world",
    "truncated-envelope": b"v1:abc",
}


@dataclass
class Backend:
    kind: str
    store: EncryptedTokenStorage
    plant: Callable[[str, bytes], Awaitable[None]]
    directory: Path | None = None


def _as_text(raw: bytes) -> str | None:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return None


@contextlib.asynccontextmanager
async def open_backend(kind: str, tmp_path: Path, moto_endpoint: str | None = None) -> AsyncIterator[Backend]:
    if kind == "memory":
        memory = MemoryTokenStorage(RING)

        async def plant_memory(key: str, raw: bytes) -> None:
            memory.raw_records()[key] = (_as_text(raw) if _as_text(raw) is not None else raw, None)  # type: ignore[assignment]

        yield Backend(kind, memory, plant_memory)
    elif kind == "file":
        directory = tmp_path / "tokens"
        file_store = FileTokenStorage(directory, RING)

        async def plant_file(key: str, raw: bytes) -> None:
            file_store._path(key).write_bytes(raw.replace(b'"K"', json.dumps(key).encode()))

        yield Backend(kind, file_store, plant_file, directory)
    elif kind == "postgres":
        async with _postgres() as backend:
            yield backend
    elif kind == "redis":
        async with _redis() as backend:
            yield backend
    elif kind == "aws":
        assert moto_endpoint is not None
        async with _aws(moto_endpoint) as backend:
            yield backend
    else:  # pragma: no cover
        raise ValueError(kind)


@contextlib.asynccontextmanager
async def _postgres() -> AsyncIterator[Backend]:
    from oneringai.infrastructure.token_storage.postgres import open_postgres_storage

    settings = PostgresStorageSettings(dsn=POSTGRES_DSN, table=f"f_{uuid.uuid4().hex[:10]}", schema="oneringai_test")
    manager = open_postgres_storage(settings, RING)
    try:
        store = await manager.__aenter__()
    except Exception as exc:
        service_unavailable("PostgreSQL", str(exc))

    async def plant(key: str, raw: bytes) -> None:
        text = _as_text(raw)
        value = None if text is None or "\x00" in text else text  # Postgres text holds neither
        await store.pool.execute(
            f"INSERT INTO {store.table} (key, envelope) VALUES ($1, $2) "
            "ON CONFLICT (key) DO UPDATE SET envelope = EXCLUDED.envelope",
            key,
            value if value is not None else "",
        )
        if value is None:
            await store.pool.execute(f"ALTER TABLE {store.table} ALTER COLUMN envelope DROP NOT NULL")
            await store.pool.execute(f"UPDATE {store.table} SET envelope = NULL WHERE key = $1", key)

    try:
        yield Backend("postgres", store, plant)
    finally:
        await store.pool.execute(f"DROP TABLE IF EXISTS {store.table}")
        await manager.__aexit__(None, None, None)


@contextlib.asynccontextmanager
async def _redis() -> AsyncIterator[Backend]:
    from oneringai.infrastructure.token_storage.redis import open_redis_storage

    prefix = f"oneringai-fault:{uuid.uuid4().hex[:8]}:"
    manager = open_redis_storage(RedisStorageSettings(url=REDIS_URL, prefix=prefix), RING)
    try:
        store = await manager.__aenter__()
    except Exception as exc:
        service_unavailable("Redis", str(exc))

    async def plant(key: str, raw: bytes) -> None:
        await store.client.set(prefix + key, raw)

    try:
        yield Backend("redis", store, plant)
    finally:
        names = [n async for n in store.client.scan_iter(match=f"*{prefix}*")]
        if names:
            await store.client.delete(*names)
        await manager.__aexit__(None, None, None)


@contextlib.asynccontextmanager
async def _aws(endpoint: str) -> AsyncIterator[Backend]:
    from oneringai.infrastructure.token_storage.aws_secrets_manager import open_aws_secrets_manager_storage

    settings = AwsSecretsManagerStorageSettings(
        region="us-east-1", endpoint_url=endpoint, prefix=f"fault-{uuid.uuid4().hex[:8]}/",
        aws_access_key_id="testing", aws_secret_access_key="testing",
    )
    async with open_aws_secrets_manager_storage(settings, RING) as store:

        async def plant(key: str, raw: bytes) -> None:
            name = store.secret_name(key)
            text = _as_text(raw.replace(b'"K"', json.dumps(key).encode()))
            value: dict[str, Any] = {"SecretString": text} if text else {"SecretBinary": raw or b"\x00"}
            try:
                await store.client.create_secret(Name=name, **value)
            except Exception:
                await store.client.put_secret_value(SecretId=name, **value)

        yield Backend("aws", store, plant)


def moto_server() -> Any:
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    return server
