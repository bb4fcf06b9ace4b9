"""The file token store against a hostile file system and hard crashes.

* A symlink planted in the token directory under a lock file's name (``<digest>.lock``,
  ``.lock-<hash>``) was followed: ``store_token`` and ``lock`` created (0600, empty) whatever
  file it pointed to, anywhere the user may write. A symlinked record was read through.
  Now neither is followed: the write goes on (its lock is refused as a typed error), nothing
  outside the directory is created, written or read.
* ``kill -9`` of writers in the middle of ``store_token``, over and over: the record is always
  the old or a new token, never corrupt, and the temp files of killed writers do not pile up.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from oneringai import StoredToken, TokenStorageError
from oneringai.infrastructure.token_storage.encryption import KeyRing, generate_key
from oneringai.infrastructure.token_storage.file import FileTokenStorage

KEY = "conn:client:user"


def _digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def _store(directory: Path, key: str = "") -> FileTokenStorage:
    ring = KeyRing.from_strings([key]) if key else KeyRing.generate()
    return FileTokenStorage(directory, ring)


async def test_a_symlinked_record_lock_is_not_followed(tmp_path: Path) -> None:
    directory, outside = tmp_path / "tokens", tmp_path / "outside"
    outside.mkdir()
    store = _store(directory)
    victim = outside / "created-by-the-store"
    (directory / f"{_digest(KEY)}.lock").symlink_to(victim)
    with pytest.raises(TokenStorageError):
        await store.store_token(KEY, StoredToken(access_token="a-1", expires_in=3600))
    assert not victim.exists()
    assert await store.get_token(KEY) is None


async def test_a_symlinked_refresh_lock_is_not_followed(tmp_path: Path) -> None:
    directory, outside = tmp_path / "tokens", tmp_path / "outside"
    outside.mkdir()
    store = _store(directory)
    victim = outside / "lock-target"
    name = "oauth-refresh:" + KEY
    (directory / f".lock-{hashlib.sha256(name.encode()).hexdigest()[:32]}").symlink_to(victim)
    with pytest.raises(TokenStorageError):
        async with store.lock(name, timeout=1):
            pass
    assert not victim.exists()


async def test_a_symlinked_record_is_neither_read_through_nor_written_through(tmp_path: Path) -> None:
    directory, outside = tmp_path / "tokens", tmp_path / "outside"
    outside.mkdir()
    store = _store(directory)
    await store.store_token(KEY, StoredToken(access_token="a-1", expires_in=3600))
    # a genuine record of this key, moved elsewhere and linked back: still not read through
    elsewhere = outside / "record.json"
    record = directory / f"{_digest(KEY)}.json"
    record.rename(elsewhere)
    record.symlink_to(elsewhere)
    with pytest.raises(TokenStorageError):
        await store.get_token(KEY)
    before = elsewhere.read_bytes()
    await store.store_token(KEY, StoredToken(access_token="a-2", expires_in=3600))
    assert elsewhere.read_bytes() == before  # the link was replaced, its target untouched
    assert not record.is_symlink()
    token = await store.get_token(KEY)
    assert token is not None and token.access_token.get_secret_value() == "a-2"


async def test_created_files_and_directory_are_private(tmp_path: Path) -> None:
    old = os.umask(0o022)
    try:
        directory = tmp_path / "a" / "tokens"
        store = FileTokenStorage(directory)  # the zero-config key too
        await store.store_token(KEY, StoredToken(access_token="a-1", expires_in=3600))
        async with store.lock("x"):
            pass
    finally:
        os.umask(old)
    assert stat.S_IMODE(directory.stat().st_mode) == 0o700
    for path in directory.iterdir():
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path.name


WRITER = """
import asyncio, sys
from oneringai import StoredToken
from oneringai.infrastructure.token_storage.encryption import KeyRing
from oneringai.infrastructure.token_storage.file import FileTokenStorage

