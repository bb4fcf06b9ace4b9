"""AWS Secrets Manager store (aioboto3): one secret per key under a prefix.

Secret names allow only ``[A-Za-z0-9/_+=.@-]``, so keys are escaped reversibly
(``:`` becomes ``_3a``); a name that would pass 512 characters is hashed, and the
key always travels inside the (encrypted-envelope) secret value as well.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import re
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

from oneringai.domain.errors import TokenStorageError
from oneringai.infrastructure.token_storage.base import EncryptedTokenStorage, Record
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


def decode_name(name: str) -> str | None:
    if not name.startswith("k-"):
        return None
    body = name[2:]
    raw = bytearray()
    index = 0
    while index < len(body):
        if body[index] == "_":
            raw.append(int(body[index + 1 : index + 3], 16))
            index += 3
        else:
            raw.extend(body[index].encode())
            index += 1
    return raw.decode()


class AwsSecretsManagerTokenStorage(EncryptedTokenStorage):
    backend = "aws_secrets_manager"

    def __init__(self, client: Any, key_ring: KeyRing, *, prefix: str = "oneringai/", tags: dict[str, str] | None = None, kms_key_id: str | None = None) -> None:
        super().__init__(key_ring)
        self.client = client
        self.prefix = prefix
        self.tags = {"managed-by": "oneringai", **(tags or {})}
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
        value = json.dumps({"key": key, "envelope": envelope, "expires_at": expires_at})
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
        try:
            data = json.loads(response["SecretString"])
        except (KeyError, ValueError):
            from oneringai.domain.errors import TokenDecryptionError

            raise TokenDecryptionError(f"secret for {key!r} is not a oneringai record", backend="aws_secrets_manager") from None
        if data.get("key") != key:
            from oneringai.domain.errors import TokenDecryptionError

            raise TokenDecryptionError(f"secret for {key!r} belongs to another key", backend="aws_secrets_manager")
        expires = data.get("expires_at")
        return str(data.get("envelope", "")), float(expires) if isinstance(expires, int | float) else None

    async def _delete(self, key: str) -> None:
        async with self._errors():
            try:
                await self.client.delete_secret(SecretId=self.secret_name(key), ForceDeleteWithoutRecovery=True)
            except Exception as exc:
                if self._code(exc) != "ResourceNotFoundException":
                    raise

    async def _list(self, prefix: str) -> list[str]:
        keys: list[str] = []
        async with self._errors():
            paginator = self.client.get_paginator("list_secrets")
            async for page in paginator.paginate(Filters=[{"Key": "name", "Values": [self.prefix]}]):
                for entry in page.get("SecretList", []):
                    name = entry["Name"]
                    if not name.startswith(self.prefix) or entry.get("DeletedDate"):
                        continue
                    key = decode_name(name[len(self.prefix):])
                    if key is None:  # hashed name: the key is inside the value
                        response = await self.client.get_secret_value(SecretId=name)
                        key = json.loads(response["SecretString"]).get("key")
                    if isinstance(key, str) and key.startswith(prefix):
                        keys.append(key)
        return keys


@contextlib.asynccontextmanager
async def open_aws_secrets_manager_storage(
    settings: AwsSecretsManagerStorageSettings, key_ring: KeyRing
) -> AsyncIterator[AwsSecretsManagerTokenStorage]:
    try:
        import aioboto3
        from botocore.config import Config
    except ImportError as exc:
        raise TokenStorageError("needs aioboto3: pip install 'oneringai[aws]'", backend="aws_secrets_manager") from exc
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
