"""Compressed answers of a token or revocation endpoint. httpx inflates each received chunk
whole, so the token endpoint's 256 KiB cap was checked only after a gzip bomb had expanded
(``content-encoding: gzip, gzip``: ~1 KB on the wire, 192 MiB inflated, all held at once);
a revocation endpoint's answer was read whole, bounded by nothing. Now both are inflated a
bounded step at a time and cut at their cap; an honest gzip answer still decodes."""

from __future__ import annotations

import gzip
import logging
import time
import tracemalloc
import zlib
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest
from aiohttp import web

from oneringai import OAuthError, StoredToken
from tests.faults.oauth_support import HostileTokenServer, hostile_server, manager_for
from tests.faults.providers_fixtures import MIB, gzip_of_zeros

BOMB = gzip.compress(gzip_of_zeros(192 * MIB), 9)
SINGLE = gzip_of_zeros(64 * MIB)


@pytest.fixture
async def server() -> AsyncIterator[HostileTokenServer]:
    async for running in hostile_server():
        yield running


def _answer(body: bytes, encoding: str, status: int = 200) -> Callable[[dict[str, str], str, str], web.Response]:
    return lambda form, raw, auth: web.Response(
        status=status, body=body, headers={"content-type": "application/json", "content-encoding": encoding}
    )


async def _peak(run: Callable[[], Awaitable[object]]) -> tuple[int, BaseException | None]:
    tracemalloc.start()
    try:
        await run()
        error = None
    except Exception as exc:
        error = exc
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak, error


@pytest.mark.parametrize(("body", "encoding"), [(BOMB, "gzip, gzip"), (SINGLE, "gzip")])
async def test_a_gzip_bomb_from_the_token_endpoint_is_cut_while_inflating(
    server: HostileTokenServer, body: bytes, encoding: str
) -> None:
    server.responder = _answer(body, encoding)
    manager = manager_for(server, flow="client_credentials")
    try:
        peak, error = await _peak(manager.get_token)
    finally:
        await manager.aclose()
    assert isinstance(error, OAuthError), error
    assert "bytes" in str(error)
    assert peak < 16 * MIB, f"{peak / MIB:.0f} MiB held for a {len(body)}-byte token answer"


@pytest.mark.parametrize("encoding", ["gzip", "deflate", "gzip, gzip", "identity"])
async def test_an_honest_compressed_token_answer_decodes(server: HostileTokenServer, encoding: str) -> None:
    body = b'{"access_token": "zipped-access-1", "expires_in": "3600", "token_type": "bearer"}'
    for name in reversed([e.strip() for e in encoding.split(",")]):
        body = gzip.compress(body) if name == "gzip" else zlib.compress(body) if name == "deflate" else body
    server.responder = _answer(body, encoding)
    manager = manager_for(server, flow="client_credentials")
    try:
        assert await manager.get_token() == "zipped-access-1"
    finally:
        await manager.aclose()


async def test_an_undecodable_gzip_token_answer_is_an_oauth_error(server: HostileTokenServer) -> None:
    server.responder = _answer(b"\x1f\x8b\x08\x00not gzip at all", "gzip")
    manager = manager_for(server, flow="client_credentials")
    try:
        with pytest.raises(OAuthError):
            await manager.get_token()
    finally:
        await manager.aclose()


@pytest.mark.parametrize(("body", "encoding"), [(BOMB, "gzip, gzip"), (SINGLE, "gzip")])
async def test_a_huge_revocation_answer_is_not_held(
    server: HostileTokenServer, body: bytes, encoding: str, caplog: pytest.LogCaptureFixture
) -> None:
    server.responder = _answer(body, encoding, status=400)
    manager = manager_for(server)
    key = manager.storage_key("u1")
    await manager.storage.store_token(
        key, StoredToken(access_token="acc-1", refresh_token="ref-1", expires_in=3600, obtained_at=time.time())
    )
    try:
        with caplog.at_level(logging.WARNING, logger="oneringai.oauth"):
            peak, error = await _peak(lambda: manager.revoke("u1"))
    finally:
        await manager.aclose()
    assert error is None
    assert not await manager.storage.has_token(key)
    assert peak < 16 * MIB, f"{peak / MIB:.0f} MiB held for a revocation answer"
    assert all(len(record.getMessage()) < 1000 for record in caplog.records)


async def test_a_coding_not_asked_for_is_refused_unread(server: HostileTokenServer) -> None:
    server.responder = _answer(b"\x8b\x02\x80not brotli", "br")
    manager = manager_for(server, flow="client_credentials")
    try:
        with pytest.raises(OAuthError, match="content-encoding 'br'"):
            await manager.get_token()
        assert server.forms[-1]["grant_type"] == "client_credentials"
    finally:
        await manager.aclose()
