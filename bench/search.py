"""Search benchmark: `GET /api/v1/search` against SQLite FTS5 and PostgreSQL full-text search.

10,000 dataset records built from the real titles, district names and column names in
../shared/data/kr (data.go.kr's "{시군구} {주제}" pattern), served by a hub on loopback.
200 queries, mixed Korean and English: half aimed at a known record (the topic with a
particle, a word inside the compound, or the English name), half general. Prints the latency
of the hub's search API (HTTP included), of the same queries in SQLite FTS5 (unicode61) and
PostgreSQL `to_tsvector('simple')` run in-process, and how often each finds the aimed-at
record in its first 10 results. Goal: first-time p95 ≤ 20 ms through the API, embedded.
    .venv/bin/python bench/search.py [--records 10000] [--queries 200]
"""

from __future__ import annotations

import argparse
import csv
import os
import random
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from served import DPGHUB, free_port  # noqa: E402

KR = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "kr"
# Korean topic (as a compound, the way portals title data) → English name.
TOPICS = {
    "도서관": "library", "전기차충전소": "EV charging station", "공영주차장": "public parking lot",
    "어린이집": "daycare center", "공중화장실": "public toilet", "버스정류소": "bus stop",
    "미세먼지측정소": "fine dust monitoring station", "주민등록인구": "resident population",
    "응급의료기관": "emergency hospital", "심야약국": "late-night pharmacy",
    "지진대피소": "earthquake shelter", "관광지": "tourist attraction",
    "모범음식점": "recommended restaurant", "초등학교": "elementary school",
    "교통사고다발지역": "traffic accident hotspot", "공공자전거대여소": "public bike rental",
    "도시공원": "city park", "공공체육시설": "public sports facility", "지정문화재": "cultural heritage",
    "상수도관로": "water supply pipe", "보안등": "street light", "공공와이파이": "public wifi",
    "방범용CCTV": "security camera", "음식물쓰레기배출": "food waste disposal",
    "119안전센터": "fire station", "지구대파출소": "police station", "아파트실거래가": "apartment sale prices",
    "전통시장": "traditional market", "경로당": "senior center", "산불발생": "wildfire",
    "하천수위관측소": "river water level station", "교량현황": "bridges", "모범택시": "taxi",
    "도시철도역사": "subway station", "알뜰주유소": "gas station", "공립박물관": "public museum",
    "공연장": "concert hall", "무인민원발급기": "civil document kiosk",
    "노인복지시설": "senior welfare facility", "평생학습관": "lifelong learning center",
}
SUFFIXES = ["현황", "정보", "표준데이터", "목록", "위치정보", "통계"]
PARTICLES = ["의 위치", "는 어디", "을 찾아줘", "의 현황", "에서"]


def real_columns() -> list[str]:
    names: set[str] = set()
    for path in KR.rglob("*.csv"):
        with path.open(encoding="cp949", errors="replace") as handle:
            names.update(c.strip() for c in next(csv.reader(handle)) if c.strip())
    return sorted(names)


def districts() -> list[str]:
    path = next((KR / "bjd_code_molit").glob("*.csv"))
    found: list[str] = []
    with path.open(encoding="cp949", errors="replace") as handle:
        for row in csv.reader(handle):
            parts = row[1].split() if len(row) > 1 else []
            if len(parts) == 2 and row[-1].strip() == "존재":
                found.append(" ".join(parts))
    return sorted(set(found))


