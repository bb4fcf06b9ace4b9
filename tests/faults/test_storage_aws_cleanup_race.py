"""AWS Secrets Manager: ``cleanup_expired`` deletes only the record it read.

``DeleteSecret`` has no condition. Before, the cleanup compared the secret's versions before
its read and just before the delete: a token a refresh stored in between those looks and the
delete was deleted with the expired record. Now ``AWSCURRENT`` first moves from the version
read to a tombstone with the checked move every write makes (``UpdateSecretVersionStage`` with
``RemoveFromVersionId``), which fails when another write moved it meanwhile; and a write never
goes into a tombstoned secret — it waits for the delete, then creates the secret anew.

The races are made deterministic with a client that runs the competing write inside the
cleanup's calls, against moto's server.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from oneringai import StoredToken, TokenStorageError
from oneringai.infrastructure.token_storage import aws_secrets_manager
from oneringai.infrastructure.token_storage.aws_secrets_manager import AwsSecretsManagerTokenStorage
from tests.faults.storage_support import Backend, open_backend

_MUTATIONS = ("put_secret_value", "update_secret_version_stage", "delete_secret")


class _HookedClient:
    """The store's client; ``hook(call_name)`` runs (once) before the first call among ``on``."""

    def __init__(self, client: Any, hook: Callable[[str], Awaitable[None]], on: tuple[str, ...]) -> None:
        self._client = client
        self._hook: Callable[[str], Awaitable[None]] | None = hook
        self._on = on

    def __getattr__(self, name: str) -> Any:
        target = getattr(self._client, name)
        if name not in self._on:
            return target

        async def call(**kwargs: Any) -> Any:
            hook, self._hook = self._hook, None
            if hook is not None:
                await hook(name)
            return await target(**kwargs)

        return call


@pytest.fixture
async def aws(tmp_path: Path, moto_endpoint: str) -> AsyncIterator[Backend]:
    async with open_backend("aws", tmp_path, moto_endpoint) as backend:
        yield backend


def _expired(access: str) -> StoredToken:
    return StoredToken(access_token=access, expires_in=60, obtained_at=time.time() - 3600)


def _fresh(access: str) -> StoredToken:
    return StoredToken(access_token=access, refresh_token=f"refresh-of-{access}", expires_in=3600)


async def _stored(store: AwsSecretsManagerTokenStorage, key: str) -> str | None:
    got = await store.get_token(key)
    return None if got is None else got.access_token.get_secret_value()


def _stores(backend: Backend) -> tuple[AwsSecretsManagerTokenStorage, AwsSecretsManagerTokenStorage, Any]:
    store = backend.store
    assert isinstance(store, AwsSecretsManagerTokenStorage)
    writer = AwsSecretsManagerTokenStorage(store.client, store.key_ring, prefix=store.prefix)  # "another process"
    return store, writer, store.client


async def test_a_token_stored_just_before_the_cleanups_first_change_survives(aws: Backend) -> None:
    """The refresh lands after every check the cleanup makes, before it changes anything."""
    store, writer, real = _stores(aws)
    for round_ in range(3):
        key = f"cleanup:first-change:{round_}"
        await store.store_token(key, _expired("expired-token-1"))
        for _ in range(round_):  # also after earlier label moves
            await store.store_token(key, _expired("expired-token-1"))

        async def refresh(_call: str, key: str = key) -> None:
            await writer.store_token(key, _fresh("fresh-token-2"))

        store.client = _HookedClient(real, refresh, _MUTATIONS)
        removed = await store.cleanup_expired()
        store.client = real
        assert await _stored(store, key) == "fresh-token-2", f"round {round_}: the refreshed token was deleted"
        assert removed == 0


async def test_a_write_racing_the_delete_itself_waits_and_survives(aws: Backend) -> None:
    """The refresh starts just before ``DeleteSecret``: it must not write into the secret being
    deleted (its write would vanish with it)."""
    store, writer, real = _stores(aws)
    key = "cleanup:at-delete"
    await store.store_token(key, _expired("expired-token-1"))
    started: list[asyncio.Task[None]] = []

    async def refresh(_call: str) -> None:
        started.append(asyncio.create_task(writer.store_token(key, _fresh("fresh-token-2"))))
        await asyncio.sleep(0.3)  # the refresh reads the secret and tries its write

    store.client = _HookedClient(real, refresh, ("delete_secret",))
    assert await store.cleanup_expired() == 1
    store.client = real
    await asyncio.wait_for(started[0], 30)
    assert await _stored(store, key) == "fresh-token-2"


async def test_a_tombstone_left_by_a_stopped_cleanup_hides_the_token_until_a_write(
    aws: Backend, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A cleanup that stops between its move and its delete leaves a tombstone: no token is
    read from it, ``list_keys`` skips it, and the next write deletes it and creates the secret."""
    monkeypatch.setattr(aws_secrets_manager, "_STALE_SECONDS", 0.3)
    store, writer, real = _stores(aws)
    key = "cleanup:stopped"
    await store.store_token(key, _expired("expired-token-1"))

    async def stop(_call: str) -> None:
        raise RuntimeError("the process stopped here")

    store.client = _HookedClient(real, stop, ("delete_secret",))
    with pytest.raises(TokenStorageError):
        await store.cleanup_expired()
    store.client = real
    assert await _stored(store, key) is None
    assert key not in await store.list_keys("cleanup:")
    assert await store.cleanup_expired() == 0
    await asyncio.wait_for(writer.store_token(key, _fresh("after-the-tombstone")), 30)
    assert await _stored(store, key) == "after-the-tombstone"
    assert key in await store.list_keys("cleanup:")


async def test_an_expired_record_alone_is_still_removed(aws: Backend) -> None:
    store, _, _ = _stores(aws)
    key = "cleanup:plain"
    await store.store_token(key, _expired("expired-token-1"))
    await store.store_token("cleanup:kept", _fresh("fresh-token-1"))
    assert await store.cleanup_expired() >= 1
    assert key not in await store.list_keys("cleanup:")
    assert await _stored(store, "cleanup:kept") == "fresh-token-1"
    await store.store_token(key, _fresh("written-again"))  # the name is free again
    assert await _stored(store, key) == "written-again"
