"""Korean region codes: 시도 (2 digits), 시군구 (5), 법정동/행정동 (10), from names or codes.

The reference is built from official code files — the 법정동코드 list (국토교통부 CSV), the
행정표준코드 table (행정안전부 KIKcd xlsx), or the same tables as PublicDataReader ships them —
including abolished codes. Names are normalised before matching: full-width characters and
spaces, doubled spaces, short province names ("서울", "경북"), renamed provinces (강원도 →
강원특별자치도, 전라북도 → 전북특별자치도), a 시도 repeated in the 시군구 column, "없음" for
세종, codes in brackets ("서울특별시 종로구 (1111000000)"), and whole addresses.
"""

from __future__ import annotations

import csv
import json
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from ..core import reference_data

SIDO = {
    "11": ("서울특별시", ("서울", "서울시")),
    "26": ("부산광역시", ("부산", "부산시")),
    "27": ("대구광역시", ("대구", "대구시")),
    "28": ("인천광역시", ("인천", "인천시")),
    "29": ("광주광역시", ("광주", "광주시")),
    "30": ("대전광역시", ("대전", "대전시")),
    "31": ("울산광역시", ("울산", "울산시")),
    "36": ("세종특별자치시", ("세종", "세종시")),
    "41": ("경기도", ("경기",)),
    "43": ("충청북도", ("충북",)),
    "44": ("충청남도", ("충남",)),
    "46": ("전라남도", ("전남",)),
    "47": ("경상북도", ("경북",)),
    "48": ("경상남도", ("경남",)),
    "50": ("제주특별자치도", ("제주", "제주도")),
    "51": ("강원특별자치도", ("강원", "강원도")),
    "52": ("전북특별자치도", ("전북", "전라북도")),
}
RENUMBERED = {"42": "51", "45": "52"}  # 강원 (2023-06-11), 전북 (2024-01-18): same suffixes
SEJONG = "36110"
EMPTY = {"", "없음", "-", "해당없음"}
CODE = re.compile(r"(?<!\d)(\d{10}|\d{5})(?!\d)")
BRACKETS = re.compile(r"\([^)]*\)|\[[^]]*\]")


def _alias_table() -> dict[str, str]:
    table = {}
    for code, (name, aliases) in SIDO.items():
        table[name] = code
        for alias in aliases:
            table[alias] = code
    return table


SIDO_ALIASES = _alias_table()


def normalize(text: str) -> str:
    """NFKC (full-width letters and spaces), one space between words, trimmed."""
    return " ".join(unicodedata.normalize("NFKC", text).split())


