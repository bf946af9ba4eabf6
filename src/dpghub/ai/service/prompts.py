"""The prompts of the hub's own AI features, and reading the model's answers back.

Ask the data: a system message with the rules, the region functions and the schema of each
table the asker may read (SQL name, title, columns with types and a few values), then the
question; the answer is one statement, in a ```sql block or plain. Catalogue Q&A: the
records found, numbered, and the question; the answer cites them as [1], [2]."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

MAX_SCHEMA_CHARS = 24_000      # the tables' part of the prompt (≈ 8k tokens of Korean)
MAX_DESCRIPTION = 300
MAX_VALUE = 40                 # characters of one example value
EXAMPLES = 4                   # values shown per column
PLAIN_NAME = re.compile(r"^[^\W\d]\w*$")

SQL_RULES = """You translate a question about data into ONE DuckDB SQL query over the \
tables listed below, for the DPG Hub's SQL sandbox.

Rules:
- Write a single SELECT statement (WITH … SELECT and UNION are fine). Nothing else runs: \
no INSERT, UPDATE, DELETE, CREATE, COPY, ATTACH, INSTALL, LOAD, SET or PRAGMA, no table \
functions such as read_csv or read_parquet, no files or URLs.
- Use only the tables below, named exactly as shown (schema.table), and only their columns. \
Put a column name in double quotes when it is not a plain word (it starts with a digit or \
holds spaces or symbols), as shown.
- Region functions join data that gives Korean region names or addresses with data that \
gives codes:
  sigungu_code(text [, text]) — the 5-digit 시군구 code of a name, a code or a whole \
address; two arguments are read together: sigungu_code(시도명, 시군구명);
  sido_code(text) — the 2-digit 시도 code;
  region_name(code) — the current name of a 시도 or 시군구 code;
  hdong_name(code) — the name of a 행정동 code.
  Group by codes, not by names (names differ between files: 강원도 and 강원특별자치도), and \
show region_name(code).
- Name the result columns in the language of the question.
- Answer with the SQL only, in a ```sql code block, without explanations.
- When the tables cannot answer the question, answer with the single line \
"-- cannot answer: " and the reason."""

REPAIR = """The database refused or failed to run that statement:

{error}

Write the corrected statement, following the same rules. Answer with the SQL only, in a \
```sql code block."""

QA_RULES = {
    "ko": """당신은 DPG 허브의 카탈로그 안내원입니다. 아래의 번호 붙은 기록(데이터셋, 서비스(API), \
FAQ)만을 근거로 질문에 한국어로 짧게 답하세요.
- 답에 쓴 기록은 [1], [2]처럼 번호로 밝히세요.
- 기록에 없는 내용은 지어내지 말고, 기록으로 답할 수 없으면 "모르겠습니다"라고 답하세요.""",
    "en": """You are the DPG Hub's catalogue guide. Answer the question briefly in English, \
using only the numbered records below (datasets, services (APIs) and FAQ entries).
- Cite each record you use by its number, as [1], [2].
- Invent nothing; when the records do not answer the question, say "I don't know".""",
}

CITATION = re.compile(r"\[(\d{1,3})\]")
SQL_BLOCK = re.compile(r"```[ \t]*(?:sql|duckdb|postgresql)?[ \t]*\n?(.*?)```",
                       re.S | re.I)
SQL_START = re.compile(r"^\s*(?:\(\s*)?(SELECT|WITH)\b", re.I | re.M)
CANNOT = re.compile(r"^\s*--\s*cannot answer\s*:?\s*(.*)$", re.I | re.M)


# --- ask the data --------------------------------------------------------------------------


@dataclass
class Column:
    name: str
    type: str
    examples: list[str] = field(default_factory=list)


@dataclass
class Table:
    """One table as the prompt shows it."""

    name: str                 # as the SQL engine knows it: org.dataset
    title: str
    description: str
    rows: int | None
    columns: list[Column]


def quoted(name: str) -> str:
    """A column name as SQL needs it written."""
    return name if PLAIN_NAME.match(name) else '"' + name.replace('"', '""') + '"'


def value_text(value: Any) -> str:
    text = " ".join(str(value).split())
    return text if len(text) <= MAX_VALUE else text[:MAX_VALUE - 1] + "…"


def table_text(table: Table) -> str:
    head = f"### {table.name} — {table.title}"
    lines = [head]
    about = " ".join(table.description.split())
    if len(about) > MAX_DESCRIPTION:
        about = about[:MAX_DESCRIPTION - 1] + "…"
    facts = [f"{table.rows:,} rows." if table.rows is not None else "", about]
    if any(facts):
        lines.append(" ".join(f for f in facts if f))
    for column in table.columns:
        line = f"- {quoted(column.name)} {column.type}"
        if column.examples:
            line += " — e.g. " + ", ".join(column.examples)
        lines.append(line)
    return "\n".join(lines)


def schema_text(tables: list[Table]) -> tuple[str, int]:
    """The tables' part of the prompt within MAX_SCHEMA_CHARS, and how many did not fit."""
    parts: list[str] = []
    used = 0
    for position, table in enumerate(tables):
        text = table_text(table)
        if used + len(text) > MAX_SCHEMA_CHARS and parts:
            return "\n\n".join(parts), len(tables) - position
        parts.append(text)
        used += len(text) + 2
    return "\n\n".join(parts), 0


