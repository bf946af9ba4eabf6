"""pseudonymise as a whole: columns kept, dropped and renamed by no one, the record, empty
tables, awkward column names, and output in batches."""

from __future__ import annotations

from datetime import date

import duckdb
import pytest

from dpghub.core.errors import Invalid
from dpghub.privacy.pseudo import pseudonymise, validate_plan

from .conftest import KEY, TODAY, Run, make_table

EVERY_ACTION = {
    "이름": {"action": "drop"}, "phone": {"action": "mask"}, "born": {"action": "generalise",
                                                                    "to": "birth_year"},
    "id": {"action": "hmac"}, "email": {"action": "token"}, "note": {"action": "keep"},
}
TYPES = {"이름": "text", "phone": "text", "born": "date", "id": "integer", "email": "text",
         "note": "text", "city": "text"}


def test_nulls_stay_null_and_unplanned_columns_are_kept(run: Run) -> None:
    rows, result = run(TYPES, [dict.fromkeys(TYPES), {**dict.fromkeys(TYPES), "city": "부산"}],
                       EVERY_ACTION)
    assert rows == [{"phone": None, "born": None, "id": None, "email": None, "note": None,
                     "city": None},
                    {"phone": None, "born": None, "id": None, "email": None, "note": None,
                     "city": "부산"}]
    assert [c["name"] for c in result.out_columns] == ["phone", "born", "id", "email", "note",
                                                       "city"]
    by_column = {e["column"]: e for e in result.record}
    assert by_column["city"]["action"] == "keep"
    assert by_column["city"]["detail"] == "not in the plan: kept as it is"
    assert by_column["이름"]["detail"] == "dropped"
    assert all(e["nulls"] == 2 for name, e in by_column.items() if name != "city")
    assert all(e["changed"] == 0 for e in by_column.values())


def test_the_record_says_what_was_done(run: Run) -> None:
    rows, result = run(TYPES, [{"이름": "홍길동", "phone": "010-1234-5678",
                                "born": date(1990, 1, 1), "id": 1, "email": "a@b.kr",
                                "note": "x", "city": "서울"}], EVERY_ACTION)
    assert rows[0]["note"] == "x" and rows[0]["born"] == 1990
    assert result.record[0] == {"column": "이름", "action": "drop", "options": {},
                                "detail": "dropped", "rows": 1, "nulls": 0, "changed": 1,
                                "emptied": 0}
    assert result.record[1]["options"] == {"keep_start": 0, "keep_end": 4, "char": "*"}
    assert result.record[1]["detail"].startswith("masked with '*' all but the last 4")


def test_an_empty_table_gives_an_empty_output_with_its_columns(run: Run) -> None:
    rows, result = run(TYPES, [], EVERY_ACTION)
    assert rows == []
    assert result.reader.schema.names == ["phone", "born", "id", "email", "note", "city"]
    assert result.tokens["email"].num_rows == 0
    assert {e["rows"] for e in result.record} == {0}


def test_awkward_column_names(run: Run) -> None:
    types = {'전화 "번호"': "text", "it's a date": "date", "성명 (이름)": "text"}
    rows, result = run(types, [{'전화 "번호"': "010-1111-2222", "it's a date":
                                date(2024, 5, 6), "성명 (이름)": "김철수"}],
                       {'전화 "번호"': {"action": "mask", "keep_start": 3},
                        "it's a date": {"action": "generalise", "to": "month"},
                        "성명 (이름)": {"action": "token"}})
    assert rows[0]['전화 "번호"'] == "010-****-2222"
    assert rows[0]["it's a date"] == "2024-05"
    assert rows[0]["성명 (이름)"] == result.tokens["성명 (이름)"].column("token")[0].as_py()


def test_a_plan_for_other_columns_is_refused_before_any_work(
        con: duckdb.DuckDBPyConnection) -> None:
    columns = make_table(con, {"a": "boolean", "b": "text"}, [{"a": True, "b": "x"}])
    plan = validate_plan({"a": {"action": "generalise", "to": "month"}},
                         [{"name": "a", "type": "date"}])
    with pytest.raises(Invalid) as caught:
        pseudonymise(con, "src", columns, plan, hmac_key=KEY, regions=None, today=TODAY)
    assert caught.value.code == "generalisation_type_mismatch"


def test_the_output_comes_in_batches(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("CREATE TABLE big AS SELECT i AS n, DATE '2020-01-01' + CAST(i % 900 AS INTEGER)"
                " AS d FROM range(150000) t(i)")
    columns = [{"name": "n", "type": "integer"}, {"name": "d", "type": "date"}]
    plan = validate_plan({"d": {"action": "generalise", "to": "year"}}, columns)
    result = pseudonymise(con, "big", columns, plan, hmac_key=None, regions=None, today=TODAY)
    sizes = [batch.num_rows for batch in result.reader]
    assert len(sizes) > 1 and sum(sizes) == 150000
    assert result.record[1]["changed"] == 150000
