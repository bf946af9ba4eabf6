"""A signed report is checked unchanged with the hub's public key; any change is refused."""

from __future__ import annotations

import copy

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from dpghub.core.errors import Invalid
from dpghub.testbed.contract import sign, verify
from dpghub.testbed.contract.signing import canonical

REPORT = {"service": "nts/business-status", "passed": False, "counts": {"failures": 2},
          "failures": [{"operation": "POST /status", "message": "상태 코드 206은 계약에 없음"}]}


def test_a_signed_report_verifies_with_the_public_key() -> None:
    key = Ed25519PrivateKey.generate()
    envelope = sign(REPORT, key, "hub-2025")
    assert envelope["report"] == REPORT
    assert envelope["signature"]["alg"] == "Ed25519"
    assert envelope["signature"]["kid"] == "hub-2025"
    assert "=" not in envelope["signature"]["value"]
    verify(envelope, key.public_key())


def test_canonical_json_does_not_depend_on_key_order() -> None:
    reordered = dict(reversed(list(REPORT.items())))
    assert canonical(reordered) == canonical(REPORT)
    assert canonical(REPORT).decode("utf-8").startswith('{"counts":{"failures":2},"failures"')
    assert "상태 코드" in canonical(REPORT).decode("utf-8")


def flip(value: str) -> str:
    """The signature with one of its first bytes changed (the last characters hold padding)."""
    return value[:10] + ("B" if value[10] != "B" else "C") + value[11:]


@pytest.mark.parametrize("tamper", [
    lambda e: e["report"].__setitem__("passed", True),
    lambda e: e["report"]["failures"].pop(),
    lambda e: e["report"]["counts"].__setitem__("failures", 0),
    lambda e: e["signature"].__setitem__("value", flip(e["signature"]["value"])),
    lambda e: e["signature"].__setitem__("value", e["signature"]["value"][:-1] + "B"),
    lambda e: e["signature"].__setitem__("value", "not base64 !"),
    lambda e: e["signature"].__setitem__("alg", "none"),
    lambda e: e.pop("signature"),
])
def test_any_change_is_refused(tamper) -> None:  # type: ignore[no-untyped-def]
    key = Ed25519PrivateKey.generate()
    envelope = copy.deepcopy(sign(REPORT, key, "hub"))
    tamper(envelope)
    with pytest.raises(Invalid) as caught:
        verify(envelope, key.public_key())
    assert caught.value.code == "report_signature_invalid"


def test_another_hubs_key_is_refused() -> None:
    envelope = sign(REPORT, Ed25519PrivateKey.generate(), "hub")
    with pytest.raises(Invalid) as caught:
        verify(envelope, Ed25519PrivateKey.generate().public_key())
    assert caught.value.code == "report_signature_invalid"
