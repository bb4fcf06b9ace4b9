"""YAML schema of ``tools.mcp_servers.<name>``: one MCP server reached over stdio or streamable HTTP.

stdio::

    tools:
      mcp_servers:
        files: {command: [npx, -y, "@modelcontextprotocol/server-filesystem"], args: [/srv/data]}

streamable HTTP (header values are secrets; ``oauth_connection`` adds a bearer token)::

    tools:
      mcp_servers:
        github: {url: "https://api.example.com/mcp", headers: {X-Api-Key: "${GITHUB_MCP_KEY}"}}
        crm: {url: "https://crm.example.com/mcp", oauth_connection: crm}
"""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import Field, SecretStr, field_validator, model_validator

from oneringai.application.agents.support import MAX_TOOL_OUTPUT_LIMIT
from oneringai.application.urls import check_url
from oneringai.domain._base import SettingsSection
from oneringai.domain.redaction import register_secret

__all__ = ["McpServerSettings"]

#: Environment variables whose values are registered as secrets (never printed).
_SECRET_ENV = re.compile(r"TOKEN|SECRET|PASSWORD|PASSWD|CREDENTIAL|API_?KEY|AUTH", re.IGNORECASE)
_PREFIX = re.compile(r"^[A-Za-z0-9_.-]{0,32}$")
_HEADER_NAME = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_HEADER_VALUE = re.compile(r"[\x20-\x7e\t]+")


class McpServerSettings(SettingsSection):
    """One MCP server. Exactly one of ``command`` (stdio) and ``url`` (streamable HTTP)."""

    # --- stdio ---
    command: list[str] | None = Field(
        default=None, description="stdio: the program and its first arguments, e.g. [python, -m, my_server]"
    )
    args: list[str] = Field(default_factory=list, description="stdio: more arguments, after command")
    env: dict[str, SecretStr] = Field(
        default_factory=dict,
        description="stdio: extra environment (over HOME, PATH, ...); never printed, and values of "
        "*TOKEN*/*KEY*/*SECRET* names are scrubbed from every message",
    )
    cwd: str | None = Field(default=None, description="stdio: working directory of the server")
    stderr: Literal["inherit", "discard"] = Field(
        default="inherit", description="stdio: where the server's stderr goes"
    )
    # --- streamable HTTP ---
    url: str | None = Field(default=None, description="streamable HTTP endpoint, e.g. http://127.0.0.1:8000/mcp")
    headers: dict[str, SecretStr] = Field(
        default_factory=dict, description="HTTP headers sent on every request (secrets: use ${VARS})"
    )
    oauth_connection: str | None = Field(
        default=None, description="an oauth.connections name whose token is sent as the bearer"
    )
    oauth_user_id: str | None = Field(default=None, description="the user whose token is used (per-user keys)")
    # --- both ---
    timeout: float = Field(default=30.0, gt=0, le=3600, description="seconds one tools/call may take")
    connect_timeout: float = Field(default=15.0, gt=0, le=600, description="seconds to start and greet the server")
    tool_prefix: str = Field(default="", description="prepended to every tool name (avoids clashes)")
    include: list[str] | None = Field(default=None, description="only these tools (server names)")
    exclude: list[str] = Field(default_factory=list, description="never these tools (server names)")
    max_output_chars: int = Field(
        default=100_000,
        ge=1,
        le=MAX_TOOL_OUTPUT_LIMIT,
        description="longer tool output is cut (at most 10,000,000, as agents.max_tool_output_chars)",
    )

    @field_validator("command", mode="before")
    @classmethod
    def _command_list(cls, value: Any) -> Any:
        if isinstance(value, str):
            return [value]
        return value

    @field_validator("command")
    @classmethod
    def _command_not_empty(cls, value: list[str] | None) -> list[str] | None:
        if value is not None and (not value or not value[0].strip()):
            raise ValueError("must name a program, e.g. [python, -m, my_server]")
        return value

    @field_validator("tool_prefix")
    @classmethod
    def _valid_prefix(cls, value: str) -> str:
        if not _PREFIX.match(value):
            raise ValueError("may hold only letters, digits, '_', '.', '-' (at most 32)")
        return value

    @field_validator("url")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        if value is not None:  # else httpx fails at connect time (InvalidURL, OverflowError)
            check_url(value)
        return value

    @field_validator("headers")
    @classmethod
    def _http_headers(cls, value: dict[str, SecretStr]) -> dict[str, SecretStr]:
        for name, text in value.items():
            if not _HEADER_NAME.fullmatch(name):
                raise ValueError(f"header name {name[:40]!r} is not an HTTP header name")
            if not _HEADER_VALUE.fullmatch(text.get_secret_value() or " "):
                raise ValueError(f"header {name!r} must be printable ASCII without line breaks")
        return value

    @field_validator("command", "args")
    @classmethod
    def _no_nul(cls, value: list[str] | None) -> list[str] | None:
        if value is not None and any("\x00" in part for part in value):
            raise ValueError("may not contain NUL characters")
        return value

    @model_validator(mode="after")
    def _one_transport(self) -> McpServerSettings:
        if (self.command is None) == (self.url is None):
            raise ValueError("set exactly one of command (stdio) or url (streamable HTTP)")
        if self.command is not None and (self.headers or self.oauth_connection):
            raise ValueError("headers and oauth_connection apply to url servers, not command servers")
        if self.url is not None and (self.args or self.env or self.cwd):
            raise ValueError("args, env and cwd apply to command servers, not url servers")
        return self

    def model_post_init(self, context: Any, /) -> None:
        # Header values and credential-like environment values never show in a message or log.
        for value in self.headers.values():
            register_secret(value)
        for key, value in self.env.items():
            if _SECRET_ENV.search(key):
                register_secret(value)

    @property
    def transport(self) -> Literal["stdio", "http"]:
        return "stdio" if self.command is not None else "http"
