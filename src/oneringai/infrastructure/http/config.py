"""Settings of the shared HTTP client (the YAML ``http:`` section)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from oneringai.domain._base import SettingsSection

__all__ = ["HttpSettings"]


class HttpSettings(SettingsSection):
    transport: Literal["aiohttp", "httpx"] = "aiohttp"
    timeout: float = Field(default=60.0, gt=0, description="seconds; per request")
    connect_timeout: float = Field(default=10.0, gt=0)
    max_connections: int = Field(default=100, ge=1)
    max_keepalive_connections: int = Field(default=100, ge=0)
    keepalive_expiry: float = Field(default=30.0, ge=0)
    trust_env: bool = True
    user_agent: str = "oneringai/0.1"
