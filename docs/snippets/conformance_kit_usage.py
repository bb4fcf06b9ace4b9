"""Run the storage conformance kit against your own store (here: the kit's memory store)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from oneringai.infrastructure.token_storage.encryption import KeyRing
from oneringai.testing import MemoryTokenStorage, TokenStorageConformance


class TestMyStore(TokenStorageConformance):
    @pytest.fixture
    async def storage(self) -> AsyncIterator[MemoryTokenStorage]:
        store = MemoryTokenStorage(KeyRing.generate())  # your MongoDB/SQLite/... store here
        yield store


async def demo() -> list[str]:
    return sorted(name for name in dir(TestMyStore) if name.startswith("test_"))
