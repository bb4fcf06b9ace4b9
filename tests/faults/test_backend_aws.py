"""AWS Secrets Manager (moto) failing under a running token store: the server stopped and
started again, an endpoint that accepts and never answers, throttling, 500s and cut connections
(a proxy before moto injects them), no credentials. Each time: botocore's retries, then a
``TokenStorageError`` with the error code and without the secret key — and the next call works.

Before: no ``connect_timeout``/``read_timeout`` reached botocore, whose defaults are 60 s each
and retried, so a silent endpoint held a token read for ``max_attempts`` x 60 s (five minutes
with the defaults); now ``oauth.storage.aws_secrets_manager.read_timeout`` (10 s) bounds each.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest

from oneringai import TokenStorageError
from oneringai.domain.tokens import StoredToken
from oneringai.infrastructure.token_storage.aws_secrets_manager import (
    AwsSecretsManagerTokenStorage,
    open_aws_secrets_manager_storage,
)
from oneringai.infrastructure.token_storage.config import AwsSecretsManagerStorageSettings
from oneringai.infrastructure.token_storage.encryption import KeyRing
from tests.faults.backend_support import PASSWORD, FaultyProxy, Forwarder, free_port

HANG_GUARD = 20.0


def _token(access: str = "at-1") -> StoredToken:
    return StoredToken(access_token=access, refresh_token="rt-1", expires_at=time.time() + 3600)


def _settings(endpoint: str, **extra: Any) -> AwsSecretsManagerStorageSettings:
    return AwsSecretsManagerStorageSettings(
        region="us-east-1", endpoint_url=endpoint, prefix=f"bf-{uuid.uuid4().hex[:8]}/",
        aws_access_key_id="testing", aws_secret_access_key=PASSWORD, **extra,
    )


def _no_secret(*texts: object) -> bool:
    return not any(PASSWORD in str(text) or PASSWORD in repr(text) for text in texts)


class Moto:
    """moto's server on a fixed port, stopped and started again at will (its data lives in
    the process, so it survives)."""

    def __init__(self) -> None:
        self.port = free_port()
        self.server: Any = None

    def start(self) -> None:
        from moto.server import ThreadedMotoServer

        self.server = ThreadedMotoServer(ip_address="127.0.0.1", port=self.port, verbose=False)
        self.server.start()

    def stop(self) -> None:
        if self.server is not None:
            self.server.stop()
            self.server = None


@pytest.fixture
def moto() -> Iterator[Moto]:
    server = Moto()
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
async def proxy(moto: Moto) -> AsyncIterator[FaultyProxy]:
    faulty = FaultyProxy(f"http://127.0.0.1:{moto.port}")
    await faulty.start()
    try:
        yield faulty
    finally:
        await faulty.stop()


async def test_server_stopped_then_started_again(moto: Moto) -> None:
    settings = _settings(f"http://127.0.0.1:{moto.port}", max_attempts=2)
    async with open_aws_secrets_manager_storage(settings, KeyRing.generate()) as store:
        await store.store_token("k", _token())
        moto.stop()
        with pytest.raises(TokenStorageError, match="EndpointConnectionError") as info:
            await asyncio.wait_for(store.get_token("k"), HANG_GUARD)
        assert _no_secret(info.value, info.value.__cause__)
        moto.start()
        token = await asyncio.wait_for(store.get_token("k"), HANG_GUARD)
        assert token is not None and token.access_token.get_secret_value() == "at-1"


async def test_an_endpoint_that_never_answers_is_bounded_by_read_timeout(moto: Moto) -> None:
    forwarder = Forwarder(moto.port)
    await forwarder.start()
    settings = _settings(f"http://127.0.0.1:{forwarder.port}", max_attempts=2, read_timeout=0.3)
    try:
        async with open_aws_secrets_manager_storage(settings, KeyRing.generate()) as store:
            await store.store_token("k", _token())
            forwarder.frozen = True
            with pytest.raises(TokenStorageError, match="ReadTimeout") as info:
                # a hang guard well under botocore's own 60 s per attempt
                await asyncio.wait_for(store.get_token("k"), HANG_GUARD)
            assert _no_secret(info.value, info.value.__cause__)
            forwarder.frozen = False
            assert await asyncio.wait_for(store.get_token("k"), HANG_GUARD) is not None
    finally:
        await forwarder.stop()


async def test_throttling_500s_and_cut_connections_are_retried(proxy: FaultyProxy) -> None:
    async with open_aws_secrets_manager_storage(_settings(proxy.url, max_attempts=3), KeyRing.generate()) as store:
        await store.store_token("k", _token())
        proxy.faults = ["500", "reset"]  # two failures, the third attempt passes
        token = await asyncio.wait_for(store.get_token("k"), HANG_GUARD)
        assert token is not None and proxy.faults == []


async def test_throttling_past_max_attempts_is_typed_then_passes(proxy: FaultyProxy) -> None:
    async with open_aws_secrets_manager_storage(_settings(proxy.url, max_attempts=2), KeyRing.generate()) as store:
        store_: AwsSecretsManagerTokenStorage = store
        await store_.store_token("k", _token())
        before = proxy.requests
        proxy.faults = ["throttle", "throttle"]
        with pytest.raises(TokenStorageError, match="ThrottlingException") as info:
            await asyncio.wait_for(store_.get_token("k"), HANG_GUARD)
        # max_attempts counts the first attempt (botocore's own max_attempts made one more)
        assert proxy.requests - before == 2 and _no_secret(info.value, info.value.__cause__)
        assert await asyncio.wait_for(store_.get_token("k"), HANG_GUARD) is not None


async def test_no_credentials_is_typed(moto: Moto, monkeypatch: pytest.MonkeyPatch, tmp_path: Any) -> None:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE",
                 "AWS_DEFAULT_PROFILE", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "AWS_CONTAINER_CREDENTIALS_FULL_URI",
                 "AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_ROLE_ARN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    settings = AwsSecretsManagerStorageSettings(region="us-east-1", endpoint_url=f"http://127.0.0.1:{moto.port}")
    async with open_aws_secrets_manager_storage(settings, KeyRing.generate()) as store:
        with pytest.raises(TokenStorageError, match="NoCredentialsError"):
            await asyncio.wait_for(store.get_token("k"), HANG_GUARD)
