"""AWS Secrets Manager store (aioboto3): one secret per key under a prefix.

Secret names allow only ``[A-Za-z0-9/_+=.@-]``, so keys are escaped reversibly
(``:`` becomes ``_3a``); a name that would pass 512 characters is hashed, and the
key always travels inside the (encrypted-envelope) secret value as well.

A secret under the prefix that is not our record (another program's value of any JSON
type, binary, a name that does not decode) is a ``TokenDecryptionError`` for its key and
is skipped, with a log line, by ``list_keys``.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import re
import time
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

from oneringai.domain.errors import TokenStorageError, install_extra_hint
from oneringai.infrastructure.token_storage.base import (
    EncryptedTokenStorage,
    Record,
    dump_record,
    parse_record,
    record_key,
)
from oneringai.infrastructure.token_storage.encryption import KeyRing

if TYPE_CHECKING:
    from oneringai.infrastructure.token_storage.config import AwsSecretsManagerStorageSettings

__all__ = ["AwsSecretsManagerTokenStorage", "decode_name", "encode_name", "open_aws_secrets_manager_storage"]

_SAFE = re.compile(r"[A-Za-z0-9.\-]")
_HASHED = "h-"
_CURRENT = "AWSCURRENT"
#: The label a new version carries until ``AWSCURRENT`` is moved to it (one per secret: AWS
#: limits how many labels a secret may have).
_PENDING = "oneringai-pending"
#: The same for a version ``rotate-key`` re-encrypted: a write it displaced is made again.
_ROTATED = "oneringai-rotated"
#: The label and value of the version ``cleanup_expired`` moves ``AWSCURRENT`` to (a checked
#: move, as every write) before it deletes the secret: the secret then holds no token, and no
#: write goes into it — a write waits for the delete and creates the secret anew.
_DELETING = "oneringai-deleting"
_TOMBSTONE = "oneringai:deleting"
#: Checked moves of ``AWSCURRENT`` an unconditional write tries before giving up.
_WRITE_ATTEMPTS = 20
#: Seconds a write waits for a cleanup's delete before it deletes the tombstone itself (that
#: cleanup stopped between its move and its delete). Far longer than the one call between them.
_STALE_SECONDS = 30.0


def _pause(waits: int) -> float:
    return min(0.025 * 2.0**waits, 0.5)


def encode_name(key: str) -> str:
    out = []
    for char in key:
        if _SAFE.fullmatch(char):
            out.append(char)
        else:
            out.append("".join(f"_{byte:02x}" for byte in char.encode()))
    return "k-" + "".join(out)


_HEX2 = re.compile(r"[0-9a-f]{2}")


def decode_name(name: str) -> str | None:
    """The key of an encoded secret name; None for a hashed or foreign name."""
    if not name.startswith("k-"):
        return None
    body = name[2:]
    raw = bytearray()
    index = 0
    while index < len(body):
        if body[index] == "_":
            pair = body[index + 1 : index + 3]
            if not _HEX2.fullmatch(pair):
                return None
            raw.append(int(pair, 16))
            index += 3
        elif _SAFE.fullmatch(body[index]):
            raw.extend(body[index].encode())
            index += 1
        else:
            return None
    try:
        key = raw.decode()
    except UnicodeDecodeError:
        return None
    return key if key and encode_name(key) == name else None


class AwsSecretsManagerTokenStorage(EncryptedTokenStorage):
    backend = "aws_secrets_manager"

    def __init__(self, client: Any, key_ring: KeyRing, *, prefix: str = "oneringai/", tags: dict[str, str] | None = None, kms_key_id: str | None = None) -> None:
        super().__init__(key_ring)
        self.client = client
        self.prefix = prefix
        self.tags = {**(tags or {}), "managed-by": "oneringai"}
        self.kms_key_id = kms_key_id

    def secret_name(self, key: str) -> str:
        name = self.prefix + encode_name(key)
        if len(name) > 512:
            name = self.prefix + _HASHED + hashlib.sha256(key.encode()).hexdigest()
        return name

    @staticmethod
    def _code(exc: Exception) -> str | None:
        response = getattr(exc, "response", None)
        return response.get("Error", {}).get("Code") if isinstance(response, dict) else None

    async def _put(self, key: str, envelope: str, expires_at: float | None) -> None:
        """Last writer wins, as in every store — but never a rotation's re-encrypted copy of an
        older token, nor a ``cleanup_expired`` of the record before it: a write that loses the
        label to another write is ordered just before it (done), one that loses it to a
        rotation or a cleanup is made again on top of it (after the cleanup's delete)."""
        name = self.secret_name(key)
        value = dump_record(key, envelope, expires_at)
        async with self._errors():
            attempts = waits = 0
            tombstone: tuple[str, float] | None = None  # the one seen, and since when
            give_up = time.monotonic() + _STALE_SECONDS + 10  # bounded, even by tombstones without end
            while attempts < _WRITE_ATTEMPTS and time.monotonic() < give_up:
                current = await self._current(name)
                if current is not None and self._value(current) == _TOMBSTONE:
                    # a cleanup is deleting it: wait for the delete, then create the secret
                    now = time.monotonic()
                    if tombstone is None or tombstone[0] != current["VersionId"]:
                        tombstone = (current["VersionId"], now)
                    elif now - tombstone[1] >= _STALE_SECONDS:
                        await self._remove(name)  # that cleanup stopped between its move and delete
                    waits += 1
                    await asyncio.sleep(_pause(waits))
                    continue
                attempts += 1
                if current is None:
                    if await self._create(name, value):
                        return
                    waits += 1  # created by another writer meanwhile, or a delete still going on
                    await asyncio.sleep(_pause(waits))
                    continue
                if await self._swap(name, current["VersionId"], value, _PENDING):
                    return
                winner = await self._current(name)
                if winner is not None and _ROTATED not in (winner.get("VersionStages") or []) and (
                    self._value(winner) != _TOMBSTONE
                ):
                    return
        raise TokenStorageError(
            f"secret {name} kept changing while it was written ({attempts} attempts); try again",
            backend=self.backend,
        )

    async def _replace(self, key: str, expected: str, envelope: str, expires_at: float | None) -> bool:
        """Compare-and-set: the new version becomes ``AWSCURRENT`` only if the version read
        still holds that label (``UpdateSecretVersionStage`` with ``RemoveFromVersionId``)."""
        name = self.secret_name(key)
        async with self._errors():
            current = await self._current(name)
            if current is None or self._value(current) == _TOMBSTONE:
                return False
            record = parse_record(self._value(current), key, backend=self.backend, where="secret")
            if record[0] != expected:
                return False
            return await self._swap(name, current["VersionId"], dump_record(key, envelope, expires_at), _ROTATED)

    async def _delete_if(self, key: str, expected: str) -> bool:
        """Delete only the record read (``cleanup_expired``). ``DeleteSecret`` has no
        condition, so the condition is a write's: ``AWSCURRENT`` moves from the version read to
        a tombstone with the checked move every write makes (``_swap``), which fails when
        another write moved it since the read — that token stays. Once the tombstone holds the
        label the secret holds no token and no write goes into it: a write waits for the delete
        and creates the secret anew (or deletes a tombstone left by a cleanup that stopped)."""
        name = self.secret_name(key)
        async with self._errors():
            current = await self._current(name)
            if current is None or self._value(current) == _TOMBSTONE:
                return False
            record = parse_record(self._value(current), key, backend=self.backend, where="secret")
            if record[0] != expected:
                return False
            if not await self._swap(name, current["VersionId"], _TOMBSTONE, _DELETING):
                return False
            await self._remove(name)
        return True

    async def _remove(self, name: str) -> None:
        try:
            await self.client.delete_secret(SecretId=name, ForceDeleteWithoutRecovery=True)
        except Exception as exc:
            if self._code(exc) != "ResourceNotFoundException":
                raise

    async def _current(self, name: str) -> dict[str, Any] | None:
        """The ``GetSecretValue`` answer for the version holding ``AWSCURRENT`` (with its
        ``VersionId``); None when there is no such secret.

        One call on AWS. A service that moves the label without moving its default version
        (moto's ``UpdateSecretVersionStage``) answers a plain get with a version that no
        longer holds it: then the version is looked up by label — the newest holding it, as
        such a service may also leave the label on an older version."""
        try:
            response = await self.client.get_secret_value(SecretId=name)
        except Exception as exc:
            if self._code(exc) in ("ResourceNotFoundException", "InvalidRequestException"):
                return None
            raise
        if not isinstance(response, dict) or not isinstance(response.get("VersionId"), str):
            raise TokenStorageError(f"secret {name}: the service answered without a VersionId", backend=self.backend)
        stages = response.get("VersionStages")
        if not isinstance(stages, list) or _CURRENT in stages:
            return response
        described = await self.client.describe_secret(SecretId=name)
        labelled = [
            version
            for version, labels in (described.get("VersionIdsToStages") or {}).items()
            if isinstance(labels, list) and _CURRENT in labels
        ]
        if not labelled:
            return response
        latest: dict[str, Any] = await self.client.get_secret_value(SecretId=name, VersionId=labelled[-1])
        return latest

    async def _create(self, name: str, value: str) -> bool:
        create: dict[str, Any] = {
            "Name": name,
            "SecretString": value,
            "Tags": [{"Key": k, "Value": v} for k, v in self.tags.items()],
            "Description": "oneringai OAuth token (AES-256-GCM envelope)",
        }
        if self.kms_key_id:
            create["KmsKeyId"] = self.kms_key_id
        try:
            await self.client.create_secret(**create)
        except Exception as exc:
            # InvalidRequestException: the name is still held by a secret being deleted
            if self._code(exc) not in ("ResourceExistsException", "InvalidRequestException"):
                raise
            return False
        return True

    async def _swap(self, name: str, current: str, value: str, label: str) -> bool:
        """Add ``value`` as a new version and move ``AWSCURRENT`` to it from ``current``; False
        (nothing visible changed) when ``current`` no longer holds ``AWSCURRENT``.

        Every write goes this way, never through a plain ``PutSecretValue`` (which moves the
        label unconditionally): then the label is only ever moved by a checked move."""
        try:
            put = await self.client.put_secret_value(SecretId=name, SecretString=value, VersionStages=[label])
        except Exception as exc:
            # the secret was deleted since it was read (a cleanup): nothing visible changed
            if self._code(exc) not in ("ResourceNotFoundException", "InvalidRequestException"):
                raise
            return False
        try:
            await self.client.update_secret_version_stage(
                SecretId=name, VersionStage=_CURRENT, MoveToVersionId=put["VersionId"], RemoveFromVersionId=current
            )
        except Exception as exc:
            if self._code(exc) != "InvalidParameterException":
                raise
            return False
        return True

    async def _get(self, key: str) -> Record | None:
        async with self._errors():
            current = await self._current(self.secret_name(key))
        if current is None or self._value(current) == _TOMBSTONE:  # being deleted: no token
            return None
        return parse_record(self._value(current), key, backend=self.backend, where="secret")

    @staticmethod
    def _value(response: object) -> object:
        if not isinstance(response, dict):
            return None
        value = response.get("SecretString")
        return response.get("SecretBinary") if value is None else value

    async def _delete(self, key: str) -> None:
        async with self._errors():
            await self._remove(self.secret_name(key))

    async def _list(self, prefix: str) -> list[str]:
        names: list[str] = []
        async with self._errors():
            paginator = self.client.get_paginator("list_secrets")
            async for page in paginator.paginate(Filters=[{"Key": "name", "Values": [self.prefix]}]):
                for entry in page.get("SecretList", []):
                    name = entry.get("Name")
                    if isinstance(name, str) and name.startswith(self.prefix) and not entry.get("DeletedDate"):
                        names.append(name)
        candidates: list[str] = []
        for name in names:  # names first: a key outside ``prefix`` or a foreign name costs no read
            encoded = name[len(self.prefix) :]
            expected = decode_name(encoded)
            if expected is None and not encoded.startswith(_HASHED):
                self._skip_foreign(self.backend, name, "name is not one of ours")
            elif expected is None or expected.startswith(prefix):
                candidates.append(name)
        keys: list[str] = []
        for start in range(0, len(candidates), 20):  # values a batch at a time, never all at once
            chunk = candidates[start : start + 20]
            async with self._errors():
                values = await self._values(chunk)
            for name in chunk:
                if values.get(name) == _TOMBSTONE:
                    continue  # being deleted by a cleanup: no token
                try:
                    key = record_key(values.get(name), backend=self.backend, where=f"secret {name}")
                except TokenStorageError as exc:
                    self._skip_foreign(self.backend, name, str(exc))
                    continue
                if self.secret_name(key) != name:
                    self._skip_foreign(self.backend, name, "its key does not match its name")
                    continue
                if key.startswith(prefix):
                    keys.append(key)
        return keys

    async def _values(self, names: list[str]) -> dict[str, object]:
        """Secret values by name: 20 per BatchGetSecretValue call, one by one where that
        call is not allowed (an IAM policy with GetSecretValue only)."""
        values: dict[str, object] = {}
        for start in range(0, len(names), 20):
            chunk = names[start : start + 20]
            try:
                response = await self.client.batch_get_secret_value(SecretIdList=chunk)
                for item in response.get("SecretValues", []):
                    stages = item.get("VersionStages")
                    if isinstance(stages, list) and _CURRENT not in stages and isinstance(item.get("Name"), str):
                        # a service that does not follow a moved label (moto): read by the label
                        item = await self._current(item["Name"]) or {}
                    values[item.get("Name")] = self._value(item)
                continue
            except Exception as exc:
                if self._code(exc) not in ("AccessDeniedException", "UnknownOperationException", None):
                    raise
            for name in chunk:
                try:
                    values[name] = self._value(await self.client.get_secret_value(SecretId=name))
                except Exception as exc:
                    if self._code(exc) not in ("ResourceNotFoundException", "InvalidRequestException"):
                        raise
        return values


@contextlib.asynccontextmanager
async def open_aws_secrets_manager_storage(
    settings: AwsSecretsManagerStorageSettings, key_ring: KeyRing
) -> AsyncIterator[AwsSecretsManagerTokenStorage]:
    try:
        import aioboto3
        from botocore.config import Config
    except ImportError as exc:
        raise TokenStorageError(
            f"needs aioboto3 (the aws extra): {install_extra_hint('aws')}", backend="aws_secrets_manager"
        ) from exc
    session = aioboto3.Session(
        aws_access_key_id=settings.aws_access_key_id.get_secret_value() if settings.aws_access_key_id else None,
        aws_secret_access_key=settings.aws_secret_access_key.get_secret_value() if settings.aws_secret_access_key else None,
        region_name=settings.region,
        profile_name=settings.profile_name,
    )
    # Bounded answers: botocore waits 60 s for each by default, and retries a read timeout, so a
    # Secrets Manager (or a proxy before it) that accepted and never answered held a token read
    # for max_attempts x 60 s — five minutes with the defaults. ``total_max_attempts``: botocore's
    # ``max_attempts`` counts retries only, so ``max_attempts: 1`` still made two attempts.
    config = Config(
        retries={"total_max_attempts": settings.max_attempts, "mode": "adaptive"},
        connect_timeout=settings.connect_timeout,
        read_timeout=settings.read_timeout,
    )
    async with session.client("secretsmanager", endpoint_url=settings.endpoint_url, config=config) as client:
        yield AwsSecretsManagerTokenStorage(
            client, key_ring, prefix=settings.prefix, tags=settings.tags, kms_key_id=settings.kms_key_id
        )
