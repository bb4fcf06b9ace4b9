"""Compatibility: the configuration schema and loader now live in ``oneringai.config``.

``from oneringai.settings import Settings, load_settings`` keeps working; new code
imports from ``oneringai.config`` (or ``oneringai`` for the two names above).
"""

from __future__ import annotations

from oneringai.config.loading import load_settings
from oneringai.config.schema import (
    AgentSettings,
    AwsSecretsManagerStorageSettings,
    FileStorageSettings,
    HttpSettings,
    ImagesSettings,
    OAuthConnectionSettings,
    OAuthSettings,
    PostgresStorageSettings,
    RedisStorageSettings,
    Settings,
    TextSettings,
    TokenStorageSettings,
    ToolsSettings,
)

__all__ = [
    "AgentSettings",
    "AwsSecretsManagerStorageSettings",
    "FileStorageSettings",
    "HttpSettings",
    "ImagesSettings",
    "OAuthConnectionSettings",
    "OAuthSettings",
    "PostgresStorageSettings",
    "RedisStorageSettings",
    "Settings",
    "TextSettings",
    "TokenStorageSettings",
    "ToolsSettings",
    "load_settings",
]
