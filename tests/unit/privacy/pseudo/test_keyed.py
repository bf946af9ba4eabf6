"""HMAC: stable, key-dependent, Python's own HMAC; tokens: one per distinct value, mapped."""

from __future__ import annotations

import hashlib
import hmac
import re

import pytest
from faker import Faker

from dpghub.core.errors import Invalid

from .conftest import KEY, Run


def test_hmac_is_pythons_hmac_sha256_and_stable(run: Run) -> None:
    rows, result = run({"phone": "text", "n": "integer"},
                       [{"phone": "010-1234-5678", "n": 42}, {"phone": "010-1234-5678", "n": 42},
                        {"phone": "010-9999-0000", "n": None}],
                       {"phone": {"action": "hmac"}, "n": {"action": "hmac"}})
    expected = hmac.new(KEY, b"010-1234-5678", hashlib.sha256).hexdigest()
    assert rows[0]["phone"] == rows[1]["phone"] == expected
    assert rows[2]["phone"] != expected and re.fullmatch(r"[0-9a-f]{64}", rows[2]["phone"])
    assert rows[0]["n"] == hmac.new(KEY, b"42", hashlib.sha256).hexdigest()
    assert rows[2]["n"] is None
    assert result.out_columns == [{"name": "phone", "type": "text"},
                                  {"name": "n", "type": "text"}]
    assert "KEY" not in repr(result.record) and KEY.decode() not in repr(result.record)


def test_hmac_depends_on_the_key(run: Run) -> None:
    data = [{"name": "홍길동"}]
    first, _ = run({"name": "text"}, data, {"name": {"action": "hmac"}})
    again, _ = run({"name": "text"}, data, {"name": {"action": "hmac"}})
    other, _ = run({"name": "text"}, data, {"name": {"action": "hmac"}},
                   hmac_key=b"another key of thirty-two bytes!")
    assert first == again
    assert first != other
    assert first[0]["name"] == hmac.new(KEY, "홍길동".encode(), hashlib.sha256).hexdigest()


@pytest.mark.parametrize(("key", "code"), [(None, "hmac_key_missing"), (b"", "hmac_key_missing"),
                                           (b"short", "hmac_key_too_short")])
def test_hmac_without_a_good_key_is_refused(run: Run, key: bytes | None, code: str) -> None:
    with pytest.raises(Invalid) as caught:
        run({"전화 번호": "text"}, [{"전화 번호": "010"}], {"전화 번호": {"action": "hmac"}},
            hmac_key=key)
    assert (caught.value.code, caught.value.field) == (code, "plan.전화 번호")
    assert "전화 번호" in str(caught.value)


def test_tokens_are_one_per_distinct_value_with_a_complete_mapping(run: Run) -> None:
    fake = Faker("ko_KR")
    Faker.seed(41)
    names = [fake.name() for _ in range(200)]
    rows, result = run({"name": "text"}, [{"name": n} for n in names] + [{"name": None}],
                       {"name": {"action": "token"}})
    tokens = [r["name"] for r in rows]
    assert tokens[-1] is None
    mapping = dict(zip(result.tokens["name"].column("value").to_pylist(),
                       result.tokens["name"].column("token").to_pylist(), strict=True))
    assert set(mapping) == set(names)
    assert len(set(mapping.values())) == len(mapping)
    assert tokens[:-1] == [mapping[n] for n in names]
    assert all(re.fullmatch(r"tk_[A-Za-z0-9_-]{16}", t) for t in mapping.values())
    assert result.tokens["name"].schema.names == ["value", "token"]
    assert result.record[0]["distinct"] == len(set(names))


def test_tokens_are_new_in_every_run(run: Run) -> None:
    first, _ = run({"id": "integer"}, [{"id": 7}], {"id": {"action": "token"}})
    second, result = run({"id": "integer"}, [{"id": 7}], {"id": {"action": "token"}})
    assert first != second
    assert result.tokens["id"].to_pylist() == [{"value": "7", "token": second[0]["id"]}]
