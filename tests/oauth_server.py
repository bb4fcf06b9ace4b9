"""A real OAuth 2.0 authorization server (Authlib) for tests, run on 127.0.0.1 in a thread.

Grants: authorization code with PKCE (required), client credentials, refresh token
(no new refresh token in responses, as many providers do), JWT bearer (RFC 7523,
RS256 assertions verified against the client's public key), plus revocation.
"""

from __future__ import annotations

import os
import secrets
import threading
import time
from dataclasses import dataclass, field
from typing import Any

os.environ.setdefault("AUTHLIB_INSECURE_TRANSPORT", "1")
import logging

logging.getLogger("werkzeug").setLevel(logging.ERROR)

from authlib.integrations.flask_oauth2 import AuthorizationServer  # noqa: E402
from authlib.oauth2.rfc6749 import ClientMixin, grants  # noqa: E402
from authlib.oauth2.rfc7523 import JWTBearerGrant  # noqa: E402
from authlib.oauth2.rfc7636 import CodeChallenge  # noqa: E402
from cryptography.hazmat.primitives import serialization  # noqa: E402
from cryptography.hazmat.primitives.asymmetric import rsa  # noqa: E402
from flask import Flask, request  # noqa: E402
from werkzeug.serving import make_server  # noqa: E402


@dataclass
class Client(ClientMixin):
    client_id: str
    client_secret: str
    redirect_uri: str
    grant_types: list[str]
    public_key_pem: str | None = None
    scope: str = "read write"

    def get_client_id(self) -> str:
        return self.client_id

    def get_default_redirect_uri(self) -> str:
        return self.redirect_uri

    def get_allowed_scope(self, scope: str) -> str:
        allowed = set(self.scope.split())
        return " ".join(s for s in (scope or "").split() if s in allowed)

    def check_redirect_uri(self, redirect_uri: str) -> bool:
        return redirect_uri == self.redirect_uri

    def check_client_secret(self, client_secret: str) -> bool:
        return secrets.compare_digest(client_secret, self.client_secret)

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        return method in ("client_secret_basic", "client_secret_post", "none")

    def check_response_type(self, response_type: str) -> bool:
        return response_type == "code"

    def check_grant_type(self, grant_type: str) -> bool:
        return grant_type in self.grant_types


@dataclass
class AuthCode:
    code: str
    client_id: str
    redirect_uri: str
    scope: str
    user: str
    code_challenge: str | None
    code_challenge_method: str | None
    auth_time: float = field(default_factory=time.time)

    def get_redirect_uri(self) -> str:
        return self.redirect_uri

    def get_scope(self) -> str:
        return self.scope

    def get_nonce(self) -> None:
        return None

    def get_auth_time(self) -> float:
        return self.auth_time

    def get_acr(self) -> None:
        return None

    def get_amr(self) -> None:
        return None


@dataclass
class Token:
    client_id: str
    user: str | None
    access_token: str
    refresh_token: str | None
    scope: str
    expires_in: int
    issued_at: float = field(default_factory=time.time)
    revoked: bool = False

    def check_client(self, client: Client) -> bool:
        return client.client_id == self.client_id

    def get_scope(self) -> str:
        return self.scope

    def get_expires_in(self) -> int:
        return self.expires_in

    def is_expired(self) -> bool:
        return time.time() > self.issued_at + self.expires_in

    def is_revoked(self) -> bool:
        return self.revoked

    def get_user(self) -> str | None:
        return self.user

    def get_client(self) -> Any:
        return None


