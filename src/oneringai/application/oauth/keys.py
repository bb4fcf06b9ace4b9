"""Storage keys of OAuth tokens: ``<connection>:<client_id>[:<user_id>]``, injective.

Each component is percent-encoded where it would be ambiguous — ``%`` becomes ``%25`` and
``:`` becomes ``%3A`` — and nothing else, so keys of ordinary names read exactly as the
guide documents them (``github:my-client:user123``), while connection ``crm`` with client
``x:bob`` (``crm:x%3Abob``) and connection ``crm:x`` with client ``bob`` (``crm%3Ax:bob``)
are two records. ``user_id`` is ``None`` (the connection's own token) or a non-empty string.

Records written before this encoding under a key that now encodes differently (a component
with ``:`` or ``%``) are read through ``legacy_key`` — only where that old key cannot be
another record's key today (see there).
"""

from __future__ import annotations

import hashlib
import re

from oneringai.domain.errors import OAuthError

__all__ = ["encode_component", "is_canonical", "legacy_key", "state_key", "storable_key", "storage_key"]

_STATE_MARK = "oauth-state"
#: A key this module produces: 2 or 3 components, every ``%`` starting ``%25`` or ``%3A``.
_CANONICAL = re.compile(r"(?:[^:%]|%25|%3A)*(?::(?:[^:%]|%25|%3A)*){1,2}")


def encode_component(text: str) -> str:
    return text.replace("%", "%25").replace(":", "%3A")


def check_user_id(user_id: object, connection: str) -> str | None:
    if user_id is None:
        return None
    if not isinstance(user_id, str) or not user_id:
        raise OAuthError(
            f"user_id must be None (the connection's own token) or a non-empty string, got {user_id!r}",
            error="invalid_request",
            connection=connection,
        )
    return user_id


#: The longest key the built-in stores take (``token_storage.base.check_key``).
MAX_KEY_BYTES = 1024


def storage_key(connection: str, client_id: str, user_id: str | None = None) -> str:
    user_id = check_user_id(user_id, connection)
    base = f"{encode_component(connection)}:{encode_component(client_id)}"
    return base if user_id is None else f"{base}:{encode_component(user_id)}"


def storable_key(connection: str, client_id: str, user_id: str | None = None) -> str:
    """``storage_key``, or ``OAuthError`` when no built-in store could keep it — checked before
    a login sends the user away: after the code exchange the token would be lost."""
    key = storage_key(connection, client_id, user_id)
    try:
        size = len(key.encode())
    except UnicodeEncodeError:
        size = -1
    if not 0 < size <= MAX_KEY_BYTES or "\x00" in key:
        raise OAuthError(
            f"the token storage key for user_id {(user_id or '')[:40]!r} cannot be stored: connection, client_id "
            f"and user_id together may hold at most {MAX_KEY_BYTES} bytes of valid Unicode (no lone surrogates, "
            "no NUL)",
            error="invalid_request",
            connection=connection,
        )
    return key


def is_canonical(key: str) -> bool:
    return _CANONICAL.fullmatch(key) is not None


def legacy_key(connection: str, client_id: str, user_id: str | None = None) -> str | None:
    """The key an older version used for these components, when it differs and reading it is safe.

    Safe means: the connection and client id hold no ``:`` (else the old key was shared with
    another connection already), and the old key is not a key of today's encoding (else it may
    be another user's current record, e.g. user ``a%3Ab`` vs user ``a:b``).
    """
    old = f"{connection}:{client_id}" if user_id is None else f"{connection}:{client_id}:{user_id}"
    if old == storage_key(connection, client_id, user_id):
        return None
    if ":" in connection or ":" in client_id or is_canonical(old) or old.endswith(f":{_STATE_MARK}"):
        return None
    return old


def state_key(connection: str, client_id: str, state: str) -> str:
    """Where a pending login's state lives: four components, so never a token's key."""
    digest = hashlib.sha256(state.encode()).hexdigest()
    return f"{encode_component(connection)}:{encode_component(client_id)}:{digest}:{_STATE_MARK}"