@dataclass
class RegionIndex:
    names: dict[str, str] = field(default_factory=dict)          # code → current full name
    abolished: set[str] = field(default_factory=set)              # codes no longer in use
    sigungu: dict[tuple[str, str], list[str]] = field(default_factory=dict)  # (sido, name)
    by_name: dict[str, list[str]] = field(default_factory=dict)   # sigungu name alone → codes
    hdong: dict[str, str] = field(default_factory=dict)           # 행정동 code → name
    source: str = ""

    def add_hdong(self, code: str, name: str, abolished: bool) -> None:
        """행정동 (administrative) codes: their own space below 시군구, kept apart from 법정동."""
        code = code.strip()
        if code.isdigit() and len(code) == 10 and (not abolished or code not in self.hdong):
            self.hdong[code] = normalize(name)

    def add(self, code: str, name: str, abolished: bool) -> None:
        code = code.strip()
        if not code.isdigit() or len(code) != 10:
            return
        name = normalize(name)
        short = code[:5] if code[5:] == "00000" else code
        short = code[:2] if code[2:] == "00000000" else short
        if abolished:
            self.abolished.add(short)
        if short not in self.names or (short in self.abolished and not abolished):
            self.names[short] = name
        if not abolished and short in self.abolished:
            self.abolished.discard(short)
        if len(short) == 5 and short[2:] != "000":
            parts = name.split(" ", 1)
            if len(parts) == 2:
                sido = SIDO_ALIASES.get(parts[0], RENUMBERED.get(short[:2], short[:2]))
                key = (sido, parts[1])
                codes = self.sigungu.setdefault(key, [])
                if short not in codes:
                    codes.append(short)
                alone = self.by_name.setdefault(parts[1], [])
                if short not in alone:
                    alone.append(short)

    def best(self, codes: list[str]) -> str | None:
        """The one code in use (an abolished code and its successor share a name); None when
        the name is ambiguous ("중구" alone is in six 시도)."""
        active = sorted({c for c in codes if c not in self.abolished})
        if len(active) == 1:
            return active[0]
        if not active and len(set(codes)) == 1:
            return codes[0]
        return None

    def current(self, code: str) -> str:
        """Follow a province renumbering (45111 → 52111) when the successor exists."""
        if code in self.abolished and code[:2] in RENUMBERED:
            successor = RENUMBERED[code[:2]] + code[2:]
            if successor in self.names:
                return successor
        return code

    # --- lookups ---------------------------------------------------------------------------

    def sigungu_code(self, text: str | None) -> str | None:
        if text is None:
            return None
        return _sigungu(self, normalize(str(text)))

    def sido_code(self, text: str | None) -> str | None:
        if text is None:
            return None
        value = normalize(str(text))
        match = CODE.search(value)
        if match:
            code = self.current(match.group(1)[:5])
            return code[:2] if code[:2] in SIDO or code[:2] in self.names else None
        first = BRACKETS.sub(" ", value).split(" ", 1)[0] if value else ""
        return SIDO_ALIASES.get(first)

    def region_name(self, code: str | None) -> str | None:
        if code is None:
            return None
        value = re.sub(r"\D", "", str(code))
        if len(value) == 10:
            value = value[:2] if value[2:] == "00000000" else (
                value[:5] if value[5:] == "00000" else value)
        if len(value) == 2 and value in SIDO:
            return SIDO[value][0]
        value = self.current(value)
        return self.names.get(value)

    def hdong_name(self, code: str | None) -> str | None:
        """The name of a 10-digit 행정동 code (or its 시군구 when it is one)."""
        if code is None:
            return None
        value = re.sub(r"\D", "", str(code))
        return self.hdong.get(value) or (self.region_name(value) if len(value) == 10 else None)


def _sigungu(index: RegionIndex, value: str) -> str | None:
    match = CODE.search(value)
    if match:
        code = index.current(match.group(1)[:5])
        if code in index.names and code[2:] != "000":
            return code
        if code == "36000" or code[:2] == "36":
            return SEJONG
        return None
    words = [w for w in BRACKETS.sub(" ", value).split(" ") if w]
    if not words:
        return None
    sido = SIDO_ALIASES.get(words[0])
    rest = words[1:] if sido else words
    while rest and SIDO_ALIASES.get(rest[0]) == sido and sido:  # "서울특별시 서울특별시 도봉구"
        rest = rest[1:]
    if sido == "36":
        return SEJONG
    rest = [w for w in rest if w not in EMPTY]
    if not rest:
        return None
    candidates = (" ".join(rest[:2]), rest[0]) if len(rest) > 1 else (rest[0],)
    for name in candidates:
        codes = index.sigungu.get((sido, name)) if sido else index.by_name.get(name)
        if codes:
            found = index.best(codes)
            if found:
                return found
    return None


# --- building the reference ------------------------------------------------------------------


def build(paths: Iterable[Path]) -> RegionIndex:
    """Read official code files (CSV 법정동코드, KIKcd xlsx, PublicDataReader JSON)."""
    index = RegionIndex()
    names = []
    for path in paths:
        suffix = path.suffix.lower()
        if suffix == ".json":
            _from_columns_json(index, path)
        elif suffix in (".xlsx", ".xls"):
            _from_kikcd(index, path)
        else:
            _from_bjd_csv(index, path)
        names.append(path.name)
    index.source = ", ".join(names)
    return index


