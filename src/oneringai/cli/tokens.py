"""``oneringai tokens ...`` and ``oneringai oauth login``: token administration."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Callable
from typing import Any

__all__ = ["add_token_commands"]


def add_token_commands(sub: Any, config_args: Callable[[argparse.ArgumentParser], None]) -> None:
    tokens = sub.add_parser("tokens", help="administer stored OAuth tokens")
    tsub = tokens.add_subparsers(dest="tokens_command", required=True)

    gen = tsub.add_parser("generate-key", help="print a new random encryption key")
    gen.set_defaults(handler=lambda a: print(_generate_key()) or 0)

    listing = tsub.add_parser("list", help="list stored token keys")
    config_args(listing)
    listing.add_argument("--prefix", default="", help="only keys starting with this (e.g. github: for one connection)")
    listing.set_defaults(handler=lambda a: asyncio.run(_list(a)))

    delete = tsub.add_parser("delete", help="delete one stored token")
    config_args(delete)
    delete.add_argument("key", help="a key as `tokens list` prints it (<connection>:<client_id>[:<user_id>])")
    delete.set_defaults(handler=lambda a: asyncio.run(_delete(a)))

    rotate = tsub.add_parser(
        "rotate-key", help="re-encrypt every token with the newest key",
        description="Re-encrypt every stored token with the newest key of oauth.encryption_keys. First put "
        "a new key (`oneringai tokens generate-key`) in front of the old one: "
        "ONERINGAI_OAUTH__ENCRYPTION_KEYS=NEW,OLD; when this has run, the old key may be dropped.",
    )
    config_args(rotate)
    rotate.set_defaults(handler=lambda a: asyncio.run(_rotate(a)))

    migrate = tsub.add_parser(
        "migrate", help="copy every token from one storage kind to another",
        description="Copy (never move) every token from one oauth.storage kind to another, each read back "
        "from the target; both use their settings under oauth.storage.<kind> and the same key ring.",
    )
    config_args(migrate)
    kinds = "memory | file | postgres | aws_secrets_manager | redis, or a plugin kind"
    migrate.add_argument("--from", dest="source", required=True, metavar="KIND", help=f"storage kind to read: {kinds}")
    migrate.add_argument("--to", dest="target", required=True, metavar="KIND", help="storage kind to write")
    migrate.add_argument("--prefix", default="", help="only keys starting with this")
    migrate.set_defaults(handler=lambda a: asyncio.run(_migrate(a)))

    oauth = sub.add_parser("oauth", help="OAuth connections")
    osub = oauth.add_subparsers(dest="oauth_command", required=True)
    for parent in (osub, tsub):  # `oneringai oauth login` and `oneringai tokens login`
        login = parent.add_parser("login", help="authorize a connection in the browser and store the token")
        config_args(login)
        login.add_argument("name", help="a name under oauth.connections")
        login.add_argument("--user", default=None, help="user id for multi-user storage")
        login.add_argument("--no-browser", action="store_true", help="only print the URL")
        login.add_argument("--timeout", type=float, default=300.0, help="seconds to wait for the browser (default 300)")
        login.set_defaults(handler=lambda a: asyncio.run(_login(a)))


def _generate_key() -> str:
    from oneringai.infrastructure.token_storage.encryption import generate_key

    return generate_key()


def _settings(args: argparse.Namespace, kind: str | None = None) -> Any:
    from oneringai.config.loading import load_settings

    overrides = {"oauth": {"storage": {"kind": kind}}} if kind else None
    return load_settings(args.config, profile=args.profile, overrides=overrides)


async def _storage_of(settings: Any, *, adopt_local_key: bool = False) -> tuple[Any, Any]:
    """The configured store. With ``adopt_local_key``, a file store configured with its own
    keys also reads records the zero-config ``.key`` wrote (moving off it is one step)."""
    from oneringai.client import OneRingAI

    client = OneRingAI(settings=settings)
    storage = await client.token_storage.resolve()  # type: ignore[attr-defined]
    adopt = getattr(storage, "adopt_local_key", None)
    if adopt_local_key and adopt is not None and not storage.uses_local_key and adopt():
        print(f"reading tokens written with the zero-config key {storage.local_key_path} too", file=sys.stderr)
    return client, storage


async def _list(args: argparse.Namespace) -> int:
    client, storage = await _storage_of(_settings(args))
    async with client:
        keys = await storage.list_keys(args.prefix)
        for key in keys:
            print(key)
    if not keys:  # a word on stderr, so an empty list is not mistaken for a hang or a failure
        where = f" starting with {args.prefix!r}" if args.prefix else ""
        print(f"no tokens stored{where} (token storage: {client.settings.oauth.storage.kind})", file=sys.stderr)
    return 0


async def _delete(args: argparse.Namespace) -> int:
    client, storage = await _storage_of(_settings(args))
    async with client:
        if not await storage.has_token(args.key):
            print(f"no token stored under {args.key!r}", file=sys.stderr)
            return 1
        await storage.delete_token(args.key)
        print(f"deleted {args.key}")
    return 0


async def _rotate(args: argparse.Namespace) -> int:
    from oneringai.domain.errors import TokenDecryptionError

    client, storage = await _storage_of(_settings(args), adopt_local_key=True)
    async with client:
        keys = await storage.list_keys("")
        changed = 0
        failed = 0
        for index, key in enumerate(keys, 1):
            try:
                if await storage.rotate_key(key):
                    changed += 1
            except TokenDecryptionError as exc:  # report it, rotate the rest
                failed += 1
                print(f"[{index}/{len(keys)}] {key}: {exc}", file=sys.stderr)
                continue
            print(f"[{index}/{len(keys)}] {key}", file=sys.stderr)
        print(f"re-encrypted {changed} of {len(keys)} token(s) with key {storage.key_ring.current_key_id}")
        local = getattr(storage, "local_key_path", None)
        if local is not None and not storage.uses_local_key and local.exists() and not failed:
            print(f"no token needs the zero-config key any more: you may delete {local}", file=sys.stderr)
    return 1 if failed else 0


async def _migrate(args: argparse.Namespace) -> int:
    """Copy (never move): the source stays intact, so an interrupted run loses nothing and a
    rerun completes it. Each token is read back from the target before counting it. A record
    the key ring cannot open is reported and the rest copied (rc 1): it stopped every rerun."""
    from oneringai.domain.errors import TokenDecryptionError

    source_client, source = await _storage_of(_settings(args, args.source), adopt_local_key=True)
    target_client, target = await _storage_of(_settings(args, args.target))
    async with source_client, target_client:
        keys = await source.list_keys(args.prefix)
        skipped = unreadable = 0
        for index, key in enumerate(keys, 1):
            try:
                token = await source.get_token(key)
            except TokenDecryptionError as exc:  # report it, copy the rest (as rotate-key does)
                unreadable += 1
                print(f"[{index}/{len(keys)}] {key}: {exc}", file=sys.stderr)
                continue
            if token is None:
                skipped += 1
                print(f"[{index}/{len(keys)}] {key}: expired, skipped", file=sys.stderr)
                continue
            await target.store_token(key, token)
            copied = await target.get_token(key)
            if copied is None or copied.access_token != token.access_token:
                print(f"[{index}/{len(keys)}] {key}: verification failed", file=sys.stderr)
                return 1
            print(f"[{index}/{len(keys)}] {key}", file=sys.stderr)
        notes = [f"{skipped} expired, skipped"] if skipped else []
        notes += [f"{unreadable} unreadable, not copied"] if unreadable else []
        gone = f" ({'; '.join(notes)})" if notes else ""
        print(f"migrated {len(keys) - skipped - unreadable} token(s) from {args.source} to {args.target}{gone}")
    return 1 if unreadable else 0


async def _login(args: argparse.Namespace) -> int:
    from oneringai.application.oauth.login import run_login
    from oneringai.client import OneRingAI

    async with OneRingAI(settings=_settings(args)) as client:
        manager = client.oauth(args.name)
        token = await run_login(
            manager, user_id=args.user, open_browser=not args.no_browser, timeout=args.timeout
        )
        who = f" for user {args.user}" if args.user else ""
        print(f"stored token for {args.name}{who} (expires in {token.expires_in or 'n/a'}s)")
    return 0
