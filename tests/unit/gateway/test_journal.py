"""The gateway's call-record journal: lines that give back the record, segments a reader
follows in order, a lock that tells a live journal from one left behind, and group commit."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

from dpghub.gateway import journal


def record(number: int, **changes: object) -> dict[str, object]:
    values: dict[str, object] = {
        "at": 1_796_000_000.123456 + number, "request_id": f"{number:016x}", "app_id": 7,
        "consumer_org_id": 2, "service_id": 1, "provider_org_id": 1, "subscription_id": 3,
        "operation": "getRestDeInfo", "method": "GET", "path": f"/gw/kasi/spcde/x/{number}",
        "status": 200, "request_bytes": 0, "response_bytes": 1234, "upstream_ms": 1.235,
        "hub_ms": 0.333, "outcome": "ok", "fault": "", "request_sha256": "e3" * 32,
        "response_sha256": "ab" * 32}
    values.update(changes)
    return values


def test_a_line_gives_back_the_record_whatever_its_texts_hold() -> None:
    odd = record(1, path="/gw/kasi/spcde/서울\t강남\n\\x", operation='say "hi"\tthere',
                 app_id=None, upstream_ms=None, status=431, fault="request_headers_too_large")
    line = journal.encode(41, odd)
    assert line.endswith(b"\n") and line.count(b"\n") == 1 and line.isascii()
    seq, back = journal.decode(line[:-1])
    # the time to the microsecond and the latencies to three places, as they are stored
    assert seq == 41 and back["at"] == datetime(2026, 11, 30, 0, 53, 21, 123456, tzinfo=UTC)
    assert back["upstream_ms"] == 0.0 and back["hub_ms"] == 0.333
    assert {k: v for k, v in back.items() if k not in {"at", "upstream_ms"}} == {
        name: odd[name] for name in journal.FIELDS if name not in {"at", "upstream_ms"}}


def test_a_reader_follows_the_segments_in_order_and_frees_only_those_left_behind(
        tmp_path: Path) -> None:
    writing = journal.Journal(tmp_path, segment_bytes=2_000)   # a segment every few records
    for number in range(1, 31):
        assert writing.append(record(number)) is None          # written when it returns
    assert writing.folder is not None
    present = journal.segments(writing.folder)
    assert len(present) > 3
    reader = journal.Reader(writing.folder)
    found, finished, more = reader.read()
    assert [seq for seq, _ in found] == list(range(1, 31)) and not more
    assert finished == present[:-1]           # the hub still writes to the last one
    writing.append(record(31))
    found, finished, _ = reader.read()
    assert [seq for seq, _ in found] == [31] and finished == []
    # while the process lives nobody else may take its journal; once it is gone, anyone
    assert journal.lock(writing.folder, wait=False) is None
    writing.close()
    writing.release()
    held = journal.lock(writing.folder, wait=False)
    assert held is not None
    found, finished, _ = reader.read(final=True)
    assert found == [] and finished == [present[-1]]


def test_a_torn_last_line_is_skipped_when_the_writer_is_gone(tmp_path: Path) -> None:
    writing = journal.Journal(tmp_path)
    writing.append(record(1))
    writing.append(record(2))
    writing.close()
    assert writing.folder is not None
    [segment] = journal.segments(writing.folder)
    with open(segment, "ab") as handle:
        handle.write(journal.encode(3, record(3))[:40])        # the crash cut it short
    live = journal.Reader(writing.folder)
    assert [seq for seq, _ in live.read()[0]] == [1, 2]       # may still be being written
    ended = journal.Reader(writing.folder)
    found, _, _ = ended.read(final=True)
    assert [seq for seq, _ in found] == [1, 2] and ended.damaged == 1


def test_with_sync_a_call_waits_until_its_line_is_committed(
        tmp_path: Path) -> None:
    async def main() -> list[bytes]:
        writing = journal.Journal(tmp_path, sync=True)
        waiting = [writing.append(record(number)) for number in range(1, 51)]
        assert all(w is not None and not w.done() for w in waiting)   # not on disk yet
        await asyncio.gather(*waiting)                                # now they are
        assert writing.folder is not None
        lines = journal.segments(writing.folder)[0].read_bytes().splitlines()
        later = writing.append(record(51))
        assert later is not None
        await later
        writing.close()
        return lines

    lines = asyncio.run(main())
    assert [journal.decode(line)[0] for line in lines] == list(range(1, 51))
