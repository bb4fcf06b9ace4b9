"""``private_key_file`` pointing at something that is no key file: ``/dev/zero`` was read until
memory ran out, a FIFO blocked the refresh forever. Now only a regular file of at most 256 KiB is
read; anything else is an ``OAuthError`` naming the setting (found by the adversarial review,
issue #10 class 4)."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from oneringai import OAuthError
from tests.faults.oauth_support import HostileTokenServer, hostile_server, manager_for


@pytest.fixture
async def server() -> AsyncIterator[HostileTokenServer]:
    async for running in hostile_server():
        yield running


def _fifo(tmp_path: Path) -> str:
    path = tmp_path / "key.fifo"
    os.mkfifo(path)
    return str(path)


def _huge(tmp_path: Path) -> str:
    path = tmp_path / "huge.pem"
    path.write_bytes(b"-----BEGIN PRIVATE KEY-----\n" + b"A" * 2_000_000)
    return str(path)


@pytest.mark.parametrize(
    ("make", "reason"),
    [
        (lambda tmp: "/dev/zero", "not a regular file"),
        (_fifo, "not a regular file"),
        (_huge, "larger than"),
        (lambda tmp: str(tmp), "Is a directory"),
        (lambda tmp: str(tmp / "missing.pem"), "No such file"),
    ],
    ids=["/dev/zero", "fifo", "2 MB file", "directory", "missing"],
)
async def test_a_key_file_that_is_no_key_file_is_an_oauth_error(
    server: HostileTokenServer, tmp_path: Path, make, reason: str
) -> None:
    manager = manager_for(server, flow="jwt_bearer", issuer="i", subject="s", private_key_file=make(tmp_path))
    with pytest.raises(OAuthError, match=rf"{reason}.*private_key_file"):
        await asyncio.wait_for(manager.get_token(), 20)  # 20 s means it hung
    assert server.requests == 0
