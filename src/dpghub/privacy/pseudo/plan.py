"""A pseudonymisation plan: one action per column, checked against the table's columns.

Columns the plan does not name are kept as they are; the caller decides whether a kept direct
identifier may be published.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from .faults import Faults

ACTIONS = ("drop", "keep", "mask", "generalise", "hmac", "token")
TARGETS = ("age_band", "birth_year", "sigungu", "sido", "month", "year", "range", "top_bottom")
DATED = frozenset({"date", "timestamp", "text"})
NUMERIC = frozenset({"integer", "decimal", "text"})   # text: checked against the values later
# which column types each generalisation reads
FITS: dict[str, frozenset[str]] = {
    "age_band": DATED, "birth_year": DATED, "month": DATED, "year": DATED,
    "sigungu": frozenset({"text"}), "sido": frozenset({"text"}),
    "range": NUMERIC, "top_bottom": NUMERIC,
}
MASKABLE = frozenset({"text", "integer", "decimal", "date", "timestamp", "time"})


class _Action(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class DropPlan(_Action):
    action: Literal["drop"]


class KeepPlan(_Action):
    action: Literal["keep"]


class MaskPlan(_Action):
    action: Literal["mask"]
    keep_start: int = Field(0, ge=0, le=100)
    keep_end: int = Field(4, ge=0, le=100)
    char: str = Field("*", min_length=1, max_length=1)


class GeneralisePlan(_Action):
    action: Literal["generalise"]
    to: Literal["age_band", "birth_year", "sigungu", "sido", "month", "year", "range",
                "top_bottom"]
    width: float | None = None
    low: float | None = None
    high: float | None = None
    reference_date: date | None = None
    output: Literal["name", "code"] | None = None

    @property
    def band_width(self) -> float:
        return self.width if self.width is not None else 10


class HmacPlan(_Action):
    action: Literal["hmac"]


class TokenPlan(_Action):
    action: Literal["token"]


ColumnPlan = Annotated[DropPlan | KeepPlan | MaskPlan | GeneralisePlan | HmacPlan | TokenPlan,
                       Field(discriminator="action")]
_ADAPTER: TypeAdapter[Any] = TypeAdapter(ColumnPlan)
_OPTIONS_OF = {"width": ("range", "age_band"), "low": ("top_bottom",), "high": ("top_bottom",),
               "reference_date": ("age_band",), "output": ("sigungu", "sido")}


def validate_plan(plan: dict[str, dict[str, Any]], columns: list[dict[str, Any]]
                  ) -> dict[str, ColumnPlan]:
    """The plan as models, or `Invalid` naming every fault (param `faults`: code, field,
    message each)."""
    faults = Faults()
    types = {c["name"]: c["type"] for c in columns}
    parsed: dict[str, ColumnPlan] = {}
    if not isinstance(plan, dict) or not plan:
        faults.add("empty_plan", "plan", "the plan names no column")
        faults.raise_any()
    for name, spec in plan.items():
        where = f"plan.{name}"
        if name not in types:
            faults.add("unknown_column", where, f"there is no column named {name!r}")
            continue
        model = _parse(name, spec, faults)
        if model is not None:
            parsed[name] = model
    for fault in fit_faults(parsed, types).found:
        faults.found.append(fault)
    if types and all(isinstance(parsed.get(n), DropPlan) for n in types):
        faults.add("all_dropped", "plan", "the plan drops every column: nothing would be left")
    faults.raise_any()
    return parsed


def _parse(name: str, spec: Any, faults: Faults) -> ColumnPlan | None:
    where = f"plan.{name}"
    if not isinstance(spec, dict):
        faults.add("bad_option", where, f"{name!r}: the plan of a column is an object "
                                        "with an action")
        return None
    if spec.get("action") not in ACTIONS:
        faults.add("unknown_action", f"{where}.action",
                   f"{name!r}: unknown action {spec.get('action')!r} "
                   f"(one of {', '.join(ACTIONS)})")
        return None
    try:
        return _ADAPTER.validate_python(spec)  # type: ignore[no-any-return]
    except ValidationError as exc:
        for error in exc.errors():
            option = ".".join(str(p) for p in error["loc"][1:]) or "action"
            faults.add("bad_option", f"{where}.{option}",
                       f"{name!r}: option {option!r}: {error['msg']}")
        return None


def fit_faults(plan: dict[str, ColumnPlan], types: dict[str, str]) -> Faults:
    """Actions and options that do not fit the column's type or each other."""
    faults = Faults()
    for name, model in plan.items():
        kind = types.get(name)
        where = f"plan.{name}"
        if kind is None:
            faults.add("unknown_column", where, f"there is no column named {name!r}")
        elif isinstance(model, MaskPlan) and kind not in MASKABLE:
            faults.add("action_type_mismatch", where,
                       f"{name!r}: a {kind} column cannot be masked")
        elif isinstance(model, GeneralisePlan):
            _generalise_faults(name, kind, model, faults)
    return faults


def _generalise_faults(name: str, kind: str, model: GeneralisePlan, faults: Faults) -> None:
    where = f"plan.{name}"
    if kind not in FITS[model.to]:
        faults.add("generalisation_type_mismatch", f"{where}.to",
                   f"{name!r}: {model.to} does not fit a {kind} column "
                   f"(it reads {', '.join(sorted(FITS[model.to]))})")
    for option, targets in _OPTIONS_OF.items():
        if getattr(model, option) is not None and model.to not in targets:
            faults.add("bad_option", f"{where}.{option}",
                       f"{name!r}: option {option!r} applies only to {' and '.join(targets)}")
    if model.width is not None and model.width <= 0:
        faults.add("bad_option", f"{where}.width", f"{name!r}: width must be above 0")
    elif model.to == "age_band" and not float(model.band_width).is_integer():
        faults.add("bad_option", f"{where}.width",
                   f"{name!r}: an age band's width is a whole number of years")
    if model.to == "top_bottom":
        if model.low is None and model.high is None:
            faults.add("bad_option", where, f"{name!r}: top_bottom needs low, high or both")
        elif model.low is not None and model.high is not None and model.low > model.high:
            faults.add("bad_option", f"{where}.low", f"{name!r}: low is above high")
        elif kind == "integer" and any(b is not None and not float(b).is_integer()
                                       for b in (model.low, model.high)):
            faults.add("bad_option", where,
                       f"{name!r}: an integer column is coded with whole-number bounds")
