"""AWS Secrets Manager store (aioboto3): one secret per key under a prefix.

Secret names allow only ``[A-Za-z0-9/_+=.@-]``, so keys are escaped reversibly
(``:`` becomes ``_3a``); a name that would pass 512 characters is hashed, and the
key always travels inside the (encrypted-envelope) secret value as well.

A secret under the prefix that is not our record (another program's value of any JSON
type, binary, a name that does not decode) is a ``TokenDecryptionError`` for its key and
is skipped, with a log line, by ``list_keys``.
"""

from __future__ import annotations

import contextlib
import hashlib
import re
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
        name = self.secret_name(key)
        value = dump_record(key, envelope, expires_at)
        async with self._errors():
            try:
                await self.client.put_secret_value(SecretId=name, SecretString=value)
                return
            except Exception as exc:
                if self._code(exc) != "ResourceNotFoundException":
                    raise
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
            except Exception as exc:  # a concurrent writer created it first
                if self._code(exc) != "ResourceExistsException":
                    raise
                await self.client.put_secret_value(SecretId=name, SecretString=value)

    async def _get(self, key: str) -> Record | None:
        async with self._errors():
            try:
                response = await self.client.get_secret_value(SecretId=self.secret_name(key))
            except Exception as exc:
                if self._code(exc) in ("ResourceNotFoundException", "InvalidRequestException"):
                    return None
                raise
        return parse_record(self._value(response), key, backend=self.backend, where="secret")

    @staticmethod
    def _value(response: object) -> object:
        if not isinstance(response, dict):
            return None
        value = response.get("SecretString")
        return response.get("SecretBinary") if value is None else value

    async def _delete(self, key: str) -> None:
        async with self._errors():
            try:
                await self.client.delete_secret(SecretId=self.secret_name(key), ForceDeleteWithoutRecovery=True)
            except Exception as exc:
                if self._code(exc) != "ResourceNotFoundException":
                    raise

    async def _list(self, prefix: str) -> list[str]:
        names: list[str] = []
        async with self._errors():
            paginator = self.client.get_paginator("list_secrets")
            async for page in paginator.paginate(Filters=[{"Key": "name", "Values": [self.prefix]}]):
                for entry in page.get("SecretList", []):
                    name = entry.get("Name")
                    if isinstance(name, str) and name.startswith(self.prefix) and not entry.get("DeletedDate"):
                        names.append(name)
            values = await self._values(names)
        keys: list[str] = []
        for name in names:
            encoded = name[len(self.prefix) :]
            expected = decode_name(encoded)
            if expected is None and not encoded.startswith(_HASHED):
                self._skip_foreign(self.backend, name, "name is not one of ours")
                continue
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
    config = Config(retries={"max_attempts": settings.max_attempts, "mode": "adaptive"})
    async with session.client("secretsmanager", endpoint_url=settings.endpoint_url, config=config) as client:
        yield AwsSecretsManagerTokenStorage(
            client, key_ring, prefix=settings.prefix, tags=settings.tags, kms_key_id=settings.kms_key_id
        )
