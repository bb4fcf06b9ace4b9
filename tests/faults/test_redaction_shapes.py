"""Credentials the kit never registered — a proxy's key, another service's password — still
leave no message when a server or library echoes them in a common shape: an ``x-api-key:`` /
``api-key:`` header line, a quoted libpq ``password='…'``, a URL password holding a raw ``@``
(found by the adversarial review, issue #10 class 1)."""

from __future__ import annotations

import json
import uuid

import pytest

from oneringai import ProviderError, TokenStorageError
from oneringai.domain.redaction import redact
from oneringai.infrastructure.token_storage.config import PostgresStorageSettings
from oneringai.infrastructure.token_storage.encryption import KeyRing
from oneringai.infrastructure.token_storage.postgres import open_postgres_storage
from tests.faults.providers_fixtures import (
    KINDS,
    VENDORS,
    FaultServer,
    collect,
    fault_server_fixture,  # noqa: F401 - provides the fault_server fixture
    options,
)


def _unregistered() -> str:
    """A fresh value no store, provider or setting has seen (so only a shape can catch it)."""
    return "Zz" + uuid.uuid4().hex[:14]


SHAPES = {
    "x-api-key header": "upstream refused x-api-key: {v} for this route",
    "X-Api-Key header, capitals": "headers: {{X-Api-Key: {v}}}",
    "azure api-key header": "api-key: {v}",
    "google header": "x-goog-api-key:{v}",
    "libpq quoted password": "connect: host=db password='{v} with spaces' user=app",
    "libpq double-quoted password": 'connect: host=db password="{v}" user=app',
    "URL password with raw @": "cannot reach postgresql://app:p@ss@{v}@db:5432/app, retrying",
    "URL password then a comma": "cannot reach redis://default:{v}@cache:6379, retrying",
}


@pytest.mark.parametrize("shape", list(SHAPES))
def test_each_shape_is_scrubbed(shape: str) -> None:
    value = _unregistered()
    assert value not in redact(SHAPES[shape].format(v=value))


def test_ordinary_text_is_left_alone() -> None:
    for text in ("key: value pairs", "monkey: 3 bananas", "http://h:8080/a@b", "mail a@b.c via http://host/x"):
        assert redact(text) == text


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("shape", list(SHAPES))
async def test_a_server_echoing_a_shape_leaks_nothing(fault_server: FaultServer, kind: str, shape: str) -> None:
    vendor = VENDORS[kind]
    value = _unregistered()
    body = vendor.error_body(SHAPES[shape].format(v=value))
    fault_server.answer(502, json.dumps(body).encode())
    async with vendor.provider(fault_server.url) as provider:
        for call in (provider.generate(options()), collect(provider)):
            with pytest.raises(ProviderError) as caught:
                await call
            assert value not in str(caught.value) and value not in str(caught.value.body)


async def test_a_dsn_password_with_a_raw_at_sign_is_not_in_the_storage_error() -> None:
    tail = _unregistered()
    settings = PostgresStorageSettings(dsn=f"postgresql://app:p@ss@{tail}@127.0.0.1:1/db")
    with pytest.raises(TokenStorageError) as caught:
        async with open_postgres_storage(settings, KeyRing.generate()):
            pass
    assert tail not in str(caught.value) and tail not in repr(caught.value)
