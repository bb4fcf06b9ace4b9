"""The conformance kit as a user runs it: in their own project, pytest-asyncio in *strict*
mode, the guide's ``@pytest.fixture async def storage``, and stores written the guide's way.
Its failures must say what the store did wrong."""

from __future__ import annotations

import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

USER_TESTS = '''
import json, os, time
import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from oneringai import IOAuthTokenStorage, StoredToken
from oneringai.infrastructure.token_storage import KeyRing
from oneringai.testing import TokenStorageConformance


class KeyRingStore(IOAuthTokenStorage):
    """The one-line way: KeyRing seal/open."""
    def __init__(self):
        self.ring = KeyRing.generate()
        self.rows = {}
    async def store_token(self, key, token):
        self.rows[key] = (self.ring.seal(key, token), None if token.refresh_token else token.expires_at)
    async def get_token(self, key):
        row = self.rows.get(key)
        if row is None or (row[1] is not None and row[1] <= time.time()):
            return None
        return self.ring.open(key, row[0])
    async def delete_token(self, key):
        self.rows.pop(key, None)
    async def has_token(self, key):
        return key in self.rows
    async def list_keys(self, prefix=""):
        return [k for k in self.rows if k.startswith(prefix)]


class GuideAesStore(IOAuthTokenStorage):
    """The guide's hand-written AES-256-GCM: raises cryptography's InvalidTag."""
    def __init__(self, encryption_key_hex):
        self.encryption_key = bytes.fromhex(encryption_key_hex)
        self.docs = {}
    async def store_token(self, key, token):
        iv = os.urandom(12)
        data = AESGCM(self.encryption_key).encrypt(iv, token.to_storage_json().encode(), None)
        self.docs[key] = (iv, data)
    async def get_token(self, key):
        doc = self.docs.get(key)
        if doc is None:
            return None
        return StoredToken.model_validate_json(AESGCM(self.encryption_key).decrypt(doc[0], doc[1], None))
    async def delete_token(self, key):
        self.docs.pop(key, None)
    async def has_token(self, key):
        return key in self.docs


class TtlBugStore(KeyRingStore):
    """The guide's Redis TTL = expires_in: refreshable tokens vanish at expiry."""
    async def store_token(self, key, token):
        self.rows[key] = (self.ring.seal(key, token), token.expires_at)


class TestKeyRingStore(TokenStorageConformance):
    concurrent_writers = 20

    @pytest.fixture
    async def storage(self):
        yield KeyRingStore()


class TestGuideAesStore(TokenStorageConformance):
    concurrent_writers = 20

    @pytest.fixture
    async def storage(self):
        yield GuideAesStore(os.urandom(32).hex())


class TestTtlBugStore(TokenStorageConformance):
    concurrent_writers = 20

    @pytest.fixture
    def storage(self):  # a sync fixture works too
        return TtlBugStore()
'''


def _run_user_project(tmp_path: Path) -> dict[str, str | None]:
    (tmp_path / "pytest.ini").write_text(
        "[pytest]\nasyncio_mode = strict\nasyncio_default_fixture_loop_scope = function\n"
    )
    (tmp_path / "test_my_store.py").write_text(USER_TESTS)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ONERINGAI_", "PYTEST_"))}
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--junitxml", "report.xml", "test_my_store.py"],
        cwd=tmp_path, capture_output=True, text=True, env=env, timeout=120,
    )
    assert (tmp_path / "report.xml").exists(), result.stdout[-3000:] + result.stderr[-3000:]
    outcomes: dict[str, str | None] = {}
    for case in ET.parse(tmp_path / "report.xml").getroot().iter("testcase"):
        name = f"{case.get('classname', '').rsplit('.', 1)[-1]}::{case.get('name')}"
        failure = case.find("failure")
        error = case.find("error")
        skipped = case.find("skipped")
        if failure is not None or error is not None:
            node = failure if failure is not None else error
            assert node is not None
            outcomes[name] = "FAILED: " + (node.get("message") or "") + (node.text or "")
        elif skipped is not None:
            outcomes[name] = "SKIPPED: " + (skipped.get("message") or "")
        else:
            outcomes[name] = None
    return outcomes


def test_kit_runs_in_strict_mode_and_explains_each_failure(tmp_path: Path) -> None:
    outcomes = _run_user_project(tmp_path)
    good = {k: v for k, v in outcomes.items() if k.startswith("TestKeyRingStore::")}
    assert len(good) >= 10 and all(v is None for v in good.values()), good  # everything ran, and passed

    guide = outcomes["TestGuideAesStore::test_wrong_key_is_detected"]
    assert guide is not None and "InvalidTag" in guide and "TokenDecryptionError" in guide and "KeyRing" in guide
    tamper = outcomes["TestGuideAesStore::test_tampering_is_detected"]  # default tamper, no hook written
    assert tamper is not None and tamper.startswith("FAILED") and "InvalidTag" in tamper
    assert outcomes["TestGuideAesStore::test_round_trip"] is None

    ttl = outcomes["TestTtlBugStore::test_expired_token_without_refresh_is_gone"]
    assert ttl is not None and "refresh token" in ttl and "WHERE expires_at > NOW()" in ttl
    assert outcomes["TestTtlBugStore::test_round_trip"] is None
