"""Fixtures shared by the fault suite: one store of every kind (``backend``), and moto's server."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from tests.faults.storage_support import KINDS, Backend, moto_server, open_backend


@pytest.fixture(scope="module")
def moto_endpoint() -> Iterator[str]:
    server = moto_server()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()


@pytest.fixture(params=KINDS)
async def backend(request: pytest.FixtureRequest, tmp_path: Path, moto_endpoint: str) -> AsyncIterator[Backend]:
    async with open_backend(request.param, tmp_path, moto_endpoint) as opened:
        yield opened
