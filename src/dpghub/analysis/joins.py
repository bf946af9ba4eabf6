"""Join suggestions: which columns of two datasets link them, and how well.

For each text or integer column (and the pair 시도명 + 시군구명, when a dataset has both) the
distinct values are read once; a column "speaks" region codes when most of its values resolve
to a 시군구 code (names, bracketed codes, addresses). Pairs are proposed when the same values
appear on both sides (same codes) or when both sides map to the same 시군구 codes (names that
map to codes). The match rate is measured over the left dataset's distinct keys, and the keys
that found no partner are listed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import duckdb

from ..core.duck import quote_ident
from .regions import RegionIndex

MAX_DISTINCT = 20_000
MIN_RATE = 0.3
SIDO_NAMES = ("시도명", "설치시도명", "시도")
SIGUNGU_NAMES = ("시군구명", "시군구")


@dataclass
class KeyColumn:
    label: str                # column name, or "시도명 + 시군구명"
    expression: str           # SQL producing the key text
    values: set[str] = field(default_factory=set)
    regions: dict[str, str] = field(default_factory=dict)  # value → 시군구 code

    @property
    def region_share(self) -> float:
        return len(self.regions) / len(self.values) if self.values else 0.0


def key_columns(con: duckdb.DuckDBPyConnection, source: str, columns: list[dict[str, Any]],
                regions: RegionIndex) -> list[KeyColumn]:
    candidates = [KeyColumn(c["name"], f"CAST({quote_ident(c['name'])} AS VARCHAR)")
                  for c in columns if c["type"] in ("text", "integer")
                  and c["name"] != "_source_file"]
    names = {c["name"] for c in columns}
    sido = next((n for n in SIDO_NAMES if n in names), None)
    sigungu = next((n for n in SIGUNGU_NAMES if n in names), None)
    if sido and sigungu:
        candidates.append(KeyColumn(f"{sido} + {sigungu}", f"concat_ws(' ', "
                                    f"{quote_ident(sido)}, {quote_ident(sigungu)})"))
    for key in candidates:
        rows = con.execute(f"SELECT DISTINCT {key.expression} FROM {source} WHERE "
                           f"{key.expression} IS NOT NULL LIMIT {MAX_DISTINCT}").fetchall()
        key.values = {str(r[0]) for r in rows}
        for value in key.values:
            code = regions.sigungu_code(value)
            if code:
                key.regions[value] = code
    return [k for k in candidates if k.values]


def suggest(left: list[KeyColumn], right: list[KeyColumn], limit: int = 5
            ) -> list[dict[str, Any]]:
    suggestions = []
    for a in left:
        for b in right:
            same = a.values & b.values
            rate = len(same) / len(a.values)
            if rate >= MIN_RATE and len(same) > 1:
                suggestions.append(_suggestion(a, b, "same values", rate,
                                               sorted(a.values - b.values)))
            if a.region_share >= 0.5 and b.region_share >= 0.5:
                right_codes = set(b.regions.values())
                matched = [v for v, code in a.regions.items() if code in right_codes]
                rate = len(matched) / len(a.values)
                if rate >= MIN_RATE:
                    missing = sorted(v for v in a.values if a.regions.get(v) not in right_codes)
                    suggestions.append(_suggestion(a, b, "시군구 code", rate, missing))
    suggestions.sort(key=lambda s: (-s["match_rate"], s["left"], s["right"]))
    seen = set()
    unique = []
    for item in suggestions:
        key = (item["left"], item["right"])
        if key not in seen:
            seen.add(key)
            unique.append(item)
    return unique[:limit]


def _suggestion(a: KeyColumn, b: KeyColumn, how: str, rate: float,
                missing: list[str]) -> dict[str, Any]:
    join = (f"ON sigungu_code({_arg(a)}) = sigungu_code({_arg(b)})" if how == "시군구 code"
            else f"ON {_arg(a)} = {_arg(b)}")
    return {"left": a.label, "right": b.label, "how": how, "match_rate": round(rate, 4),
            "left_keys": len(a.values), "unmatched": missing[:20],
            "unmatched_count": len(missing), "join": join}


def _arg(key: KeyColumn) -> str:
    parts = [p.strip() for p in key.label.split("+")]
    return ", ".join(f'"{p}"' for p in parts)
