"""Column names raise or lower confidence: what a name says, and what it does not."""

from __future__ import annotations

import pytest

from dpghub.privacy.detect.context import context


@pytest.mark.parametrize(("name", "kind", "said"), [
    ("휴대폰번호", "mobile", 1), ("customer_phone", "mobile", 1), ("주문자연락처", "mobile", 1),
    ("주문번호", "mobile", -1), ("조회수", "mobile", -1), ("phone_count", "mobile", -1),
    ("계좌번호", "account", 1), ("account", "account", 1), ("바코드", "card", -1),
    ("카드번호", "card", 1), ("고객명", "person_name", 1), ("product_name", "person_name", -1),
    ("상품명", "person_name", -1), ("zip", "ip", 0), ("login_ip", "ip", 1),
    ("법정동코드", "brn", -1), ("비고", "email", 0),
])
def test_context(name: str, kind: str, said: int) -> None:
    assert context(name, kind) == said
