"""Race matrix: concurrent writers and readers on every store, locks that token keys cannot
touch, SIGKILLed file writers, and the zero-config key made by many first starts at once."""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from oneringai import StoredToken, TokenStorageError
from oneringai.domain.errors import ConfigError
from oneringai.infrastructure.token_storage.file import FileTokenStorage
from tests.faults.storage_support import Backend


async def test_concurrent_writers_and_readers_on_one_key(backend: Backend) -> None:
    store = backend.store
    writers = 20 if backend.kind == "aws" else 60
    written = {f"w{i}-token" for i in range(writers)}
    seen: list[str | None] = []

    async def read() -> None:
        got = await store.get_token("shared:key")  # never an error: a whole token or none yet
        seen.append(None if got is None else got.access_token.get_secret_value())

    jobs = []
    for i in range(writers):
        jobs.append(store.store_token("shared:key", StoredToken(access_token=f"w{i}-token", refresh_token="r")))
        jobs.append(read())
    await asyncio.gather(*jobs)
    assert {s for s in seen if s is not None} <= written
    final = await store.get_token("shared:key")
    assert final is not None and final.access_token.get_secret_value() in written
    assert await store.list_keys("shared:") == ["shared:key"]


async def test_token_keys_never_touch_a_held_lock(backend: Backend) -> None:
    store = backend.store
    lock = getattr(store, "lock", None)
    if lock is None:
        pytest.skip(f"{backend.kind} has no cross-process lock")
    names = ["x", "oauth-refresh:p:c"]
    colliding = ["lock:x", "lock:oauth-refresh:p:c", "oauth-refresh:p:c", "x", ".lock-x", "locks:x"]
    async with lock(names[0]), lock(names[1]):
        before = None
        if backend.kind == "redis":
            before = [await store.client.get(store.lock_prefix + n) for n in names]
            assert all(before), "the locks are held in Redis"
        for index, key in enumerate(colliding):
            await store.store_token(key, StoredToken(access_token=f"collide-{index}"))
        assert sorted(await store.list_keys("")) == sorted(colliding)  # no lock among them
        if backend.kind == "redis":
            assert [await store.client.get(store.lock_prefix + n) for n in names] == before
        for index, key in enumerate(colliding):
            got = await store.get_token(key)
            assert got is not None and got.access_token.get_secret_value() == f"collide-{index}"


async def test_redis_refuses_token_keys_inside_the_lock_namespace() -> None:
    from oneringai.infrastructure.token_storage.redis import RedisTokenStorage
    from tests.faults.storage_support import RING

    store = RedisTokenStorage(client=None, key_ring=RING, prefix="")
    with pytest.raises(TokenStorageError, match="lock namespace"):
        await store.store_token("oneringai:locks:x", StoredToken(access_token="t"))


WRITER = """
import asyncio, sys
from oneringai.infrastructure.token_storage.file import FileTokenStorage
from oneringai import StoredToken
store = FileTokenStorage(sys.argv[1])  # zero-config: the local key is made on first start
async def main():
    i = 0
    while True:
        i += 1
        # a large record (slow write, wide kill window) whose bulk is not a secret to register
        await store.store_token('k', StoredToken(access_token='big-%d' % i, refresh_token='r', padding='x' * 20000))
        await store.store_token('other:%d' % (i % 5), StoredToken(access_token='o%d' % i))
        if i == 1:
            print('ready', flush=True)
asyncio.run(main())
"""


def test_sigkilled_writers_leave_whole_tokens_and_no_temp_files(tmp_path: Path) -> None:
    directory = tmp_path / "tokens"
    kills = 8
    for round_ in range(kills):
        proc = subprocess.Popen([sys.executable, "-c", WRITER, str(directory)], stdout=subprocess.PIPE, text=True)
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == "ready"
        time.sleep(0.005 * round_)  # land the kill at different points of the write loop
        proc.send_signal(signal.SIGKILL)
        proc.wait(30)
        proc.stdout.close()
        store = FileTokenStorage(directory)  # the next open
        leftovers = [p.name for p in directory.iterdir() if ".tmp-" in p.name]
        assert not leftovers, f"round {round_}: temp files left after the next open: {leftovers}"
        token = asyncio.run(store.get_token("k"))
        assert token is not None and token.access_token.get_secret_value().startswith("big-")
        assert token.model_extra == {"padding": "x" * 20000}
        keys = asyncio.run(store.list_keys(""))
        assert "k" in keys and all(k == "k" or k.startswith("other:") for k in keys)


