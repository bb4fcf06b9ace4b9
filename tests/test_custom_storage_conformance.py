"""The example's custom SQLite store passes the same conformance kit as the built-in stores."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from oneringai.infrastructure.token_storage.encryption import KeyRing
from oneringai.testing import TokenStorageConformance

ROOT = Path(__file__).resolve().parents[1]
_spec = importlib.util.spec_from_file_location("custom_infrastructure", ROOT / "examples/custom_infrastructure.py")
assert _spec is not None and _spec.loader is not None
example = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(example)


class TestSQLiteTokenStorage(TokenStorageConformance):
    concurrent_writers = 100

    @pytest.fixture
    async def storage(self, tmp_path):
        yield example.SQLiteTokenStorage(str(tmp_path / "tokens.db"), KeyRing.generate())

    async def tamper(self, storage, key):
        """Flip one character of the stored envelope, in the database file itself."""
        (envelope,) = (await storage._run("SELECT envelope FROM tokens WHERE key = ?", key))[0]
        head, _, payload = envelope.rpartition(":")
        middle = len(payload) // 2
        flipped = payload[:middle] + ("A" if payload[middle] != "A" else "B") + payload[middle + 1:]
        await storage._run("UPDATE tokens SET envelope = ? WHERE key = ?", f"{head}:{flipped}", key)
        return True
