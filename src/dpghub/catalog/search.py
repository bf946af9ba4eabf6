"""One search over datasets and services: keyword ranking (BM25 over Korean bigrams and
English words) combined with multilingual embeddings, with facets.

The index lives in each process's memory and is rebuilt from the registry's own tables, so
it works the same on SQLite and PostgreSQL and can never disagree with them for long: before
every search one cheap statement reads the tables' row counts and newest change times, and a
difference re-reads the records (only changed ones are re-analysed; embeddings are kept in
`text_vector` under the hash of their text, so restarts and other processes reuse them).
"""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from markupsafe import Markup
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ..core import usage
from ..core.errors import Invalid
from . import embedding, records, text
from .records import Record

SEARCH_INFO = "dpghub.search"
FACETS = ("org", "kind", "theme", "access", "format", "keyword")
SORTS = ("relevance", "newest", "most_used")
K1, B = 1.2, 0.75
# Field weights: a title match counts three times a description match.
# Cosine similarity of multilingual embeddings (measured on real catalogue titles: the right
# record scores 0.21–0.53 against an English query, unrelated ones mostly below 0.15). Below
# FLOOR is noise; a record with no shared word still counts as found when it reaches MATCH
# and is within MARGIN of the query's best one; CEIL and above is a strong match.
SEM_FLOOR, SEM_MATCH, SEM_MARGIN, SEM_CEIL = 0.15, 0.20, 0.08, 0.50
LEXICAL_WEIGHT = 0.6
FACET_LIMIT = 30


@dataclass
class Hit:
    record: Record
    score: float
    uses: int
    title: Markup
    snippet: Markup
    matches: list[Markup]


@dataclass
class Result:
    total: int
    hits: list[Hit]
    facets: dict[str, list[tuple[str, int]]]
    sort: str
    offset: int
    limit: int
    org_names: dict[str, tuple[str, str]] = field(default_factory=dict)


@dataclass
class _Built:
    """Arrays over the records, rebuilt together and swapped in at once."""

    records: list[Record]
    postings: dict[str, tuple[np.ndarray, np.ndarray]]
    lengths: np.ndarray
    avg_length: float
    vectors: np.ndarray | None
    facets: dict[str, _Facet]
    modified: np.ndarray
    position: dict[tuple[str, int], int]
    org_names: dict[str, tuple[str, str]]


@dataclass
class _Facet:
    """A facet as integer codes: pair i says record `positions[i]` has value `codes[i]`
    (one pair per record for single-valued facets, several for keywords and formats), so
    counting is one bincount and filtering one comparison."""

    values: list[str]
    index: dict[str, int]
    positions: np.ndarray
    codes: np.ndarray

    @classmethod
    def build(cls, per_record: list[list[str]]) -> _Facet:
        index: dict[str, int] = {}
        positions: list[int] = []
        codes: list[int] = []
        for position, values in enumerate(per_record):
            for value in dict.fromkeys(values):
                if value:
                    positions.append(position)
                    codes.append(index.setdefault(value, len(index)))
        return cls(values=list(index), index=index,
                   positions=np.asarray(positions, dtype=np.int64),
                   codes=np.asarray(codes, dtype=np.int64))

    def mask(self, count: int, value: str) -> np.ndarray:
        mask = np.zeros(count, dtype=bool)
        code = self.index.get(value)
        if code is not None:
            mask[self.positions[self.codes == code]] = True
        return mask

    def counts(self, chosen: np.ndarray) -> list[tuple[str, int]]:
        tally = np.bincount(self.codes[chosen[self.positions]], minlength=len(self.values))
        found = np.flatnonzero(tally)
        return [(self.values[i], int(tally[i])) for i in found]


