"""Every built-in store passes the conformance kit against its real backend."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import pytest

from oneringai.infrastructure.token_storage.config import (
    AwsSecretsManagerStorageSettings,
    PostgresStorageSettings,
    RedisStorageSettings,
)
from oneringai.infrastructure.token_storage.encryption import KeyRing
from oneringai.infrastructure.token_storage.file import FileTokenStorage
from oneringai.infrastructure.token_storage.memory import MemoryTokenStorage
from oneringai.testing import TokenStorageConformance
from tests.conftest import POSTGRES_DSN, REDIS_URL, service_unavailable

RING = KeyRing.generate()


class TestMemoryStorage(TokenStorageConformance):
    concurrent_writers = 1000
    @pytest.fixture
    async def storage(self) -> AsyncIterator[MemoryTokenStorage]:
        yield MemoryTokenStorage(RING)


class TestFileStorage(TokenStorageConformance):
    concurrent_writers = 100

    @pytest.fixture
    async def storage(self, tmp_path) -> AsyncIterator[FileTokenStorage]:
        yield FileTokenStorage(tmp_path / "tokens", RING)


class TestPostgresStorage(TokenStorageConformance):
    concurrent_writers = 1000
    @pytest.fixture
    async def storage(self) -> AsyncIterator[object]:
        from oneringai.infrastructure.token_storage.postgres import open_postgres_storage

        table = f"t_{uuid.uuid4().hex[:10]}"
        settings = PostgresStorageSettings(dsn=POSTGRES_DSN, table=table, schema="oneringai_test")
        try:
            manager = open_postgres_storage(settings, RING)
            storage = await manager.__aenter__()
        except Exception as exc:
            service_unavailable("PostgreSQL", str(exc))
        try:
            yield storage
        finally:
            await storage.pool.execute(f"DROP TABLE IF EXISTS {storage.table}")
            await manager.__aexit__(None, None, None)


class TestRedisStorage(TokenStorageConformance):
    concurrent_writers = 1000
    @pytest.fixture
    async def storage(self) -> AsyncIterator[object]:
        from oneringai.infrastructure.token_storage.redis import open_redis_storage

        prefix = f"oneringai-test:{uuid.uuid4().hex[:8]}:"
        try:
            manager = open_redis_storage(RedisStorageSettings(url=REDIS_URL, prefix=prefix), RING)
            storage = await manager.__aenter__()
        except Exception as exc:
            service_unavailable("Redis", str(exc))
        try:
            yield storage
        finally:
            for key in await storage.list_keys(""):
                await storage.delete_token(key)
            await manager.__aexit__(None, None, None)


@pytest.fixture(scope="module")
def moto_endpoint() -> AsyncIterator[str]:
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()


class TestAwsSecretsManagerStorage(TokenStorageConformance):
    concurrent_writers = 40

    @pytest.fixture
    async def storage(self, moto_endpoint: str) -> AsyncIterator[object]:
        from oneringai.infrastructure.token_storage.aws_secrets_manager import (
            open_aws_secrets_manager_storage,
        )

        settings = AwsSecretsManagerStorageSettings(
            region="us-east-1", endpoint_url=moto_endpoint, prefix=f"test-{uuid.uuid4().hex[:8]}/",
            aws_access_key_id="testing", aws_secret_access_key="testing",
        )
        async with open_aws_secrets_manager_storage(settings, RING) as storage:
            yield storage


def test_aws_name_encoding_round_trips():
    from oneringai.infrastructure.token_storage.aws_secrets_manager import decode_name, encode_name

    for key in ["github:client:user", "ålice/日本", "a_b-c.d", "x" * 10]:
        name = encode_name(key)
        assert all(c.isalnum() or c in "/_+=.@-" for c in name)
        assert decode_name(name) == key


async def test_postgres_down_is_a_storage_error():
    from oneringai.domain.errors import TokenStorageError
    from oneringai.infrastructure.token_storage.postgres import open_postgres_storage

    settings = PostgresStorageSettings(dsn="postgresql://u:pw-secret@127.0.0.1:1/db")
    with pytest.raises(TokenStorageError, match="postgres") as info:
        async with open_postgres_storage(settings, RING):
            pass
    assert "pw-secret" not in str(info.value)


async def test_redis_down_is_a_storage_error():
    from oneringai.domain.errors import TokenStorageError
    from oneringai.infrastructure.token_storage.redis import open_redis_storage

    with pytest.raises(TokenStorageError, match="redis"):
        async with open_redis_storage(RedisStorageSettings(url="redis://127.0.0.1:1/0"), RING):
            pass


async def test_selected_from_yaml_through_the_container(moto_endpoint, tmp_path):
    """postgres / redis / aws kinds are Resources opened on first use and closed on shutdown."""
    from oneringai import OneRingAI, StoredToken
    from oneringai.config import Settings
    from oneringai.infrastructure.token_storage.encryption import generate_key

    key = generate_key()
    kinds = {
        "postgres": {"postgres": {"dsn": POSTGRES_DSN, "table": f"c_{uuid.uuid4().hex[:8]}"}},
        "redis": {"redis": {"url": REDIS_URL, "prefix": f"c-{uuid.uuid4().hex[:6]}:"}},
        "aws_secrets_manager": {"aws_secrets_manager": {"endpoint_url": moto_endpoint, "aws_access_key_id": "testing", "aws_secret_access_key": "testing"}},
    }
    for kind, extra in kinds.items():
        settings = Settings.model_validate({"oauth": {"encryption_keys": [key], "storage": {"kind": kind, **extra}}})
        async with OneRingAI(settings=settings) as client:
            try:
                await client.token_storage.store_token("p:c:u", StoredToken(access_token=f"tok-{kind}"))
            except Exception as exc:
                if kind != "aws_secrets_manager":
                    service_unavailable(kind, str(exc))
                raise
            got = await client.token_storage.get_token("p:c:u")
            assert got is not None and got.access_token.get_secret_value() == f"tok-{kind}"
            assert type(await client.token_storage.resolve()).__name__.lower().startswith(kind.split("_")[0][:5])
            await client.token_storage.delete_token("p:c:u")
