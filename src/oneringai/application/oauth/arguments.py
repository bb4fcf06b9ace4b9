"""What a caller hands ``OAuthManager`` in code, checked where it enters: the storage, the
manager's timing options and ``scopes=``. Each wrong value is a ``ConfigError`` / ``OAuthError``
naming it, never the ``AttributeError``/``OverflowError``/``UnicodeEncodeError`` it was later."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from oneringai.domain.errors import ConfigError, OAuthError, brief_repr
from oneringai.domain.interfaces import IOAuthTokenStorage

__all__ = ["MAX_SECONDS", "check_manager", "scopes_of", "seconds"]

#: The longest ``refresh_skew`` / ``state_ttl``: a stored state's lifetime (``StoredToken`` takes ~317 years).
MAX_SECONDS = 1e10


def check_manager(name: object, store: object) -> IOAuthTokenStorage:
    """The manager's ``name`` is a string (it is part of every storage key and message) and its
    storage has ``store_token``/``get_token``/``delete_token`` (an ``int`` failed with an
    ``AttributeError`` at the first login or token)."""
    if not isinstance(name, str):
        raise ConfigError(f"OAuthManager name must be a string, not {type(name).__name__}")
    if store is None:
        raise ConfigError(
            "OAuthManager needs a token storage: pass storage=... or put 'storage' in the config "
            "(e.g. oneringai.testing.MemoryTokenStorage() for tests)",
            path=f"oauth.connections.{name}",
        )
    missing = [m for m in ("store_token", "get_token", "delete_token") if not callable(getattr(store, m, None))]
    if missing:
        raise ConfigError(
            f"OAuthManager storage must be a token storage (IOAuthTokenStorage); {type(store).__name__} "
            f"has no {', '.join(missing)}",
            path=f"oauth.connections.{name}",
        )
    return store  # type: ignore[return-value]  # duck-typed stores (a port of the guide) are welcome


def seconds(what: str, value: object, name: str, *, positive: bool = False) -> float:
    """A manager's ``refresh_skew`` / ``state_ttl``: a finite number of seconds >= 0 (> 0 when
    ``positive``), at most ``MAX_SECONDS``. ``float()`` of it raised ``OverflowError`` (10**400) or
    ``ValueError`` ("soon"); NaN disabled refresh; a ``state_ttl`` beyond a token's lifetime failed
    ``start_authorization`` with pydantic's error."""
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or not 0 <= value <= MAX_SECONDS
        or (positive and value == 0)
    ):
        low = "above 0" if positive else "from 0"
        raise ConfigError(
            f"{what} must be a number of seconds {low} to {MAX_SECONDS:.0e}, not {brief_repr(value)}",
            path=f"oauth.connections.{name}",
        )
    return float(value)


def scopes_of(scopes: object, name: str) -> list[str]:
    """``scopes=``: a list (any iterable) of scope names, or one space-separated string as RFC 6749
    (and the ``scopes`` setting) writes it — ``" ".join("read write")`` asked for the scopes
    ``r e a d w r i t e``. Anything else (a number, a list of numbers, text no URL can hold)
    is an ``OAuthError``, not the ``TypeError``/``UnicodeEncodeError`` of building the URL."""
    if isinstance(scopes, str):
        scopes = scopes.split()
    if not isinstance(scopes, Iterable) or isinstance(scopes, Mapping | bytes | bytearray):
        raise OAuthError(f"scopes must be a list of strings, not {type(scopes).__name__}", connection=name)
    found = list(scopes)
    for scope in found:
        if not isinstance(scope, str) or not scope.isprintable() or not _encodable(scope):
            raise OAuthError(f"scopes must be a list of strings, not one holding {brief_repr(scope)}", connection=name)
    return found


def _encodable(text: str) -> bool:
    try:
        text.encode()
    except UnicodeEncodeError:  # a lone surrogate
        return False
    return True
