"""Read a safe-zone query and write the queries that let its answer be checked cell by cell.

Only aggregates leave a safe zone (데이터안심구역): the outer SELECT must be COUNT, SUM and AVG
per group. Everything that picks single records is refused here, before any data is read:
MIN/MAX/MEDIAN/LIST and their kin, window functions, LIMIT inside a subquery, conditions
hidden inside an aggregate (they would pick a record past the cell checks; put them in WHERE
or GROUP BY where the checks see them).

The accepted query is rewritten three ways (all DuckDB SQL over the same tables):

- `cells_sql`: every group, HAVING and ORDER BY and LIMIT removed, with `__n` (source rows per
  group) and, for every aggregate `i`, its exact value `__a{i}_v` and for sums and means the
  number of non-zero contributors `__a{i}_nz`, the largest absolute contribution `__a{i}_top`
  and the sum of absolute values `__a{i}_abs` (the dominance rule's inputs).
- `base_sql`: for the differencing check, the same groups counted again with each condition of
  the outer WHERE left out in turn (column = column conditions are joins and stay); `__n0` is
  the nearest such count above the group's own. Two queries that differ by one condition which
  removes fewer than k records are the classic "total, then total minus one person" attack.
  Limits: conditions inside subqueries, CTEs or JOIN … ON are not left out, so a filter placed
  there escapes this check (the primary and secondary rules still hold for it).
- `release_sql`: HAVING, ORDER BY and LIMIT/OFFSET, run after suppression over the table
  `__cells` (the cells with suppressed values as NULL), so that HAVING never decides on a hidden
  value and ORDER BY never places one: `HAVING count(*) < 5` then answers nothing.

`__n` counts rows of the outer FROM. A join that repeats a person (visits per patient) or a
cross join that copies rows makes it larger than the number of people: pass `unit`, the column
that names a person, to count distinct people instead.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import duckdb
import sqlglot
from sqlglot import exp
from sqlglot.errors import ParseError, TokenError

from ...core.errors import Invalid

ALLOWED = {exp.Count: "count", exp.Sum: "sum", exp.Avg: "avg"}
MAX_CONDITIONS = 16
CONDITIONAL = (exp.Case, exp.If, exp.Predicate, exp.Connector, exp.Not, exp.Nullif, exp.Filter)
RECORD_PICKERS = ("limit", "offset", "qualify", "sample")


@dataclass(frozen=True)
class Aggregate:
    """One aggregate of the query; its statistics in the cells are `{column}_v`, `_nz`, …"""

    column: str        # "__a0"
    kind: str          # count_star | count | count_distinct | sum | avg
    sql: str           # as DuckDB reads it, e.g. "SUM(income)"


@dataclass(frozen=True)
class Measure:
    """An output column computed from aggregates (usually exactly one)."""

    name: str
    aggregates: tuple[int, ...]   # positions in ZoneQuery.aggregates

    def kinds(self, plan: ZoneQuery) -> tuple[str, ...]:
        return tuple(plan.aggregates[i].kind for i in self.aggregates)


@dataclass(frozen=True)
class ZoneQuery:
    sql: str
    cells_sql: str
    base_sql: str | None
    release_sql: str
    having: str | None                # the HAVING condition as written (applied in release_sql)
    columns: tuple[str, ...]          # the answer's columns, in order
    groups: tuple[str, ...]           # the group keys among them
    measures: tuple[Measure, ...]
    aggregates: tuple[Aggregate, ...]
    conditions: tuple[str, ...]       # outer WHERE conditions each left out once in base_sql
    unit: str | None = None


def plan_query(sql: str, *, k: int, unit: str | None = None) -> ZoneQuery:
    """Check `sql` for a safe zone and write its cells, base and release queries.

    `k` is the zone's threshold (checked here so a plan is never made for a useless k);
    `unit`, when given, is the column naming a person, counted distinct in `__n`."""
    if k < 2:
        raise Invalid("k must be at least 2 (it is {k})", code="invalid_k", field="k", k=k)
    root = _parse(sql)
    _refuse_record_pickers(root)
    groups = _group_expressions(root)
    aggregates: list[Aggregate] = []
    nodes: dict[str, int] = {}
    columns: list[str] = []
    group_names: list[str] = []
    measures: list[Measure] = []
    matched: set[str] = set()
    for projection in root.expressions:
        if isinstance(projection.unalias(), exp.Star) or \
                isinstance(projection.unalias(), exp.Column) and \
                isinstance(projection.unalias().this, exp.Star):
            raise _row_level(projection)
        name = _unique(_name(projection), columns)
        columns.append(name)
        inner = projection.unalias()
        found = _aggregates(inner)
        if not found:
            key = inner.sql("duckdb")
            if key not in groups:
                raise Invalid("{expression} is neither a GROUP BY key nor COUNT, SUM or AVG: "
                              "only counts, sums and means per group may leave a safe zone",
                              code="row_level_output", field="sql", expression=key)
            matched.add(key)
            group_names.append(name)
            continue
        measures.append(Measure(name, tuple(_register(a, aggregates, nodes) for a in found)))
    if not measures:
        raise Invalid("The query has no COUNT, SUM or AVG: only counts, sums and means per "
                      "group may leave a safe zone", code="row_level_output", field="sql")
    missing = [g for g in groups if g not in matched]
    if missing:
        raise Invalid("The GROUP BY key {expression} must also be in the SELECT list, so each "
                      "cell of the answer can be checked", code="group_key_not_selected",
                      field="sql", expression=missing[0])
    group_columns = dict(zip([p.unalias().sql("duckdb") for p in root.expressions
                              if not _aggregates(p.unalias())], group_names, strict=True))
    having = root.args.get("having")
    release = _release_sql(root, columns, group_columns, aggregates, nodes)
    conditions = _conditions(root)
    return ZoneQuery(
        sql=sql, cells_sql=_cells_sql(root, columns, aggregates, unit),
        base_sql=_base_sql(root, groups, group_names, conditions, unit),
        release_sql=release, having=having.this.sql("duckdb") if having else None,
        columns=tuple(columns), groups=tuple(group_names), measures=tuple(measures),
        aggregates=tuple(aggregates),
        conditions=tuple(c.sql("duckdb") for c, movable in conditions if movable), unit=unit)


def _parse(sql: str) -> exp.Select:
    if not sql or not sql.strip():
        raise Invalid("The query is empty", code="empty_query", field="sql")
    try:
        statements = [s for s in sqlglot.parse(sql, read="duckdb") if s is not None]
    except (ParseError, TokenError) as exc:
        raise Invalid("The query cannot be read: {reason}", code="syntax_error", field="sql",
                      reason=str(exc)[:200]) from None
    if len(statements) != 1 or not isinstance(statements[0], exp.Select):
        kind = type(statements[0]).__name__.upper() if len(statements) == 1 else "several"
        raise Invalid("A safe-zone query is one SELECT (this is {kind})", code="select_only",
                      field="sql", kind=kind)
    root = statements[0]
    if root.args.get("distinct"):
        raise Invalid("SELECT DISTINCT is not allowed on the outer query of a safe zone: "
                      "group with GROUP BY instead", code="row_level_output", field="sql")
    return root


def _refuse_record_pickers(root: exp.Select) -> None:
    for node in root.walk():
        if isinstance(node, exp.Window):
            raise Invalid("Window functions pick single records and cannot run in a safe "
                          "zone: {expression}", code="window_function", field="sql",
                          expression=node.sql("duckdb")[:120])
        if isinstance(node, (exp.Values, exp.Unnest, exp.TableSample)):
            raise Invalid("{expression} copies or samples rows, which defeats the cell "
                          "counts of a safe zone", code="row_multiplier", field="sql",
                          expression=node.sql("duckdb")[:120])
        if isinstance(node, exp.Select) and node is not root:
            for arg in RECORD_PICKERS:
                if node.args.get(arg):
                    raise Invalid("{clause} inside a subquery picks single records: a safe "
                                  "zone allows it only on the outer query",
                                  code="record_picking", field="sql", clause=arg.upper())
    for clause in ("having", "order"):
        if root.args.get(clause):
            _aggregates(root.args[clause])   # refuses MIN/MAX/… there too


def _group_expressions(root: exp.Select) -> list[str]:
    """The GROUP BY keys as DuckDB SQL, with positions and aliases resolved."""
    group = root.args.get("group")
    if not group:
        return []
    if group.args.get("all"):
        return [p.unalias().sql("duckdb") for p in root.expressions
                if not _aggregates(p.unalias())]
    if any(group.args.get(x) for x in ("grouping_sets", "cube", "rollup")) or \
            any(isinstance(e, (exp.Rollup, exp.Cube, exp.GroupingSets))
                for e in group.expressions):
        raise Invalid("ROLLUP, CUBE and GROUPING SETS are not supported in a safe zone; "
                      "ask for each grouping separately", code="grouping_sets", field="sql")
    aliases = {p.alias: p.unalias() for p in root.expressions if p.alias}
    keys: list[str] = []
    for key in group.expressions:
        if isinstance(key, exp.Literal) and not key.is_string:
            key = root.expressions[int(key.this) - 1].unalias()
        elif isinstance(key, exp.Column) and not key.table and key.name in aliases:
            key = aliases[key.name]
        keys.append(key.sql("duckdb"))
    return keys


@lru_cache(maxsize=1)
def _duckdb_aggregates() -> frozenset[str]:
    """Every aggregate DuckDB knows, so that one sqlglot reads as a plain function is caught."""
    con = duckdb.connect()
    try:
        return frozenset(r[0].lower() for r in con.execute(
            "SELECT DISTINCT function_name FROM duckdb_functions() "
            "WHERE function_type = 'aggregate'").fetchall())
    finally:
        con.close()


def _aggregates(node: exp.Expr) -> list[exp.Expr]:
    """The aggregates of an outer-query expression (not inside subqueries), after refusing
    any that is not COUNT, SUM or AVG or that hides a condition."""
    found: list[exp.Expr] = []
    for sub in node.walk(prune=lambda n: isinstance(n, (exp.Subquery, exp.Select))
                         and n is not node):
        if isinstance(sub, exp.Filter) and _is_aggregate(sub.this):
            raise _conditional(sub)
        if not _is_aggregate(sub):
            continue
        if type(sub) not in ALLOWED:
            name = sub.name if isinstance(sub, exp.Anonymous) else \
                sub.sql("duckdb").split("(", 1)[0]
            raise Invalid("{function} cannot leave a safe zone: only COUNT, SUM and AVG "
                          "may (MIN, MAX, MEDIAN, quantiles, LIST, FIRST and the like reveal "
                          "single records)", code="row_level_aggregate", field="sql",
                          function=name.upper(), expression=sub.sql("duckdb")[:120])
        if sub.this and sub.this.find(*CONDITIONAL):
            raise _conditional(sub)
        found.append(sub)
    return found


def _is_aggregate(node: exp.Expr) -> bool:
    if isinstance(node, exp.AggFunc):
        return True
    return isinstance(node, exp.Anonymous) and node.name.lower() in _duckdb_aggregates()


def _conditional(node: exp.Expr) -> Invalid:
    return Invalid("{expression} hides a condition inside an aggregate, which can pick one "
                   "record past the safe zone's checks; put the condition in WHERE or group "
                   "by it", code="conditional_aggregate", field="sql",
                   expression=node.sql("duckdb")[:120])


def _row_level(projection: exp.Expr) -> Invalid:
    return Invalid("{expression} returns records: only counts, sums and means per group may "
                   "leave a safe zone", code="row_level_output", field="sql",
                   expression=projection.sql("duckdb")[:120])


def _register(node: exp.Expr, aggregates: list[Aggregate], nodes: dict[str, int]) -> int:
    key = node.sql("duckdb")
    if key not in nodes:
        nodes[key] = len(aggregates)
        aggregates.append(Aggregate(f"__a{len(aggregates)}", _kind(node), key))
    return nodes[key]


def _kind(node: exp.Expr) -> str:
    if isinstance(node, exp.Count):
        if isinstance(node.this, exp.Star) or node.this is None:
            return "count_star"
        return "count_distinct" if isinstance(node.this, exp.Distinct) else "count"
    return ALLOWED[type(node)]


def _argument(node: exp.Expr) -> exp.Expr:
    arg = node.this
    return arg.expressions[0] if isinstance(arg, exp.Distinct) else arg


def _name(projection: exp.Expr) -> str:
    if isinstance(projection, exp.Alias) or isinstance(projection, exp.Column):
        return projection.alias_or_name
    return projection.sql("duckdb")


def _unique(name: str, taken: list[str]) -> str:
    if name.startswith("__"):
        raise Invalid("Column names starting with __ are reserved in a safe zone ({name})",
                      code="reserved_name", field="sql", name=name)
    candidate, i = name, 1
    while candidate in taken:
        i += 1
        candidate = f"{name}_{i}"
    return candidate


def _ident(name: str) -> str:
    return exp.to_identifier(name, quoted=True).sql("duckdb")


def _count(unit: str | None) -> str:
    return f"COUNT(DISTINCT {_ident(unit)})" if unit else "COUNT(*)"


def _stats(aggregate: Aggregate, node: exp.Expr, unit: str | None) -> list[str]:
    out = [f"{aggregate.sql} AS {aggregate.column}_v"]
    if aggregate.kind in ("sum", "avg"):
        arg = _argument(node).sql("duckdb")
        contributors = f"COUNT(DISTINCT {_ident(unit)})" if unit else f"COUNT({arg})"
        out += [f"{contributors} FILTER (WHERE ({arg}) <> 0) AS {aggregate.column}_nz",
                f"MAX(ABS({arg})) AS {aggregate.column}_top",
                f"SUM(ABS({arg})) AS {aggregate.column}_abs"]
    return out


def _cells_sql(root: exp.Select, columns: list[str], aggregates: list[Aggregate],
               unit: str | None) -> str:
    cells = root.copy()
    for arg in ("having", "order", "limit", "offset"):
        cells.set(arg, None)
    nodes = {a.sql: sqlglot.parse_one(a.sql, read="duckdb") for a in aggregates}
    extra = [f"{_count(unit)} AS __n"]
    for aggregate in aggregates:
        extra += _stats(aggregate, nodes[aggregate.sql], unit)
    cells.set("expressions", [exp.alias_(p.unalias().copy(), name, quoted=True)
                              for p, name in zip(root.expressions, columns, strict=True)]
              + [sqlglot.parse_one(e, read="duckdb") for e in extra])
    return cells.sql("duckdb")


def _conditions(root: exp.Select) -> list[tuple[exp.Expr, bool]]:
    """The outer WHERE's AND-ed conditions, each with whether base_sql may leave it out
    (column = column is a join condition: leaving it out would make a cross product)."""
    where = root.args.get("where")
    if not where:
        return []
    parts = list(where.this.flatten()) if isinstance(where.this, exp.And) else [where.this]
    out = [(p, not (isinstance(p, exp.EQ) and isinstance(p.this, exp.Column)
                    and isinstance(p.expression, exp.Column))) for p in parts]
    if sum(movable for _, movable in out) > MAX_CONDITIONS:
        raise Invalid("A safe-zone query may have at most {limit} AND-ed WHERE conditions",
                      code="too_many_conditions", field="sql", limit=MAX_CONDITIONS)
    return out


def _base_sql(root: exp.Select, groups: list[str], names: list[str],
              conditions: list[tuple[exp.Expr, bool]], unit: str | None) -> str | None:
    movable = [i for i, (_, m) in enumerate(conditions) if m]
    if not movable:
        return None
    keys = [f"{g} AS {_ident(n)}" for g, n in zip(groups, names, strict=True)]
    variants = []
    for variant, left_out in enumerate([None, *movable]):
        query = root.copy()
        for arg in ("having", "order", "limit", "offset"):
            query.set(arg, None)
        kept = [c.copy() for i, (c, _) in enumerate(conditions) if i != left_out]
        query.set("where", exp.Where(this=exp.and_(*kept)) if kept else None)
        query.set("expressions", [sqlglot.parse_one(e, read="duckdb") for e in
                                  [*keys, f"{variant} AS __v", f"{_count(unit)} AS __c"]])
        variants.append(f"SELECT * FROM ({query.sql('duckdb')})")
    key_list = ", ".join(_ident(n) for n in names)
    partition = f" OVER (PARTITION BY {key_list})" if names else " OVER ()"
    group_by = f" GROUP BY {key_list}" if names else ""
    select_keys = f"{key_list}, " if names else ""
    return (f"SELECT {select_keys}MIN(__c) FILTER (WHERE __v > 0 AND __c > __full) AS __n0 "
            f"FROM (SELECT *, MAX(__c) FILTER (WHERE __v = 0){partition} AS __full FROM ("
            + " UNION ALL ".join(variants) + f")){group_by}")


def _release_sql(root: exp.Select, columns: list[str], group_columns: dict[str, str],
                 aggregates: list[Aggregate], nodes: dict[str, int]) -> str:
    """SELECT "__row" FROM "__cells" with HAVING, ORDER BY and LIMIT over released values."""

    def over_cells(node: exp.Expr) -> exp.Expr:
        if _is_aggregate(node):
            i = _register(node, aggregates, nodes)
            return exp.column(f"{aggregates[i].column}_v", quoted=True)
        key = node.sql("duckdb")
        if isinstance(node, exp.Expr) and key in group_columns and \
                not isinstance(node, exp.Literal):
            return exp.column(group_columns[key], quoted=True)
        return node

    text = 'SELECT "__row" FROM "__cells"'
    having = root.args.get("having")
    if having:
        text += " WHERE " + having.this.copy().transform(over_cells).sql("duckdb")
    order = root.args.get("order")
    if order:
        keys = []
        for ordered in order.expressions:
            key = ordered.this
            if isinstance(key, exp.Literal) and not key.is_string:
                key = exp.column(columns[int(key.this) - 1], quoted=True)
            elif isinstance(key, exp.Column) and not key.table and key.name in columns:
                key = exp.column(key.name, quoted=True)
            else:
                key = key.copy().transform(over_cells)
            keys.append(exp.Ordered(this=key, desc=ordered.args.get("desc"),
                                    nulls_first=False).sql("duckdb"))
        text += " ORDER BY " + ", ".join(keys) + ', "__row"'
    for clause in ("limit", "offset"):
        if root.args.get(clause):
            text += " " + root.args[clause].sql("duckdb")
    return text
