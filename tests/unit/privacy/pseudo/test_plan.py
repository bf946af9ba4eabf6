"""validate_plan: every fault named, with its column, in one refusal."""

from __future__ import annotations

from typing import Any

import pytest

from dpghub.core.errors import Invalid
from dpghub.privacy.pseudo import validate_plan
from dpghub.privacy.pseudo.plan import GeneralisePlan, MaskPlan

COLUMNS = [{"name": "이름", "type": "text"}, {"name": "age", "type": "integer"},
           {"name": "agreed", "type": "boolean"}, {"name": "born", "type": "date"},
           {"name": "score", "type": "decimal"}]


def refusal(plan: Any, columns: list[dict[str, str]] = COLUMNS) -> Invalid:
    with pytest.raises(Invalid) as caught:
        validate_plan(plan, columns)
    return caught.value


def test_a_good_plan_becomes_models_with_defaults() -> None:
    plan = validate_plan({"이름": {"action": "mask"},
                          "born": {"action": "generalise", "to": "age_band",
                                   "reference_date": "2024-12-31"}}, COLUMNS)
    assert plan["이름"] == MaskPlan(action="mask", keep_start=0, keep_end=4, char="*")
    born = plan["born"]
    assert isinstance(born, GeneralisePlan) and born.band_width == 10
    assert str(born.reference_date) == "2024-12-31"


def test_unknown_column_names_the_column_and_its_field() -> None:
    error = refusal({"전화번호": {"action": "drop"}})
    assert (error.code, error.field) == ("unknown_column", "plan.전화번호")
    assert "전화번호" in str(error)
    assert error.params["faults"] == [{"code": "unknown_column", "field": "plan.전화번호",
                                       "message": "there is no column named '전화번호'"}]


@pytest.mark.parametrize(("column", "to"), [
    ("agreed", "age_band"), ("age", "month"), ("age", "sigungu"), ("born", "range"),
    ("agreed", "top_bottom"), ("score", "birth_year"), ("born", "sido"),
])
def test_a_generalisation_that_does_not_fit_the_type(column: str, to: str) -> None:
    bounds = {"low": 1} if to == "top_bottom" else {}
    error = refusal({column: {"action": "generalise", "to": to, **bounds}})
    assert error.code == "generalisation_type_mismatch"
    assert error.field == f"plan.{column}.to"
    assert column in str(error) and to in str(error)


def test_unknown_action_and_missing_action() -> None:
    error = refusal({"이름": {"action": "scramble"}, "age": {"to": "range"}})
    assert error.code == "invalid_plan"
    assert [(f["code"], f["field"]) for f in error.params["faults"]] == [
        ("unknown_action", "plan.이름.action"), ("unknown_action", "plan.age.action")]
    assert "'scramble'" in str(error) and "이름" in str(error) and "age" in str(error)


@pytest.mark.parametrize(("spec", "field"), [
    ({"action": "generalise", "to": "range", "width": 0}, "plan.age.width"),
    ({"action": "generalise", "to": "range", "width": -5}, "plan.age.width"),
    ({"action": "generalise", "to": "age_band", "width": 2.5}, "plan.age.width"),
    ({"action": "generalise", "to": "top_bottom"}, "plan.age"),
    ({"action": "generalise", "to": "top_bottom", "low": 50, "high": 10}, "plan.age.low"),
    ({"action": "generalise", "to": "top_bottom", "low": 0.5}, "plan.age"),
    ({"action": "generalise", "to": "month", "width": 3}, "plan.age.width"),
    ({"action": "generalise", "to": "decade"}, "plan.age.to"),
    ({"action": "mask", "keep_start": -1}, "plan.age.keep_start"),
    ({"action": "mask", "char": "**"}, "plan.age.char"),
    ({"action": "hmac", "salt": "x"}, "plan.age.salt"),
    ("drop", "plan.age"),
])
def test_bad_options_name_the_option(spec: Any, field: str) -> None:
    columns = [{"name": "age", "type": "integer" if spec != "drop" else "text"},
               {"name": "born", "type": "date"}]
    if isinstance(spec, dict) and spec.get("to") == "age_band":
        columns[0]["type"] = "date"
    if isinstance(spec, dict) and spec.get("to") == "month":
        columns[0]["type"] = "date"
    error = refusal({"age": spec}, columns)
    assert error.params["faults"][0]["field"] == field
    assert error.params["faults"][0]["code"] == "bad_option"
    assert "'age'" in str(error)


def test_an_empty_plan_and_a_plan_that_drops_everything() -> None:
    assert refusal({}).code == "empty_plan"
    every = {c["name"]: {"action": "drop"} for c in COLUMNS}
    error = refusal(every)
    assert (error.code, error.field) == ("all_dropped", "plan")
    assert "every column" in str(error)


def test_a_boolean_cannot_be_masked() -> None:
    error = refusal({"agreed": {"action": "mask"}})
    assert (error.code, error.field) == ("action_type_mismatch", "plan.agreed")


def test_one_refusal_lists_every_fault() -> None:
    error = refusal({"nope": {"action": "drop"}, "agreed": {"action": "generalise",
                                                             "to": "month"},
                     "age": {"action": "generalise", "to": "range", "width": 0}})
    assert error.code == "invalid_plan" and error.field == "plan"
    assert [f["code"] for f in error.params["faults"]] == [
        "unknown_column", "generalisation_type_mismatch", "bad_option"]
    for name in ("nope", "agreed", "age"):
        assert name in str(error)
