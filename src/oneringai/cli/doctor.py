"""``oneringai doctor``: try each configured backend and say what to fix.

It fails (exit 1) only on what is in use, and warns on the rest, so a working setup passes:

- **in use — FAIL when broken**: the default text provider and the default image provider, the
  token storage, every executor backend (the Redis of ``rate_limit``/``cache`` layers with
  ``backend: redis``, the Postgres of an ``audit`` layer with ``sink: postgres``), every OAuth
  connection's token endpoint (each one is configured to be used), and the errors of
  ``config.checks`` (a key the default provider needs, a DSN the storage needs);
- **not in use — warn**: providers that are not the default (e.g. the ``ollama`` provider
  ``config/default.yaml`` defines, under ``--profile local``), and the checks' warnings.

The output starts by naming the files and the profile that were loaded.
"""

from __future__ import annotations

import asyncio
from collections.abc import Collection
from typing import Any

from oneringai.domain.errors import OneRingAIError, install_extra_hint
from oneringai.domain.redaction import redact
from oneringai.infrastructure.providers.llamacpp_model import LOCAL_EXTRA_FIX

__all__ = ["doctor"]

_FIXES = {
    "ollama": "start Ollama (`ollama serve`) or set OLLAMA_HOST / text.providers.<name>.base_url",
    "openai": "check text.providers.<name>.api_key and base_url",
    "anthropic": "check text.providers.<name>.api_key (ANTHROPIC_API_KEY)",
    "llamacpp": LOCAL_EXTRA_FIX,
    "postgres": "check oauth.storage.postgres.dsn and that PostgreSQL is running",
    "redis": "check oauth.storage.redis.url and that Redis is running",
    "aws_secrets_manager": "check AWS credentials/region/endpoint_url",
    "file": "check oauth.storage.file.directory is writable",
}
_CHECK_ERRORS = (OneRingAIError, TimeoutError, OSError, ImportError)


def _with_fix(message: str, kind: str) -> str:
    fix = _FIXES.get(kind, "")
    if not fix or fix[:24] in message:  # the error already says it
        return message
    return f"{message} — {fix}"


class _Report:
    def __init__(self) -> None:
        self.failures = 0
        self.warnings = 0

    def line(self, status: str, what: str, detail: str) -> None:
        self.failures += status == "FAIL"
        self.warnings += status == "warn"
        print(" ".join(f"[{status}] {what}: {detail}".split()))

    def problem(self, in_use: bool, what: str, detail: str) -> None:
        self.line("FAIL" if in_use else "warn", what, detail if in_use else f"{detail} (not in use)")


async def doctor(settings: Any, *, timeout: float = 10.0, loaded: Any = None) -> int:
    """Print one line per check; 1 when something in use is broken, else 0."""
    from oneringai.client import OneRingAI
    from oneringai.config.checks import usage_findings

    report = _Report()
    for line in loaded.describe() if loaded is not None else ():
        print(line)
    print(f"http transport: {settings.http.transport}")
    failed: set[str] = set()  # providers a finding already failed: trying them says it again
    for finding in usage_findings(settings):
        report.line("FAIL" if finding.level == "error" else "warn", finding.path, finding.message)
        if finding.level == "error":
            failed.add(".".join(finding.path.split(".")[:3]))
    async with OneRingAI(settings=settings) as client:
        await _check_providers(client.text.registry, "text provider", report, timeout, failed)
        await _check_providers(client.images.registry, "image provider", report, timeout, failed)
        await _check_storage(client, settings.oauth.storage.kind, report, timeout)
    await _check_executors(settings, report, timeout)
    await _check_oauth(settings, report, timeout)
    if report.failures:
        print(f"{report.failures} check(s) failed" + (f", {report.warnings} warning(s)" if report.warnings else ""))
    else:
        print("all checks passed" + (f" ({report.warnings} warning(s))" if report.warnings else ""))
    return 1 if report.failures else 0