async def main():
    store = FileTokenStorage(sys.argv[1], KeyRing.from_strings([sys.argv[2]]))
    print("ready", flush=True)
    n = 0
    while True:
        n += 1
        await store.store_token("conn:client:user", StoredToken(access_token=f"{sys.argv[3]}-{n}", expires_in=3600))

asyncio.run(main())
"""


async def test_writers_killed_mid_write_leave_the_old_or_a_new_record(tmp_path: Path) -> None:
    key = generate_key()
    store = _store(tmp_path, key)
    await store.store_token(KEY, StoredToken(access_token="initial-0", expires_in=3600))
    seen: set[str] = set()
    for round_ in range(12):
        writers = [
            subprocess.Popen(
                [sys.executable, "-c", WRITER, str(tmp_path), key, f"w{round_}x{i}"],
                stdout=subprocess.PIPE, text=True,
            )
            for i in range(2)
        ]
        for writer in writers:
            assert writer.stdout is not None
            await asyncio.to_thread(writer.stdout.readline)
        await asyncio.sleep(0.05 + 0.02 * (round_ % 5))
        for writer in writers:
            os.kill(writer.pid, signal.SIGKILL)
        for writer in writers:
            await asyncio.to_thread(writer.wait)
        token = await _store(tmp_path, key).get_token(KEY)  # a fresh open also clears temp files
        assert token is not None
        seen.add(token.access_token.get_secret_value().split("-")[0])
        leftovers = [p.name for p in tmp_path.iterdir() if p.name.startswith(".tmp-")]
        assert not leftovers, leftovers
    assert len(seen) > 1  # the writers did replace the record


async def test_a_record_written_by_several_processes_at_once_stays_whole(tmp_path: Path) -> None:
    key = generate_key()
    store = _store(tmp_path, key)
    writers = [
        subprocess.Popen([sys.executable, "-c", WRITER, str(tmp_path), key, f"p{i}"], stdout=subprocess.PIPE, text=True)
        for i in range(3)
    ]
    try:
        for writer in writers:
            assert writer.stdout is not None
            await asyncio.to_thread(writer.stdout.readline)
        deadline = time.monotonic() + 2
        reads = 0
        while time.monotonic() < deadline:
            token = await store.get_token(KEY)
            if token is not None:
                reads += 1
                assert token.access_token.get_secret_value().startswith("p")
        assert reads > 0
    finally:
        for writer in writers:
            writer.kill()
            writer.wait()


async def test_lock_files_do_not_pile_up_and_locks_still_exclude(tmp_path: Path) -> None:
    """Every login left a ``<digest>.lock`` (its state record's) and every lock name a
    ``.lock-*`` file, for ever: thousands of empty files in the token directory of a busy
    web app. Now a lock file is removed by its holder — and a waiter on the removed file
    takes the new one, so two holders never overlap."""
    store = _store(tmp_path)
    baseline = set(os.listdir(tmp_path))
    for i in range(30):
        await store.store_token(f"conn:client:state-{i}", StoredToken(access_token=f"s-{i}", expires_in=600))
        await store.delete_token(f"conn:client:state-{i}")
        async with store.lock(f"oauth-state:conn:client:state-{i}"):
            pass
    assert set(os.listdir(tmp_path)) == baseline

    inside, most = 0, 0

    async def hold(n: int) -> None:
        nonlocal inside, most
        async with store.lock("shared"):
            inside += 1
            most = max(most, inside)
            await asyncio.sleep(0.001 * (n % 3))
            inside -= 1

    await asyncio.gather(*(hold(n) for n in range(40)))
    assert most == 1

    async def write_and_delete(n: int) -> None:
        await store.store_token(KEY, StoredToken(access_token=f"t-{n}", expires_in=600))
        await store.delete_token(KEY)

    await asyncio.gather(*(write_and_delete(n) for n in range(40)))
    assert set(os.listdir(tmp_path)) == baseline
