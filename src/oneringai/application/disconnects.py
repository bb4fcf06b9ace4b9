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

    Also a write the server refused (``EPIPE``, or httpcore's ``WriteError``): a request the
    server never read whole is one it never ran. Not a *reset* met while reading the answer
    (``ECONNRESET``): neither transport tells whether part of an answer came before it, and a
    request the server had begun to answer may have run — resending it could bill a model call
    twice or spend an OAuth grant twice (a rotating refresh token's reuse revokes the grant).
    The provider's own retries (``max_retries``, with backoff) still cover a reset.
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
        if type(seen).__name__ == "WriteError" or isinstance(seen, BrokenPipeError) or (
            isinstance(seen, OSError) and seen.errno == errno.EPIPE
        ):
            return True
        seen = seen.__cause__ or seen.__context__
    return False
