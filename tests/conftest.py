from __future__ import annotations

import os
from collections.abc import AsyncIterator

import pytest

from tests.vendor_server import VendorServer

POSTGRES_DSN = os.environ.get("ONERINGAI_TEST_POSTGRES_DSN", "postgresql://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("ONERINGAI_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


def service_unavailable(name: str, reason: str) -> None:
    """Skip with a reason, or fail when ONERINGAI_REQUIRE_SERVICES=1 (CI)."""
    message = f"{name} unreachable: {reason}"
    if os.environ.get("ONERINGAI_REQUIRE_SERVICES") == "1":
        pytest.fail(message + " (ONERINGAI_REQUIRE_SERVICES=1)")
    pytest.skip(message)


def require_port(name: str, port: int) -> None:
    """Skip (or fail under ONERINGAI_REQUIRE_SERVICES=1) when 127.0.0.1:port does not accept."""
    import socket

    try:
        socket.create_connection(("127.0.0.1", port), timeout=2).close()
    except OSError as exc:
        service_unavailable(name, str(exc))


def require_redis() -> None:
    require_port("Redis", 6379)


def require_postgres() -> None:
    require_port("PostgreSQL", 5432)


@pytest.fixture
async def vendor_server() -> AsyncIterator[VendorServer]:
    server = VendorServer()
    await server.start()
    try:
        yield server
    finally:
        await server.stop()


@pytest.fixture(autouse=True)
def _isolated_env(monkeypatch: pytest.MonkeyPatch, tmp_path: object) -> None:
    for key in list(os.environ):
        if key.startswith("ONERINGAI_") and key not in (
            "ONERINGAI_REQUIRE_SERVICES",
            "ONERINGAI_TEST_POSTGRES_DSN",
            "ONERINGAI_TEST_REDIS_URL",
            "ONERINGAI_E2E",
        ):
            monkeypatch.delenv(key)
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
