"""Turning Korean and English text into search terms, and marking matches for display.

Korean words are indexed as overlapping two-syllable pieces (bigrams): "전기차충전소" gives
전기 기차 차충 충전 전소, so "충전소" (충전 전소) finds it inside the compound without a
dictionary. Particles stuck to a query word are dropped first ("도서관의" → "도서관"). We
measured kiwipiepy's morphological analyser too: it splits compounds well but adds about
280 MB and 3 s to every process's start, for no better recall on catalogue titles.
English words are lower-cased, lightly stemmed ("stations" → "station") and common
function words dropped.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from dataclasses import dataclass
from functools import cached_property

from markupsafe import Markup, escape

HANGUL = r"\uac00-\ud7a3"
WORD = re.compile(rf"[{HANGUL}]+|[a-z0-9]+")
HANGUL_WORD = re.compile(rf"^[{HANGUL}]+$")

# Particles and endings people type after a noun, longest first.
PARTICLES = ("에서는", "으로는", "에서", "으로", "에게", "한테", "까지", "부터", "이나", "이랑",
             "하고", "에는", "은", "는", "이", "가", "을", "를", "의", "에", "로", "와", "과",
             "도", "만", "나", "랑")
STOPWORDS = frozenset("""a an the of and or in on at to for from by with about into over
is are was were be been where what which who how can i we you my our me find show list get
data dataset datasets""".split())
# Korean question words that carry no topic.
KOREAN_STOPWORDS = frozenset("어디 어디서 어떤 무엇 뭐 알려줘 알려주세요 찾아줘 보여줘 있는 관련 대한".split())


def normalize(text: str) -> str:
    return unicodedata.normalize("NFKC", text).lower()


def strip_particle(word: str) -> str:
    for particle in PARTICLES:
        if word.endswith(particle) and len(word) - len(particle) >= 2:
            return word[: -len(particle)]
    return word


def stem(word: str) -> str:
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    return word


def hangul_terms(word: str) -> list[str]:
    if len(word) == 1:
        return [word]
    return [word[i:i + 2] for i in range(len(word) - 1)]


def terms(text: str) -> list[str]:
    """Index terms of a record's text (every occurrence, for term frequencies)."""
    out: list[str] = []
    for word in WORD.findall(normalize(text)):
        if HANGUL_WORD.match(word):
            out.extend(hangul_terms(word))
        elif word not in STOPWORDS:
            out.append(stem(word))
    return out


@dataclass(frozen=True)
class Query:
    text: str
    words: list[str]        # the query's words after particles and stopwords are gone
    terms: list[str]        # distinct index terms to look up

    def __bool__(self) -> bool:
        return bool(self.terms)

    @cached_property
    def pattern(self) -> re.Pattern[str] | None:
        """Every word and multi-letter term, longest first, as one alternation inside a
        lookahead, so overlapping matches ("충전" and "전소" in "충전소") are all found."""
        needles = sorted({n for n in [*self.words, *self.terms] if len(n) > 1 or
                          n in self.words}, key=len, reverse=True)
        if not needles:
            return None
        return re.compile("(?=(" + "|".join(map(re.escape, needles)) + "))")


def parse_query(text: str) -> Query:
    words: list[str] = []
    found: list[str] = []
    for word in WORD.findall(normalize(text)):
        if HANGUL_WORD.match(word):
            if word in KOREAN_STOPWORDS:
                continue
            word = strip_particle(word)
            words.append(word)
            found.extend(hangul_terms(word))
        elif word not in STOPWORDS:
            words.append(word)
            found.append(stem(word))
    return Query(text=text, words=words, terms=list(dict.fromkeys(found)))


def term_counts(fields: list[tuple[str, float]]) -> tuple[Counter[str], float]:
    """Weighted term frequencies over (text, weight) fields, and the weighted length."""
    counts: Counter[str] = Counter()
    length = 0.0
    for text, weight in fields:
        found = terms(text)
        length += weight * len(found)
        for term in found:
            counts[term] += weight
    return counts, length


def highlight(text: str, query: Query, *, limit: int | None = None) -> Markup:
    """`text` escaped, with the query's matches wrapped in <mark>; cut around the first match
    when `limit` is given."""
    if not text:
        return Markup("")
    spans = _match_spans(text, query)
    if limit is not None and len(text) > limit:
        start = max(0, (spans[0][0] - limit // 4) if spans else 0)
        end = min(len(text), start + limit)
        spans = [(max(a, start), min(b, end)) for a, b in spans if b > start and a < end]
        return Markup("…" if start else "") + _mark(text, spans, start, end) + \
            Markup("…" if end < len(text) else "")
    return _mark(text, spans, 0, len(text))


def _match_spans(text: str, query: Query) -> list[tuple[int, int]]:
    lowered = normalize(text)
    if len(lowered) != len(text):        # NFKC changed the length: match on the text as is
        lowered = text.lower()
    if query.pattern is None:
        return []
    spans = [(m.start(1), m.end(1)) for m in query.pattern.finditer(lowered)]
    merged: list[tuple[int, int]] = []
    for start, end in spans:
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


def _mark(text: str, spans: list[tuple[int, int]], start: int, end: int) -> Markup:
    parts: list[str] = []
    cursor = start
    for a, b in spans:
        parts.append(str(escape(text[cursor:a])))
        parts.append(f"<mark>{escape(text[a:b])}</mark>")
        cursor = b
    parts.append(str(escape(text[cursor:end])))
    return Markup("".join(parts))
