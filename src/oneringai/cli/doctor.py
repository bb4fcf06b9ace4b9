"""``oneringai doctor``: try each configured backend and say what to fix."""

from __future__ import annotations

import asyncio
from typing import Any

from oneringai.domain.errors import OneRingAIError

__all__ = ["doctor"]

_FIXES = {
    "ollama": "start Ollama (`ollama serve`) or set OLLAMA_HOST / text.providers.<name>.base_url",
    "openai": "check text.providers.<name>.api_key and base_url",
    "anthropic": "check text.providers.<name>.api_key (ANTHROPIC_API_KEY)",
    "llamacpp": "pip install 'oneringai[local]' (builds llama.cpp once, ~8 min on 2 cores)",
    "postgres": "check oauth.storage.postgres.dsn and that PostgreSQL is running; pip install 'oneringai[postgres]'",
    "redis": "check oauth.storage.redis.url and that Redis is running; pip install 'oneringai[redis]'",
    "aws_secrets_manager": "check AWS credentials/region/endpoint_url; pip install 'oneringai[aws]'",
    "file": "check oauth.storage.file.directory is writable",
}


def _line(ok: bool, what: str, detail: str) -> None:
    print(f"[{'ok' if ok else 'FAIL'}] {what}: {detail}")


async def doctor(settings: Any, *, timeout: float = 10.0) -> int:
    from oneringai.client import OneRingAI

    failures = 0
    print(f"http transport: {settings.http.transport}")
    async with OneRingAI(settings=settings) as client:
        registry = client.text.registry
        for name in registry.names():
            config = registry.config_of(name)
            kind = getattr(config, "kind", "instance")
            try:
                provider = await registry.get(name)
                if kind == "llamacpp":
                    models = await asyncio.wait_for(provider.list_models(), timeout=600)
                else:
                    models = await asyncio.wait_for(provider.list_models(), timeout=timeout)
                shown = ", ".join(models[:5]) + (" …" if len(models) > 5 else "")
                _line(True, f"text provider {name} ({kind})", f"reachable; models: {shown or 'none'}")
            except NotImplementedError:
                ok = await provider.validate_config()
                _line(
                    ok, f"text provider {name} ({kind})", "configuration looks valid" if ok else "invalid key"
                )
                failures += not ok
            except (OneRingAIError, TimeoutError) as exc:
                failures += 1
                _line(
                    False, f"text provider {name} ({kind})", f"{exc or 'timed out'} — {_FIXES.get(kind, '')}"
                )
        kind = settings.oauth.storage.kind
        try:
            storage = client.token_storage
            keys = await asyncio.wait_for(storage.list_keys(""), timeout=timeout)
            _line(True, f"token storage ({kind})", f"reachable; {len(keys)} token(s)")
        except NotImplementedError:
            _line(True, f"token storage ({kind})", "reachable (cannot list keys)")
        except (OneRingAIError, TimeoutError, OSError) as exc:
            failures += 1
            _line(False, f"token storage ({kind})", f"{exc or 'timed out'} — {_FIXES.get(kind, '')}")
        failures += await _check_oauth(settings, timeout)
    print("all checks passed" if not failures else f"{failures} check(s) failed")
    return 1 if failures else 0


async def _check_oauth(settings: Any, timeout: float) -> int:
    """Each connection's token endpoint answers HTTP (any status: we send no credentials)."""
    import httpx

    failures = 0
    async with httpx.AsyncClient(timeout=timeout) as client:
        for name, connection in settings.oauth.connections.items():
            if not connection.token_url:
                continue
            try:
                response = await client.get(connection.token_url)
                _line(True, f"oauth connection {name}", f"token endpoint answers (HTTP {response.status_code})")
            except httpx.HTTPError as exc:
                failures += 1
                _line(False, f"oauth connection {name}",
                      f"{connection.token_url} unreachable ({type(exc).__name__}) — check oauth.connections.{name}.token_url")
    return failures
