"""Password hashing, secret tokens and the hub's Ed25519 signing key.

Secrets are never stored: passwords as argon2 hashes, tokens as SHA-256 digests (tokens are
long random strings, so a fast hash is enough and lets a lookup use an index).
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

_hasher = PasswordHasher()
# A hash to verify against when the account does not exist, so timing does not reveal it.
_DUMMY_HASH = _hasher.hash("not-a-real-password")

TOKEN_PREFIX = "dpg_"
SIGNING_KEY_FILE = "keys/hub_ed25519.pem"


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def generate_password() -> str:
    """A password a person can type: 4 groups of 4 characters without look-alikes."""
    alphabet = "abcdefghjkmnpqrstuvwxyz23456789"
    return "-".join("".join(secrets.choice(alphabet) for _ in range(4)) for _ in range(4))


def new_token(prefix: str = TOKEN_PREFIX) -> str:
    return prefix + secrets.token_urlsafe(32)


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def sign(secret: bytes, value: str) -> str:
    return hmac.new(secret, value.encode(), hashlib.sha256).hexdigest()


def same(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode(), b.encode())


def load_signing_key(home: Path) -> Ed25519PrivateKey:
    """The hub's Ed25519 key, created (mode 600) on first use."""
    path = home / SIGNING_KEY_FILE
    if path.exists():
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
        if not isinstance(key, Ed25519PrivateKey):
            raise RuntimeError(f"{path} is not an Ed25519 private key")
        return key
    path.parent.mkdir(parents=True, exist_ok=True)
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(pem)
    return key


def public_key_bytes(key: Ed25519PrivateKey | Ed25519PublicKey) -> bytes:
    public = key.public_key() if isinstance(key, Ed25519PrivateKey) else key
    return public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


# --- keys derived from the hub's secret ----------------------------------------------------


def derived_key(secret: bytes, purpose: str) -> bytes:
    """A 32-byte key for one purpose (a pseudonymisation key of an organization, the sealing
    key of linkage salts), derived from the hub's secret so that no key is stored anywhere."""
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None,
                info=b"dpghub:" + purpose.encode()).derive(secret)


def seal(secret: bytes, purpose: str, data: bytes) -> bytes:
    """`data` encrypted and authenticated (AES-256-GCM) with a key derived for `purpose`."""
    nonce = secrets.token_bytes(12)
    return nonce + AESGCM(derived_key(secret, purpose)).encrypt(nonce, data, purpose.encode())


def unseal(secret: bytes, purpose: str, sealed: bytes) -> bytes:
    return AESGCM(derived_key(secret, purpose)).decrypt(sealed[:12], sealed[12:],
                                                        purpose.encode())
