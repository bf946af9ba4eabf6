"""Reports the hub vouches for: an Ed25519 signature over the report's canonical JSON, so a
report handed to a reviewer (or attached to a production request) can be checked unchanged.

Canonical JSON: keys sorted, no whitespace, UTF-8, non-ASCII kept as is — the same bytes
for the same report in any language that follows these rules.
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from ...core.errors import Invalid

ALG = "Ed25519"


def canonical(report: dict[str, Any]) -> bytes:
    return json.dumps(report, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                      allow_nan=False).encode("utf-8")


def sign(report: dict[str, Any], private_key: Ed25519PrivateKey, key_id: str) -> dict[str, Any]:
    """The envelope {"report": …, "signature": {"alg", "kid", "value"}} (value: base64url)."""
    value = base64.urlsafe_b64encode(private_key.sign(canonical(report))).decode().rstrip("=")
    return {"report": report, "signature": {"alg": ALG, "kid": key_id, "value": value}}


def _refused(reason: str) -> Invalid:
    return Invalid("The report's signature is not valid: {reason}",
                   code="report_signature_invalid", field="signature", reason=reason)


def verify(envelope: dict[str, Any], public_key: Ed25519PublicKey | Ed25519PrivateKey) -> None:
    """Return if the report is exactly what was signed by `public_key`; raise Invalid if not."""
    if isinstance(public_key, Ed25519PrivateKey):
        public_key = public_key.public_key()
    if not isinstance(envelope, dict) or not isinstance(envelope.get("report"), dict):
        raise _refused("no report")
    signature = envelope.get("signature")
    if not isinstance(signature, dict) or signature.get("alg") != ALG:
        raise _refused("not an Ed25519 signature")
    value = signature.get("value")
    try:
        raw = base64.urlsafe_b64decode(str(value) + "=" * (-len(str(value)) % 4))
    except (binascii.Error, ValueError):
        raise _refused("the signature is not base64url") from None
    if base64.urlsafe_b64encode(raw).decode().rstrip("=") != value:
        raise _refused("the signature is not in canonical base64url")
    try:
        public_key.verify(raw, canonical(envelope["report"]))
    except (InvalidSignature, ValueError, TypeError):
        raise _refused("the report was changed after it was signed, or another key signed "
                       "it") from None
