"""RS256 JWT assertions (RFC 7523) signed with ``cryptography`` — no JWT library needed."""

from __future__ import annotations

import base64
import json
import time
import uuid
from typing import Any

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from oneringai.domain.errors import OAuthError

__all__ = ["sign_rs256_assertion"]


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def sign_rs256_assertion(
    private_key_pem: str,
    *,
    issuer: str,
    subject: str,
    audience: str,
    key_id: str | None = None,
    lifetime: int = 300,
    extra_claims: dict[str, Any] | None = None,
) -> str:
    try:
        key = serialization.load_pem_private_key(private_key_pem.encode(), password=None)
    except (ValueError, TypeError) as exc:
        raise OAuthError("private_key is not an unencrypted PEM RSA key") from exc
    if not isinstance(key, rsa.RSAPrivateKey):
        raise OAuthError("jwt_bearer needs an RSA private key (RS256)")
    now = int(time.time())
    header: dict[str, Any] = {"alg": "RS256", "typ": "JWT"}
    if key_id:
        header["kid"] = key_id
    claims = {
        "iss": issuer,
        "sub": subject,
        "aud": audience,
        "iat": now,
        "exp": now + lifetime,
        "jti": uuid.uuid4().hex,
        **(extra_claims or {}),
    }
    signing_input = f"{_b64(json.dumps(header, separators=(',', ':')).encode())}.{_b64(json.dumps(claims, separators=(',', ':')).encode())}"
    signature = key.sign(signing_input.encode(), padding.PKCS1v15(), hashes.SHA256())
    return f"{signing_input}.{_b64(signature)}"