async def _check_providers(
    registry: Any, label: str, report: _Report, timeout: float, failed: Collection[str] = ()
) -> None:
    section = "text" if label.startswith("text") else "images"
    for name in registry.names():
        config = registry.config_of(name)
        kind = getattr(config, "kind", "instance")
        in_use = name == registry.default_name
        what = f"{label} {name} ({kind})"
        if f"{section}.providers.{name}" in failed:
            report.line("skip", what, f"not tried: fix {section}.providers.{name} first (above)")
            continue
        if kind == "llamacpp" and not in_use:
            report.line("skip", what, "not the default; not started (starting it takes a while)")
            continue
        try:
            provider = await registry.get(name)
            list_models = getattr(provider, "list_models", None)
            if list_models is None:  # optional: image providers (IImageProvider) have none
                raise NotImplementedError(name)
            wait = 600 if kind == "llamacpp" else timeout  # a first start builds/loads the model
            models = await asyncio.wait_for(list_models(), timeout=wait)
            shown = ", ".join(models[:5]) + (" …" if len(models) > 5 else "")
            report.line("ok", what, f"reachable; models: {shown or 'none'}{' (the default)' if in_use else ''}")
        except NotImplementedError:
            ok = await provider.validate_config()
            if ok:
                report.line("ok", what, "configuration looks valid")
            else:
                report.problem(in_use, what, "invalid key")
        except _CHECK_ERRORS as exc:
            report.problem(in_use, what, _with_fix(str(exc) or "timed out", kind))


async def _check_storage(client: Any, kind: str, report: _Report, timeout: float) -> None:
    what = f"token storage ({kind})"
    try:
        keys = await asyncio.wait_for(client.token_storage.list_keys(""), timeout=timeout)
        report.line("ok", what, f"reachable; {len(keys)} token(s)")
    except NotImplementedError:
        report.line("ok", what, "reachable (cannot list keys)")
    except _CHECK_ERRORS as exc:
        report.line("FAIL", what, _with_fix(str(exc) or "timed out", kind))


async def _ping_redis(url: str, timeout: float) -> None:
    try:
        import redis.asyncio as aioredis
    except ImportError:
        raise ImportError(f"the redis backend needs the redis extra: {install_extra_hint('redis')}") from None
    client = aioredis.from_url(url, socket_connect_timeout=timeout, socket_timeout=timeout)
    try:
        await asyncio.wait_for(client.ping(), timeout=timeout)
    finally:
        await client.aclose()


async def _ping_postgres(dsn: str, timeout: float) -> None:
    try:
        import asyncpg
    except ImportError:
        raise ImportError(f"the postgres audit sink needs the postgres extra: {install_extra_hint('postgres')}") from None
    connection = await asyncio.wait_for(asyncpg.connect(dsn, timeout=timeout), timeout=timeout)
    try:
        await connection.fetchval("SELECT 1")
    finally:
        await connection.close()


async def _check_executors(settings: Any, report: _Report, timeout: float) -> None:
    """The backends of the executor stack: every call of an agent's tools goes through them."""
    for index, layer in enumerate(settings.tools.executor):
        what = f"tools.executor[{index}] ({layer.kind})"
        try:
            if getattr(layer, "backend", None) == "redis":
                url = layer.redis_url.get_secret_value()
                await _ping_redis(url, timeout)
                report.line("ok", f"{what} redis", f"{redact(url)} answers")
            elif getattr(layer, "sink", None) == "postgres" and getattr(layer, "dsn", None) is not None:
                dsn = layer.dsn.get_secret_value()
                await _ping_postgres(dsn, timeout)
                report.line("ok", f"{what} postgres", "reachable")
        except Exception as exc:  # any driver error: the backend is what fails, say so in one line
            detail = redact(str(exc)) or type(exc).__name__  # a driver's message may hold the DSN
            report.line("FAIL", what, f"unreachable ({type(exc).__name__}: {detail}) — check its "
                        "redis_url/dsn and that the server runs")


async def _check_oauth(settings: Any, report: _Report, timeout: float) -> None:
    """Each connection's token endpoint answers HTTP (any status: we send no credentials)."""
    import httpx

    async with httpx.AsyncClient(timeout=timeout) as client:
        for name, connection in settings.oauth.connections.items():
            if not connection.token_url:
                continue
            try:
                response = await client.get(connection.token_url)
                report.line("ok", f"oauth connection {name}", f"token endpoint answers (HTTP {response.status_code})")
            except httpx.HTTPError as exc:
                report.line(
                    "FAIL",
                    f"oauth connection {name}",
                    f"{connection.token_url} unreachable ({type(exc).__name__}) — check oauth.connections.{name}.token_url",
                )
