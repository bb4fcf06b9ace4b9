"""OAuth errors beyond the domain's ``OAuthError``."""

from __future__ import annotations

from oneringai.domain.errors import OAuthError

__all__ = ["LoginRequiredError"]


class LoginRequiredError(OAuthError):
    """No usable token: nothing stored, no refresh token, or the server rejected the refresh
    token (``invalid_grant``: expired or revoked). Only a new authorization helps; the
    message says how (``oneringai oauth login <connection>`` or the authorization URL).
    ``error`` is ``"login_required"``; ``reason`` says why."""

    def __init__(self, *, connection: str, user_id: str | None = None, reason: str) -> None:
        user = f" --user {user_id}" if user_id else ""
        who = f" for user {user_id!r}" if user_id else ""
        super().__init__(
            f"a new login is needed{who}: {reason}. Run `oneringai oauth login {connection}{user}` "
            "(or send the user to manager.get_authorization_url() / start_authorization())",
            error="login_required",
            connection=connection,
        )
        self.reason = reason
        self.user_id = user_id