class SearchIndex:
    def __init__(self, *, semantic: bool = True) -> None:
        self.semantic = semantic
        self._lock = threading.Lock()
        self._fingerprint: tuple[Any, ...] | None = None
        self._use_fingerprint: tuple[Any, ...] | None = None
        self._records: dict[tuple[str, int], Record] = {}
        self._built: _Built | None = None
        self._uses: np.ndarray = np.zeros(0, dtype=np.int64)

    # --- keeping up with the tables ------------------------------------------------------

    def refresh(self, session: Session) -> None:
        usage.flush(session)
        parts = records.fingerprint()
        row = session.execute(select(
            *parts,
            select(func.count()).select_from(usage.ResourceUse).scalar_subquery(),
            select(func.max(usage.ResourceUse.last_used_at)).scalar_subquery(),
        )).one()
        records_print, use_print = tuple(row[:len(parts)]), tuple(row[len(parts):])
        with self._lock:
            if records_print != self._fingerprint or self._built is None:
                self._rebuild(session)
                self._fingerprint = records_print
                self._use_fingerprint = None
            if use_print != self._use_fingerprint:
                self._load_uses(session)
                self._use_fingerprint = use_print

    def _rebuild(self, session: Session) -> None:
        fresh: dict[tuple[str, int], Record] = {}
        for record in [*records.dataset_records(session), *records.service_records(session),
                       *records.extra_records(session)]:
            old = self._records.get(record.key)
            if old is not None and old.stamp == record.stamp:
                fresh[record.key] = old
            else:
                record.analyse()
                fresh[record.key] = record
        self._records = fresh
        ordered = sorted(fresh.values(), key=lambda r: (r.kind, r.ref_id))
        vectors = records.vectors(session, ordered) if self.semantic else None
        self._built = _build(ordered, vectors)

    def _load_uses(self, session: Session) -> None:
        built = self._built
        assert built is not None
        uses = np.zeros(len(built.records), dtype=np.int64)
        for key, count in usage.counts(session).items():
            position = built.position.get(key)
            if position is not None:
                uses[position] = count
        self._uses = uses

    # --- answering -----------------------------------------------------------------------

    def search(self, query_text: str, *, filters: dict[str, str] | None = None,
               sort: str | None = None, offset: int = 0, limit: int = 20) -> Result:
        built, uses = self._built, self._uses
        if built is None:
            raise RuntimeError("refresh the index before searching")
        filters = {k: v for k, v in (filters or {}).items() if v}
        unknown = [k for k in filters if k not in FACETS]
        if unknown:
            raise Invalid("Unknown facet {name}; use one of {allowed}", code="unknown_facet",
                          field=unknown[0], name=unknown[0], allowed=", ".join(FACETS))
        query = text.parse_query(query_text or "")
        sort = sort or ("relevance" if query else "newest")
        if sort not in SORTS:
            raise Invalid("Unknown sort {name}; use one of {allowed}", code="unknown_sort",
                          field="sort", name=sort, allowed=", ".join(SORTS))
        count = len(built.records)
        if query_text.strip():
            scores, found = self._score(built, query, query_text)
        else:
            scores, found = np.zeros(count, dtype=np.float32), np.ones(count, dtype=bool)
        for name, value in filters.items():
            found &= built.facets[name].mask(count, value)
        positions = np.flatnonzero(found)
        if sort == "relevance":
            order = np.lexsort((-built.modified[positions], -scores[positions]))
        elif sort == "newest":
            order = np.lexsort((-scores[positions], -built.modified[positions]))
        else:
            order = np.lexsort((-scores[positions], -uses[positions]))
        ranked = positions[order]
        page = ranked[offset:offset + limit]
        hits = [_hit(built.records[i], float(scores[i]), int(uses[i]), query) for i in page]
        facets = _facets(built, found)
        return Result(total=len(ranked), hits=hits, facets=facets, sort=sort, offset=offset,
                      limit=limit, org_names={o: built.org_names[o] for o, _ in facets["org"]})

    def _score(self, built: _Built, query: text.Query,
               query_text: str) -> tuple[np.ndarray, np.ndarray]:
        count = len(built.records)
        lexical = np.zeros(count, dtype=np.float32)
        term_hit: dict[str, np.ndarray] = {}
        for term in query.terms:
            posting = built.postings.get(term)
            if posting is None:
                continue
            positions, tf = posting
            idf = math.log(1 + (count - len(positions) + 0.5) / (len(positions) + 0.5))
            norm = K1 * (1 - B + B * built.lengths[positions] / built.avg_length)
            lexical[positions] += idf * tf * (K1 + 1) / (tf + norm)
            term_hit[term] = positions
        if query.words and lexical.any():
            # How many of the query's words a record contains whole (all their bigrams).
            covered = np.zeros(count, dtype=np.float32)
            for word in query.words:
                pieces = text.hangul_terms(word) if text.HANGUL_WORD.match(word) \
                    else [text.stem(word)]
                have = np.ones(count, dtype=bool)
                for piece in pieces:
                    mask = np.zeros(count, dtype=bool)
                    if piece in term_hit:
                        mask[term_hit[piece]] = True
                    have &= mask
                covered += have
            lexical *= 0.5 + 0.5 * covered / len(query.words)
        peak = float(lexical.max()) if count else 0.0
        lexical_norm = lexical / peak if peak > 0 else lexical
        found = lexical > 0
        if built.vectors is not None and count:
            similarity = built.vectors @ embedding.encode_query(query_text)
            semantic = np.clip((similarity - SEM_FLOOR) / (SEM_CEIL - SEM_FLOOR), 0, 1)
            best = float(similarity.max())
            found |= (similarity >= SEM_MATCH) & (similarity >= best - SEM_MARGIN)
            scores = LEXICAL_WEIGHT * lexical_norm + (1 - LEXICAL_WEIGHT) * semantic
        else:
            scores = lexical_norm
        return scores.astype(np.float32), found


