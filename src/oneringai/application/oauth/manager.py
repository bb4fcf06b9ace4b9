"""OAuth 2.0 for one connection: authorization code + PKCE, client credentials, JWT bearer,
static tokens; tokens kept in an ``IOAuthTokenStorage``.

Refresh is single-flight per key: concurrent callers share one token request — and its
failure (one request, one error for all of them) — and across processes the store's lock
(Postgres advisory lock, Redis lock, file ``flock``) makes it one request per fleet.
A refresh token the server rejects (``invalid_grant``) is not tried again: the stored token
is marked, and every caller gets ``LoginRequiredError`` without a network round trip until
someone logs in again.

Keys are ``<connection>:<client_id>`` or ``<connection>:<client_id>:<user_id>``, each part
percent-encoded where it holds ``:`` or ``%`` (``oauth.keys``).
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import inspect
import json
import secrets
import time
from collections.abc import AsyncIterator, Callable, Coroutine, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

import httpx

from oneringai.application.oauth import keys
from oneringai.application.oauth.arguments import check_manager, scopes_of, seconds
from oneringai.application.oauth.bearer import OAuthBearerAuth
from oneringai.application.oauth.errors import LoginRequiredError
from oneringai.application.oauth.observed import observed_refresh
from oneringai.application.oauth.stored import read_token, refresh_due
from oneringai.application.oauth.token_endpoint import request_token
from oneringai.domain.errors import ConfigError, OAuthError
from oneringai.domain.interfaces import IOAuthTokenStorage
from oneringai.domain.redaction import get_logger, redact, register_secret
from oneringai.domain.telemetry import NOOP_TELEMETRY, Telemetry
from oneringai.domain.tokens import StoredToken

__all__ = ["LoginRequiredError", "OAuthBearerAuth", "OAuthManager"]


JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer"
logger = get_logger("oneringai.oauth")


@dataclass
class _PendingState:
    user_id: str | None
    verifier: str | None = field(repr=False)
    expires_at: float
    persisted: bool = False  # also kept in the token store, which is then authoritative


def _pkce_pair() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(64)[:96]
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    return verifier, challenge


class OAuthManager:
    """Usable alone (as in the guide) or from ``client.oauth(name)``.

    ``config`` is an ``OAuthConnectionSettings`` or a mapping — also the guide's shape, with
    camelCase keys and ``storage`` inside: ``OAuthManager({"flow": ..., "clientId": ...,
    "storage": store})``.
    """

    def __init__(
        self,
        config: Any,
        *,
        storage: IOAuthTokenStorage | None = None,
        name: str | None = None,
        http_client: httpx.AsyncClient | Callable[[], Any] | None = None,
        refresh_skew: float | None = None,
        state_ttl: float | None = None,
        telemetry: Telemetry | None = None,
    ) -> None:
        from oneringai.application.oauth.config import (
            OAuthConnectionSettings,
            connection_settings,
            split_manager_options,
        )

        options: dict[str, Any] = {}
        #: Settings of a YAML connection (``client.oauth(name)``): `oneringai oauth login` reaches it.
        self.login_by_cli = isinstance(config, OAuthConnectionSettings)
        if isinstance(config, OAuthConnectionSettings):
            self.config = config
        elif isinstance(config, Mapping):
            connection, options = split_manager_options(config)
            self.config = connection_settings(connection, name=name or options.get("name") or "oauth")
        else:
            raise ConfigError(
                f"OAuthManager config must be a mapping or OAuthConnectionSettings, not {type(config).__name__}"
            )
        self.name = name or options.get("name") or "oauth"
        store = storage if storage is not None else options.get("storage")
        self.storage: IOAuthTokenStorage = check_manager(self.name, store)  # a string name, a token storage
        skew, ttl = options.get("refresh_skew", 300.0), options.get("state_ttl", 600.0)
        self.refresh_skew = seconds("refresh_skew", skew if refresh_skew is None else refresh_skew, self.name)
        self.state_ttl = seconds("state_ttl", ttl if state_ttl is None else state_ttl, self.name, positive=True)
        self._http = http_client
        self._owned_http: httpx.AsyncClient | None = None
        self._pending: dict[str, _PendingState] = {}
        self._flights: dict[str, asyncio.Task[str]] = {}  # refreshes in flight, by key
        self.token_requests = 0  # how many times the token endpoint was called
        self.telemetry = telemetry or NOOP_TELEMETRY  # a span per refresh; never token material
        self._validate()

    def __repr__(self) -> str:
        return f"OAuthManager(name={self.name!r}, flow={self.config.flow!r}, client_id={self.config.client_id!r})"

    def _validate(self) -> None:
        c, flow = self.config, self.config.flow
        needed: list[str] = []
        if flow == "authorization_code":
            needed = [k for k in ("authorization_url", "token_url", "redirect_uri") if not getattr(c, k)]
        elif flow in ("client_credentials", "jwt_bearer"):
            needed = [k for k in ("token_url",) if not getattr(c, k)]
            if flow == "jwt_bearer" and c.private_key is None and not c.private_key_file:
                needed.append("private_key")
        elif flow == "static_token" and c.access_token is None:
            needed = ["access_token"]
        if needed:
            raise OAuthError(
                f"flow {flow} needs {', '.join(f'oauth.connections.{self.name}.{k}' for k in needed)}",
                connection=self.name,
            )

    def storage_key(self, user_id: str | None = None) -> str:
        return keys.storable_key(self.name, self.config.client_id, user_id)

    async def _client(self) -> httpx.AsyncClient:
        if isinstance(self._http, httpx.AsyncClient):
            return self._http
        if callable(self._http):
            result = self._http()
            return await result if inspect.isawaitable(result) else result  # type: ignore[no-any-return]
        if self._owned_http is None:
            self._owned_http = httpx.AsyncClient(timeout=30)
        return self._owned_http

    async def aclose(self) -> None:
        if self._owned_http is not None:
            await self._owned_http.aclose()
            self._owned_http = None

    # --- authorization code + PKCE ---------------------------------------------------------------
    def get_authorization_url(
        self, user_id: str | None = None, *, scopes: list[str] | None = None
    ) -> tuple[str, str]:
        """The URL to send the user to, and its single-use ``state``."""
        if self.config.flow != "authorization_code":
            raise OAuthError(f"flow {self.config.flow} has no authorization URL", connection=self.name)
        self.storage_key(user_id)  # a key no store can keep fails now, not after the login
        now = time.time()
        self._pending = {s: p for s, p in self._pending.items() if p.expires_at > now}
        state = secrets.token_urlsafe(32)
        register_secret(state)
        params: dict[str, str] = {
            "response_type": "code",
            "client_id": self.config.client_id,
            "redirect_uri": self.config.redirect_uri or "",
            "state": state,
        }
        scope_list = scopes_of(scopes, self.name) if scopes is not None else self.config.scopes
        if scope_list:
            params["scope"] = " ".join(scope_list)
        verifier = None
        if self.config.use_pkce:
            verifier, challenge = _pkce_pair()
            register_secret(verifier)
            params["code_challenge"] = challenge
            params["code_challenge_method"] = "S256"
        params.update(self.config.extra_authorize_params)
        self._pending[state] = _PendingState(user_id, verifier, now + self.state_ttl)
        url = self.config.authorization_url or ""
        return f"{url}{'&' if '?' in url else '?'}{urlencode(params)}", state

    async def start_authorization(
        self, user_id: str | None = None, *, scopes: list[str] | None = None
    ) -> tuple[str, str]:
        """Like ``get_authorization_url``, and the pending state is also kept (encrypted, with
        its expiry) in the token storage — so the callback may land on another process or
        replica that shares the store (Postgres, Redis, AWS)."""
        url, state = self.get_authorization_url(user_id, scopes=scopes)
        pending = self._pending[state]
        pending.persisted = True
        record = StoredToken(
            access_token=json.dumps({"user_id": pending.user_id, "verifier": pending.verifier}),
            expires_in=self.state_ttl,
        )
        await self.storage.store_token(self._state_key(state), record)
        return url, state

    def _state_key(self, state: str) -> str:
        return keys.state_key(self.name, self.config.client_id, state)

    async def _take_pending(self, state: str) -> _PendingState | None:
        """Single use: removed wherever it was kept, under the store's lock — a callback sent
        twice at once was read by both before either removed it: the code redeemed twice."""
        pending = self._pending.pop(state, None)
        key = self._state_key(state)
        async with self._distributed_lock(key, purpose="oauth-state"):
            stored = await read_token(self.storage, key)
            if stored is not None:
                await self.storage.delete_token(key)
        if stored is None:
            # persisted but gone from the store: another replica consumed it (or it expired)
            return None if pending is not None and pending.persisted else pending
        if pending is None:
            try:
                data = json.loads(stored.access_token.get_secret_value())
                user_id, verifier = data.get("user_id"), data.get("verifier")
            except (ValueError, AttributeError):
                return None  # not a state record of ours
            if not (user_id is None or isinstance(user_id, str)) or not (verifier is None or isinstance(verifier, str)):
                return None
            pending = _PendingState(user_id, verifier, stored.expires_at or 0.0)
        return pending

    async def handle_callback(self, callback: str | Mapping[str, str]) -> StoredToken:
        """Verify ``state`` (single use, not expired), exchange the code, store the token."""
        try:  # a redirect URL is outside input: a bad IPv6 host or a lone surrogate is refused, not raised
            if isinstance(callback, str):
                params = dict(parse_qsl(urlsplit(callback).query))
            elif isinstance(callback, Mapping):
                params = {str(k): v for k, v in callback.items() if isinstance(v, str)}
            else:
                raise TypeError
            params = {k: v for k, v in params.items() if v.encode() is not None}
        except (TypeError, ValueError):  # UnicodeEncodeError is a ValueError
            raise OAuthError("callback must be the redirect URL or its query parameters", connection=self.name) from None
        code, state = params.get("code"), params.get("state")
        register_secret(code)
        register_secret(state)
        hidden = [v for v in (code, state) if v]
        pending = await self._take_pending(state) if state else None
        if params.get("error"):
            error = redact(params["error"][:100], secrets=hidden)
            if pending is None:  # anyone can send an error to the redirect URI: not ours to report
                raise OAuthError(
                    "an error callback with an unknown or already used state was ignored (possible CSRF)",
                    error="invalid_state",
                    connection=self.name,
                )
            detail = params.get("error_description") or error
            raise OAuthError(
                redact(f"authorization refused: {detail[:500]}", secrets=hidden), error=error, connection=self.name
            )
        if not state or pending is None:
            raise OAuthError(
                "unknown or already used state (possible CSRF or replay)",
                error="invalid_state",
                connection=self.name,
            )
        if pending.expires_at <= time.time():
            raise OAuthError(
                "state expired; start the login again", error="expired_state", connection=self.name
            )
        if not code:
            raise OAuthError("callback has no code", error="invalid_request", connection=self.name)
        form = {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": self.config.redirect_uri or "",
        }
        if pending.verifier:
            form["code_verifier"] = pending.verifier
        token = await self._token_request(form, extra_secrets=[state])
        await self.storage.store_token(self.storage_key(pending.user_id), token)
        return token

    # --- tokens --------------------------------------------------------------------------------
    async def get_token(self, user_id: str | None = None, *, force_refresh: bool = False) -> str:
        """A valid access token, refreshed ``refresh_skew`` seconds before expiry.

        Raises ``LoginRequiredError`` when only a new login can help, ``OAuthError`` when the
        token endpoint fails (shared by every concurrent caller: one request, one failure).
        """
        if self.config.flow == "static_token":
            assert self.config.access_token is not None
            return self.config.access_token.get_secret_value()
        key = self.storage_key(user_id)
        token = await self._load(key, user_id)
        if token is not None and token.needs_login:
            raise self._login_required(user_id, "the refresh token was rejected (invalid_grant)")
        if token is not None and not force_refresh and not refresh_due(token, self.refresh_skew):
            return token.access_token.get_secret_value()
        # A forced refresh (after a 401) only replaces the token the caller saw rejected.
        rejected = token.access_token.get_secret_value() if force_refresh and token is not None else None
        return await self._single_flight(key, lambda: self._refresh(key, user_id, force_refresh, rejected))

    async def _single_flight(self, key: str, start: Callable[[], Coroutine[Any, Any, str]]) -> str:
        """Join the refresh in flight for ``key`` or start it; every waiter gets its result or
        its error. A waiter's cancellation does not cancel the others' refresh."""
        loop = asyncio.get_running_loop()
        flight = self._flights.get(key)
        if flight is None or flight.done() or flight.get_loop() is not loop:
            flight = loop.create_task(start())
            self._flights[key] = flight

            def landed(task: asyncio.Task[str]) -> None:
                if self._flights.get(key) is task:
                    del self._flights[key]
                if not task.cancelled():
                    task.exception()  # retrieved, even when every waiter was cancelled

            flight.add_done_callback(landed)
        return await asyncio.shield(flight)

    async def _refresh(self, key: str, user_id: str | None, force_refresh: bool, rejected: str | None) -> str:
        """One refresh (the single flight's body), inside an ``oauth.refresh`` span."""
        return await observed_refresh(
            self.telemetry, self.name, self.config.flow,
            lambda: self._refresh_locked(key, user_id, force_refresh, rejected), lambda: self.token_requests,
        )

    async def _refresh_locked(
        self, key: str, user_id: str | None, force_refresh: bool, rejected: str | None
    ) -> str:
        async with self._distributed_lock(key):
            token = await self._load(key, user_id)  # another task or process may have refreshed
            if token is not None and token.needs_login:
                raise self._login_required(user_id, "the refresh token was rejected (invalid_grant)")
            if (
                token is not None
                and not refresh_due(token, self.refresh_skew)
                and (not force_refresh or token.access_token.get_secret_value() != rejected)
            ):
                return token.access_token.get_secret_value()
            fresh = await self._obtain(key, token, user_id)
            await self.storage.store_token(key, fresh)
            return fresh.access_token.get_secret_value()

    async def _load(self, key: str, user_id: str | None) -> StoredToken | None:
        """The stored token; a record under the pre-encoding key is moved over once."""
        token = await read_token(self.storage, key)
        if token is not None:
            return token
        old = keys.legacy_key(self.name, self.config.client_id, user_id)
        if old is None:
            return None
        token = await read_token(self.storage, old)
        if token is not None:
            await self.storage.store_token(key, token)
            await self.storage.delete_token(old)
            logger.info("oauth %s: moved a token to its encoded key %s", self.name, key)
        return token

    def _login_required(self, user_id: str | None, reason: str) -> LoginRequiredError:
        return LoginRequiredError(connection=self.name, user_id=user_id, reason=reason, cli=self.login_by_cli)

    @contextlib.asynccontextmanager
    async def _distributed_lock(self, key: str, *, purpose: str = "oauth-refresh") -> AsyncIterator[None]:
        """Cross-process single flight when the store offers a lock (Postgres, Redis, file)."""
        storage: Any = self.storage
        resolve = getattr(storage, "resolve", None)
        if resolve is not None:
            storage = await resolve()
        lock = getattr(storage, "lock", None)
        if lock is None:
            yield
            return
        async with lock(f"{purpose}:{key}"):
            yield

    async def _obtain(self, key: str, current: StoredToken | None, user_id: str | None) -> StoredToken:
        flow = self.config.flow
        if flow == "authorization_code":
            if current is None:
                raise self._login_required(user_id, "no token is stored")
            if current.refresh_token is None:
                raise self._login_required(user_id, "the token expired and there is no refresh token")
            refresh = current.refresh_token.get_secret_value()
            try:
                fresh = await self._token_request({"grant_type": "refresh_token", "refresh_token": refresh})
            except OAuthError as exc:
                if exc.error != "invalid_grant":
                    raise
                # Used up by another process meanwhile (no store lock, or one that expired)? Then
                # its token is stored: use it — never overwrite it with a mark of the old one.
                latest = await read_token(self.storage, key)
                if latest is not None and not latest.needs_login and latest.access_token != current.access_token:
                    return latest
                # Dead refresh token: remember it, so no caller (here or elsewhere) tries it again.
                marked = current.model_copy(update={"refresh_token": None, "needs_login": True})
                await self.storage.store_token(key, marked)
                raise self._login_required(
                    user_id, "the server rejected the refresh token (invalid_grant: expired or revoked)"
                ) from None
            # Omitted: the old refresh token stays valid; the scope is the one granted (§5.1).
            kept = {"refresh_token": current.refresh_token, "scope": current.scope}
            return fresh.model_copy(update={k: v for k, v in kept.items() if getattr(fresh, k) is None})
        if flow == "client_credentials":
            # audience: Auth0 and others require it; servers ignore it otherwise
            form = {"grant_type": "client_credentials", "scope": " ".join(self.config.scopes or ()),
                    "audience": self.config.audience or ""}
            return await self._token_request({key: value for key, value in form.items() if value})
        if flow == "jwt_bearer":
            from oneringai.application.oauth.jwt import jwt_bearer_form

            return await self._token_request(await jwt_bearer_form(self.config, self.name))
        raise OAuthError(f"flow {flow} cannot obtain tokens", connection=self.name)

    async def _token_request(self, form: dict[str, str], *, extra_secrets: list[str] | None = None) -> StoredToken:
        extra = self.config.extra_token_params
        secret = self.config.client_secret.get_secret_value() if self.config.client_secret is not None else None
        self.token_requests += 1
        return await request_token(
            await self._client(),
            self.config.token_url or "",
            {**form, **extra},
            client_id=self.config.client_id,
            client_secret=secret,
            extra_secrets=[*extra.values(), *(extra_secrets or [])],
            connection=self.name,
        )

    async def revoke(self, user_id: str | None = None) -> None:
        """Revoke at the server (when it has a revocation endpoint) and delete locally.

        A revocation the server refuses is logged (scrubbed) and the local token deleted anyway.
        """
        key = self.storage_key(user_id)
        token = await read_token(self.storage, key)
        if token is not None and self.config.revocation_url:
            from oneringai.application.oauth.token_endpoint import revoke_at_server

            await revoke_at_server(await self._client(), self.config, token, connection=self.name)
        await self.storage.delete_token(key)

    async def delete(self, user_id: str | None = None) -> None:
        await self.storage.delete_token(self.storage_key(user_id))

    def auth(self, user_id: str | None = None) -> httpx.Auth:
        """An ``httpx.Auth`` adding the bearer token (one retry after a 401)."""
        return OAuthBearerAuth(self, user_id)
