"""The zero-config ``.key`` replaced by something that is no key file: a FIFO blocked the store's
construction forever, a link to ``/dev/zero`` read until memory ran out, a directory raised a raw
``IsADirectoryError``. Each is now a ``ConfigError`` naming the file, and a 10 MB file is read
only as far as a key can be long (found by the adversarial review, issue #10 class 4)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from oneringai.domain.errors import ConfigError
from oneringai.infrastructure.token_storage.file import FileTokenStorage, read_local_key


def _plant(directory: Path, kind: str) -> None:
    key = directory / ".key"
    if kind == "fifo":
        os.mkfifo(key)
    elif kind == "dev-zero":
        os.symlink("/dev/zero", key)
    elif kind == "10 MB":
        key.write_bytes(b"A" * 10_000_000)
    else:
        key.mkdir()


@pytest.mark.parametrize("kind", ["fifo", "dev-zero", "10 MB", "directory"])
def test_a_key_file_that_is_no_key_file_is_a_config_error(tmp_path: Path, kind: str) -> None:
    directory = tmp_path / "tokens"
    directory.mkdir(mode=0o700)
    _plant(directory, kind)
    with pytest.raises(ConfigError, match=r"\.key"):
        FileTokenStorage(directory)
    with pytest.raises(ConfigError, match=r"\.key"):
        read_local_key(directory)


@pytest.mark.parametrize("kind", ["fifo", "dev-zero", "directory"])
async def test_a_record_file_that_is_no_file_is_a_typed_error_and_listing_goes_on(tmp_path: Path, kind: str) -> None:
    """The same for a token record: a FIFO at a record's path blocked ``get_token`` and
    ``list_keys`` forever."""
    from oneringai import StoredToken, TokenDecryptionError
    from oneringai.infrastructure.token_storage.encryption import KeyRing

    store = FileTokenStorage(tmp_path / "tokens", KeyRing.generate())
    await store.store_token("good", StoredToken(access_token="good-token-123"))
    path = store._path("bad")
    if kind == "fifo":
        os.mkfifo(path)
    elif kind == "dev-zero":
        os.symlink("/dev/zero", path)
    else:
        path.mkdir()
    with pytest.raises(TokenDecryptionError):
        await store.get_token("bad")
    assert await store.list_keys() == ["good"]
