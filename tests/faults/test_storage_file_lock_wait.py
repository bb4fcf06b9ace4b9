"""The file store's refresh lock had no bounded wait: a waiter blocked a thread in ``flock``
until the holder let go — forever behind a stopped (SIGSTOP) or hung holder, and a cancelled
waiter left that thread behind. Now the lock is polled, cancellable, and waited for at most
``timeout`` seconds (60 by default), then a ``TokenStorageError`` naming the lock."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from oneringai import TokenStorageError
from oneringai.infrastructure.token_storage.encryption import KeyRing
from oneringai.infrastructure.token_storage.file import FileTokenStorage

#: Guards the test itself: before the fix the waits below never ended.
_GUARD = 30.0

HOLDER = """
import asyncio, sys, time
from oneringai.infrastructure.token_storage.encryption import KeyRing
from oneringai.infrastructure.token_storage.file import FileTokenStorage

async def main():
    store = FileTokenStorage(sys.argv[1], KeyRing.generate())
    async with store.lock("oauth-refresh:shared"):
        print("held", flush=True)
        time.sleep(3600)

asyncio.run(main())
"""


async def test_a_stopped_holder_makes_waiters_fail_not_hang(tmp_path: Path) -> None:
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, str(tmp_path)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        os.kill(holder.pid, signal.SIGSTOP)
        store = FileTokenStorage(tmp_path, KeyRing.generate())
        async with asyncio.timeout(_GUARD):
            with pytest.raises(TokenStorageError, match="oauth-refresh:shared"):
                async with store.lock("oauth-refresh:shared", timeout=0.3):
                    pytest.fail("the lock was taken while another process held it")
    finally:
        holder.kill()
        holder.wait()
    async with asyncio.timeout(_GUARD), store.lock("oauth-refresh:shared", timeout=5):
        pass  # the holder is gone: taken at once


async def test_a_cancelled_waiter_leaves_nothing_waiting(tmp_path: Path) -> None:
    store = FileTokenStorage(tmp_path, KeyRing.generate())
    entered = asyncio.Event()
    release = asyncio.Event()

    async def hold() -> None:
        async with store.lock("cancel-me"):
            entered.set()
            await release.wait()

    holder = asyncio.create_task(hold())
    await entered.wait()

    async def wait_for_lock() -> None:
        async with store.lock("cancel-me"):
            pytest.fail("taken while held")

    waiters = [asyncio.create_task(wait_for_lock()) for _ in range(8)]
    await asyncio.sleep(0.1)
    for waiter in waiters:
        waiter.cancel()
    results = await asyncio.gather(*waiters, return_exceptions=True)
    assert all(isinstance(r, asyncio.CancelledError) for r in results)
    release.set()
    await holder
    async with asyncio.timeout(_GUARD), store.lock("cancel-me", timeout=5):
        pass  # no cancelled waiter took it, or keeps waiting for it
