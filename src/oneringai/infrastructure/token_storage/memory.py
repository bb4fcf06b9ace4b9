"""In-process store — still encrypted, so tests exercise the same code as production."""

from __future__ import annotations

from oneringai.infrastructure.token_storage.base import EncryptedTokenStorage, Record
from oneringai.infrastructure.token_storage.encryption import KeyRing

__all__ = ["MemoryTokenStorage"]


class MemoryTokenStorage(EncryptedTokenStorage):
    backend = "memory"

    def __init__(self, key_ring: KeyRing | None = None) -> None:
        super().__init__(key_ring or KeyRing.generate())
        self._records: dict[str, Record] = {}

    async def _put(self, key: str, envelope: str, expires_at: float | None) -> None:
        self._records[key] = (envelope, expires_at)

    async def _get(self, key: str) -> Record | None:
        return self._records.get(key)

    async def _delete(self, key: str) -> None:
        self._records.pop(key, None)

    async def _list(self, prefix: str) -> list[str]:
        keys = []
        for key, (envelope, _expires) in list(self._records.items()):
            if not key.startswith(prefix):
                continue
            if self._is_ours(envelope):
                keys.append(key)
            else:
                self._skip_foreign(self.backend, key, "not an envelope")
        return keys

    def raw_records(self) -> dict[str, Record]:
        """The stored envelopes, for tests that tamper with them."""
        return self._records
