"""The embedded default: one encrypted file per key.

* file name = SHA-256 of the key, so keys never become paths;
* writes go to a temp file, are fsynced, then renamed over the old file, so a
  crash mid-write leaves the previous token readable;
* directory 0700, files 0600;
* an exclusive ``flock`` per key serialises writers across processes.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import hashlib
import json
import os
import tempfile
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

from oneringai.domain.errors import TokenStorageError
from oneringai.domain.redaction import get_logger
from oneringai.infrastructure.token_storage.base import EncryptedTokenStorage, Record
from oneringai.infrastructure.token_storage.encryption import KeyRing

__all__ = ["FileTokenStorage", "load_or_create_key_file"]

logger = get_logger("oneringai.token_storage.file")


def load_or_create_key_file(directory: Path) -> KeyRing:
    """A local key beside the tokens for the zero-config default (0600).

    Protects against the token files leaking alone; configure
    ``oauth.encryption_keys`` to keep the key elsewhere.
    """
    from oneringai.infrastructure.token_storage.encryption import generate_key, parse_key

    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    path = directory / ".key"
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return KeyRing([parse_key(path.read_text().strip())])
    with os.fdopen(fd, "w") as handle:
        handle.write(generate_key())
        handle.flush()
        os.fsync(handle.fileno())
    return KeyRing([parse_key(path.read_text().strip())])


class FileTokenStorage(EncryptedTokenStorage):
    backend = "file"

    def __init__(self, directory: str | os.PathLike[str], key_ring: KeyRing | None = None) -> None:
        self.directory = Path(directory).expanduser()
        try:
            self.directory.mkdir(parents=True, exist_ok=True, mode=0o700)
            os.chmod(self.directory, 0o700)
        except OSError as exc:
            raise TokenStorageError(
                f"cannot create token directory {self.directory}: {exc.strerror} "
                "(set oauth.storage.file.directory)",
                backend="file",
            ) from exc
        super().__init__(key_ring or load_or_create_key_file(self.directory))

    def _path(self, key: str) -> Path:
        return self.directory / (hashlib.sha256(key.encode()).hexdigest() + ".json")

    @contextlib.contextmanager
    def _locked(self, path: Path) -> Iterator[None]:
        lock_path = path.with_suffix(".lock")
        fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)

    def _write(self, key: str, envelope: str, expires_at: float | None) -> None:
        path = self._path(key)
        payload = json.dumps({"key": key, "envelope": envelope, "expires_at": expires_at}).encode()
        with self._locked(path):
            fd, tmp = tempfile.mkstemp(dir=self.directory, prefix=".tmp-", suffix=".json")
            try:
                os.fchmod(fd, 0o600)
                with os.fdopen(fd, "wb") as handle:
                    handle.write(payload)
                    handle.flush()
                    os.fsync(handle.fileno())
                os.replace(tmp, path)
            except BaseException:
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(tmp)
                raise
        dir_fd = os.open(self.directory, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)

    def _read_file(self, path: Path) -> dict[str, object] | None:
        try:
            raw = path.read_bytes()
        except FileNotFoundError:
            return None
        try:
            data = json.loads(raw)
        except ValueError:
            from oneringai.domain.errors import TokenDecryptionError

            raise TokenDecryptionError(
                f"token file {path.name} is corrupt or truncated", backend="file"
            ) from None
        return data if isinstance(data, dict) else None

    def _read(self, key: str) -> Record | None:
        data = self._read_file(self._path(key))
        if data is None:
            return None
        if data.get("key") != key:
            from oneringai.domain.errors import TokenDecryptionError

            raise TokenDecryptionError(f"token file for {key!r} belongs to another key", backend="file")
        expires = data.get("expires_at")
        return str(data.get("envelope", "")), float(expires) if isinstance(expires, int | float) else None

    def _remove(self, key: str) -> None:
        path = self._path(key)
        with self._locked(path), contextlib.suppress(FileNotFoundError):
            path.unlink()

    def _keys(self, prefix: str) -> list[str]:
        keys = []
        for path in self.directory.glob("*.json"):
            if path.name.startswith(".tmp-"):
                continue
            try:
                data = self._read_file(path)
            except Exception:  # a corrupt file must not hide the others from admin tools
                logger.warning("skipping unreadable token file %s", path.name)
                continue
            key = data.get("key") if data else None
            if isinstance(key, str) and key.startswith(prefix):
                keys.append(key)
        return keys

    @contextlib.asynccontextmanager
    async def lock(self, name: str) -> AsyncIterator[None]:
        """An exclusive ``flock`` on a lock file: one holder across processes on this machine
        (single-flight token refresh for CLI runs and workers sharing the directory)."""
        path = self.directory / f".lock-{hashlib.sha256(name.encode()).hexdigest()[:32]}"
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            await asyncio.to_thread(fcntl.flock, fd, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(fd, fcntl.LOCK_UN)
        finally:
            os.close(fd)

    async def _put(self, key: str, envelope: str, expires_at: float | None) -> None:
        await asyncio.to_thread(self._write, key, envelope, expires_at)

    async def _get(self, key: str) -> Record | None:
        return await asyncio.to_thread(self._read, key)

    async def _delete(self, key: str) -> None:
        await asyncio.to_thread(self._remove, key)

    async def _list(self, prefix: str) -> list[str]:
        return await asyncio.to_thread(self._keys, prefix)
