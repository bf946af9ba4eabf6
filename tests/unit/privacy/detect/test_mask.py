"""Masked examples keep the kind recognisable and hide what identifies."""

from __future__ import annotations

import pytest

from dpghub.privacy.detect import mask


@pytest.mark.parametrize(("kind", "value", "masked"), [
    ("rrn", "900101-1234567", "900101-1******"),
    ("rrn", "9001011234567", "9001011******"),
    ("mobile", "010-1234-5678", "010-****-5678"),
    ("mobile", "01012345678", "010****5678"),
    ("mobile", "+82 10-1234-5678", "+82 10-****-5678"),
    ("landline", "02-471-0044", "02-***-0044"),
    ("email", "hong@example.com", "h***@example.com"),
    ("person_name", "김민수", "김*수"),
    ("person_name", "이준", "이*"),
    ("person_name", "남궁민수", "남궁*수"),
    ("card", "4111-1111-1111-1111", "4111-****-****-1111"),
    ("ip", "192.168.10.20", "192.168.*.*"),
    ("birth_date", "1990-01-01", "1990-**-**"),
    ("account", "123-45-678901", "***-**-**8901"),
    ("passport", "M12345678", "M12******"),
    ("address", "서울특별시 강동구 성안로 106-1", "서울특별시 강동구 성안로 ***-*"),
])
def test_mask(kind: str, value: str, masked: str) -> None:
    assert mask(kind, value) == masked
