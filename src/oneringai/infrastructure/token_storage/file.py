"""The embedded default: one encrypted file per key.

* file name = SHA-256 of the key, so keys never become paths;
* writes go to a temp file, are fsynced, then renamed over the old file, so a crash mid-write
  leaves the previous token readable; a killed writer's temp file is removed by the next open
  (under the record's lock, so never a live one); directory 0700, files 0600;
* no symlink in the directory is followed (``O_NOFOLLOW``): a planted link is refused;
* an exclusive ``flock`` per key serialises writers across processes, and the
  zero-config ``.key`` is created once under its own ``flock`` and published with
  ``link`` — a reader sees no file or the whole key, never an empty one.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import fcntl
import hashlib
import os
import re
import stat
import tempfile
import time
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path

from oneringai.domain.errors import ConfigError, TokenDecryptionError, TokenStorageError
from oneringai.domain.tokens import StoredToken
from oneringai.infrastructure.token_storage.base import (
    MAX_RECORD_BYTES,
    EncryptedTokenStorage,
    Record,
    dump_record,
    logger,
    parse_record,
    record_key,
)
from oneringai.infrastructure.token_storage.encryption import KeyRing, generate_key, key_id, parse_key

__all__ = ["LOCAL_KEY_FILE", "FileTokenStorage", "create_once", "load_or_create_key_file", "read_local_key"]

LOCAL_KEY_FILE = ".key"
_TMP = ".tmp-"
_HASHED_TMP = re.compile(r"\.tmp-([0-9a-f]{64})-")
#: The longest wait for a held ``lock`` (a refresh is bounded well below this).
LOCK_TIMEOUT = 60.0
#: A temp file whose name we cannot tie to a record lock is removed only when this old.
_LEGACY_TMP_AGE = 60.0


@contextlib.contextmanager
def _flock(path: Path, *, blocking: bool = True) -> Iterator[bool]:
    """Holds an exclusive ``flock`` on ``path`` (created 0600); yields False when
    ``blocking=False`` and another holder has it. Separate opens conflict, so this
    serialises threads of one process as well as processes."""
    while True:
        fd = _open_lock_file(path)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | (0 if blocking else fcntl.LOCK_NB))
        except BaseException as exc:
            os.close(fd)
            if not isinstance(exc, BlockingIOError):
                raise
            yield False
            return
        if _still_at(fd, path):
            break
        os.close(fd)  # removed by its holder while we waited: lock the file there now
    try:
        yield True
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)


def _still_at(fd: int, path: Path) -> bool:
    """``fd`` is the file at ``path``: holders remove a lock file while holding it (one per
    login's state piled up), so a waiter that locked a removed file takes the new one."""
    try:
        there = os.stat(path, follow_symlinks=False)
    except FileNotFoundError:
        return False
    held = os.fstat(fd)
    return (there.st_dev, there.st_ino) == (held.st_dev, held.st_ino)


def _open_lock_file(path: Path) -> int:
    """A lock file, created 0600 — never through a symlink planted under its name (that
    would create the file it points to, wherever the user may write): a typed error."""
    try:
        return os.open(path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o600)
    except OSError as exc:
        if exc.errno != errno.ELOOP:
            raise
        raise TokenStorageError(f"lock file {path} is a symbolic link: not followed", backend="file") from None


def _fsync_dir(directory: Path) -> None:
    dir_fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def _write_temp(directory: Path, prefix: str, payload: bytes) -> str:
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=prefix)
    try:
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(payload)
            handle.flush()
            os.fsync(handle.fileno())
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    return tmp


#: Larger than any key file we write (44 bytes of base64): a bigger ``.key`` is not read on.
_MAX_KEY_FILE_BYTES = 4096


