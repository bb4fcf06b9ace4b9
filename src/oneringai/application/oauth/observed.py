"""The ``oauth.refresh {connection}`` span around one token refresh (a single flight's body).

It says which connection, which grant and how it ended — ``refreshed``, ``reused`` (another
task or process refreshed first, no request made), ``login_required``, ``failed`` — and never
holds a token, a key or a user id.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from oneringai.domain.errors import LoginRequiredError
from oneringai.domain.telemetry import Telemetry

__all__ = ["observed_refresh"]

_GRANTS = {"authorization_code": "refresh_token", "jwt_bearer": "urn:ietf:params:oauth:grant-type:jwt-bearer"}


async def observed_refresh(
    telemetry: Telemetry,
    connection: str,
    flow: str,
    refresh: Callable[[], Awaitable[str]],
    requests_made: Callable[[], int],
) -> str:
    """``await refresh()`` inside the span; ``requests_made()`` tells a refresh from a reuse."""
    span = telemetry.start_span(
        f"oauth.refresh {connection}",
        attributes={"oneringai.oauth.connection": connection, "oneringai.oauth.grant_type": _GRANTS.get(flow, flow)},
    )
    before = requests_made()
    try:
        with telemetry.activate(span):
            token = await refresh()
        span.set_attribute("oneringai.oauth.outcome", "refreshed" if requests_made() > before else "reused")
        return token
    except BaseException as exc:
        span.set_attribute("oneringai.oauth.outcome", "login_required" if isinstance(exc, LoginRequiredError) else "failed")
        span.record_error(exc)
        raise
    finally:
        span.end()
