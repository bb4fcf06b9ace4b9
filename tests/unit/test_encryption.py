import os
import stat

import pytest

from oneringai import StoredToken, TokenDecryptionError
from oneringai.domain.errors import ConfigError
from oneringai.infrastructure.token_storage.encryption import KeyRing, generate_key, parse_key
from oneringai.infrastructure.token_storage.file import FileTokenStorage
from oneringai.infrastructure.token_storage.memory import MemoryTokenStorage

TOKEN = StoredToken(access_token="access-secret", refresh_token="refresh-secret", expires_in=3600)


def test_envelope_is_versioned_and_fresh_per_write():
    ring = KeyRing.generate()
    a, b = ring.seal_token("k", TOKEN), ring.seal_token("k", TOKEN)
    assert a != b and a.startswith("v1:" + ring.current_key_id + ":")
    assert "access-secret" not in a
    assert ring.open_token("k", a).access_token.get_secret_value() == "access-secret"


@pytest.mark.parametrize(
    "mutate",
    [
        lambda e: e[:-4] + ("AAAA" if not e.endswith("AAAA") else "BBBB"),
        lambda e: e[: len(e) // 2],
        lambda e: "v9" + e[2:],
        lambda e: "garbage",
        lambda e: e.replace(":", ";"),
    ],
)
def test_tampered_envelopes_raise(mutate):
    ring = KeyRing.generate()
    envelope = ring.seal_token("k", TOKEN)
    with pytest.raises(TokenDecryptionError):
        ring.open_token("k", mutate(envelope))


def test_record_copied_to_another_key_fails():
    ring = KeyRing.generate()
    with pytest.raises(TokenDecryptionError, match=r"another key|authentication"):
        ring.open_token("user-b", ring.seal_token("user-a", TOKEN))


def test_wrong_key_and_rotation():
    old, new = generate_key(), generate_key()
    envelope = KeyRing.from_strings([old]).seal_token("k", TOKEN)
    with pytest.raises(TokenDecryptionError, match="not in the key ring"):
        KeyRing.from_strings([new]).open_token("k", envelope)
    ring = KeyRing.from_strings([new, old])
    assert ring.open_token("k", envelope).access_token.get_secret_value() == "access-secret"
    assert KeyRing.key_id_of(ring.seal_token("k", TOKEN)) == ring.current_key_id != KeyRing.key_id_of(envelope)


@pytest.mark.parametrize("bad", ["", "short", "!!!not-base64!!!", "QUJD"])
def test_bad_keys_are_config_errors(bad):
    with pytest.raises(ConfigError, match="encryption key #1"):
        parse_key(bad)


def test_hex_keys_accepted():
    assert len(parse_key("ab" * 32)) == 32


async def test_memory_rotate_key():
    old = KeyRing.from_strings([generate_key()])
    store = MemoryTokenStorage(old)
    await store.store_token("k", TOKEN)
    store.key_ring = KeyRing([os.urandom(32), *[parse_key(generate_key())]])
    with pytest.raises(TokenDecryptionError):
        await store.get_token("k")


async def test_file_store_permissions_and_atomicity(tmp_path):
    directory = tmp_path / "tokens"
    store = FileTokenStorage(directory)  # no key configured: a local key file is made
    await store.store_token("p:c:u", TOKEN)
    assert stat.S_IMODE(directory.stat().st_mode) == 0o700
    files = [p for p in directory.iterdir() if p.suffix == ".json"]
    assert len(files) == 1 and stat.S_IMODE(files[0].stat().st_mode) == 0o600
    assert stat.S_IMODE((directory / ".key").stat().st_mode) == 0o600
    assert b"access-secret" not in files[0].read_bytes() and b"p:c:u" in files[0].read_bytes()
    # a crash mid-write leaves a temp file behind; the previous token stays readable
    (directory / ".tmp-crash.json").write_bytes(b'{"key": "p:c:u", "env')
    again = FileTokenStorage(directory)
    got = await again.get_token("p:c:u")
    assert got is not None and got.access_token.get_secret_value() == "access-secret"
    assert await again.list_keys() == ["p:c:u"]


async def test_truncated_file_raises_and_is_kept(tmp_path):
    store = FileTokenStorage(tmp_path, KeyRing.generate())
    await store.store_token("k", TOKEN)
    path = store._path("k")
    path.write_bytes(path.read_bytes()[:40])
    with pytest.raises(TokenDecryptionError):
        await store.get_token("k")
    assert path.exists()


def test_file_writers_in_processes_never_interleave(tmp_path):
    import subprocess
    import sys

    key = generate_key()
    script = (
        "import asyncio, sys\n"
        "from oneringai.infrastructure.token_storage.file import FileTokenStorage\n"
        "from oneringai.infrastructure.token_storage.encryption import KeyRing\n"
        "from oneringai import StoredToken\n"
        f"s = FileTokenStorage({str(tmp_path)!r}, KeyRing.from_strings([{key!r}]))\n"
        "async def main():\n"
        "    for i in range(60):\n"
        "        await s.store_token('shared', StoredToken(access_token=sys.argv[1] + str(i) * 500))\n"
        "asyncio.run(main())\n"
    )
    procs = [subprocess.Popen([sys.executable, "-c", script, name]) for name in ("a", "b", "c")]
    assert all(p.wait(60) == 0 for p in procs)
    import asyncio

    store = FileTokenStorage(tmp_path, KeyRing.from_strings([key]))
    got = asyncio.run(store.get_token("shared"))
    assert got is not None and got.access_token.get_secret_value()[0] in "abc"


def test_process_killed_mid_write_leaves_previous_token_readable(tmp_path):
    """SIGKILL a writer hammering one key; whatever instant it dies, the record is whole."""
    import asyncio
    import signal
    import subprocess
    import sys
    import time

    key = generate_key()
    store = FileTokenStorage(tmp_path, KeyRing.from_strings([key]))
    asyncio.run(store.store_token("k", StoredToken(access_token="before")))
    script = (
        "import asyncio\n"
        "from oneringai.infrastructure.token_storage.file import FileTokenStorage\n"
        "from oneringai.infrastructure.token_storage.encryption import KeyRing\n"
        "from oneringai import StoredToken\n"
        f"s = FileTokenStorage({str(tmp_path)!r}, KeyRing.from_strings([{key!r}]))\n"
        "async def main():\n"
        "    i = 0\n"
        "    while True:\n"
        "        i += 1\n"
        "        await s.store_token('k', StoredToken(access_token='x' * 100000 + str(i)))\n"
        "asyncio.run(main())\n"
    )
    for delay in (0.3, 0.45, 0.6):
        proc = subprocess.Popen([sys.executable, "-c", script])
        time.sleep(delay)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        token = asyncio.run(store.get_token("k"))
        assert token is not None
        value = token.access_token.get_secret_value()
        assert value == "before" or value.startswith("x" * 100000)