class OAuthTestServer:
    def __init__(self, token_lifetime: int = 3600) -> None:
        self.token_lifetime = token_lifetime  # expires_in of every grant (a soak uses a few seconds)
        self.private_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.private_key_pem = self.private_key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        ).decode()
        public_pem = self.private_key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        ).decode()
        self.clients: dict[str, Client] = {}
        self.codes: dict[str, AuthCode] = {}
        self.tokens: list[Token] = []
        self.token_requests: dict[str, int] = {}
        self.token_forms: list[dict[str, str]] = []  # every token request's form, in order
        self.lock = threading.Lock()
        self.app = Flask("oauth-test-server")
        self.server = make_server("127.0.0.1", 0, self.app, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.redirect_uri = "http://127.0.0.1:8765/callback"
        self.add_client(Client("web", "web-secret", self.redirect_uri, ["authorization_code", "refresh_token"]))
        self.add_client(Client("svc", "svc-secret", self.redirect_uri, ["client_credentials"]))
        self.add_client(Client("jwt-client", "unused", self.redirect_uri,
                               ["urn:ietf:params:oauth:grant-type:jwt-bearer"], public_key_pem=public_pem))
        self._setup()
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def add_client(self, client: Client) -> None:
        self.clients[client.client_id] = client

    def start(self) -> OAuthTestServer:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()

    def _save_token(self, token: dict[str, Any], req: Any) -> None:
        with self.lock:
            self.tokens.append(Token(
                client_id=req.client.client_id, user=req.user, access_token=token["access_token"],
                refresh_token=token.get("refresh_token"), scope=token.get("scope", ""),
                expires_in=int(token.get("expires_in", 0)),
            ))

    def _setup(self) -> None:
        outer = self
        self.app.config["OAUTH2_REFRESH_TOKEN_GENERATOR"] = True
        lifetime = self.token_lifetime
        self.app.config["OAUTH2_TOKEN_EXPIRES_IN"] = {
            "authorization_code": lifetime, "client_credentials": lifetime, "refresh_token": lifetime,
            "urn:ietf:params:oauth:grant-type:jwt-bearer": lifetime,
        }
        server = AuthorizationServer(self.app, query_client=self.clients.get, save_token=self._save_token)

        class CodeGrant(grants.AuthorizationCodeGrant):
            TOKEN_ENDPOINT_AUTH_METHODS = ["client_secret_basic", "client_secret_post", "none"]

            def save_authorization_code(self, code: str, req: Any) -> None:
                outer.codes[code] = AuthCode(
                    code=code, client_id=req.client.client_id, redirect_uri=req.payload.redirect_uri,
                    scope=req.payload.scope or "", user=req.user,
                    code_challenge=req.payload.data.get("code_challenge"),
                    code_challenge_method=req.payload.data.get("code_challenge_method"),
                )

            def query_authorization_code(self, code: str, client: Any) -> AuthCode | None:
                found = outer.codes.get(code)
                return found if found and found.client_id == client.client_id else None

            def delete_authorization_code(self, authorization_code: AuthCode) -> None:
                outer.codes.pop(authorization_code.code, None)

            def authenticate_user(self, authorization_code: AuthCode) -> str:
                return authorization_code.user

        class RefreshGrant(grants.RefreshTokenGrant):
            def authenticate_refresh_token(self, refresh_token: str) -> Token | None:
                for token in outer.tokens:
                    if token.refresh_token == refresh_token and not token.revoked:
                        return token
                return None

            def authenticate_user(self, credential: Token) -> str | None:
                return credential.user

            def revoke_old_credential(self, credential: Token) -> None:
                pass  # the refresh token stays valid; new responses carry none

        class JwtGrant(JWTBearerGrant):
            def resolve_issuer_client(self, issuer: str) -> Client | None:
                return outer.clients.get(issuer)

            def resolve_client_public_key(self, client: Client) -> Any:
                from joserfc.jwk import RSAKey

                return RSAKey.import_key(client.public_key_pem)

            def authenticate_user(self, subject: str) -> str:
                return subject

            def has_granted_permission(self, client: Client, user: str) -> bool:
                return True

            def get_audiences(self) -> list[str]:
                return [f"{outer.url}/token"]

        server.register_grant(CodeGrant, [CodeChallenge(required=True)])
        server.register_grant(grants.ClientCredentialsGrant)
        server.register_grant(RefreshGrant)
        server.register_grant(JwtGrant)

        @self.app.route("/authorize")
        def authorize() -> Any:
            user = request.args.get("login_hint", "alice")
            if request.args.get("deny"):
                return server.create_authorization_response(grant_user=None)
            return server.create_authorization_response(grant_user=user)

        @self.app.route("/token", methods=["POST"])
        def token() -> Any:
            client = request.authorization.username if request.authorization else request.form.get("client_id", "?")
            with outer.lock:
                outer.token_requests[client or "?"] = outer.token_requests.get(client or "?", 0) + 1
                outer.token_forms.append(dict(request.form))
            if request.form.get("grant_type") == "urn:ietf:params:oauth:grant-type:jwt-bearer":
                with outer.lock:
                    outer.token_requests["jwt-client"] = outer.token_requests.get("jwt-client", 0) + 1
            return server.create_token_response()

        @self.app.route("/revoke", methods=["POST"])
        def revoke() -> Any:
            value = request.form.get("token")
            for item in outer.tokens:
                if value in (item.access_token, item.refresh_token):
                    item.revoked = True
            return "", 200

        @self.app.route("/api/me")
        def me() -> Any:
            header = request.headers.get("authorization", "")
            value = header.removeprefix("Bearer ")
            for item in outer.tokens:
                if item.access_token == value and not item.revoked and not item.is_expired():
                    return {"user": item.user, "client": item.client_id}
            return {"error": "invalid_token"}, 401