def _read_small(path: Path) -> bytes:
    """``path``'s bytes when it is a regular file (a FIFO, a device or a 1 GB file planted as
    ``.key`` would block or fill memory); more than ``_MAX_KEY_FILE_BYTES`` is cut there (and
    then fails to parse as a key)."""
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    with os.fdopen(fd, "rb") as handle:
        mode = os.fstat(fd).st_mode
        if stat.S_ISDIR(mode):
            raise IsADirectoryError(errno.EISDIR, "Is a directory")
        if not stat.S_ISREG(mode):
            raise OSError(errno.EINVAL, "not a regular file")
        os.set_blocking(fd, True)
        return handle.read(_MAX_KEY_FILE_BYTES + 1)


def create_once(path: Path, make: Callable[[], bytes]) -> bytes:
    """The content of ``path``, creating it with ``make()`` if absent — atomically across
    threads and processes: under a ``flock`` on ``<path>.lock`` the content goes to a temp
    file, is fsynced and ``link``-ed into place, so no reader ever sees a partial file.
    Temp files of killed creators are removed here (under the lock: none is live)."""
    with contextlib.suppress(FileNotFoundError):
        return _read_small(path)
    directory = path.parent
    with _flock(directory / f"{path.name}.lock"):
        _remove_temps(directory, f"{path.name}{_TMP}")
        with contextlib.suppress(FileNotFoundError):
            return _read_small(path)
        tmp = _write_temp(directory, f"{path.name}{_TMP}", make())
        try:
            os.link(tmp, path)
        except FileExistsError:  # made by a writer that does not take the lock (older version)
            pass
        finally:
            os.unlink(tmp)
        _fsync_dir(directory)
        return _read_small(path)


def _remove_temps(directory: Path, prefix: str) -> int:
    removed = 0
    for stale in directory.glob(f"{prefix}*"):
        with contextlib.suppress(FileNotFoundError):
            stale.unlink()
            removed += 1
    return removed


def read_local_key(directory: Path) -> bytes | None:
    """The zero-config key in ``directory/.key`` (None when there is none); a typed error
    naming the file, and how to recover, when it is empty or corrupt."""
    path = directory / LOCAL_KEY_FILE
    try:
        raw = _read_small(path)
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise ConfigError(f"cannot read the local token key {path}: {exc.strerror}") from None
    return _parse_local_key(path, raw)


def _parse_local_key(path: Path, raw: bytes) -> bytes:
    try:
        text = raw.decode("ascii").strip()
    except UnicodeDecodeError:
        text = "\x00"  # not a key
    if not text:
        raise ConfigError(
            f"the local token key {path} is empty (left by a crash while it was being created). "
            f"It cannot have encrypted anything: delete {path} and it is made again on the next start"
        )
    try:
        return parse_key(text, where=f"the local token key {path}")
    except ConfigError:
        raise ConfigError(
            f"the local token key {path} is corrupt (expected 32 bytes as base64). The tokens in "
            f"{path.parent} were encrypted with it: restore {path} from a backup; or delete it together "
            "with the token files there (*.json) and log in again"
        ) from None


