"""RS256 JWT assertions (RFC 7523) signed with ``cryptography`` — no JWT library needed."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import stat
import time
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from oneringai.domain.errors import OAuthError

if TYPE_CHECKING:
    from oneringai.application.oauth.config import OAuthConnectionSettings

__all__ = ["jwt_bearer_form", "sign_rs256_assertion"]

JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer"


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
    except (ValueError, TypeError):
        raise OAuthError("private_key is not an unencrypted PEM RSA key") from None
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


async def jwt_bearer_form(config: OAuthConnectionSettings, name: str) -> dict[str, str]:
    """The RFC 7523 token request form: a fresh signed assertion (a secret, registered)."""
    if config.private_key is not None:
        pem = config.private_key.get_secret_value()
    else:
        path = config.private_key_file or ""
        try:
            pem = await asyncio.to_thread(_read_key_file, path)
        except (OSError, UnicodeDecodeError, ValueError) as exc:
            reason = exc.strerror if isinstance(exc, OSError) else (
                "not a text PEM file" if isinstance(exc, UnicodeDecodeError) else str(exc)
            )
            raise OAuthError(
                f"cannot read the private key file {path}: {reason} (oauth.connections.{name}.private_key_file)",
                connection=name,
            ) from None
    assertion = sign_rs256_assertion(
        pem,
        issuer=config.issuer or config.client_id,
        subject=config.subject or config.client_id,
        audience=config.audience or config.token_url or "",
        key_id=config.key_id,
    )
    # Not registered globally (a JWT is caught by the credential shapes, and long values make the
    # registry's pattern costly): the request scrubs it from its own errors explicitly.
    form = {"grant_type": JWT_BEARER, "assertion": assertion}
    if config.scopes:
        form["scope"] = " ".join(config.scopes)
    return form


#: A PEM private key is a few KiB; a larger file (or /dev/zero) is not one and is not read on.
_MAX_KEY_FILE_BYTES = 256 * 1024


def _read_key_file(path: str) -> str:
    # O_NONBLOCK: opening a FIFO for reading would otherwise wait for a writer forever
    fd = os.open(Path(path).expanduser(), os.O_RDONLY | os.O_NONBLOCK)
    with os.fdopen(fd, "rb") as handle:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise ValueError("not a regular file")
        os.set_blocking(fd, True)
        data = handle.read(_MAX_KEY_FILE_BYTES + 1)
    if len(data) > _MAX_KEY_FILE_BYTES:
        raise ValueError(f"larger than {_MAX_KEY_FILE_BYTES} bytes, not a PEM key")
    return data.decode("utf-8")
