"""Settings of ``client.agents`` (the YAML ``agents:`` section)."""

from __future__ import annotations

from pydantic import Field

from oneringai.domain._base import SettingsSection

__all__ = ["AgentSettings"]


class AgentSettings(SettingsSection):
    max_iterations: int = Field(default=10, ge=1)
    tool_timeout: float = Field(default=30.0, gt=0)
    max_parallel_tools: int = Field(default=4, ge=1)
    timeout: float | None = Field(default=None, gt=0, description="total seconds per run")