def _first_start(directory: str, barrier: threading.Barrier | None, results: list[str], errors: list[str]) -> None:
    try:
        if barrier is not None:
            barrier.wait()
        results.append(FileTokenStorage(directory).key_ring.current_key_id)
    except Exception as exc:  # collected and asserted on
        errors.append(f"{type(exc).__name__}: {exc}")


def _process_first_start(directory: str, barrier: object, queue: object) -> None:
    try:
        barrier.wait()  # type: ignore[attr-defined]
        queue.put(FileTokenStorage(directory).key_ring.current_key_id)  # type: ignore[attr-defined]
    except Exception as exc:
        queue.put(f"error {type(exc).__name__}: {exc}")  # type: ignore[attr-defined]


@pytest.mark.parametrize("round_", range(3))
def test_first_start_key_is_one_key_across_processes(tmp_path: Path, round_: int) -> None:
    context = multiprocessing.get_context("fork")
    processes = 24
    barrier = context.Barrier(processes)
    queue = context.Queue()
    directory = str(tmp_path / "tokens")
    workers = [context.Process(target=_process_first_start, args=(directory, barrier, queue)) for _ in range(processes)]
    for worker in workers:
        worker.start()
    ids = [queue.get(timeout=60) for _ in workers]
    for worker in workers:
        worker.join(30)
    assert not [i for i in ids if i.startswith("error")], ids
    assert len(set(ids)) == 1
    assert not [p.name for p in Path(directory).iterdir() if ".tmp-" in p.name]


def test_first_start_key_is_one_key_across_threads(tmp_path: Path) -> None:
    """Before the fix, some of these rounds saw a half-written key ("is empty")."""
    threads = 400
    for round_ in range(6):
        barrier = threading.Barrier(threads)
        results: list[str] = []
        errors: list[str] = []
        workers = [
            threading.Thread(target=_first_start, args=(str(tmp_path / f"t{round_}"), barrier, results, errors))
            for _ in range(threads)
        ]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join(60)
        assert not errors, errors[:3]
        assert len(results) == threads and len(set(results)) == 1


@pytest.mark.parametrize(
    ("content", "expect"),
    [(b"", "is empty"), (b"\n", "is empty"), (b"garbage!", "is corrupt"), (b"\xff\xfe", "is corrupt"), (b"QUJD", "is corrupt")],
)
def test_a_broken_local_key_names_its_file_and_the_way_out(tmp_path: Path, content: bytes, expect: str) -> None:
    directory = tmp_path / "tokens"
    directory.mkdir()
    (directory / ".key").write_bytes(content)
    with pytest.raises(ConfigError) as info:
        FileTokenStorage(directory)
    message = str(info.value)
    assert str(directory / ".key") in message and expect in message
    assert "delete" in message or "restore" in message
    assert "encryption_keys" not in message  # not a pointer to configuration that is not the problem


def test_temp_files_of_killed_key_creators_are_removed(tmp_path: Path) -> None:
    directory = tmp_path / "tokens"
    FileTokenStorage(directory)
    for name in (".key.tmp-dead1", ".tmp-" + "a" * 64 + "-dead.json", ".salt.tmp-x"):
        (directory / name).write_bytes(b"partial")
    old = directory / ".tmp-legacy.json"
    old.write_bytes(b"{")
    os.utime(old, (time.time() - 3600, time.time() - 3600))
    young = directory / ".tmp-young.json"
    young.write_bytes(b"{")  # might be a live writer of an older version: left alone
    FileTokenStorage(directory)
    assert sorted(p.name for p in directory.iterdir() if ".tmp-" in p.name) == [".tmp-young.json"]