def load_or_create_key_file(directory: Path) -> KeyRing:
    """A local key beside the tokens for the zero-config default (0600).

    Protects against the token files leaking alone; configure
    ``oauth.encryption_keys`` to keep the key elsewhere (``oneringai tokens rotate-key``
    then moves every token over and reads this file on its own).
    """
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    path = directory / LOCAL_KEY_FILE
    try:
        raw = create_once(path, lambda: generate_key().encode())
    except OSError as exc:  # a directory, FIFO or device where the key should be
        raise ConfigError(
            f"cannot read the local token key {path}: {exc.strerror}. Restore the key file, or delete "
            "it only if no token was stored yet"
        ) from None
    return KeyRing([_parse_local_key(path, raw)])


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
        self.uses_local_key = key_ring is None
        super().__init__(key_ring or load_or_create_key_file(self.directory))
        self.remove_stale_temp_files()

    # --- the zero-config key ---------------------------------------------------------------
    @property
    def local_key_path(self) -> Path:
        return self.directory / LOCAL_KEY_FILE

    def adopt_local_key(self) -> bool:
        """Add the zero-config ``.key`` to the ring as an older, decrypt-only key, so records
        it wrote can be read (and re-encrypted by ``rotate_key``). False when there is none."""
        local = read_local_key(self.directory)
        if local is None:
            return False
        self.key_ring = self.key_ring.with_older_keys([local])
        return True

    def _open(self, key: str, envelope: object) -> StoredToken:
        try:
            return super()._open(key, envelope)
        except TokenDecryptionError:
            written_with = KeyRing.key_id_of(envelope)
            if written_with is None or self.key_ring.has_key_id(written_with):
                raise
            try:
                local = read_local_key(self.directory)
            except ConfigError:
                local = None
            if local is None or key_id(local) != written_with:
                raise
            raise TokenDecryptionError(
                f"record for {key!r} was written with the zero-config local key {self.local_key_path}, "
                "which is not in the configured key ring (oauth.encryption_keys): run "
                f"`oneringai tokens rotate-key` once — it reads {self.local_key_path} on its own and "
                "re-encrypts every token with your key — or add that key to oauth.encryption_keys",
                backend="file",
            ) from None

    # --- files --------------------------------------------------------------------------------
    def _hash(self, key: str) -> str:
        return hashlib.sha256(key.encode()).hexdigest()

    def _path(self, key: str) -> Path:
        return self.directory / (self._hash(key) + ".json")

    def _record_lock(self, digest: str) -> Path:
        return self.directory / f"{digest}.lock"

    def remove_stale_temp_files(self) -> int:
        """Remove temp files left by killed writers. A record's temp files are removed only
        while holding that record's lock, so a live writer's file is never touched."""
        removed = 0
        now = time.time()
        for path in self.directory.glob(f"{_TMP}*"):
            match = _HASHED_TMP.match(path.name)
            if match is None:  # not ours to tie to a lock: only when clearly abandoned
                with contextlib.suppress(FileNotFoundError):
                    if now - path.stat().st_mtime > _LEGACY_TMP_AGE:
                        path.unlink()
                        removed += 1
                continue
            with _flock(self._record_lock(match.group(1)), blocking=False) as held:
                if held:
                    with contextlib.suppress(FileNotFoundError):
                        path.unlink()
                        removed += 1
        for base in (LOCAL_KEY_FILE, ".salt"):  # creations by create_once, under their own lock
            if next(self.directory.glob(f"{base}{_TMP}*"), None) is not None:
                with _flock(self.directory / f"{base}.lock", blocking=False) as held:
                    if held:
                        removed += _remove_temps(self.directory, f"{base}{_TMP}")
        if removed:
            logger.info("file token storage: removed %d temp file(s) left by interrupted writes", removed)
        return removed

    def _write(self, key: str, envelope: str, expires_at: float | None, *, expected: str | None = None) -> bool:
        """Writes the record (under its lock); with ``expected``, only if it still holds that."""
        digest = self._hash(key)
        payload = dump_record(key, envelope, expires_at).encode()
        with _flock(self._record_lock(digest)):
            if expected is not None:
                current = self._read(key)
                if current is None or current[0] != expected:
                    return False
            tmp = _write_temp(self.directory, f"{_TMP}{digest}-", payload)
            try:
                os.replace(tmp, self.directory / f"{digest}.json")
            except BaseException:
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(tmp)
                raise
        _fsync_dir(self.directory)
        return True

    async def _replace(self, key: str, expected: str, envelope: str, expires_at: float | None) -> bool:
        return await asyncio.to_thread(self._write, key, envelope, expires_at, expected=expected)

    def _read_raw(self, path: Path) -> bytes | None:
        try:
            # a FIFO must not block the read; a symlink is not read through (it may point anywhere)
            fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOFOLLOW)
            with os.fdopen(fd, "rb") as handle:
                if not stat.S_ISREG(os.fstat(fd).st_mode):
                    return b"\x00not a regular file"  # a directory, FIFO or device: not a record
                os.set_blocking(fd, True)
                return handle.read(MAX_RECORD_BYTES + 1)
        except FileNotFoundError:
            return None
        except IsADirectoryError:
            return b"\x00directory"
        except OSError as exc:
            if exc.errno == errno.ELOOP:  # not read through: as corrupt as a FIFO there
                return b"\x00symbolic link"
            raise TokenStorageError(f"cannot read {path.name}: {exc.strerror}", backend="file") from None

    def _read(self, key: str) -> Record | None:
        path = self._path(key)
        raw = self._read_raw(path)
        if raw is None:
            return None
        return parse_record(raw, key, backend="file", where=f"token file {path.name}")

    def _remove(self, key: str, *, expected: str | None = None) -> bool:
        """Removes the record (under its lock); with ``expected``, only if it still holds that."""
        digest = self._hash(key)
        with _flock(self._record_lock(digest)):
            if expected is not None:
                current = self._read(key)
                if current is None or current[0] != expected:
                    return False
            with contextlib.suppress(FileNotFoundError):
                (self.directory / f"{digest}.json").unlink()
            with contextlib.suppress(FileNotFoundError):  # still held: waiters then take a new one
                self._record_lock(digest).unlink()
        return True

    async def _delete_if(self, key: str, expected: str) -> bool:
        return await asyncio.to_thread(self._remove, key, expected=expected)

    def _keys(self, prefix: str) -> list[str]:
        keys = []
        for path in self.directory.glob("*.json"):
            if path.name.startswith(_TMP):
                continue
            try:
                raw = self._read_raw(path)
                if raw is None:
                    continue  # removed while listing
                key = record_key(raw, backend="file", where=f"token file {path.name}")
            except TokenStorageError as exc:  # a foreign or corrupt file must not hide the others
                self._skip_foreign("file", path.name, str(exc))
                continue
            if path.name != self._hash(key) + ".json":
                self._skip_foreign("file", path.name, "its key does not match its file name")
                continue
            if key.startswith(prefix):
                keys.append(key)
        return keys

    @contextlib.asynccontextmanager
    async def lock(self, name: str, *, timeout: float = LOCK_TIMEOUT) -> AsyncIterator[None]:
        """An exclusive ``flock`` on a lock file: one holder across processes on this machine
        (single-flight token refresh for CLI runs and workers sharing the directory).

        Waited for by polling (never a thread blocked in ``flock``: a cancelled waiter left one
        behind, holding an executor thread until the holder let go — forever for a stopped
        holder) and at most ``timeout`` seconds, then a ``TokenStorageError``."""
        path = self.directory / f".lock-{hashlib.sha256(name.encode()).hexdigest()[:32]}"
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        pause = 0.002
        fd = _open_lock_file(path)
        try:
            while True:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    if _still_at(fd, path):
                        break
                    os.close(fd)  # removed by its last holder: wait on the file there now
                    fd = -1
                    fd = _open_lock_file(path)
                except BlockingIOError:
                    if loop.time() >= deadline:
                        raise TokenStorageError(
                            f"lock {name!r} is held by another process for more than {timeout:g}s ({path})",
                            backend="file",
                        ) from None
                    await asyncio.sleep(pause)
                    pause = min(pause * 2, 0.05)
            try:
                yield
            finally:
                with contextlib.suppress(FileNotFoundError):
                    path.unlink()  # while held (one per name otherwise stays for ever)
                fcntl.flock(fd, fcntl.LOCK_UN)
        finally:
            if fd >= 0:
                os.close(fd)

    async def _put(self, key: str, envelope: str, expires_at: float | None) -> None:
        await asyncio.to_thread(self._write, key, envelope, expires_at)

    async def _get(self, key: str) -> Record | None:
        return await asyncio.to_thread(self._read, key)

    async def _delete(self, key: str) -> None:
        await asyncio.to_thread(self._remove, key)

    async def _list(self, prefix: str) -> list[str]:
        return await asyncio.to_thread(self._keys, prefix)
