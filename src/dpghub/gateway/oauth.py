"""OAuth2 client credentials for apps: short-lived JWTs signed with the hub's Ed25519 key.

The client id is the app's (`app-<id>`); its secret is any active API key of that app, so
rotating or revoking keys governs tokens too: a token names the key it was issued for
(claim `key`), and a token whose key was revoked or has expired is refused from the next
call on, like the key itself (the gateway's cached look-ups are dropped when a key is
revoked). Tokens live at most `TOKEN_MINUTES`. The key set is published at
`/.well-known/jwks.json` for anyone who wants to check a token's signature themselves.
"""

from __future__ import annotations

import base64
import secrets
from datetime import UTC, datetime, timedelta
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import select
from sqlalchemy.orm import Session

from ..core import audit
from ..core.security import public_key_bytes
from .credentials import AUDIENCE, KEY_ID, is_active, key_digest, sign_token
from .models import App, AppKey

TOKEN_MINUTES = 10


class OAuthError(Exception):
    def __init__(self, error: str, description: str, status: int = 400) -> None:
        super().__init__(description)
        self.error = error
        self.description = description
        self.status = status


def client_id(app_id: int) -> str:
    return f"app-{app_id}"


def issue(session: Session, *, signing_key: Ed25519PrivateKey, issuer: str, client: str,
          secret: str, now: datetime | None = None) -> dict[str, Any]:
    """The token answer of RFC 6749 §4.4, or OAuthError (invalid_client) when the pair is
    wrong, the app unknown, or the key revoked or expired."""
    now = now or datetime.now(UTC)
    if not client.startswith("app-") or not client[4:].isdigit():
        raise OAuthError("invalid_client", "unknown client_id", 401)
    row = session.execute(
        select(AppKey, App).join(App, App.id == AppKey.app_id)
        .where(AppKey.digest == key_digest(secret), App.id == int(client[4:]))).first()
    if row is None:
        raise OAuthError("invalid_client", "client authentication failed", 401)
    key, app = row
    if not is_active(key.revoked_at, key.expires_at, now):
        raise OAuthError("invalid_client", "the client secret was revoked or has expired", 401)
    exp = now + timedelta(minutes=TOKEN_MINUTES)
    claims = {"iss": issuer, "aud": AUDIENCE, "sub": client, "app": app.id, "key": key.id,
              "org": app.organization.slug, "iat": int(now.timestamp()),
              "exp": int(exp.timestamp()), "jti": secrets.token_hex(8)}
    token = sign_token(claims, signing_key)
    audit.record(session, actor=f"app:{app.organization.slug}/{app.id}",
                 action="gateway.token.issue", target_type="app", target_id=app.id,
                 org_id=app.org_id, details={"jti": claims["jti"], "key_prefix": key.prefix,
                                             "expires_at": exp.isoformat()})
    return {"access_token": token, "token_type": "Bearer", "expires_in": TOKEN_MINUTES * 60}


def jwks(signing_key: Ed25519PrivateKey) -> dict[str, Any]:
    x = base64.urlsafe_b64encode(public_key_bytes(signing_key)).decode().rstrip("=")
    return {"keys": [{"kty": "OKP", "crv": "Ed25519", "x": x, "use": "sig", "alg": "EdDSA",
                      "kid": KEY_ID}]}
