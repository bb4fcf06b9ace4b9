"""Moving off the zero-config key is one step: tokens written with the file store's local
``.key`` stay explainable once a key is configured, and ``rotate-key`` / ``migrate`` read
``.key`` on their own."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from oneringai import OneRingAI, StoredToken, TokenDecryptionError
from oneringai.config import load_settings
from oneringai.infrastructure.token_storage.encryption import KeyRing, generate_key
from oneringai.infrastructure.token_storage.file import FileTokenStorage
from tests.conftest import REDIS_URL, require_redis


def cli(config: Path, *args: str, key: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ONERINGAI_")}
    env["ONERINGAI_TOKEN_KEY"] = key
    return subprocess.run(
        [sys.executable, "-m", "oneringai.cli", *args, "--config", str(config)],
        capture_output=True, text=True, env=env, timeout=120,
    )


def write_config(tmp_path: Path, prefix: str = "unused:") -> Path:
    path = tmp_path / "c.yaml"
    path.write_text(
        'oauth:\n  encryption_keys: ["${ONERINGAI_TOKEN_KEY}"]\n  storage:\n    kind: file\n'
        f"    file: {{directory: {tmp_path / 'tokens'}}}\n"
        f"    redis: {{url: {REDIS_URL}, prefix: '{prefix}'}}\n"
    )
    return path


async def _zero_config_tokens(directory: Path) -> None:
    store = FileTokenStorage(directory)  # no key configured: the local .key is made
    for user in ("a", "b"):
        await store.store_token(f"gh:cid:{user}", StoredToken(access_token=f"tok-{user}", refresh_token="r"))


async def test_configured_key_error_names_the_local_key_file_and_rotate_moves_everything(tmp_path: Path) -> None:
    directory = tmp_path / "tokens"
    await _zero_config_tokens(directory)
    key = generate_key()
    config = write_config(tmp_path)
    settings = load_settings(config, env={"ONERINGAI_TOKEN_KEY": key})
    async with OneRingAI(settings=settings) as client:
        with pytest.raises(TokenDecryptionError) as info:
            await client.token_storage.get_token("gh:cid:a")
    message = str(info.value)
    assert str(directory / ".key") in message and "oneringai tokens rotate-key" in message

    rotated = cli(config, "tokens", "rotate-key", key=key)
    assert rotated.returncode == 0, rotated.stderr
    assert "re-encrypted 2 of 2" in rotated.stdout
    assert str(directory / ".key") in rotated.stderr  # says it read it, and that it may go
    only_new = FileTokenStorage(directory, KeyRing.from_strings([key]))
    got = await only_new.get_token("gh:cid:b")
    assert got is not None and got.access_token.get_secret_value() == "tok-b"


async def test_migrate_reads_the_local_key_on_its_own(tmp_path: Path) -> None:
    require_redis()
    directory = tmp_path / "tokens"
    await _zero_config_tokens(directory)
    key = generate_key()
    prefix = f"lk-{uuid.uuid4().hex[:6]}:"
    config = write_config(tmp_path, prefix)
    migrated = cli(config, "tokens", "migrate", "--from", "file", "--to", "redis", key=key)
    assert migrated.returncode == 0, migrated.stderr
    assert "migrated 2 token(s)" in migrated.stdout
    settings = load_settings(config, env={"ONERINGAI_TOKEN_KEY": key}, overrides={"oauth": {"storage": {"kind": "redis"}}})
    async with OneRingAI(settings=settings) as client:
        got = await client.token_storage.get_token("gh:cid:a")
        assert got is not None and got.access_token.get_secret_value() == "tok-a"
        for stored in await client.token_storage.list_keys(""):
            await client.token_storage.delete_token(stored)
