"""The scan: every value of every column, in one DuckDB query per group of columns.

The query has four layers, each a projection over the one below, so DuckDB computes each
expression once per value and streams the relation once:

1. per column and family, the first candidate in the value (a regex, skipped by a cheap
   guard: no `@`, no e-mail search);
2. the candidate's normalised fields (its digits as a BIGINT, …);
3. per kind, whether the candidate has the kind's shape and whether it is valid;
4. counts per column and kind, and one valid candidate as the example.
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb

from dpghub.core.errors import Invalid
from dpghub.privacy.detect.context import context, is_person
from dpghub.privacy.detect.kinds import KINDS
from dpghub.privacy.detect.mask import mask
from dpghub.privacy.detect.patterns import (
    COMMON_SURNAMES,
    FAMILIES,
    NUMBER_FAMILIES,
    RULES,
    THING_ENDINGS,
    candidate_sql,
    extract_sql,
    field_sql,
    match_sql,
    sql_text,
)
from dpghub.privacy.detect.score import REPORT_THRESHOLD, confidence

COLUMNS_PER_QUERY = 48
TEXT, INTEGER, DECIMAL, DATE, TIMESTAMP, BOOLEAN = (
    "text", "integer", "decimal", "date", "timestamp", "boolean")
TYPES = (TEXT, INTEGER, DECIMAL, DATE, TIMESTAMP, BOOLEAN, "time")


@dataclass(frozen=True)
class Finding:
    column: str
    kind: str            # one of KINDS' names
    share: float         # matching values / non-null values, 0..1
    matched: int
    total: int           # non-null values scanned
    confidence: float    # 0..1, after column-name context
    direct: bool         # a direct identifier (blocks publishing as open)
    example: str | None  # one matching value, masked


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


@dataclass
class _Plan:
    """The SQL layers of one column: which families it is searched for and which kinds."""

    index: int
    name: str
    type: str
    value: str = ""
    layer1: dict[str, str] | None = None
    layer2: dict[str, str] | None = None
    layer3: dict[str, str] | None = None
    layer4: dict[str, str] | None = None
    kinds: tuple[str, ...] = ()


def _plan(index: int, column: dict) -> _Plan:
    name, kind_of = column["name"], column["type"]
    if kind_of not in TYPES:
        raise Invalid("Column {field} has the unknown type {type}; expected one of {types}",
                      code="privacy_unknown_type", field=name, type=kind_of,
                      types=", ".join(TYPES))
    plan = _Plan(index, name, kind_of, layer1={}, layer2={}, layer3={}, layer4={})
    v = f"v{index}"
    source = _quote(name)
    hinted = {kind for kind in KINDS if context(name, kind) > 0}
    families: dict[str, str] = {}
    if kind_of == TEXT:
        plan.layer1[v] = f"NULLIF(trim(CAST({source} AS VARCHAR)), '')"
        for family_name, family in FAMILIES.items():
            members = [rule for rule in RULES.values() if rule.family == family_name]
            if all(rule.needs_context and rule.kind not in hinted for rule in members):
                continue
            families[family_name] = extract_sql(family, f"trim(CAST({source} AS VARCHAR))")
    elif kind_of == INTEGER:
        plan.layer1[v] = f"CAST({source} AS BIGINT)"
        for family_name, (template, needs_hint) in NUMBER_FAMILIES.items():
            members = [rule.kind for rule in RULES.values() if rule.family == family_name]
            if needs_hint and not hinted.intersection(members):
                continue
            families[family_name] = template.replace("{v}", source)
    elif kind_of in (DATE, TIMESTAMP):
        plan.layer1[v] = f"CAST({source} AS DATE)"
        if "birth_date" in hinted:
            plan.layer1[f"c{index}_birth"] = (
                f"CASE WHEN CAST({source} AS DATE) BETWEEN DATE '1900-01-01' AND current_date "
                f"THEN strftime(CAST({source} AS DATE), '%Y-%m-%d') ELSE '' END")
            plan.layer2[f"c{index}_birth"] = f"c{index}_birth"
            plan.layer3[f"c{index}_birth"] = f"c{index}_birth"
            plan.layer3[f"s{index}_birth_date"] = f"c{index}_birth <> ''"
            plan.layer3[f"m{index}_birth_date"] = f"c{index}_birth <> ''"
            plan.kinds = ("birth_date",)
    else:  # decimals are measures, booleans flags, times of day: not identifiers
        plan.layer1[v] = source
    plan.value = v
    kinds: list[str] = list(plan.kinds)
    for family_name, extract in families.items():
        family = FAMILIES[family_name]
        c = f"c{index}_{family_name}"
        plan.layer1[c] = extract
        plan.layer2[c] = c
        fields = {"c": c}
        for field_name, sql in field_sql(family, c).items():
            plan.layer2[f"{c}_{field_name}"] = sql
            fields[field_name] = f"{c}_{field_name}"
        text_value = v if kind_of == TEXT else None
        for rule in RULES.values():
            if rule.family != family_name or (rule.needs_context and rule.kind not in hinted):
                continue
            plan.layer3[f"s{index}_{rule.kind}"] = candidate_sql(rule, fields)
            plan.layer3[f"m{index}_{rule.kind}"] = match_sql(rule, family, fields, text_value)
            plan.layer3.setdefault(c, c)
            kinds.append(rule.kind)
        if family_name == "name":
            common = ", ".join(sql_text(s) for s in COMMON_SURNAMES)
            plan.layer3[f"k{index}"] = f"{c} <> '' AND left({c}, 1) IN ({common})"
            endings = ", ".join(sql_text(s) for s in THING_ENDINGS)
            plan.layer3[f"j{index}"] = f"{c} <> '' AND right({c}, 1) IN ({endings})"
    plan.layer2[v] = v
    plan.layer3[v] = v
    plan.layer4[f"t{index}"] = f"count({v})"
    for kind in kinds:
        family_column = _family_column(plan, kind)
        plan.layer4[f"s{index}_{kind}"] = f"count_if(s{index}_{kind})"
        plan.layer4[f"m{index}_{kind}"] = f"count_if(m{index}_{kind})"
        plan.layer4[f"e{index}_{kind}"] = f"any_value({family_column}) FILTER (WHERE m{index}_{kind})"
    if f"k{index}" in plan.layer3:
        plan.layer4[f"k{index}"] = f"count_if(k{index})"
        plan.layer4[f"j{index}"] = f"count_if(j{index})"
    plan.kinds = tuple(kinds)
    return plan


def _family_column(plan: _Plan, kind: str) -> str:
    if kind == "birth_date" and plan.type in (DATE, TIMESTAMP):
        return f"c{plan.index}_birth"
    return f"c{plan.index}_{RULES[kind].family}"


def _select(layer: dict[str, str]) -> str:
    return ", ".join(f"{sql} AS {alias}" for alias, sql in layer.items()) or "1 AS one"


def _query(relation: str, plans: list[_Plan]) -> str:
    layers = [{}, {}, {}, {}]
    for plan in plans:
        for number, layer in enumerate((plan.layer1, plan.layer2, plan.layer3, plan.layer4)):
            layers[number].update(layer or {})
    return (f"SELECT {_select(layers[3])} FROM (SELECT {_select(layers[2])} FROM "
            f"(SELECT {_select(layers[1])} FROM (SELECT {_select(layers[0])} FROM {relation}) "
            "AS l1) AS l2) AS l3")


def _findings(plan: _Plan, row: dict) -> list[Finding]:
    total = row[f"t{plan.index}"]
    found = []
    for kind in plan.kinds:
        matched = row[f"m{plan.index}_{kind}"]
        hint = context(plan.name, kind)
        score = confidence(kind, matched=matched, shaped=row[f"s{plan.index}_{kind}"],
                           total=total, hint=hint,
                           common_surnames=row.get(f"k{plan.index}") or 0,
                           thing_endings=row.get(f"j{plan.index}") or 0)
        if score < REPORT_THRESHOLD:
            continue
        direct = KINDS[kind].direct or (kind == "landline" and is_person(plan.name))
        example = row[f"e{plan.index}_{kind}"]
        found.append(Finding(column=plan.name, kind=kind, share=round(matched / total, 6),
                             matched=matched, total=total, confidence=score, direct=direct,
                             example=mask(kind, example) if example else None))
    return sorted(found, key=lambda finding: (-finding.confidence, -finding.share))


def tally(con: duckdb.DuckDBPyConnection, relation: str,
          columns: list[dict]) -> dict[tuple[str, str], dict[str, int]]:
    """The raw counts behind the findings, per (column, kind) searched: `matched`, `shaped`
    (values of the kind's shape, valid or not) and `total` — for benchmarks and reviews."""
    counts: dict[tuple[str, str], dict[str, int]] = {}
    for plan, row in _rows(con, relation, columns):
        for kind in plan.kinds:
            counts[(plan.name, kind)] = {"matched": row[f"m{plan.index}_{kind}"],
                                         "shaped": row[f"s{plan.index}_{kind}"],
                                         "total": row[f"t{plan.index}"]}
    return counts


def _rows(con: duckdb.DuckDBPyConnection, relation: str,
          columns: list[dict]) -> list[tuple[_Plan, dict]]:
    plans = [_plan(index, column) for index, column in enumerate(columns)]
    source = _quote(relation) if _plain(relation) else relation
    answers = []
    for start in range(0, len(plans), COLUMNS_PER_QUERY):
        group = plans[start:start + COLUMNS_PER_QUERY]
        cursor = con.execute(_query(source, group))
        names = [description[0] for description in cursor.description]
        row = dict(zip(names, cursor.fetchone(), strict=True))
        answers += [(plan, row) for plan in group]
    return answers


def scan(con: duckdb.DuckDBPyConnection, relation: str, columns: list[dict]) -> list[Finding]:
    """Findings worth reporting (confidence >= REPORT_THRESHOLD) over every value of
    `relation` (a table or view on `con`): columns in the order given, best kind first."""
    findings: list[Finding] = []
    for plan, row in _rows(con, relation, columns):
        findings += _findings(plan, row)
    return findings


def _plain(relation: str) -> bool:
    """A bare name is quoted (Korean table names); a qualified one (lake.ev) is used as is."""
    return "." not in relation and '"' not in relation