def _facets(built: _Built, chosen: np.ndarray) -> dict[str, list[tuple[str, int]]]:
    out: dict[str, list[tuple[str, int]]] = {}
    for name in FACETS:
        pairs = built.facets[name].counts(chosen)
        pairs.sort(key=lambda p: (-p[1], p[0]))
        out[name] = pairs[:FACET_LIMIT]
    return out


def _hit(record: Record, score: float, uses: int, query: text.Query) -> Hit:
    title = record.title_ko if not record.title_en else f"{record.title_ko} · {record.title_en}"
    matches = []
    if query:
        for name in record.columns:
            marked = text.highlight(name, query)
            if "<mark>" in marked:
                matches.append(marked)
            if len(matches) == 5:
                break
    return Hit(record=record, score=round(score, 4), uses=uses,
               title=text.highlight(title, query),
               snippet=text.highlight(record.description, query, limit=200),
               matches=matches)


def _build(records: list[Record], vectors: np.ndarray | None) -> _Built:
    collected: dict[str, tuple[list[int], list[float]]] = {}
    for position, record in enumerate(records):
        for term, tf in record.counts.items():
            entry = collected.get(term)
            if entry is None:
                entry = collected[term] = ([], [])
            entry[0].append(position)
            entry[1].append(tf)
    postings = {term: (np.asarray(p, dtype=np.int32), np.asarray(t, dtype=np.float32))
                for term, (p, t) in collected.items()}
    lengths = np.asarray([r.length for r in records], dtype=np.float32)
    return _Built(
        records=records, postings=postings, lengths=lengths,
        avg_length=float(lengths.mean()) if len(records) else 1.0, vectors=vectors,
        facets={"org": _Facet.build([[r.org] for r in records]),
                "kind": _Facet.build([[r.kind] for r in records]),
                "theme": _Facet.build([[r.theme] for r in records]),
                "access": _Facet.build([[r.access] for r in records]),
                "format": _Facet.build([r.formats for r in records]),
                "keyword": _Facet.build([r.keywords for r in records])},
        modified=np.asarray([r.modified_at.timestamp() for r in records], dtype=np.float64),
        position={r.key: i for i, r in enumerate(records)},
        org_names={r.org: (r.org_name_ko, r.org_name_en) for r in records})


def index_for(session: Session) -> SearchIndex:
    """The process's index for this database (kept on the session factory)."""
    index = session.info.get(SEARCH_INFO)
    if not isinstance(index, SearchIndex):
        index = SearchIndex()
        session.info[SEARCH_INFO] = index
    return index
