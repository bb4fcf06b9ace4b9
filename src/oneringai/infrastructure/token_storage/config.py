"""Settings of the built-in token stores (``oauth.storage.<kind>`` in YAML)."""

from __future__ import annotations

from pydantic import ConfigDict, Field, SecretStr

from oneringai.domain._base import SettingsSection

__all__ = [
    "AwsSecretsManagerStorageSettings",
    "FileStorageSettings",
    "PostgresStorageSettings",
    "RedisStorageSettings",
]


class FileStorageSettings(SettingsSection):
    directory: str = "~/.local/share/oneringai/tokens"


class PostgresStorageSettings(SettingsSection):
    dsn: SecretStr | None = None
    table: str = Field(default="oauth_tokens", pattern=r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")
    schema_name: str = Field(default="public", alias="schema", pattern=r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")
    min_size: int = Field(default=1, ge=0)
    max_size: int = Field(default=10, ge=1)
    command_timeout: float = Field(default=10.0, gt=0)

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
    max_attempts: int = Field(default=5, ge=1)


class RedisStorageSettings(SettingsSection):
    url: SecretStr = SecretStr("redis://localhost:6379/0")
    prefix: str = "oneringai:tokens:"
