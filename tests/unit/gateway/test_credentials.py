"""Where a caller's credential is found, and the one validity rule of a key."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from urllib.parse import quote

from dpghub.gateway.credentials import KeyState, is_app_credential, key_state, presented_in

KEY = "dpk_abc-DEF_123"


def test_header_then_service_key_then_bearer() -> None:
    both = presented_in({"X-API-Key": f" {KEY} ", "Authorization": "Bearer other"},
                        [("serviceKey", "other")])
    assert both == KEY
    assert presented_in({"Authorization": "Bearer other"}, [("ServiceKey", KEY)]) == KEY
    assert presented_in({"authorization": f"bearer {KEY}"}, []) == KEY
    assert presented_in({"authorization": "Basic eA=="}, [("serviceKey", "")]) is None


def test_service_key_encoded_twice_is_recognised() -> None:
    key = "dpk_a+b/c=="            # as data.go.kr's keys: characters a URL must encode
    sent_twice = quote(quote(key, safe=""), safe="")
    decoded_once = sent_twice.replace("%25", "%")         # as every query's values are
    assert presented_in({}, [("serviceKey", decoded_once)]) == key
    assert presented_in({}, [("serviceKey", key)]) == key


def test_validity_rule() -> None:
    now = datetime.now(UTC)
    assert key_state(None, None, now) is KeyState.active
    assert key_state(None, now + timedelta(seconds=1), now) is KeyState.active
    assert key_state(None, now, now) is KeyState.expired
    assert key_state(now, now - timedelta(days=1), now) is KeyState.revoked


def test_app_credentials_are_keys_and_tokens() -> None:
    assert is_app_credential(KEY) and is_app_credential("eyJa.b.c")
    assert not is_app_credential("dpg_personal") and not is_app_credential(None)
