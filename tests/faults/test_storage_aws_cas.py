"""AWS Secrets Manager: ``rotate-key`` is a compare-and-set too.

Before, the AWS store re-encrypted a record by reading it, checking it and writing it back
with a plain ``PutSecretValue``: a token a refresh wrote between the check and the write was
overwritten by the re-encrypted older one. Now every write adds a version and moves
``AWSCURRENT`` to it with ``UpdateSecretVersionStage(RemoveFromVersionId=<the version read>)``,
which fails when another write moved the label meanwhile. Against moto's server.

The race is made deterministic: the competing write happens inside the rotation's first
``PutSecretValue`` call, i.e. after every check the rotation makes.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from oneringai import StoredToken
from oneringai.domain.errors import TokenDecryptionError
from oneringai.infrastructure.token_storage.aws_secrets_manager import AwsSecretsManagerTokenStorage
from oneringai.infrastructure.token_storage.encryption import KeyRing, generate_key, parse_key
from tests.faults.storage_support import Backend, open_backend

OLD = parse_key(generate_key())
NEW = parse_key(generate_key())
OLD_RING = KeyRing([OLD])
NEW_RING = KeyRing([NEW]).with_older_keys([OLD])


class _RacingClient:
    """The store's client, with ``race`` run (once) just before the first ``PutSecretValue``."""

    def __init__(self, client: Any, race: Callable[[], Awaitable[None]]) -> None:
        self._client = client
        self._race: Callable[[], Awaitable[None]] | None = race

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)

    async def put_secret_value(self, **kwargs: Any) -> Any:
        race, self._race = self._race, None
        if race is not None:
            await race()
        return await self._client.put_secret_value(**kwargs)


@pytest.fixture
async def aws(tmp_path: Path, moto_endpoint: str) -> AsyncIterator[Backend]:
    async with open_backend("aws", tmp_path, moto_endpoint) as backend:
        yield backend


def _token(access: str) -> StoredToken:
    return StoredToken(access_token=access, refresh_token=f"refresh-of-{access}")


async def test_a_token_written_between_check_and_write_survives_rotation(aws: Backend) -> None:
    store = aws.store
    assert isinstance(store, AwsSecretsManagerTokenStorage)
    real = store.client
    writer = AwsSecretsManagerTokenStorage(real, NEW_RING, prefix=store.prefix)
    for round_ in range(3):
        key = f"cas:{round_}"
        store.key_ring, store.client = OLD_RING, real
        await store.store_token(key, _token("version-1-token"))
        for _ in range(round_):  # also after earlier label moves
            await store.store_token(key, _token("version-1-token"))

        async def refresh(key: str = key) -> None:
            await writer.store_token(key, _token("version-2-token"))

        store.key_ring, store.client = NEW_RING, _RacingClient(real, refresh)
        await store.rotate_key(key)
        store.client = real
        got = await store.get_token(key)
        assert got is not None and got.access_token.get_secret_value() == "version-2-token", (
            f"round {round_}: the token written during rotation was overwritten by the re-encrypted old one"
        )


async def test_reads_follow_every_write_and_a_planted_value(aws: Backend) -> None:
    """Writes move ``AWSCURRENT`` by label; reads, rotations and a value another program put
    with a plain ``PutSecretValue`` still agree on which version is the record."""
    store = aws.store
    key = "cas:sequence"
    store.key_ring = OLD_RING
    for n in range(3):
        await store.store_token(key, _token(f"sequence-token-{n}"))
        got = await store.get_token(key)
        assert got is not None and got.access_token.get_secret_value() == f"sequence-token-{n}"
    store.key_ring = NEW_RING
    assert await store.rotate_key(key) is True
    assert KeyRing.key_id_of(await store.get_envelope(key)) == NEW_RING.current_key_id
    got = await store.get_token(key)
    assert got is not None and got.access_token.get_secret_value() == "sequence-token-2"

    # another program (or an attacker) puts a value: the store sees it
    name = store.secret_name(key)
    await store.client.put_secret_value(
        SecretId=name, SecretString=json.dumps({"key": key, "envelope": "v1:" + "0" * 16 + ":AAAA", "expires_at": None})
    )
    with pytest.raises(TokenDecryptionError):
        await store.get_token(key)
    # and a token stored after it is what is read back
    await store.store_token(key, _token("after-the-plant"))
    got = await store.get_token(key)
    assert got is not None and got.access_token.get_secret_value() == "after-the-plant"
    await store.store_token(key, _token("once-more"))
    got = await store.get_token(key)
    assert got is not None and got.access_token.get_secret_value() == "once-more"
    assert await store.list_keys("cas:") == [key]


async def test_a_write_that_loses_to_a_rotation_is_made_again(aws: Backend) -> None:
    """The other order: the rotation moves the label between a write's read and its move. The
    write must not end up ordered before the rotation's copy of the older token."""
    store = aws.store
    assert isinstance(store, AwsSecretsManagerTokenStorage)
    real = store.client
    rotator = AwsSecretsManagerTokenStorage(real, NEW_RING, prefix=store.prefix)
    key = "cas:write-after-rotation"
    store.key_ring = OLD_RING
    await store.store_token(key, _token("version-1-token"))

    async def rotate() -> None:
        assert await rotator.rotate_key(key) is True

    store.key_ring, store.client = NEW_RING, _RacingClient(real, rotate)
    await store.store_token(key, _token("version-2-token"))
    store.client = real
    got = await store.get_token(key)
    assert got is not None and got.access_token.get_secret_value() == "version-2-token", (
        "a refresh's token was lost to a rotation that re-encrypted the one before it"
    )
