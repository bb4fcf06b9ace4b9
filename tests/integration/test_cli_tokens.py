"""`oneringai tokens ...` and `oneringai oauth login` end to end."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import uuid
from pathlib import Path

import httpx

from oneringai import OneRingAI, StoredToken
from oneringai.config import load_settings
from oneringai.infrastructure.token_storage.encryption import KeyRing, generate_key
from oneringai.infrastructure.token_storage.file import FileTokenStorage
from tests.conftest import REDIS_URL, require_redis


def cli(config: Path, *args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    full = {**{k: v for k, v in os.environ.items() if not k.startswith("ONERINGAI_")}, **env}
    return subprocess.run([sys.executable, "-m", "oneringai.cli", *args, "--config", str(config)],
                          capture_output=True, text=True, env=full, timeout=120)


def write_config(tmp_path: Path, prefix: str) -> Path:
    path = tmp_path / "c.yaml"
    path.write_text(
        "oauth:\n  encryption_keys: ${KEYS}\n  storage:\n    kind: file\n"
        f"    file: {{directory: {tmp_path / 'tokens'}}}\n"
        f"    redis: {{url: {REDIS_URL}, prefix: '{prefix}'}}\n"
    )
    return path


async def test_list_delete_rotate_and_migrate(tmp_path):
    require_redis()
    old, new = generate_key(), generate_key()
    prefix = f"cli-test-{uuid.uuid4().hex[:6]}:"
    config = write_config(tmp_path, prefix)
    store = FileTokenStorage(tmp_path / "tokens", KeyRing.from_strings([old]))
    for user in ("a", "b", "c"):
        await store.store_token(f"gh:cid:{user}", StoredToken(access_token=f"tok-{user}", refresh_token="r"))

    listed = cli(config, "tokens", "list", env={"KEYS": f'["{old}"]'})
    assert listed.returncode == 0, listed.stderr
    assert listed.stdout.split() == ["gh:cid:a", "gh:cid:b", "gh:cid:c"]
    none = cli(config, "tokens", "list", "--prefix", "nobody:", env={"KEYS": f'["{old}"]'})  # said nothing at all
    assert (none.returncode, none.stdout) == (0, "")
    assert none.stderr == "no tokens stored starting with 'nobody:' (token storage: file)\n"

    assert cli(config, "tokens", "delete", "gh:cid:c", env={"KEYS": f'["{old}"]'}).returncode == 0
    missing = cli(config, "tokens", "delete", "gh:cid:c", env={"KEYS": f'["{old}"]'})
    assert missing.returncode == 1 and "no token" in missing.stderr

    rotated = cli(config, "tokens", "rotate-key", env={"KEYS": f'["{new}", "{old}"]'})
    assert rotated.returncode == 0, rotated.stderr
    assert "re-encrypted 2 of 2" in rotated.stdout and "[2/2]" in rotated.stderr
    only_new = FileTokenStorage(tmp_path / "tokens", KeyRing.from_strings([new]))
    assert (await only_new.get_token("gh:cid:a")).access_token.get_secret_value() == "tok-a"

    migrated = cli(config, "tokens", "migrate", "--from", "file", "--to", "redis", env={"KEYS": f'["{new}"]'})
    assert migrated.returncode == 0, migrated.stderr
    assert "migrated 2 token(s)" in migrated.stdout
    again = cli(config, "tokens", "migrate", "--from", "file", "--to", "redis", env={"KEYS": f'["{new}"]'})
    assert again.returncode == 0  # rerunning is safe: copy, never move
    settings = load_settings(config, env={"KEYS": f'["{new}"]'}, overrides={"oauth": {"storage": {"kind": "redis"}}})
    async with OneRingAI(settings=settings) as client:
        assert sorted(await client.token_storage.list_keys("gh:")) == ["gh:cid:a", "gh:cid:b"]
        assert (await client.token_storage.get_token("gh:cid:b")).access_token.get_secret_value() == "tok-b"
        for key in await client.token_storage.list_keys(""):
            await client.token_storage.delete_token(key)
    assert await store.list_keys() == ["gh:cid:a", "gh:cid:b"]  # the source is intact


def test_generate_key_prints_a_valid_key():
    result = subprocess.run([sys.executable, "-m", "oneringai.cli", "tokens", "generate-key"], capture_output=True, text=True)
    KeyRing.from_strings([result.stdout.strip()])


async def test_oauth_login_with_local_listener(tmp_path, monkeypatch):
    from oneringai.application.oauth import login as login_module
    from oneringai.config import Settings
    from tests.oauth_server import OAuthTestServer

    server = OAuthTestServer().start()
    try:
        settings = Settings.model_validate({"oauth": {"storage": {"kind": "memory"}, "connections": {"gh": {
            "flow": "authorization_code", "client_id": "web", "client_secret": "web-secret",
            "authorization_url": f"{server.url}/authorize", "token_url": f"{server.url}/token",
            "redirect_uri": server.redirect_uri}}}})
        opened: list[str] = []

        def browser(url: str) -> bool:  # a user approving in the browser: follow to the redirect
            opened.append(url)

            async def approve() -> None:
                async with httpx.AsyncClient() as client:
                    redirect = (await client.get(url)).headers["location"]
                    await client.get(redirect)

            asyncio.get_running_loop().create_task(approve())
            return True

        monkeypatch.setattr(login_module.webbrowser, "open", browser)
        async with OneRingAI(settings=settings) as client:
            token = await login_module.run_login(client.oauth("gh"), user_id="zoe", timeout=30)
            assert token.refresh_token is not None and opened
            assert await client.token_storage.has_token("gh:web:zoe")
    finally:
        server.stop()


async def test_migrate_counts_only_what_it_copied(tmp_path):
    """An expired record is skipped; the summary no longer counts it as migrated."""
    key = generate_key()
    config = write_config(tmp_path, "unused:")
    store = FileTokenStorage(tmp_path / "tokens", KeyRing.from_strings([key]))
    await store.store_token("gh:cid:live", StoredToken(access_token="tok-live", refresh_token="r"))
    await store.store_token("gh:cid:old", StoredToken(access_token="tok-old", expires_in=60, obtained_at=1_000_000.0))
    migrated = cli(config, "tokens", "migrate", "--from", "file", "--to", "memory", env={"KEYS": f'["{key}"]'})
    assert migrated.returncode == 0, migrated.stderr
    assert "gh:cid:old: expired, skipped" in migrated.stderr  # the file store lists expired records
    assert migrated.stdout.strip() == "migrated 1 token(s) from file to memory (1 expired, skipped)"  # was "2"


async def test_migrate_reports_an_unreadable_record_and_copies_the_rest(tmp_path):
    """A record the key ring cannot open (written with a lost key) stopped the whole
    migration at that key, rc 1: every token listed after it was never copied, on every rerun.
    Now it is reported (one line, no secret) like `rotate-key` does, the rest copied, rc 1."""
    key = generate_key()
    config = write_config(tmp_path, "unused:")
    ours = FileTokenStorage(tmp_path / "tokens", KeyRing.from_strings([key]))
    lost = FileTokenStorage(tmp_path / "tokens", KeyRing.generate())
    for name in ("a", "b", "c", "d"):
        await ours.store_token(f"gh:cid:{name}", StoredToken(access_token=f"secret-tok-{name}", refresh_token="rr"))
    for name in ("b", "c"):
        await lost.store_token(f"gh:cid:{name}", StoredToken(access_token="secret-tok-lost"))
    migrated = cli(config, "tokens", "migrate", "--from", "file", "--to", "memory", env={"KEYS": f'["{key}"]'})
    assert migrated.returncode == 1, migrated.stderr
    assert migrated.stdout.strip() == "migrated 2 token(s) from file to memory (2 unreadable, not copied)"
    assert "[4/4] gh:cid:d" in migrated.stderr  # the keys after the unreadable ones were copied
    unreadable = [line for line in migrated.stderr.splitlines() if "gh:cid:b" in line or "gh:cid:c" in line]
    assert len(unreadable) == 2, migrated.stderr
    assert "secret-tok" not in migrated.stdout + migrated.stderr