def sql_messages(question: str, tables: list[Table]) -> list[dict[str, Any]]:
    schema, left_out = schema_text(tables)
    if not tables:
        schema = "(none: the asker may read no dataset)"
    elif left_out:
        schema += f"\n\n({left_out} more tables are not shown: the least related to the question)"
    return [{"role": "system", "content": f"{SQL_RULES}\n\nTables:\n\n{schema}"},
            {"role": "user", "content": question}]


def repair_messages(messages: list[dict[str, Any]], answer: str,
                    error: str) -> list[dict[str, Any]]:
    """The conversation once more, with the model's answer and the error it met."""
    return [*messages, {"role": "assistant", "content": answer},
            {"role": "user", "content": REPAIR.format(error=error)}]


@dataclass(frozen=True)
class SqlAnswer:
    sql: str | None           # the statement, when the answer holds one
    cannot: str | None        # the model's reason when it says the tables cannot answer


def read_sql(answer: str) -> SqlAnswer:
    """The statement in a model's answer: the first ```sql block, else the text from its
    first SELECT/WITH line; without a trailing semicolon."""
    cannot = CANNOT.search(answer)
    block = SQL_BLOCK.search(answer)
    if block:
        text = block.group(1)
    elif cannot:
        return SqlAnswer(None, cannot.group(1).strip() or "the tables cannot answer it")
    else:
        start = SQL_START.search(answer)
        text = answer[start.start():] if start else answer
    text = text.strip().rstrip(";").strip()
    if not text:
        if cannot:
            return SqlAnswer(None, cannot.group(1).strip() or "the tables cannot answer it")
        return SqlAnswer(None, None)
    return SqlAnswer(text, None)


# --- catalogue Q&A -------------------------------------------------------------------------


@dataclass
class Record:
    """One record found for a question, as the prompt numbers it."""

    kind: str                 # dataset | service | faq
    ref: str
    title: str
    description: str
    url: str
    extra: str = ""           # a dataset's columns, a service's operations


def qa_messages(question: str, records: list[Record], lang: str) -> list[dict[str, Any]]:
    shown = []
    for number, record in enumerate(records, start=1):
        about = " ".join(record.description.split())
        if len(about) > 600:
            about = about[:599] + "…"
        lines = [f"[{number}] {record.kind} {record.ref}: {record.title}", f"link: {record.url}"]
        if about:
            lines.append(about)
        if record.extra:
            lines.append(record.extra)
        shown.append("\n".join(lines))
    context = "\n\n".join(shown)
    return [{"role": "system", "content": f"{QA_RULES[lang]}\n\nRecords:\n\n{context}"},
            {"role": "user", "content": question}]


def cited(answer: str, count: int) -> list[int]:
    """The record numbers an answer cites, in order of first citation; numbers the prompt
    did not show are dropped."""
    found: list[int] = []
    for match in CITATION.finditer(answer):
        number = int(match.group(1))
        if 1 <= number <= count and number not in found:
            found.append(number)
    return found
