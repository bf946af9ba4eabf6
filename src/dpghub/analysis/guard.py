"""The SQL guard: one read-only query over datasets, nothing else.

sqlglot parses the text; exactly one statement, a SELECT (WITH and set operations allowed);
every table is `org.dataset` or `org.dataset@VERSION`, or a name the query itself defines
(a CTE); no table functions, no functions that reach outside the data (files, settings,
environment). The tables are then renamed to the sandbox's views. The DuckDB sandbox refuses
file and network access on its own too: this is the first of two walls.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

import sqlglot
from sqlglot import exp
from sqlglot.errors import ParseError

from ..core.errors import Forbidden, Invalid

VERSIONED = re.compile(r'(?<![\w"])([A-Za-z_][\w]*)\.([A-Za-z_][\w]*)@(\d+)')
DENIED_FUNCTIONS = re.compile(
    r"^(read_\w+|glob|getenv|current_setting|duckdb_\w+|pragma_\w+|sniff_csv|parquet_\w+|"
    r"query|query_table|iceberg_\w+|delta_scan|sqlite_\w+|postgres_\w+|mysql_\w+|"
    r"load_\w+|install_\w+|which_secret|enable_\w+|disable_\w+|checkpoint|force_checkpoint|"
    r"set_\w+|export_\w+|import_\w+|system|shell)$", re.I)
ALLOWED_ROOTS = (exp.Select, exp.Union, exp.Intersect, exp.Except)


@dataclass
class TableRef:
    schema: str        # as written: org with dashes as underscores
    name: str          # dataset with dashes as underscores
    version: int | None
    view: str = ""     # the sandbox view it reads (set by the guard, read-only after)

    @property
    def key(self) -> tuple[str, str, int | None]:
        return (self.schema.lower(), self.name.lower(), self.version)


@dataclass(frozen=True)
class GuardedQuery:
    sql: str                       # DuckDB SQL over the sandbox views
    tables: tuple[TableRef, ...] = ()


def guard(text: str) -> GuardedQuery:
    """Check `text`; return DuckDB SQL reading views `t0`, `t1`, … and the tables it needs.

    The answer depends on the text alone, so it is remembered: a dashboard that repeats a
    query should not pay for parsing it (≈ 1 ms) every time. Refusals are not remembered."""
    return _guard(text)


@lru_cache(maxsize=512)
def _guard(text: str) -> GuardedQuery:
    if not text or not text.strip():
        raise Invalid("The query is empty", code="empty_query", field="sql")
    prepared = VERSIONED.sub(lambda m: f'{m.group(1)}."{m.group(2)}@{m.group(3)}"', text)
    try:
        statements = [s for s in sqlglot.parse(prepared, read="duckdb") if s is not None]
    except ParseError as exc:
        first = exc.errors[0] if exc.errors else {}
        raise Invalid("Syntax error at line {line}, column {col}: {reason}",
                      code="syntax_error", field="sql", line=first.get("line", 1),
                      col=first.get("col", 1),
                      reason=str(first.get("description", exc))[:200]) from None
    if len(statements) != 1:
        raise Forbidden("Send exactly one statement; this text has {count}",
                        code="one_statement_only", count=len(statements))
    tree = statements[0]
    if not isinstance(tree, ALLOWED_ROOTS):
        raise Forbidden("Only SELECT queries are allowed (this is {kind})",
                        code="select_only", kind=type(tree).__name__.upper())
    for node in tree.walk():
        if isinstance(node, (exp.Insert, exp.Update, exp.Delete, exp.Create, exp.Drop,
                             exp.Copy, exp.Command, exp.Set, exp.Pragma, exp.Attach,
                             exp.Detach, exp.Into)):
            raise Forbidden("Only SELECT queries are allowed (this is {kind})",
                            code="select_only", kind=type(node).__name__.upper())
        if isinstance(node, exp.Func):
            name = node.name if isinstance(node, exp.Anonymous) else node.sql_name()
            if DENIED_FUNCTIONS.match(name or ""):
                raise Forbidden("The function {name} is not allowed in the sandbox",
                                code="function_not_allowed", name=name.lower())
    ctes = {cte.alias_or_name.lower() for cte in tree.find_all(exp.CTE)}
    tables: dict[tuple[str, str, int | None], TableRef] = {}
    for table in list(tree.find_all(exp.Table)):
        if not isinstance(table.this, exp.Identifier):
            raise Forbidden("Table functions are not allowed; name datasets as org.dataset",
                            code="table_function_not_allowed")
        if table.catalog:
            raise Forbidden("Name datasets as org.dataset (no catalog part)",
                            code="unknown_table")
        if not table.db:
            if table.name.lower() in ctes:
                continue
            raise Invalid("Unknown table {name}: name datasets as org.dataset",
                          code="unknown_table", field="sql", name=table.name)
        name, version = table.name, None
        if "@" in name:
            name, _, number = name.partition("@")
            version = int(number)
        ref = TableRef(table.db, name, version)
        ref = tables.setdefault(ref.key, ref)
        if not ref.view:
            ref.view = f"t{len(tables) - 1}"
        alias = table.alias or name
        table.replace(exp.Table(this=exp.to_identifier(ref.view, quoted=True),
                                alias=exp.TableAlias(this=exp.to_identifier(alias,
                                                                            quoted=True))))
    return GuardedQuery(tree.sql(dialect="duckdb"), tuple(tables.values()))
