"""DuckDB SQL for each kind: which text looks like it (the family's pattern) and which of those
is real (its check digit, birth date, prefix).

Kinds that share a shape share one pattern, a *family*, so a value is searched once per shape,
not once per kind: rrn, frn and crn are all NNNNNN-NNNNNNN; mobile and landline are both phone
numbers. Each family gives, per value, its first candidate `c` (or '' when there is none) and a
few normalised fields computed from it (`n`, the digits as a BIGINT, …); each kind then says
which candidates are its own (`candidate`) and which of those are valid (`valid`).

Boundaries: RE2 (DuckDB's regex engine) has no look-around, so a pattern consumes one non-digit
on each side of a number: `(?:^|[^0-9])(…)(?:[^0-9]|$)`. A Korean particle glued to a number
(010-1234-5678입니다) is such a non-digit, so it never hides the number, while a digit glued to
it (a 14-digit run) stops the match. The cost: two numbers of one family separated by exactly
one character share that character, so the second is not seen — which matters only when the
first is not valid, because one valid candidate already makes the value match.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date

Fields = dict[str, str]
Condition = Callable[[Fields], str]

ND = r"(?:^|[^0-9])"       # not after a digit
NA = r"(?:[^0-9]|$)"       # not before a digit

SURNAMES_TWO = ("남궁", "제갈", "선우", "독고", "황보", "사공", "서문", "동방", "어금", "망절")
SURNAMES_ONE = ("김이박최정강조윤장임한오서신권황안송류유전홍고문양손배백허남심노하곽성차주우구민진나지"
                "엄채원천방공현함변염여추도소석선설마길연위표명기반왕금옥육인맹제모탁국어은편용예경봉"
                "사부가복태목형피두감음빈동온호범좌팽승간상갈시견당화창옹순")
COMMON_SURNAMES = ("김", "이", "박")   # ~44% of Koreans; a name column shows them, a word list not
# last syllables of places, bodies and things (강동구, 이천시, 박물관, 김해시), rare in given names
THING_ENDINGS = ("시", "군", "구", "동", "읍", "면", "리", "관", "점", "역", "실", "과", "팀", "청",
                 "층", "로", "길", "회", "단", "당", "국", "처", "소", "품", "물", "기", "권")

_SURNAME = "(?:" + "|".join(SURNAMES_TWO) + "|[" + SURNAMES_ONE + "])"
_REGIONS = "서울|부산|경기|강원|충북|충남|전북|전남|경북|경남|제주|대구|인천|광주|대전|울산|세종"
_HEX = "[0-9A-Fa-f]{1,4}"
_V4_PART = "(?:25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])"


def sql_text(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


@dataclass(frozen=True)
class Family:
    """One shape searched once per value; `whole` families test the whole trimmed value."""

    name: str
    pattern: str
    guard: str = "true"                  # cheap test on {v} before the regex runs
    fields: dict[str, str] = field(default_factory=dict)   # templates over {c}
    min_length: int = 1                  # shortest candidate, to decide if a value holds more
    whole: bool = False


@dataclass(frozen=True)
class KindRule:
    kind: str
    family: str
    candidate: Condition                 # the family's candidate is of this kind's shape
    valid: Condition                     # … and passes this kind's checks
    needs_context: bool = False          # counted only when the column name asks for it


def _digit(number: str, position: int, width: int) -> str:
    """Digit `position` (1 = leftmost) of a `width`-digit BIGINT, by arithmetic."""
    return f"(({number} // {10 ** (width - position)}) % 10)"


def _weighted(number: str, width: int, weights: tuple[int, ...]) -> str:
    return " + ".join(f"{_digit(number, i + 1, width)} * {w}" for i, w in enumerate(weights))


def _days_in_month(year: str, month: str) -> str:
    leap = f"(CASE WHEN ({year} % 4 = 0 AND {year} % 100 <> 0) OR {year} % 400 = 0 THEN 1 ELSE 0 END)"
    return f"(CASE WHEN {month} = 2 THEN 28 + {leap} ELSE 30 + (({month} + {month} // 8) % 2) END)"


def _real_date(year: str, month: str, day: str) -> str:
    return (f"({month} BETWEEN 1 AND 12 AND {day} BETWEEN 1 AND {_days_in_month(year, month)})")


def _today() -> int:
    today = date.today()
    return today.year * 10000 + today.month * 100 + today.day


RRN_WEIGHTS = (2, 3, 4, 5, 6, 7, 8, 9, 2, 3, 4, 5)
CRN_WEIGHTS = (1, 2) * 6
BRN_WEIGHTS = (1, 3, 7, 1, 3, 7, 1, 3, 5)
RANDOM_TAIL_FROM = 20201001   # numbers issued from October 2020 end in random digits


def _registration_valid(f: Fields) -> str:
    """rrn/frn: a real birth date in the century the 7th digit implies, not in the future, and
    the check digit when born before 2020-10-01."""
    n = f["n"]
    gender = _digit(n, 7, 13)
    year = (f"({n} // 100000000000 + CASE WHEN {gender} IN (1, 2, 5, 6) THEN 1900 "
            f"WHEN {gender} IN (3, 4, 7, 8) THEN 2000 ELSE 1800 END)")
    month, day = f"(({n} // 1000000000) % 100)", f"(({n} // 10000000) % 100)"
    ymd = f"({year} * 10000 + {month} * 100 + {day})"
    check = f"((11 - ({_weighted(n, 13, RRN_WEIGHTS)}) % 11) % 10 = {n} % 10)"
    return (f"({n} IS NOT NULL AND {_real_date(year, month, day)} AND {ymd} <= {_today()} "
            f"AND ({ymd} >= {RANDOM_TAIL_FROM} OR {check}))")


def _crn_valid(f: Fields) -> str:
    n = f["n"]
    return f"({n} IS NOT NULL AND (10 - ({_weighted(n, 13, CRN_WEIGHTS)}) % 10) % 10 = {n} % 10)"


def _brn_valid(f: Fields) -> str:
    n = f["n"]
    total = f"({_weighted(n, 10, BRN_WEIGHTS)} + ({_digit(n, 9, 10)} * 5) // 10)"
    return f"({n} IS NOT NULL AND (10 - {total} % 10) % 10 = {n} % 10)"


def _luhn(f: Fields) -> str:
    """Luhn over up to 19 digits: the last nine from `lo`, the others from `hi` (BIGINTs)."""
    terms = []
    for position in range(1, 20):
        source, shift = (f["lo"], position - 1) if position <= 9 else (f["hi"], position - 10)
        digit = f"(({source} // {10 ** shift}) % 10)"
        terms.append(digit if position % 2 else f"(2 * {digit} - 9 * ({digit} // 5))")
    return f"(({' + '.join(terms)}) % 10 = 0)"


CARD_PREFIX = r"^(?:4|5[1-5]|2(?:2[2-9][1-9]|[3-6][0-9]{2}|7[01][0-9]|720)|3[47]|30[0-5]|3[689]|35|6011|64[4-9]|65|62|9[0-9])"


def _card_valid(f: Fields) -> str:
    s = f["s"]
    return (f"(length({s}) BETWEEN 13 AND 19 AND regexp_matches({s}, {sql_text(CARD_PREFIX)}) "
            f"AND {_luhn(f)})")


def _mobile(f: Fields) -> str:
    p = f["p"]
    return (f"(regexp_full_match({p}, '01(?:0[0-9]{{8}}|[16789][0-9]{{7,8}})'))")


def _landline(f: Fields) -> str:
    p = f["p"]
    return f"(regexp_full_match({p}, '0(?:2[0-9]{{7,8}}|(?:[3-6][1-5]|70)[0-9]{{7,8}})'))"


def _ip_valid(f: Fields) -> str:
    """IPv6 candidates: eight groups, or fewer around exactly one `::` (12:30:45 is a time)."""
    c = f["c"]
    colons = f"(length({c}) - length(replace({c}, ':', '')))"
    return (f"(NOT contains({c}, ':') OR (NOT contains({c}, ':::') AND "
            f"(CASE WHEN contains({c}, '::') THEN length({c}) - length(replace({c}, '::', '')) = 2 "
            f"AND {colons} <= 7 ELSE {colons} = 7 END)))")


def _birth_valid(f: Fields) -> str:
    """A real date between 1900 and today; two-digit years are this century when not future."""
    yy, month, day = f["y"], f["m"], f["d"]
    this_year = date.today().year
    year = (f"(CASE WHEN {yy} >= 100 THEN {yy} WHEN 2000 + {yy} <= {this_year} "
            f"THEN 2000 + {yy} ELSE 1900 + {yy} END)")
    ymd = f"({year} * 10000 + {month} * 100 + {day})"
    return (f"({yy} IS NOT NULL AND {year} >= 1900 AND {_real_date(year, month, day)} "
            f"AND {ymd} <= {_today()})")


def _digits_between(low: int, high: int) -> Condition:
    return lambda f: (f"(length(regexp_replace({f['c']}, '[^0-9]', '', 'g')) "
                      f"BETWEEN {low} AND {high})")


def _any(f: Fields) -> str:
    return f"({f['c']} <> '')"


def _gender(digits: str) -> Condition:
    return lambda f: f"(substr(replace({f['c']}, '-', ''), 7, 1) IN ({digits}))"


_NUMBER = {"n": "TRY_CAST(replace({c}, '-', '') AS BIGINT)"}
_BIRTH = (r"^((?:19|20)[0-9]{2}|[0-9]{2})(0[1-9]|1[0-2])(0[1-9]|[12][0-9]|3[01])$"
          r"|^((?:19|20)[0-9]{2})\s*[-./년]\s*([0-9]{1,2})\s*[-./월]\s*([0-9]{1,2})\s*일?$")
_ROAD = r"[가-힣0-9]*[가-힣](?:로|길)\s?(?:지하\s?)?[0-9]{1,5}(?:-[0-9]{1,5})?"
_LOT = r"[가-힣0-9]*[가-힣](?:동|리|가)\s+(?:산\s?)?[0-9]{1,5}(?:-[0-9]{1,5})?"

FAMILIES: dict[str, Family] = {family.name: family for family in (
    Family("n13", ND + r"([0-9]{6}-?[0-9]{7})" + NA, fields=_NUMBER, min_length=13),
    Family("n10", ND + r"([0-9]{3}-?[0-9]{2}-?[0-9]{5})" + NA, fields=_NUMBER, min_length=10),
    Family("phone", r"(?:^|[^0-9+])((?:\+82[- .]?0?|0)[0-9]{1,2}(?:[- .)]|\) )?[0-9]{3,4}[- .]?"
           r"[0-9]{4})" + NA, min_length=9,
           fields={"p": "'0' || ltrim(CASE WHEN starts_with({c}, '+') THEN "
                        "substr(regexp_replace({c}, '[^0-9]', '', 'g'), 3) ELSE "
                        "regexp_replace({c}, '[^0-9]', '', 'g') END, '0')"}),
    Family("card", ND + r"([2-69][0-9]{12,18}|[2-69][0-9]{3}(?:[- ][0-9]{4}){3}[0-9]{0,3}"
           r"|3[0-9]{3}[- ][0-9]{6}[- ][0-9]{4,5})" + NA, min_length=13,
           fields={"s": "regexp_replace({c}, '[^0-9]', '', 'g')",
                   "lo": "TRY_CAST(right(regexp_replace({c}, '[^0-9]', '', 'g'), 9) AS BIGINT)",
                   "hi": "coalesce(TRY_CAST(left(regexp_replace({c}, '[^0-9]', '', 'g'), "
                         "-9) AS BIGINT), 0)"}),
    Family("passport", r"(?:^|[^0-9A-Za-z])([MSROD][0-9]{8}|[MSROD][0-9]{3}[A-Z][0-9]{4})"
           r"(?:[^0-9A-Za-z]|$)", min_length=9),
    Family("licence", r"(?:^|[^0-9])((?:1[1-9]|2[0-68]|" + _REGIONS + r")[ -]?[0-9]{2}[ -]"
           r"[0-9]{6}[ -][0-9]{2})" + NA, min_length=14),
    Family("ip", r"(?:^|[^0-9A-Za-z.:])((?:" + _V4_PART + r"\.){3}" + _V4_PART +
           r"|(?:" + _HEX + r":){7}" + _HEX + r"|(?:" + _HEX + r":){1,6}(?::" + _HEX +
           r"){1,6}|(?:" + _HEX + r":){1,7}:|::(?:" + _HEX + r":){0,6}" + _HEX + r")"
           r"(?:[^0-9A-Za-z.:]|[.:](?:[^0-9A-Za-z]|$)|$)",
           guard="(contains({v}, '.') OR contains({v}, ':'))", min_length=7),
    Family("email", r"([A-Za-z0-9][A-Za-z0-9._%+-]*@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?"
           r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*\.[A-Za-z]{2,})",
           guard="contains({v}, '@')", min_length=6),
    Family("address", r"([가-힣]+(?:시|군|구)\s+(?:[가-힣0-9]+(?:읍|면)\s+)?(?:" + _ROAD + "|"
           + _LOT + "))" + NA, min_length=8),
    Family("account", ND + r"([0-9]{2,6}(?:-[0-9]{2,7}){1,4}|[0-9]{10,14})" + NA, min_length=10),
    Family("name", "^" + _SURNAME + r"[가-힣]{1,2}$", guard="length({v}) <= 6", whole=True),
    Family("birth", _BIRTH, guard="length({v}) <= 16", whole=True,
           fields={"y": "TRY_CAST(coalesce(nullif(regexp_extract({c}, "
                        + sql_text(_BIRTH) + ", 1), ''), regexp_extract({c}, "
                        + sql_text(_BIRTH) + ", 4)) AS INTEGER)",
                   "m": "TRY_CAST(coalesce(nullif(regexp_extract({c}, " + sql_text(_BIRTH)
                        + ", 2), ''), regexp_extract({c}, " + sql_text(_BIRTH) + ", 5)) AS INTEGER)",
                   "d": "TRY_CAST(coalesce(nullif(regexp_extract({c}, " + sql_text(_BIRTH)
                        + ", 3), ''), regexp_extract({c}, " + sql_text(_BIRTH) + ", 6)) AS INTEGER)"}),
)}


def _true(f: Fields) -> str:
    return "true"


RULES: dict[str, KindRule] = {rule.kind: rule for rule in (
    KindRule("rrn", "n13", _gender("'0', '1', '2', '3', '4', '9'"), _registration_valid),
    KindRule("frn", "n13", _gender("'5', '6', '7', '8'"), _registration_valid),
    KindRule("crn", "n13", _any, _crn_valid),
    KindRule("brn", "n10", _any, _brn_valid),
    KindRule("mobile", "phone", lambda f: f"starts_with({f['p']}, '01')", _mobile),
    KindRule("landline", "phone", lambda f: f"NOT starts_with({f['p']}, '01')", _landline),
    KindRule("card", "card", _any, _card_valid),
    KindRule("passport", "passport", _any, _true),
    KindRule("driver_license", "licence", _any, _true),
    KindRule("ip", "ip", _any, _ip_valid),
    KindRule("email", "email", _any, _true),
    KindRule("address", "address", _any, _true),
    KindRule("account", "account", _any, _digits_between(10, 16), needs_context=True),
    KindRule("person_name", "name", _any, _true),
    KindRule("birth_date", "birth", _any, _birth_valid, needs_context=True),
)}

# Families by column type. Numbers: a BIGINT of 11-13 digits may be an RRN written without
# its hyphen and with the leading zeros of a 2000s birth lost (lpad restores them); 13-19
# digits may be a card. A BIGINT of 10-11 digits may be a phone number without its leading 0
# and 10 digits a 사업자등록번호 — but counters and ids of that length are far more common, so
# those two are looked for only when the column name asks (needs the name's context).
NUMBER_FAMILIES: dict[str, tuple[str, bool]] = {
    # family: (SQL giving the candidate text from {v}, needs the name's context)
    "n13": ("CASE WHEN {v} BETWEEN 10000000000 AND 9999999999999 "
            "THEN lpad(CAST({v} AS VARCHAR), 13, '0') ELSE '' END", False),
    "card": ("CASE WHEN {v} >= 1000000000000 THEN CAST({v} AS VARCHAR) ELSE '' END", False),
    "phone": ("CASE WHEN {v} BETWEEN 100000000 AND 99999999999 "
              "THEN '0' || CAST({v} AS VARCHAR) ELSE '' END", True),
    "n10": ("CASE WHEN {v} BETWEEN 1000000000 AND 9999999999 "
            "THEN CAST({v} AS VARCHAR) ELSE '' END", True),
}
# The first pass's test per number family: a range, the same as the family's CASE above.
NUMBER_SHAPES: dict[str, str] = {
    "n13": "{v} BETWEEN 10000000000 AND 9999999999999",
    "card": "{v} >= 1000000000000",
    "phone": "{v} BETWEEN 100000000 AND 99999999999",
    "n10": "{v} BETWEEN 1000000000 AND 9999999999",
}
TEXT_FAMILIES = tuple(FAMILIES)
DATE_KINDS = ("birth_date",)


def extract_sql(family: Family, value: str) -> str:
    """The first candidate of `family` in the text `value`, or ''."""
    guard = family.guard.replace("{v}", value)
    if family.whole:
        found = f"CASE WHEN regexp_full_match({value}, {sql_text(family.pattern)}) THEN {value} ELSE '' END"
    else:
        found = f"regexp_extract({value}, {sql_text(family.pattern)}, 1)"
    return f"CASE WHEN {value} IS NOT NULL AND {guard} THEN {found} ELSE '' END"


def shape_sql(family: Family, value: str) -> str:
    """Does the text `value` hold a candidate of `family`? The family's own pattern, tested
    without extracting anything: RE2 answers a yes/no search with its fast automaton, while
    extracting a group needs the slow one. True exactly where `extract_sql` is not ''."""
    guard = family.guard.replace("{v}", value)
    test = "regexp_full_match" if family.whole else "regexp_matches"
    return f"({guard} AND {test}({value}, {sql_text(family.pattern)}))"


def field_sql(family: Family, candidate: str) -> Fields:
    return {name: template.replace("{c}", candidate) for name, template in family.fields.items()}


def match_sql(rule: KindRule, family: Family, fields: Fields, value: str | None) -> str:
    """Does the value hold a valid candidate of the kind? The first candidate is tested from
    the precomputed fields; only a value long enough to hold another one has all of its
    candidates tested again (free text)."""
    first = f"({rule.candidate(fields)} AND {rule.valid(fields)})"
    if value is None or family.whole:
        return f"CASE WHEN {fields['c']} <> '' THEN {first} ELSE false END"
    inline = {"c": "x", **field_sql(family, "x")}
    others = (f"coalesce(list_bool_or(list_transform(regexp_extract_all({value}, "
              f"{sql_text(family.pattern)}, 1), lambda x: {rule.candidate(inline)} AND "
              f"{rule.valid(inline)})), false)")
    return (f"CASE WHEN {fields['c']} = '' THEN false WHEN {first} THEN true "
            f"WHEN length({value}) >= length({fields['c']}) + {family.min_length + 1} "
            f"THEN {others} ELSE false END")


def candidate_sql(rule: KindRule, fields: Fields) -> str:
    return f"CASE WHEN {fields['c']} <> '' THEN {rule.candidate(fields)} ELSE false END"
