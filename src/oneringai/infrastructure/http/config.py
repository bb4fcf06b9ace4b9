"""Settings of the shared HTTP client (the YAML ``http:`` section).

Every provider inherits these unless its own section (``text.providers.<name>``) sets the
same knob: ``timeout``, ``connect_timeout`` and ``max_event_bytes`` there default to None,
meaning "what ``http:`` says".
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from oneringai.domain._base import SettingsSection

__all__ = ["HttpSettings"]

MIB = 1024 * 1024


class HttpSettings(SettingsSection):
    transport: Literal["aiohttp", "httpx"] = "aiohttp"
    timeout: float = Field(
        default=60.0,
        gt=0,
        description="seconds; bounds a whole request attempt (connect, send, every byte of the answer), "
        "and the wait for each stream event",
    )
    connect_timeout: float = Field(default=10.0, gt=0)
    max_connections: int = Field(default=100, ge=1)
    max_keepalive_connections: int = Field(default=100, ge=0)
    keepalive_expiry: float = Field(default=30.0, ge=0)
    trust_env: bool = True
    user_agent: str = Field(
        default="oneringai/0.1",
        pattern=r"^[\x20-\x7e\t]*$",
        description="printable ASCII (it is an HTTP header)",
    )
    max_event_bytes: int = Field(
        default=8 * MIB, ge=1024, description="largest SSE event / NDJSON line accepted from a stream"
    )
    max_response_bytes: int = Field(
        default=64 * MIB, ge=1024, description="largest response body read; error bodies stop at 64 KiB"
    )