def records(count: int, rng: random.Random) -> list[dict]:
    columns, places = real_columns(), districts()
    out = []
    topics = list(TOPICS)
    for i in range(count):
        topic = topics[i % len(topics)]
        place = places[(i // len(topics)) % len(places)]
        suffix = rng.choice(SUFFIXES)
        title = f"{place} {topic}{suffix}"
        cols = [f"{topic}명", "소재지도로명주소", *rng.sample(columns, 8)]
        out.append({"slug": f"d{i:05d}", "title_ko": title,
                    "title_en": TOPICS[topic].title() if i % 5 == 0 else "",
                    "description_ko": f"{place}의 {topic} {suffix}입니다. 매년 갱신합니다.",
                    "keywords": [topic, place.split()[-1]], "columns": cols})
    return out


def queries(items: list[dict], count: int, rng: random.Random) -> list[tuple[str, str | None]]:
    """(query, slug of the aimed-at record or None)."""
    out: list[tuple[str, str | None]] = []
    korean_only = [r for r in items if not r["title_en"]]
    for n in range(count):
        record = rng.choice(korean_only)
        topic = record["keywords"][0]
        place = record["title_ko"].split()[1]
        kind = n % 4
        if kind == 0:      # particle, with the district
            out.append((f"{place} {topic}{rng.choice(PARTICLES)}", record["slug"]))
        elif kind == 1:    # English, the district in Korean
            out.append((f"{TOPICS[topic]} {place}", record["slug"]))
        elif kind == 2:    # general Korean: a part of a compound
            out.append((topic[-3:] if len(topic) > 3 else topic, None))
        else:              # general English
            out.append((TOPICS[topic], None))
    return out


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def report(label: str, times: list[float], hits: int | None, aimed: int) -> None:
    found = f", aimed-at record in first 10: {hits}/{aimed}" if hits is not None else ""
    print(f"{label:32s} p50 {statistics.median(times) * 1000:6.1f} ms   "
          f"p95 {percentile(times, 0.95) * 1000:6.1f} ms{found}")


def fts_query(text: str) -> str:
    words = [w for w in text.replace('"', " ").split() if w]
    return " OR ".join(f'"{w}"' for w in words) or '""'


def sqlite_baseline(items: list[dict], probes: list[tuple[str, str | None]]) -> tuple[list, int]:
    con = sqlite3.connect(":memory:")
    con.execute("CREATE VIRTUAL TABLE r USING fts5(slug UNINDEXED, title, description, "
                "keywords, columns, tokenize='unicode61')")
    con.executemany("INSERT INTO r VALUES (?, ?, ?, ?, ?)", [
        (r["slug"], f"{r['title_ko']} {r['title_en']}", r["description_ko"],
         " ".join(r["keywords"]), " ".join(r["columns"])) for r in items])
    times, hits = [], 0
    for text, slug in probes:
        started = time.perf_counter()
        rows = con.execute("SELECT slug FROM r WHERE r MATCH ? ORDER BY bm25(r) LIMIT 10",
                           (fts_query(text),)).fetchall()
        times.append(time.perf_counter() - started)
        hits += bool(slug and any(s == slug for (s,) in rows))
    return times, hits


def postgres_baseline(items: list[dict], probes: list[tuple[str, str | None]]
                      ) -> tuple[list, int] | None:
    try:
        import psycopg

        con = psycopg.connect("postgresql://postgres@127.0.0.1:5432/test", autocommit=True)
    except Exception as exc:  # noqa: BLE001
        print(f"PostgreSQL baseline skipped: {exc}")
        return None
    con.execute("DROP TABLE IF EXISTS bench_search")
    con.execute("CREATE TABLE bench_search (slug text, body text, doc tsvector)")
    with con.cursor() as cur:
        cur.executemany("INSERT INTO bench_search (slug, body) VALUES (%s, %s)", [
            (r["slug"], " ".join([r["title_ko"], r["title_en"], r["description_ko"],
                                  *r["keywords"], *r["columns"]])) for r in items])
    con.execute("UPDATE bench_search SET doc = to_tsvector('simple', body)")
    con.execute("CREATE INDEX ON bench_search USING gin (doc)")
    con.execute("ANALYZE bench_search")
    times, hits = [], 0
    for text, slug in probes:
        words = " | ".join(w for w in text.replace("'", " ").split() if w) or "x"
        started = time.perf_counter()
        rows = con.execute("SELECT slug FROM bench_search WHERE doc @@ to_tsquery('simple', %s) "
                           "ORDER BY ts_rank(doc, to_tsquery('simple', %s)) DESC LIMIT 10",
                           (words, words)).fetchall()
        times.append(time.perf_counter() - started)
        hits += bool(slug and any(s == slug for (s,) in rows))
    con.execute("DROP TABLE bench_search")
    return times, hits


def build_hub(home: Path, items: list[dict]) -> None:
    env = {**os.environ, "DPGHUB_HOME": str(home)}
    subprocess.run([DPGHUB, "init", "--admin-password", "bench-password-1"], env=env,
                   check=True, capture_output=True)
    os.environ["DPGHUB_HOME"] = str(home)
    from dpghub.config import Settings
    from dpghub.core.db import make_engine, make_session_factory, transaction
    from dpghub.identity import schemas, service
    from dpghub.identity.policy import CLI
    from dpghub.lake import schemas as lake_schemas
    from dpghub.lake import service as lake
    from dpghub.lake.models import Dataset

    settings = Settings(home=home).prepare()
    factory = make_session_factory(make_engine(settings.database_url or ""))
    with transaction(factory) as session:
        org = service.create_org(session, actor=CLI, data=schemas.OrganizationCreate(
            slug="bench", name_ko="벤치마크 기관", name_en="Bench", kind="public"))
        for r in items:
            dataset = lake.create_dataset(session, actor=CLI, org=org,
                                          data=lake_schemas.DatasetCreate(
                                              slug=r["slug"], title_ko=r["title_ko"],
                                              title_en=r["title_en"],
                                              description_ko=r["description_ko"],
                                              keywords=r["keywords"], theme="administration"))
            assert isinstance(dataset, Dataset)
            dataset.columns = [{"name": c, "type": "text"} for c in r["columns"]]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--records", type=int, default=10_000)
    parser.add_argument("--queries", type=int, default=200)
    args = parser.parse_args()
    if not KR.exists():
        sys.exit(f"missing {KR}")
    rng = random.Random(7)
    items = records(args.records, rng)
    probes = queries(items, args.queries, rng)
    aimed = sum(1 for _, slug in probes if slug)
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp) / "home"
        started = time.perf_counter()
        build_hub(home, items)
        print(f"records: {len(items):,} (created in {time.perf_counter() - started:.1f} s), "
              f"queries: {len(probes)} ({aimed} aimed at one record)")
        port = free_port()
        env = {**os.environ, "DPGHUB_HOME": str(home)}
        server = subprocess.Popen([DPGHUB, "serve", "--port", str(port)], env=env,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        base = f"http://127.0.0.1:{port}"
        try:
            client = httpx.Client(base_url=base, timeout=600)
            for _ in range(300):
                try:
                    client.get("/api/v1/health", timeout=1)
                    break
                except httpx.TransportError:
                    time.sleep(0.1)
            started = time.perf_counter()
            client.get("/api/v1/search", params={"q": "warm up"}).raise_for_status()
            print(f"index built on first search: {time.perf_counter() - started:.1f} s "
                  "(embeddings computed and stored; later processes reuse them)")
            for cached in (False, True):
                times, hits = [], 0
                for text, slug in probes:
                    started = time.perf_counter()
                    answer = client.get("/api/v1/search", params={"q": text, "limit": 10})
                    times.append(time.perf_counter() - started)
                    answer.raise_for_status()
                    hits += bool(slug and any(i["slug"] == slug for i in answer.json()["items"]))
                label = "hub API, repeated queries" if cached else "hub API, first time"
                report(label, times, hits, aimed)
        finally:
            server.terminate()
            server.wait(timeout=10)
    times, hits = sqlite_baseline(items, probes)
    report("SQLite FTS5 (in-process)", times, hits, aimed)
    result = postgres_baseline(items, probes)
    if result:
        report("PostgreSQL full-text (loopback)", *result, aimed)


if __name__ == "__main__":
    main()
