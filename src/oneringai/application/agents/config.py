"""Settings of ``client.agents`` (the YAML ``agents:`` section)."""

from __future__ import annotations

from pydantic import Field

from oneringai.application.agents.support import MAX_ITERATIONS, MAX_TOOL_OUTPUT_LIMIT, MAX_TOOL_THREADS
from oneringai.application.tools.output import MAX_OUTPUT_CHARS
from oneringai.application.tools.threads import DEFAULT_TOOL_THREADS
from oneringai.domain._base import SettingsSection
from oneringai.domain.tools import MAX_ARGUMENT_CHARS

__all__ = ["DEFAULT_TOOL_TIMEOUT", "AgentSettings"]

#: Seconds one tool call may take (``agents.tool_timeout``; also an ``Agent`` built in code).
DEFAULT_TOOL_TIMEOUT = 30.0


class AgentSettings(SettingsSection):
    max_iterations: int = Field(
        default=10, ge=1, le=MAX_ITERATIONS, description="model calls per run, at most 1000"
    )
    tool_timeout: float = Field(default=DEFAULT_TOOL_TIMEOUT, gt=0)
    max_parallel_tools: int = Field(default=4, ge=1)
    timeout: float | None = Field(default=None, gt=0, description="total seconds per run; when it passes, the run returns the last model response with "
        "status incomplete and stop_reason timeout (unfinished tool calls answered as timed out), or raises "
        "ProviderTimeoutError when the model has not answered yet in this run",
    )
    tool_threads: int = Field(
        default=DEFAULT_TOOL_THREADS,
        ge=1,
        le=MAX_TOOL_THREADS,
        description="threads for synchronous tools (their own pool, not asyncio's default executor; at most 1024)",
    )
    max_tool_argument_chars: int = Field(
        default=MAX_ARGUMENT_CHARS, ge=2, description="longer tool arguments are an invalid_arguments result"
    )
    max_tool_output_chars: int = Field(
        default=MAX_OUTPUT_CHARS,
        ge=100,
        le=MAX_TOOL_OUTPUT_LIMIT,
        description="longer tool output is truncated with a note (at most 10,000,000)",
    )
