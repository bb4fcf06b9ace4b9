"""Settings of the built-in token stores (``oauth.storage.<kind>`` in YAML)."""

from __future__ import annotations

import re

from pydantic import ConfigDict, Field, SecretStr, field_validator

from oneringai.application.urls import check_url
from oneringai.domain._base import SettingsSection

__all__ = [
    "AwsSecretsManagerStorageSettings",
    "FileStorageSettings",
    "PostgresStorageSettings",
    "RedisStorageSettings",
]


def _checked_url(value: str, schemes: tuple[str, ...]) -> None:
    """Raises ``ValueError`` (without the URL: it may hold a password) when a client library
    would refuse ``value`` at first use — as its own raw ``ValueError``."""
    check_url(value, schemes, host=False)


class FileStorageSettings(SettingsSection):
    directory: str = "~/.local/share/oneringai/tokens"

    @field_validator("directory")
    @classmethod
    def _a_path(cls, value: str) -> str:
        if "\x00" in value:
            raise ValueError("may not contain NUL characters")
        return value


class PostgresStorageSettings(SettingsSection):
    dsn: SecretStr | None = None
    table: str = Field(default="oauth_tokens", pattern=r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")
    schema_name: str = Field(default="public", alias="schema", pattern=r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")
    min_size: int = Field(default=1, ge=0)
    max_size: int = Field(default=10, ge=1)
    command_timeout: float = Field(default=10.0, gt=0)
    acquire_timeout: float = Field(
        default=10.0, gt=0, description="longest wait for a free pool connection (s), then a TokenStorageError"
    )

    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class AwsSecretsManagerStorageSettings(SettingsSection):
    region: str = "us-east-1"
    prefix: str = "oneringai/"
    endpoint_url: str | None = None
    profile_name: str | None = None
    aws_access_key_id: SecretStr | None = None
    aws_secret_access_key: SecretStr | None = None
    kms_key_id: str | None = None
    tags: dict[str, str] = Field(default_factory=dict)
    max_attempts: int = Field(
        default=5, ge=1, description="attempts of one request, the first included (throttling, 5xx, cut connections)"
    )
    connect_timeout: float = Field(
        default=5.0, gt=0, allow_inf_nan=False, description="seconds to open a connection to Secrets Manager"
    )
    read_timeout: float = Field(
        default=10.0,
        gt=0,
        allow_inf_nan=False,
        description="seconds one answer may take; each of max_attempts waits at most this long "
        "(botocore's own 60 s made a silent endpoint hang a call for minutes)",
    )

    @field_validator("region")
    @classmethod
    def _a_region(cls, value: str) -> str:
        if not re.fullmatch(r"[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?", value):
            raise ValueError("must be an AWS region name such as us-east-1")
        return value

    @field_validator("endpoint_url")
    @classmethod
    def _an_endpoint(cls, value: str | None) -> str | None:
        if value is not None:
            _checked_url(value, ("http", "https"))
        return value


class RedisStorageSettings(SettingsSection):
    url: SecretStr = SecretStr("redis://localhost:6379/0")
    prefix: str = "oneringai:tokens:"
    timeout: float = Field(
        default=10.0,
        gt=0,
        allow_inf_nan=False,
        description="seconds Redis may take to connect or answer one command, then a TokenStorageError",
    )

    @field_validator("url")
    @classmethod
    def _a_redis_url(cls, value: SecretStr) -> SecretStr:
        _checked_url(value.get_secret_value(), ("redis", "rediss", "unix"))
        return value
