"""The scan: every value of every column, in two passes.

1. The survey (`survey.py`): per column, its non-null values and how many have each family's
   shape — one small query per 50 columns, yes/no regex searches and range tests only.
2. The full checks, only for the (column, family) pairs whose shape count could reach the
   reporting threshold (`worth_checking`), in one DuckDB query per group of columns. A column
   with few distinct values among many rows is checked once per distinct value (weighted by
   its count). The query has four layers, each a projection over the one below, so DuckDB
   computes each expression once per value and streams the relation once:

   1. per column and family, the first candidate in the value (a regex, skipped by a cheap
      guard: no `@`, no e-mail search);
   2. the candidate's normalised fields (its digits as a BIGINT, …);
   3. per kind, whether the candidate has the kind's shape and whether it is valid;
   4. counts per column and kind, and one valid candidate as the example.

Both passes read every row; nothing is sampled. A pair left out by the survey could not be
reported whatever the full checks found: its best case (every shaped value valid) scores below
the threshold.
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
from dpghub.privacy.detect.survey import Survey, Target, survey

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


def _checked_type(column: dict) -> str:
    if column["type"] not in TYPES:
        raise Invalid("Column {field} has the unknown type {type}; expected one of {types}",
                      code="privacy_unknown_type", field=column["name"], type=column["type"],
                      types=", ".join(TYPES))
    return column["type"]


def _hinted(name: str) -> set[str]:
    return {kind for kind in KINDS if context(name, kind) > 0}


def _searched(name: str, kind_of: str) -> tuple[str, ...]:
    """The families a column of this type and name is searched for (`birth` for a date)."""
    hinted = _hinted(name)
    if kind_of == TEXT:
        return tuple(family_name for family_name in FAMILIES
                     if not all(rule.needs_context and rule.kind not in hinted
                                for rule in RULES.values() if rule.family == family_name))
    if kind_of == INTEGER:
        return tuple(family_name for family_name, (_, needs_hint) in NUMBER_FAMILIES.items()
                     if not needs_hint or hinted.intersection(
                         rule.kind for rule in RULES.values() if rule.family == family_name))
    if kind_of in (DATE, TIMESTAMP) and "birth_date" in hinted:
        return ("birth",)
    return ()   # decimals are measures, booleans flags, times of day: not identifiers


def _kinds_of(family_name: str, hinted: set[str]) -> list[str]:
    return [rule.kind for rule in RULES.values()
            if rule.family == family_name and not (rule.needs_context and rule.kind not in hinted)]


def worth_checking(name: str, family_name: str, shaped: int, total: int) -> bool:
    """Could any kind of the family be reported if all `shaped` values were valid? The best
    case of `confidence`: matched = shaped, every name with a common surname and no ending
    of a place."""
    if shaped == 0 or total == 0:
        return False
    if family_name == "birth":
        family_name = RULES["birth_date"].family
    return any(confidence(kind, matched=shaped, shaped=shaped, total=total,
                          hint=context(name, kind), common_surnames=shaped) >= REPORT_THRESHOLD
               for kind in _kinds_of(family_name, _hinted(name)))


def _counted(condition: str, weighted: bool) -> str:
    return f"coalesce(sum(n) FILTER (WHERE {condition}), 0)" if weighted else (
        f"count_if({condition})")


def _plan(index: int, name: str, kind_of: str, searched: tuple[str, ...],
          weighted: bool = False) -> _Plan:
    """The layers for the families `searched`; `weighted`: rows are distinct values with
    their count `n`."""
    plan = _Plan(index, name, kind_of, layer1={}, layer2={}, layer3={}, layer4={})
    v = f"v{index}"
    source = _quote(name)
    hinted = _hinted(name)
    families: dict[str, str] = {}
    if kind_of == TEXT:
        plan.layer1[v] = f"NULLIF(trim(CAST({source} AS VARCHAR)), '')"
        for family_name in searched:
            families[family_name] = extract_sql(FAMILIES[family_name],
                                                f"trim(CAST({source} AS VARCHAR))")
    elif kind_of == INTEGER:
        plan.layer1[v] = f"CAST({source} AS BIGINT)"
        for family_name in searched:
            families[family_name] = NUMBER_FAMILIES[family_name][0].replace("{v}", source)
    elif kind_of in (DATE, TIMESTAMP):
        plan.layer1[v] = f"CAST({source} AS DATE)"
        if "birth" in searched:
            plan.layer1[f"c{index}_birth"] = (
                f"CASE WHEN CAST({source} AS DATE) BETWEEN DATE '1900-01-01' AND current_date "
                f"THEN strftime(CAST({source} AS DATE), '%Y-%m-%d') ELSE '' END")
            plan.layer2[f"c{index}_birth"] = f"c{index}_birth"
            plan.layer3[f"c{index}_birth"] = f"c{index}_birth"
            plan.layer3[f"s{index}_birth_date"] = f"c{index}_birth <> ''"
            plan.layer3[f"m{index}_birth_date"] = f"c{index}_birth <> ''"
            plan.kinds = ("birth_date",)
    else:
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
        for kind in _kinds_of(family_name, hinted):
            rule = RULES[kind]
            plan.layer3[f"s{index}_{kind}"] = candidate_sql(rule, fields)
            plan.layer3[f"m{index}_{kind}"] = match_sql(rule, family, fields, text_value)
            plan.layer3.setdefault(c, c)
            kinds.append(kind)
        if family_name == "name":
            common = ", ".join(sql_text(s) for s in COMMON_SURNAMES)
            plan.layer3[f"k{index}"] = f"{c} <> '' AND left({c}, 1) IN ({common})"
            endings = ", ".join(sql_text(s) for s in THING_ENDINGS)
            plan.layer3[f"j{index}"] = f"{c} <> '' AND right({c}, 1) IN ({endings})"
    plan.layer2[v] = v
    plan.layer3[v] = v
    plan.layer4[f"t{index}"] = _counted(f"{v} IS NOT NULL", weighted) if weighted else (
        f"count({v})")
    for kind in kinds:
        family_column = _family_column(plan, kind)
        plan.layer4[f"s{index}_{kind}"] = _counted(f"s{index}_{kind}", weighted)
        plan.layer4[f"m{index}_{kind}"] = _counted(f"m{index}_{kind}", weighted)
        plan.layer4[f"e{index}_{kind}"] = f"any_value({family_column}) FILTER (WHERE m{index}_{kind})"
    if f"k{index}" in plan.layer3:
        plan.layer4[f"k{index}"] = _counted(f"k{index}", weighted)
        plan.layer4[f"j{index}"] = _counted(f"j{index}", weighted)
    plan.kinds = tuple(kinds)
    return plan


def _family_column(plan: _Plan, kind: str) -> str:
    if kind == "birth_date" and plan.type in (DATE, TIMESTAMP):
        return f"c{plan.index}_birth"
    return f"c{plan.index}_{RULES[kind].family}"


def _select(layer: dict[str, str], extra: str = "") -> str:
    return ", ".join([f"{sql} AS {alias}" for alias, sql in layer.items()]
                     + ([extra] if extra else [])) or "1 AS one"


def _query(relation: str, plans: list[_Plan], weighted: bool = False) -> str:
    """One query over `plans`; `weighted`: the relation holds distinct values with their
    count `n`."""
    layers: list[dict[str, str]] = [{}, {}, {}, {}]
    for plan in plans:
        for number, layer in enumerate((plan.layer1, plan.layer2, plan.layer3, plan.layer4)):
            layers[number].update(layer or {})
    n = "n" if weighted else ""
    return (f"SELECT {_select(layers[3])} FROM (SELECT {_select(layers[2], n)} FROM "
            f"(SELECT {_select(layers[1], n)} FROM (SELECT {_select(layers[0], n)} "
            f"FROM {relation}) AS l1) AS l2) AS l3")


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
    """The raw counts behind the findings, per (column, kind) fully checked: `matched`,
    `shaped` (values of the kind's shape, valid or not) and `total` — for benchmarks and
    reviews. Pairs the survey ruled out (they could not be reported) are absent."""
    counts: dict[tuple[str, str], dict[str, int]] = {}
    for plan, row in _rows(con, relation, columns):
        for kind in plan.kinds:
            counts[(plan.name, kind)] = {"matched": row[f"m{plan.index}_{kind}"],
                                         "shaped": row[f"s{plan.index}_{kind}"],
                                         "total": row[f"t{plan.index}"]}
    return counts


DISTINCT_ROWS = 50_000     # from this many rows a column may be checked per distinct value …
DISTINCT_SHARE = 0.5       # … when at most this share of its rows are distinct
DISTINCT_TABLE = "__pii_distinct_values"


def _families_worth_checking(name: str, searched: tuple[str, ...],
                             found: Survey | None) -> tuple[str, ...]:
    return tuple(f for f in searched if f == "birth" or (
        found is not None and worth_checking(name, f, found.shapes[f], found.total)))


def _by_value(con: duckdb.DuckDBPyConnection, source: str, index: int, column: dict,
              target: Target | None, searched: tuple[str, ...],
              rows: int) -> tuple[bool, tuple[_Plan, dict] | None]:
    """Survey and check one column over its distinct values (a temporary table of value and
    count), each value's result weighted by its count. (False, None) when more than
    `DISTINCT_SHARE` of the rows are distinct: the column is better checked per row."""
    name = _quote(column["name"])
    con.execute(f"CREATE OR REPLACE TEMP TABLE {DISTINCT_TABLE} AS "
                f"SELECT {name}, count(*) AS n FROM {source} GROUP BY {name}")
    try:
        [(distinct,)] = con.execute(f"SELECT count(*) FROM {DISTINCT_TABLE}").fetchall()
        if distinct > DISTINCT_SHARE * rows:
            return False, None
        found = survey(con, DISTINCT_TABLE, [target], weighted=True)[index] if target else None
        families = _families_worth_checking(column["name"], searched, found)
        if not families:
            return True, None
        plan = _plan(index, column["name"], column["type"], families, weighted=True)
        return True, (plan, _answer(con, _query(DISTINCT_TABLE, [plan], weighted=True)))
    finally:
        con.execute(f"DROP TABLE IF EXISTS {DISTINCT_TABLE}")


def _rows(con: duckdb.DuckDBPyConnection, relation: str,
          columns: list[dict]) -> list[tuple[_Plan, dict]]:
    """The survey, then the full checks of the pairs worth checking: (plan, counts) per column
    with something to check. Columns with many repeated values are surveyed and checked per
    distinct value; the others per row, many columns in one query."""
    source = _quote(relation) if _plain(relation) else relation
    searched = {index: _searched(column["name"], _checked_type(column))
                for index, column in enumerate(columns)}
    searched = {index: families for index, families in searched.items() if families}
    targets = {index: Target(index, _quote(columns[index]["name"]), columns[index]["type"],
                             tuple(f for f in families if f != "birth"))
               for index, families in searched.items()
               if columns[index]["type"] in (TEXT, INTEGER)}
    [(rows,)] = con.execute(f"SELECT count(*) FROM {source}").fetchall()
    answers = []
    per_row: list[int] = []
    for index in searched:
        done, answer = False, None
        if rows >= DISTINCT_ROWS and columns[index]["type"] == TEXT:   # numbers: no regex
            done, answer = _by_value(con, source, index, columns[index], targets.get(index),
                                     searched[index], rows)
        answers += [answer] if answer else []
        if not done:
            per_row.append(index)
    surveys = survey(con, source, [targets[i] for i in per_row if i in targets])
    batched = []
    for index in per_row:
        families = _families_worth_checking(columns[index]["name"], searched[index],
                                            surveys.get(index))
        if families:
            batched.append(_plan(index, columns[index]["name"], columns[index]["type"],
                                 families))
    for start in range(0, len(batched), COLUMNS_PER_QUERY):
        group = batched[start:start + COLUMNS_PER_QUERY]
        row = _answer(con, _query(source, group))
        answers += [(plan, row) for plan in group]
    return sorted(answers, key=lambda answer: answer[0].index)


def _answer(con: duckdb.DuckDBPyConnection, sql: str) -> dict:
    cursor = con.execute(sql)
    names = [description[0] for description in cursor.description]
    return dict(zip(names, cursor.fetchone(), strict=True))


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
