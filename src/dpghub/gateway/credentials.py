"""An app's credentials: what they look like, where callers put them, and when one is valid.

Two kinds. An API key (`dpk_…`) is stored only as its SHA-256 digest. An OAuth token is a
short-lived JWT signed with the hub's Ed25519 key that names the key it was issued for (claim
`key`), so revoking or expiring that key ends the token too. Either kind arrives in the
`X-API-Key` header, data.go.kr's `serviceKey` parameter, or `Authorization: Bearer`.

The proxy, OAuth, the gateway's service and the app actor of the rows API and the
data.go.kr front (registered in `app.register_hooks`) all read credentials here, so a key
means the same everywhere.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import ColumnElement

from ..web.datagokr import service_key
from .models import App, AppKey

KEY_PREFIX = "dpk_"
# the testbed's sandbox keys: named here so the gateway can refuse them by name; they work on
# /sandbox/… only (testbed/service/projects.py makes them)
SANDBOX_KEY_PREFIX = "dsk_"
AUDIENCE = "dpghub-gateway"
KEY_ID = "hub-ed25519"           # the `kid` of the hub's signing key in the JWKS


# --- API keys ------------------------------------------------------------------------------


def new_key() -> str:
    """A fresh API key, shown to its owner once; only its digest is stored."""
    return KEY_PREFIX + secrets.token_urlsafe(32)


def key_digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


class KeyState(StrEnum):
    active = "active"
    revoked = "revoked"
    expired = "expired"


def key_state(revoked_at: datetime | None, expires_at: datetime | None,
              now: datetime) -> KeyState:
    """The one validity rule of a key: not revoked, and not past its expiry."""
    if revoked_at is not None:
        return KeyState.revoked
    if expires_at is not None and expires_at <= now:
        return KeyState.expired
    return KeyState.active


def is_active(revoked_at: datetime | None, expires_at: datetime | None, now: datetime) -> bool:
    return key_state(revoked_at, expires_at, now) is KeyState.active


# --- OAuth tokens --------------------------------------------------------------------------


@dataclass(frozen=True)
class TokenClaims:
    app_id: int
    key_id: int      # the API key it was issued for: revoking that key ends the token
    org: str
    expires: int     # epoch seconds


class TokenRefused(Exception):
    """Not a token of this hub: forged, damaged, for another audience, or lacking a claim."""


class TokenExpired(TokenRefused):
    """A token of this hub whose time is over."""


def looks_like_jwt(credential: str) -> bool:
    return credential.count(".") == 2 and credential.startswith("eyJ")


def sign_token(claims: dict[str, Any], signing_key: Ed25519PrivateKey) -> str:
    return jwt.encode(claims, signing_key, algorithm="EdDSA", headers={"kid": KEY_ID})


def read_token(token: str, signing_key: Ed25519PrivateKey) -> TokenClaims:
    """The claims of a valid token; TokenExpired or TokenRefused otherwise."""
    try:
        claims = jwt.decode(token, signing_key.public_key(), algorithms=["EdDSA"],
                            audience=AUDIENCE, options={"require": ["exp", "sub", "app", "key"]})
    except jwt.ExpiredSignatureError:
        raise TokenExpired() from None
    except jwt.InvalidTokenError as exc:
        raise TokenRefused(str(exc)) from None
    return TokenClaims(app_id=int(claims["app"]), key_id=int(claims["key"]),
                       org=str(claims.get("org", "")), expires=int(claims["exp"]))


# --- either kind ---------------------------------------------------------------------------


def is_app_credential(credential: str | None) -> bool:
    """Whether a credential is an app's (a key or a token), not a person's API token."""
    return bool(credential) and (str(credential).startswith(KEY_PREFIX)
                                 or looks_like_jwt(str(credential)))


@dataclass(frozen=True)
class KeyMatch:
    """Which key row a credential names (conditions over AppKey and App), and, for a token,
    when it ends (epoch seconds)."""

    where: tuple[ColumnElement[bool], ...]
    token_expires: float | None = None


def key_match(credential: str, signing_key: Ed25519PrivateKey) -> KeyMatch:
    """The key a credential names: a key by its digest, a token by its claims (checked
    here: TokenExpired or TokenRefused). Whether that key is still valid is `key_state`'s."""
    if looks_like_jwt(credential):
        claims = read_token(credential, signing_key)
        return KeyMatch((AppKey.id == claims.key_id, App.id == claims.app_id),
                        float(claims.expires))
    return KeyMatch((AppKey.digest == key_digest(credential),))


def presented(headers: Mapping[str, str], params: list[tuple[str, str]]) -> str | None:
    """The caller's credential, wherever data.go.kr, API-manager or OAuth clients put it:
    `X-API-Key`, then `serviceKey`, then a bearer token. `headers` has lower-case names."""
    key = headers.get("x-api-key")
    if key:
        return key.strip()
    for name, value in params:
        if name.lower() == "servicekey" and value:
            return service_key(value)
    scheme, _, value = headers.get("authorization", "").partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    return None


def presented_in(headers: Mapping[str, str], params: list[tuple[str, str]]) -> str | None:
    """`presented`, for headers whose names may have any case."""
    return presented({k.lower(): v for k, v in headers.items()}, params)
