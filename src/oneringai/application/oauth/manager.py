"""OAuth 2.0 for one connection: authorization code + PKCE, client credentials, JWT bearer,
static tokens; tokens kept in an ``IOAuthTokenStorage``; refresh is single-flight.

Keys are ``<connection>:<client_id>`` or ``<connection>:<client_id>:<user_id>``.
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
import weakref
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Generator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

import httpx

from oneringai.domain.errors import OAuthError
from oneringai.domain.interfaces import IOAuthTokenStorage
from oneringai.domain.tokens import StoredToken

__all__ = ["OAuthBearerAuth", "OAuthManager"]

JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer"


@dataclass
class _PendingState:
    user_id: str | None
    verifier: str | None
    expires_at: float
    persisted: bool = False  # also kept in the token store, which is then authoritative


def _pkce_pair() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(64)[:96]
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    return verifier, challenge


class OAuthManager:
    """Usable alone (as in the guide) or from ``client.oauth(name)``."""

    def __init__(
        self,
        config: Any,
        *,
        storage: IOAuthTokenStorage,
        name: str | None = None,
        http_client: httpx.AsyncClient | Callable[[], Any] | None = None,
        refresh_skew: float = 300.0,
        state_ttl: float = 600.0,
    ) -> None:
        from oneringai.application.oauth.config import OAuthConnectionSettings

        self.config: OAuthConnectionSettings = (
            config
            if isinstance(config, OAuthConnectionSettings)
            else OAuthConnectionSettings.model_validate(dict(config))
        )
        self.name = name or "oauth"
        self.storage = storage
        self.refresh_skew = refresh_skew
        self.state_ttl = state_ttl
        self._http = http_client
        self._owned_http: httpx.AsyncClient | None = None
        self._pending: dict[str, _PendingState] = {}
        self._locks: weakref.WeakValueDictionary[str, asyncio.Lock] = weakref.WeakValueDictionary()
        self.token_requests = 0  # how many times the token endpoint was called
        self._validate()

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
        base = f"{self.name}:{self.config.client_id}"
        return f"{base}:{user_id}" if user_id else base

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
        now = time.time()
        self._pending = {s: p for s, p in self._pending.items() if p.expires_at > now}
        state = secrets.token_urlsafe(32)
        params: dict[str, str] = {
            "response_type": "code",
            "client_id": self.config.client_id,
            "redirect_uri": self.config.redirect_uri or "",
            "state": state,
        }
        scope_list = scopes if scopes is not None else self.config.scopes
        if scope_list:
            params["scope"] = " ".join(scope_list)
        verifier = None
        if self.config.use_pkce:
            verifier, challenge = _pkce_pair()
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
        return f"{self.name}:oauth-state:{hashlib.sha256(state.encode()).hexdigest()}"

    async def _take_pending(self, state: str) -> _PendingState | None:
        """Single use: the state is removed wherever it was kept."""
        pending = self._pending.pop(state, None)
        key = self._state_key(state)
        stored = await self.storage.get_token(key)
        if stored is None:
            # persisted but gone from the store: another replica consumed it (or it expired)
            return None if pending is not None and pending.persisted else pending
        await self.storage.delete_token(key)
        if pending is None:
            data = json.loads(stored.access_token.get_secret_value())
            pending = _PendingState(data.get("user_id"), data.get("verifier"), stored.expires_at or 0.0)
        return pending

    async def handle_callback(self, callback: str | Mapping[str, str]) -> StoredToken:
        """Verify ``state`` (single use, not expired), exchange the code, store the token."""
        params = dict(parse_qsl(urlsplit(callback).query)) if isinstance(callback, str) else dict(callback)
        state = params.get("state")
        pending = await self._take_pending(state) if state else None
        if params.get("error"):
            raise OAuthError(
                f"authorization refused: {params.get('error_description') or params['error']}",
                error=params["error"],
                connection=self.name,
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
        code = params.get("code")
        if not code:
            raise OAuthError("callback has no code", error="invalid_request", connection=self.name)
        form = {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": self.config.redirect_uri or "",
        }
        if pending.verifier:
            form["code_verifier"] = pending.verifier
        token = await self._token_request(form)
        await self.storage.store_token(self.storage_key(pending.user_id), token)
        return token

    # --- tokens --------------------------------------------------------------------------------
    async def get_token(self, user_id: str | None = None, *, force_refresh: bool = False) -> str:
        """A valid access token, refreshed ``refresh_skew`` seconds before expiry."""
        if self.config.flow == "static_token":
            assert self.config.access_token is not None
            return self.config.access_token.get_secret_value()
        key = self.storage_key(user_id)
        token = await self.storage.get_token(key)
        if token is not None and not force_refresh and not token.is_expired(self.refresh_skew):
            return token.access_token.get_secret_value()
        # A forced refresh (after a 401) only replaces the token the caller saw rejected.
        rejected = token.access_token.get_secret_value() if force_refresh and token is not None else None
        lock = self._locks.get(key)
        if lock is None:  # weak: a user's lock lives only while someone waits on it
            lock = self._locks[key] = asyncio.Lock()
        async with lock, self._distributed_lock(key):
            token = await self.storage.get_token(key)  # another task or process may have refreshed
            if (
                token is not None
                and not token.is_expired(self.refresh_skew)
                and (not force_refresh or token.access_token.get_secret_value() != rejected)
            ):
                return token.access_token.get_secret_value()
            fresh = await self._obtain(key, token)
            await self.storage.store_token(key, fresh)
            return fresh.access_token.get_secret_value()

    @contextlib.asynccontextmanager
    async def _distributed_lock(self, key: str) -> AsyncIterator[None]:
        """Cross-process single flight when the store offers a lock (Postgres, Redis)."""
        storage: Any = self.storage
        resolve = getattr(storage, "resolve", None)
        if resolve is not None:
            storage = await resolve()
        lock = getattr(storage, "lock", None)
        if lock is None:
            yield
            return
        async with lock(f"oauth-refresh:{key}"):
            yield

    async def _obtain(self, key: str, current: StoredToken | None) -> StoredToken:
        flow = self.config.flow
        if flow == "authorization_code":
            if current is None or current.refresh_token is None:
                raise OAuthError(
                    f"no usable token for {key!r}: run `oneringai oauth login {self.name}`",
                    error="login_required",
                    connection=self.name,
                )
            form = {"grant_type": "refresh_token", "refresh_token": current.refresh_token.get_secret_value()}
            fresh = await self._token_request(form)
            if fresh.refresh_token is None:  # the server kept the old refresh token valid
                fresh = fresh.model_copy(update={"refresh_token": current.refresh_token})
            return fresh
        if flow == "client_credentials":
            form = {"grant_type": "client_credentials"}
            if self.config.scopes:
                form["scope"] = " ".join(self.config.scopes)
            return await self._token_request(form)
        if flow == "jwt_bearer":
            from oneringai.application.oauth.jwt import sign_rs256_assertion

            if self.config.private_key is not None:
                pem = self.config.private_key.get_secret_value()
            else:
                pem = await asyncio.to_thread(Path(self.config.private_key_file or "").read_text)
            assertion = sign_rs256_assertion(
                pem,
                issuer=self.config.issuer or self.config.client_id,
                subject=self.config.subject or self.config.client_id,
                audience=self.config.audience or self.config.token_url or "",
                key_id=self.config.key_id,
            )
            form = {"grant_type": JWT_BEARER, "assertion": assertion}
            if self.config.scopes:
                form["scope"] = " ".join(self.config.scopes)
            return await self._token_request(form)
        raise OAuthError(f"flow {flow} cannot obtain tokens", connection=self.name)

    async def _token_request(self, form: dict[str, str]) -> StoredToken:
        form = {**form, **self.config.extra_token_params}
        auth: httpx.Auth | httpx._client.UseClientDefault = httpx.USE_CLIENT_DEFAULT
        if self.config.client_secret is not None:
            auth = httpx.BasicAuth(self.config.client_id, self.config.client_secret.get_secret_value())
        else:
            form["client_id"] = self.config.client_id
        client = await self._client()
        self.token_requests += 1
        try:
            response = await client.post(
                self.config.token_url or "", data=form, auth=auth, headers={"accept": "application/json"}
            )
        except httpx.HTTPError as exc:
            raise OAuthError(
                f"token endpoint {self.config.token_url} unreachable: {type(exc).__name__}",
                connection=self.name,
            ) from exc
        try:
            payload = response.json()
        except ValueError:
            payload = dict(parse_qsl(response.text)) if "=" in response.text else {}
        if response.status_code >= 400 or "access_token" not in payload:
            error = payload.get("error") if isinstance(payload, dict) else None
            description = payload.get("error_description") if isinstance(payload, dict) else None
            raise OAuthError(
                f"token request failed: {description or error or 'no access_token in response'}",
                error=error,
                status_code=response.status_code,
                connection=self.name,
            )
        try:
            return StoredToken.from_token_response(payload)
        except ValueError as exc:
            raise OAuthError("token response is malformed", connection=self.name) from exc

    async def revoke(self, user_id: str | None = None) -> None:
        """Revoke at the server (when it has a revocation endpoint) and delete locally."""
        key = self.storage_key(user_id)
        token = await self.storage.get_token(key)
        if token is not None and self.config.revocation_url:
            client = await self._client()
            auth: httpx.Auth | httpx._client.UseClientDefault = httpx.USE_CLIENT_DEFAULT
            if self.config.client_secret is not None:
                auth = httpx.BasicAuth(self.config.client_id, self.config.client_secret.get_secret_value())
            for value, hint in ((token.refresh_token, "refresh_token"), (token.access_token, "access_token")):
                if value is not None:
                    with contextlib.suppress(httpx.HTTPError):
                        await client.post(
                            self.config.revocation_url,
                            data={"token": value.get_secret_value(), "token_type_hint": hint},
                            auth=auth,
                        )
        await self.storage.delete_token(key)

    async def delete(self, user_id: str | None = None) -> None:
        await self.storage.delete_token(self.storage_key(user_id))

    def auth(self, user_id: str | None = None) -> OAuthBearerAuth:
        """An ``httpx.Auth`` adding the bearer token (one retry after a 401)."""
        return OAuthBearerAuth(self, user_id)


class OAuthBearerAuth(httpx.Auth):
    def __init__(self, manager: OAuthManager, user_id: str | None = None) -> None:
        self.manager = manager
        self.user_id = user_id

    def sync_auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        raise RuntimeError("OAuthBearerAuth needs an httpx.AsyncClient")

    async def async_auth_flow(self, request: httpx.Request) -> AsyncGenerator[httpx.Request, httpx.Response]:
        token = await self.manager.get_token(self.user_id)
        request.headers["authorization"] = f"Bearer {token}"
        response = yield request
        if response.status_code == 401 and self.manager.config.flow != "static_token":
            token = await self.manager.get_token(self.user_id, force_refresh=True)
            request.headers["authorization"] = f"Bearer {token}"
            yield request