def _from_bjd_csv(index: RegionIndex, path: Path) -> None:
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = raw.decode("cp949")
    rows = csv.reader(text.splitlines())
    header = next(rows)
    code_at = _column(header, "법정동코드", "행정동코드", "코드")
    name_at = _column(header, "법정동명", "행정동명", "행정구역명", "명칭")
    state_at = _column(header, "폐지여부", "말소여부", default=None)
    for row in rows:
        if len(row) > max(code_at, name_at):
            state = row[state_at] if state_at is not None and len(row) > state_at else ""
            index.add(row[code_at], row[name_at], state.strip() == "폐지")


def _from_kikcd(index: RegionIndex, path: Path) -> None:
    from python_calamine import CalamineWorkbook

    rows = CalamineWorkbook.from_path(str(path)).get_sheet_by_index(0).to_python()
    header = [str(h) for h in rows[0]]
    code_at = _column(header, "법정동코드", "행정동코드")
    parts = [header.index(h) for h in ("시도명", "시군구명", "읍면동명", "동리명") if h in header]
    gone_at = _column(header, "말소일자", default=None)
    for row in rows[1:]:
        code = row[code_at]
        code = str(int(code)) if isinstance(code, float) else str(code)
        name = " ".join(str(row[i]) for i in parts if row[i] not in (None, ""))
        gone = row[gone_at] if gone_at is not None else None
        index.add(code, name, gone not in (None, ""))


def _from_columns_json(index: RegionIndex, path: Path) -> None:
    data = json.loads(path.read_text(encoding="utf-8"))
    administrative = "법정동코드" not in data
    code_key = "행정동코드" if administrative else "법정동코드"
    parts = [k for k in ("시도명", "시군구명", "읍면동명", "동리명") if k in data]
    for row, code in data[code_key].items():
        name = " ".join(str(data[k][row]) for k in parts
                        if isinstance(data[k].get(row), str) and data[k][row])
        gone = data.get("말소일자", {}).get(row)
        abolished = isinstance(gone, str) and bool(gone)
        if administrative:
            index.add_hdong(str(code), name, abolished)
        else:
            index.add(str(code), name, abolished)


def _column(header: list[str], *names: str, default: int | None | str = "missing") -> int:
    cleaned = [h.replace("\ufeff", "").strip() for h in header]
    for name in names:
        if name in cleaned:
            return cleaned.index(name)
    if default == "missing":
        raise ValueError(f"no column named {' or '.join(names)} in {cleaned[:10]}")
    return default  # type: ignore[return-value]


def save(index: RegionIndex, target: Path) -> None:
    rows = [[code, name, code in index.abolished] for code, name in sorted(index.names.items())]
    target.write_text(json.dumps({"source": index.source, "regions": rows,
                                  "hdong": sorted(index.hdong.items())}, ensure_ascii=False),
                      encoding="utf-8")


def load(path: Path) -> RegionIndex:
    data = json.loads(path.read_text(encoding="utf-8"))
    index = RegionIndex(source=data.get("source", ""))
    for code, name, abolished in data["regions"]:
        padded = code + "0" * (10 - len(code))
        index.add(padded, name, abolished)
    for code, name in data.get("hdong", []):
        index.add_hdong(code, name, False)
    return index


def default_sources() -> list[Path]:
    """Official files the hub can find by itself: ../shared/data/kr, else PublicDataReader."""
    shared = reference_data.shared_data_dir()
    packaged = reference_data.packaged_data_dir()
    found = []
    if shared is not None:
        found.append(shared / "bjd_code_molit" / "국토교통부_법정동코드_20240805.csv")
    elif packaged is not None:
        found.append(packaged / "code_bdong.json")
    if packaged is not None:
        found.append(packaged / "code_hdong.json")  # 행정동, the administrative districts
    return [p for p in found if p.exists()]


@lru_cache(maxsize=4)
def reference(home: str, stamp: float) -> RegionIndex:
    path = Path(home) / "regions.json"
    if path.exists():
        return load(path)
    return build(default_sources())


def index_for(home: Path) -> RegionIndex:
    """The hub's reference: `$DPGHUB_HOME/regions.json` (`dpghub regions load`) or defaults."""
    path = home / "regions.json"
    stamp = path.stat().st_mtime if path.exists() else 0.0
    return reference(str(home), stamp)
