"""The SQL guard: one read-only query over datasets, nothing else.

sqlglot reads the text; exactly one statement, a SELECT (WITH and set operations allowed);
every table is `org.dataset` or `org.dataset@VERSION`, or a name the query itself defines
(a CTE); no table functions, no functions that reach outside the data (files, settings,
environment). The tables are then renamed to the sandbox's views. The DuckDB sandbox refuses
file and network access on its own too: this is the first of two walls.

The guard runs inside a query worker process (`worker.py`), under the query's time limit and
the worker's memory limit: parsing is pure Python and cannot be interrupted otherwise, and a
pathological text must not hold the hub's own process.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from sqlglot import exp
from sqlglot.dialects.dialect import Dialect
from sqlglot.errors import ParseError, TokenError
from sqlglot.tokens import Token, TokenType

from ..core.errors import Forbidden, Invalid

DENIED_FUNCTIONS = re.compile(
    r"^(read_\w+|glob|getenv|current_setting|duckdb_\w+|pragma_\w+|sniff_csv|parquet_\w+|"
    r"query|query_table|iceberg_\w+|delta_scan|sqlite_\w+|postgres_\w+|mysql_\w+|"
    r"load_\w+|install_\w+|which_secret|enable_\w+|disable_\w+|checkpoint|force_checkpoint|"
    r"set_\w+|export_\w+|import_\w+|system|shell)$", re.I)
ALLOWED_ROOTS = (exp.Select, exp.Union, exp.Intersect, exp.Except)
NAME_TOKENS = (TokenType.VAR, TokenType.IDENTIFIER)
CKAN_RESOURCE = re.compile(r"^([a-z0-9][a-z0-9-]*)__([a-z0-9][a-z0-9-]*)$")
HEREDOC = re.compile(r"\$(\w*)\$")
DUCKDB = Dialect.get_or_raise("duckdb")


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


def guard(text: str, *, ckan_names: bool = False) -> GuardedQuery:
    """Check `text`; return DuckDB SQL reading views `t0`, `t1`, … and the tables it needs.

    `ckan_names` also reads a table named like a CKAN resource id (`"org__dataset"`) as
    `org.dataset`. The answer depends on the arguments alone, so it is remembered; refusals
    are not."""
    return _guard(text, ckan_names)


@lru_cache(maxsize=512)
def _guard(text: str, ckan_names: bool) -> GuardedQuery:
    if not text or not text.strip():
        raise Invalid("The query is empty", code="empty_query", field="sql")
    try:
        tokens, versions = _versions(_tokens(text))
        statements = [s for s in DUCKDB.parser().parse(tokens, text) if s is not None]
    except ParseError as exc:
        first = exc.errors[0] if exc.errors else {}
        raise Invalid("Syntax error at line {line}, column {col}: {reason}",
                      code="syntax_error", field="sql", line=first.get("line", 1),
                      col=first.get("col", 1),
                      reason=str(first.get("description", exc))[:200]) from None
    except RecursionError:
        raise too_deep() from None
    if len(statements) != 1:
        raise Forbidden("Send exactly one statement; this text has {count}",
                        code="one_statement_only", count=len(statements))
    try:
        return _check(text, statements[0], versions, ckan_names)
    except RecursionError:
        raise too_deep() from None


def too_deep() -> Invalid:
    return Invalid("The query is nested too deeply to check (beyond the parser's depth); use "
                   "fewer nested subqueries or parentheses", code="query_too_deep", field="sql")


def _tokens(text: str) -> list[Token]:
    try:
        return DUCKDB.tokenize(text)
    except TokenError as exc:
        offset, reason = _unterminated(text) or (_failed_at(exc, len(text)), "cannot be read")
        line, col = position(text, offset)
        raise Invalid("Syntax error at line {line}, column {col}: {reason}",
                      code="syntax_error", field="sql", line=line, col=col,
                      reason=reason) from None


def _versions(tokens: list[Token]) -> tuple[list[Token], dict[int, tuple[int, Token]]]:
    """`name@3` read from the tokens, so that string literals, comments and quoted names
    are never touched: the `@` and the number are taken out, and the version is remembered
    by where the name starts (the parser keeps that position on the name it makes)."""
    kept: list[Token] = []
    versions: dict[int, tuple[int, Token]] = {}
    i = 0
    while i < len(tokens):
        token = tokens[i]
        if (token.token_type == TokenType.PARAMETER and token.text == "@" and kept
                and i + 1 < len(tokens) and kept[-1].token_type in NAME_TOKENS
                and kept[-1].end + 1 == token.start
                and tokens[i + 1].token_type == TokenType.NUMBER
                and tokens[i + 1].text.isdigit() and token.end + 1 == tokens[i + 1].start):
            versions[kept[-1].start] = (int(tokens[i + 1].text), token)
            i += 2
            continue
        kept.append(token)
        i += 1
    return kept, versions


def _check(text: str, tree: exp.Expr, versions: dict[int, tuple[int, Token]],
           ckan_names: bool) -> GuardedQuery:
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
        found = versions.pop(table.this.meta.get("start", -1), None)
        version = found[0] if found else None
        if table.catalog:
            raise Forbidden("Name datasets as org.dataset (no catalog part)",
                            code="unknown_table")
        schema, name = table.db, table.name
        resource = CKAN_RESOURCE.match(name) if ckan_names and not schema else None
        if resource and name.lower() not in ctes:
            schema, name = (part.replace("-", "_") for part in resource.groups())
        if not schema:
            if name.lower() in ctes and version is None:
                continue
            raise Invalid("Unknown table {name}: name datasets as org.dataset",
                          code="unknown_table", field="sql", name=table.name)
        ref = TableRef(schema, name, version)
        ref = tables.setdefault(ref.key, ref)
        if not ref.view:
            ref.view = f"t{len(tables) - 1}"
        alias = table.alias or table.name
        table.replace(exp.Table(this=exp.to_identifier(ref.view, quoted=True),
                                alias=exp.TableAlias(this=exp.to_identifier(alias,
                                                                            quoted=True))))
    for version, at in versions.values():   # `x@3` where x is no table
        line, col = position(text, at.start)
        raise Invalid("Syntax error at line {line}, column {col}: {reason}",
                      code="syntax_error", field="sql", line=line, col=col,
                      reason=f"@{version} must follow a table name (org.dataset@{version})")
    return GuardedQuery(tree.sql(dialect="duckdb"), tuple(tables.values()))


def position(text: str, offset: int) -> tuple[int, int]:
    """Line and column (from 1) of a character offset."""
    offset = max(0, min(offset, len(text)))
    line_start = text.rfind("\n", 0, offset) + 1
    return text.count("\n", 0, offset) + 1, offset - line_start + 1


def _unterminated(text: str) -> tuple[int, str] | None:
    """Where a string, quoted name or comment opens that never closes (sqlglot's tokenizer
    says only that it failed). DuckDB's rules: '' and "" escape their quote, E'…' also
    takes backslash escapes, block comments nest, $tag$…$tag$ quotes."""
    i, n = 0, len(text)
    while i < n:
        char = text[i]
        if text.startswith("--", i):
            end = text.find("\n", i)
            i = n if end < 0 else end + 1
        elif text.startswith("/*", i):
            depth, j = 1, i + 2
            while depth and j < n:
                if text.startswith("/*", j):
                    depth, j = depth + 1, j + 2
                elif text.startswith("*/", j):
                    depth, j = depth - 1, j + 2
                else:
                    j += 1
            if depth:
                return i, "unterminated comment (/* without */)"
            i = j
        elif char in "'\"":
            backslash = char == "'" and i > 0 and text[i - 1] in "eE" and \
                not (i > 1 and (text[i - 2].isalnum() or text[i - 2] == "_"))
            j = i + 1
            while j < n:
                if backslash and text[j] == "\\":
                    j += 2
                elif text.startswith(char * 2, j):
                    j += 2
                elif text[j] == char:
                    break
                else:
                    j += 1
            if j >= n:
                return i, ("unterminated string (' without its closing ')" if char == "'"
                           else 'unterminated quoted name (" without its closing ")')
            i = j + 1
        elif char == "$" and (tag := HEREDOC.match(text, i)):
            end = text.find(tag.group(0), tag.end())
            if end < 0:
                return i, f"unterminated {tag.group(0)} string"
            i = end + len(tag.group(0))
        else:
            i += 1
    return None


def _failed_at(exc: TokenError, size: int) -> int:
    """The tokenizer's position, from the context it reports (50 characters either side)."""
    start, end = getattr(exc, "start", None), getattr(exc, "end", None)
    if start:
        return start + 50
    if end is not None and end < size - 1:
        return max(end - 50, 0)
    return 0
