"""A response that is not valid HTTP, or a body whose content-encoding does not decode, is the same
typed error on both transports, naming the provider and no status the server never sent.

Found by a hostile server: with aiohttp (the default transport) a malformed status line,
header line, chunk header or content-length was ``ProviderResponseError("unexpected
ClientResponseError: 400, message=…")`` — a 400 nobody sent, and not the
``ProviderUnavailableError`` ("connection broke") the httpx transport gives; an undecodable
gzip body was "unavailable" with aiohttp and "unexpected DecodingError" with httpx.
"""

from __future__ import annotations

import json
import re

import pytest

from oneringai import ProviderError, ProviderResponseError, ProviderUnavailableError
from tests.faults.providers_fixtures import (
    KINDS,
    SECRET,
    TRANSPORTS,
    VENDORS,
    FaultServer,
    call_failure,
    fault_server_fixture,  # noqa: F401 - provides the fault_server fixture
    head,
    replying,
)

MALFORMED = {
    "status line": b"HTTP/1.1 2x0 OK\r\n\r\n",
    "header line": b"HTTP/1.1 200 OK\r\nx: a\x01\x02\r\nbroken header\r\n\r\n",
    "chunk header": b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\nZZ\r\n",
    "content-length": b"HTTP/1.1 200 OK\r\ncontent-length: -1\r\n\r\n{}",
    "huge content-length": b"HTTP/1.1 200 OK\r\ncontent-length: 100000000000000000000000000000\r\n\r\n{}",
}


@pytest.mark.parametrize("stream", [False, True], ids=["generate", "stream"])
@pytest.mark.parametrize("fault", list(MALFORMED))
@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_a_malformed_response_is_unavailable_on_both_transports(fault_server: FaultServer, transport, fault,
                                                                     stream):
    fault_server.run(replying(MALFORMED[fault]))
    error = await call_failure("openai", fault_server.url, transport, stream)
    assert type(error) is ProviderUnavailableError, repr(error)
    assert error.provider == "p" and "broke" in str(error)
    # no made-up status (the port in the URL may hold the digits 400, so look for a status form)
    assert error.status_code is None and not re.search(r"\b400\b(?!/)|status 400", str(error).split(" broke:")[-1])
    assert "ClientResponseError" not in str(error)


@pytest.mark.parametrize("stream", [False, True], ids=["generate", "stream"])
@pytest.mark.parametrize("encoding", ["gzip", "deflate"])
@pytest.mark.parametrize("transport", TRANSPORTS)
@pytest.mark.parametrize("kind", KINDS)
async def test_an_undecodable_body_is_a_response_error_on_both_transports(fault_server: FaultServer, kind, transport,
                                                                         encoding, stream):
    content_type = VENDORS[kind].stream_type if stream else "application/json"
    fault_server.run(replying(head(200, content_type, 12, {"content-encoding": encoding}) + b"\x1f\x8bnot-gzip!!"))
    error = await call_failure(kind, fault_server.url, transport, stream)
    assert type(error) is ProviderResponseError, repr(error)
    assert error.provider == "p" and "undecodable" in str(error)


# --- statuses that are no answer (found by the same review: read as a body, "malformed JSON") ---
@pytest.mark.parametrize("stream", [False, True], ids=["generate", "stream"])
@pytest.mark.parametrize("status", [301, 302, 307, 308])
@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_a_redirect_names_its_target_and_is_not_followed(fault_server: FaultServer, transport, status, stream):
    body = json.dumps(VENDORS["openai"].body()).encode()  # a valid answer in the redirect's body
    target = f"https://api.example.com/v1/chat/completions?key={SECRET}"
    fault_server.answer(status, body, extra={"location": target})
    error = await call_failure("openai", fault_server.url, transport, stream)
    assert type(error) is ProviderResponseError, repr(error)
    assert "redirected to https://api.example.com/v1/chat/completions" in str(error) and "base_url" in str(error)
    assert SECRET not in str(error) and len(fault_server.requests) == 1


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_switching_protocols_is_no_answer(fault_server: FaultServer, transport):
    fault_server.run(replying(b"HTTP/1.1 101 Switching Protocols\r\nupgrade: websocket\r\nconnection: upgrade\r\n\r\n"))
    error = await call_failure("openai", fault_server.url, transport, False)
    assert isinstance(error, ProviderError) and error.provider == "p"
    assert "malformed JSON" not in str(error)
