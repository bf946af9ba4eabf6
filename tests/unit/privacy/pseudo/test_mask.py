"""Masking: letters and digits replaced, separators kept, short values masked whole."""

from __future__ import annotations

import re

from faker import Faker

from .conftest import Run


def test_mobile_numbers_keep_their_first_three_and_last_four_digits(run: Run) -> None:
    fake = Faker("ko_KR")
    Faker.seed(11)
    phones = [fake.numerify("010-####-####") for _ in range(40)]
    rows, result = run({"phone": "text"}, [{"phone": p} for p in phones],
                       {"phone": {"action": "mask", "keep_start": 3, "keep_end": 4}})
    assert [r["phone"] for r in rows] == [f"010-****-{p[-4:]}" for p in phones]
    assert result.out_columns == [{"name": "phone", "type": "text"}]
    assert result.record[0]["changed"] == 40
    assert "the first 3 and the last 4" in result.record[0]["detail"]


def test_e_mail_addresses_keep_their_shape(run: Run) -> None:
    fake = Faker("ko_KR")
    Faker.seed(12)
    emails = [fake.email() for _ in range(30)] + ["hong.gd@example.com"]
    rows, _ = run({"email": "text"}, [{"email": e} for e in emails],
                  {"email": {"action": "mask", "keep_start": 2, "keep_end": 0, "char": "#"}})
    masked = [r["email"] for r in rows]
    assert masked[-1] == "ho##.##@#######.###"
    for original, out in zip(emails, masked, strict=True):
        assert len(out) == len(original)
        assert out[:2] == original[:2]
        assert re.sub(r"[^@.\-]", "", out) == re.sub(r"[^@.\-]", "", original)
        assert set(re.sub(r"[@.\-]", "", out[2:])) == {"#"}


def test_a_value_too_short_for_the_kept_ends_is_masked_whole(run: Run) -> None:
    rows, _ = run({"name": "text"}, [{"name": "홍길동"}, {"name": "남궁민수입니다"}, {"name": ""}],
                  {"name": {"action": "mask", "keep_start": 1, "keep_end": 2}})
    assert [r["name"] for r in rows] == ["***", "남****니다", ""]


def test_numbers_and_dates_are_masked_as_text(run: Run) -> None:
    rows, result = run({"n": "integer"}, [{"n": 1234567}, {"n": None}],
                       {"n": {"action": "mask", "keep_start": 0, "keep_end": 2}})
    assert rows == [{"n": "*****67"}, {"n": None}]
    assert result.out_columns == [{"name": "n", "type": "text"}]
    assert (result.record[0]["nulls"], result.record[0]["changed"]) == (1, 1)


def test_any_mask_character_is_written_as_itself(run: Run) -> None:
    rows, _ = run({"a": "text", "b": "text", "c": "text"},
                  [{"a": "가나다-라마", "b": "가나다-라마", "c": "가나다-라마"}],
                  {"a": {"action": "mask", "keep_start": 1, "keep_end": 1, "char": "\\"},
                   "b": {"action": "mask", "keep_start": 1, "keep_end": 1, "char": "'"},
                   "c": {"action": "mask", "keep_start": 1, "keep_end": 1, "char": "$"}})
    assert rows == [{"a": "가\\\\-\\마", "b": "가''-'마", "c": "가$$-$마"}]
