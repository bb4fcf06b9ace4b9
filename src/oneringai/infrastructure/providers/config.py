"""Configuration models of the built-in providers (also the YAML schema of ``text.providers``)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any, Literal

from pydantic import ConfigDict, Field, SecretStr, field_validator

from oneringai.application.urls import check_url
from oneringai.domain._base import ConfigModel
from oneringai.domain.redaction import redact

__all__ = [
    "AnthropicProviderConfig",
    "LlamaCppProviderConfig",
    "OllamaProviderConfig",
    "OpenAIProviderConfig",
    "OpenAITextProviderConfig",
    "ProviderConfig",
]


class ProviderConfig(ConfigModel):
    """Settings every provider understands. Custom providers may add fields (extra allowed)."""

    model_config = ConfigDict(extra="allow", populate_by_name=True, allow_inf_nan=False)

    kind: str = "custom"
    api_key: SecretStr | None = None
    base_url: str | None = None
    timeout: float | None = Field(
        default=None, gt=0, description="seconds per request attempt, whole; null: http.timeout"
    )
    connect_timeout: float | None = Field(default=None, gt=0, description="null: http.connect_timeout")
    stream_idle_timeout: float | None = Field(
        default=None,
        gt=0,
        description="longest wait for the next stream event (comments and partial lines do not count); "
        "null: the request timeout",
    )
    stream_total_timeout: float | None = Field(
        default=None, gt=0, description="bound on a whole stream; null: none (the idle timeout still holds)"
    )
    max_event_bytes: int | None = Field(
        default=None, ge=1024, description="largest stream event/line; null: http.max_event_bytes"
    )
    max_retries: int = Field(default=2, ge=0, le=10)
    retry_max_wait: float = Field(
        default=30.0,
        ge=0,
        description="cap on one backoff wait; a longer Retry-After is not retried (the error is raised at once, "
        "retry_after set)",
    )
    default_model: str | None = None
    headers: dict[str, str] = Field(default_factory=dict)

    # Checked here, not at the first request: a CR/LF, NUL or non-ASCII character in a header
    # or a URL fails deep in the HTTP client (a raw UnicodeEncodeError or yarl InvalidURL, or a
    # "malformed response" that blames the server) — or, with a lenient client, injects a header.
    @field_validator("api_key", mode="after")
    @classmethod
    def _key_fits_a_header(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not _HEADER_VALUE.fullmatch(value.get_secret_value() or " "):
            raise ValueError("must be printable ASCII without line breaks (it travels in an HTTP header)")
        return value

    @field_validator("headers", mode="after")
    @classmethod
    def _headers_are_http_headers(cls, value: dict[str, str]) -> dict[str, str]:
        for name, text in value.items():
            if not _HEADER_NAME.fullmatch(name):
                raise ValueError(f"header name {name[:40]!r} is not an HTTP header name")
            if not _HEADER_VALUE.fullmatch(text or " "):
                raise ValueError(f"header {name!r} must be printable ASCII without line breaks")
        return value

    @field_validator("base_url", mode="after")
    @classmethod
    def _url_is_a_url(cls, value: str | None) -> str | None:
        if not value:
            return value
        if not _URL_TEXT.fullmatch(value):
            raise ValueError("must be a URL without spaces or control characters")
        if "://" in value:
            check_url(value)
        return value

    def __repr_args__(self) -> Iterator[tuple[str | None, Any]]:
        """Never show credential headers or URL userinfo (``api_key`` is a ``SecretStr``)."""
        for name, value in super().__repr_args__():
            if name == "headers" and isinstance(value, dict):
                value = {k: "**********" if _CREDENTIAL_HEADER.search(k) else v for k, v in value.items()}
            elif name == "base_url" and isinstance(value, str):
                value = redact(_USERINFO.sub(r"\1", value))  # and ?api_key=… query values
            yield name, value


#: Header names whose values are credentials (their values are registered as secrets too).
_CREDENTIAL_HEADER = re.compile(r"auth|key|token|secret|cookie|session", re.IGNORECASE)
_USERINFO = re.compile(r"^([A-Za-z][A-Za-z0-9+.\-]*://)[^/?#@]*@")
_HEADER_NAME = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_HEADER_VALUE = re.compile(r"[\x20-\x7e\t]+")
#: Any character but whitespace and controls (a host may be an IDN, so not ASCII only).
_URL_TEXT = re.compile(r"[^\x00-\x20\x7f]+")


def _header_text(value: str | None) -> str | None:
    """``value`` when it can travel as an HTTP header value (these fields do)."""
    if value and not _HEADER_VALUE.fullmatch(value):
        raise ValueError("must be printable ASCII without line breaks (it travels in an HTTP header)")
    return value


class _StrictProviderConfig(ProviderConfig):
    model_config = ConfigDict(extra="forbid", populate_by_name=True, allow_inf_nan=False)


class OpenAIProviderConfig(_StrictProviderConfig):
    kind: Literal["openai", "openai_compatible"] = "openai"
    base_url: str | None = "https://api.openai.com/v1"
    organization: str | None = None
    project: str | None = None
    requires_api_key: bool | None = None

    @field_validator("organization", "project", mode="after")
    @classmethod
    def _fits_a_header(cls, value: str | None) -> str | None:
        return _header_text(value)


class OpenAITextProviderConfig(OpenAIProviderConfig):
    """``text.providers.<name>`` of ``kind: openai`` / ``openai_compatible``."""

    max_tokens_field: Literal["auto", "max_tokens", "max_completion_tokens"] = Field(
        default="auto",
        description="the request field of max_output_tokens; auto: max_completion_tokens on api.openai.com, "
        "else max_tokens (set max_completion_tokens for OpenAI reasoning models behind Azure or a proxy)",
    )


class OllamaProviderConfig(_StrictProviderConfig):
    kind: Literal["ollama"] = "ollama"
    base_url: str | None = "http://localhost:11434"
    keep_alive: str | int | None = None
    options: dict[str, Any] = Field(default_factory=dict, description="Ollama model options")


class AnthropicProviderConfig(_StrictProviderConfig):
    kind: Literal["anthropic"] = "anthropic"
    base_url: str | None = "https://api.anthropic.com"
    api_version: str = "2023-06-01"

    @field_validator("api_version", mode="after")
    @classmethod
    def _fits_a_header(cls, value: str) -> str:
        return _header_text(value) or value
    default_max_tokens: int = Field(default=4096, gt=0)


class LlamaCppProviderConfig(_StrictProviderConfig):
    kind: Literal["llamacpp"] = "llamacpp"
    base_url: str | None = None
    model_path: str | None = Field(
        default=None, description="GGUF file; default: the gemma3-270m package's model"
    )
    host: str = "127.0.0.1"
    port: int = Field(default=0, ge=0, le=65535, description="0 picks a free port")
    context_size: int = 4096
    threads: int = 1
    startup_timeout: float = 120.0
    extra_args: list[str] = Field(default_factory=list)
    default_max_tokens: int = Field(default=256, gt=0, description="when a request sets none")
    stop: list[str] = Field(
        default_factory=lambda: ["<|im_end|>", "<|im_start|>", "<end_of_turn>", "<start_of_turn>"],
        description="default stop sequences: small base models run on past their turn",
    )
    prompt_format: Literal["auto", "completion", "chat"] = Field(
        default="auto",
        description=(
            "completion: a few-shot Q/A frame on /v1/completions (base models, such as the bundled "
            "Gemma 3 270M); chat: /v1/chat/completions with the model's chat template (instruction-tuned "
            "GGUFs; needed for tools); auto: completion for the bundled model, chat otherwise"
        ),
    )
    sampling: dict[str, float] = Field(
        default_factory=lambda: {"temperature": 0.2, "top_k": 40, "top_p": 0.9, "min_p": 0.05, "repeat_penalty": 1.1},
        description="llama.cpp sampling settings sent with each request; a request's temperature wins",
    )
