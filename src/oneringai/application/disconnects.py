"""Which failed HTTP exchanges may be sent again: those the server never answered nor read.

Shared by the providers' calls and the OAuth token endpoint (one rule for both transports:
httpx and aiohttp spell the same events differently).
"""

from __future__ import annotations

import errno

__all__ = ["is_no_response_disconnect"]


def is_no_response_disconnect(error: BaseException) -> bool:
    """True when the server closed a kept-alive connection before sending anything.

    Such a request never reached the application, so resending it once is safe
    (seen with llama.cpp after a streamed response; httpx and aiohttp spell it differently —
    aiohttp also as "Can not write request body" when the close wins the race with the write:
    a request the server never read whole is one it never ran).

    Also a connection *reset* before any answer (``ECONNRESET``, ``EPIPE`` anywhere in the
    chain): what a server's kernel sends when it closed an idle kept-alive connection just as
    our request arrived (data on a closed socket is answered with RST), or closed one with our
    request unread — the everyday form of the keep-alive race (a server idle timeout equal to
    the gap between calls), which failed every second call at that rhythm before.
    """
    text = str(error)
    if "without sending" in text or "Server disconnected" in text or "Can not write request body" in text:
        return True
    cause = error.__cause__
    if cause is not None and type(cause).__name__ == "ServerDisconnectedError":
        return True
    seen: BaseException | None = error
    for _ in range(8):  # bounded: a chain is a few links deep
        if seen is None:
            return False
        if isinstance(seen, ConnectionResetError | BrokenPipeError) or (
            isinstance(seen, OSError) and seen.errno in (errno.ECONNRESET, errno.EPIPE)
        ):
            return True
        seen = seen.__cause__ or seen.__context__
    return False
