"""CP949 through our C table loop and through the C library's iconv must read exactly as
Python's cp949 codec: the same characters for every sequence, the same refusals at the same
offsets, whichever converter the machine has."""

from __future__ import annotations

from pathlib import Path

import pytest

from dpghub.lake import transcode
from dpghub.lake.transcode import Iconv, LineTooLong, TableConverter, _line_chunks, transcode_part

CONVERTERS = ["table", "iconv"]


def _open(kind: str) -> TableConverter | Iconv:
    converter = TableConverter.open("cp949") if kind == "table" else Iconv.open("cp949")
    if converter is None:  # under CI=true a skip fails (tests/ci_skips.py)
        pytest.skip("the C part (dpghub.lake._cp949) was not built: `pip install` compiles it "
                    "when a C compiler is there" if kind == "table" else
                    "no iconv converter on this machine (Python's codec is used instead)")
    return converter


def _python(data: bytes) -> bytes | None:
    try:
        return data.decode("cp949").encode("utf-8")
    except UnicodeDecodeError:
        return None


def _converted(converter: TableConverter | Iconv, data: bytes) -> bytes | None:
    converted, used, invalid = converter.convert(data)
    return converted if used == len(data) and not invalid else None


@pytest.mark.parametrize("kind", CONVERTERS)
def test_every_one_and_two_byte_sequence_reads_the_same(kind: str) -> None:
    converter = _open(kind)
    differences = []
    for first in range(256):
        single = bytes([first])
        if first < 0x80 and _python(single) != _converted(converter, single):
            differences.append(single.hex())
        if first >= 0x80:
            for second in range(256):
                pair = bytes([first, second])
                if _python(pair) != _converted(converter, pair):
                    differences.append(pair.hex())
    assert differences == []


def test_the_table_loop_converts_long_mixed_text_and_stops_at_the_first_bad_pair() -> None:
    converter = _open("table")
    text = "법정동코드,법정동명,폐지여부\n1111010100,서울특별시 종로구 청운동,존재\n똠방각하 ㈜ ①\n"
    data = (text * 5_000).encode("cp949")
    assert converter.convert(data) == (text.encode("utf-8") * 5_000, len(data), False)
    # a lead byte at the very end waits for its trail byte in the next chunk
    assert converter.convert(data + b"\xb0") == (text.encode("utf-8") * 5_000, len(data), False)
    # ASCII words (eight bytes at a time) right up to a bad pair: refused at its lead byte
    bad = b"abcdefghijklmnop" + "가".encode("cp949") + b"\xc9\x20rest"
    assert converter.convert(bad) == ("abcdefghijklmnop가".encode(), 18, True)


@pytest.mark.parametrize("kind", [*CONVERTERS, "python"])
def test_the_first_bad_byte_is_reported_where_python_would(
        tmp_path: Path, kind: str, monkeypatch: pytest.MonkeyPatch) -> None:
    if kind != "python":
        _open(kind)  # skips when the machine lacks it
    monkeypatch.setattr(transcode, "open_converter",  # a fresh one per call: each is closed
                        lambda codec: None if kind == "python" else _open(kind))
    unit = "시도명,시군구명\n서울특별시,종로구\n".encode("cp949")
    text = unit * 200_000                             # ~6 MB: several chunks
    bad_at = len(unit) * 150_000 + 4                  # inside a line, between characters
    source = tmp_path / "bad.csv"
    source.write_bytes(text[:bad_at] + b"\xff\xff" + text[bad_at:])
    target = tmp_path / "out.csv"
    seen: list[int] = []
    assert transcode_part(str(source), 0, bad_at, str(target), "cp949", None,
                          seen.append) is None
    assert target.read_bytes() == text[:bad_at].decode("cp949").encode("utf-8")
    assert seen[-1] == bad_at and seen == sorted(seen)   # progress in bytes of the range
    assert transcode_part(str(source), 0, source.stat().st_size, str(target), "cp949",
                          None) == bad_at
    # a range that ends inside a two-byte character (bytes 11 and 12) is refused at its start
    assert transcode_part(str(source), 0, 12, str(target), "cp949", None) == 11


def test_files_without_line_feeds_are_cut_in_pieces_all_the_same(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _open("table")
    monkeypatch.setattr(transcode, "CHUNK", 4096)
    text = "시도명,시군구명\r서울특별시,종로구\r" * 5_000     # old Mac line ends: CR only
    data = text.encode("cp949")
    source = tmp_path / "cr.csv"
    source.write_bytes(data)
    with source.open("rb") as handle:
        pieces = list(_line_chunks(handle, 0, len(data)))
    assert b"".join(piece for _, piece in pieces) == data
    assert max(len(piece) for _, piece in pieces) <= 2 * 4096      # nothing piles up
    assert [offset for offset, _ in pieces] == [
        sum(len(p) for _, p in pieces[:i]) for i in range(len(pieces))]
    target = tmp_path / "out.csv"
    assert transcode_part(str(source), 0, len(data), str(target), "cp949", None) is None
    assert target.read_bytes() == text.encode("utf-8")
    hangul = ("가" * 10_000).encode("cp949")                         # no safe byte at all
    source.write_bytes(hangul)
    assert transcode_part(str(source), 0, len(hangul), str(target), "cp949", None) is None
    assert target.read_bytes() == ("가" * 10_000).encode("utf-8")


def test_a_line_too_long_to_cut_is_refused_not_held(tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """A run with no line break and no byte that ends a character (CP949 letters only) is a
    line longer than any job reads: it is refused where it starts, not piled up in memory."""
    _open("table")
    monkeypatch.setattr(transcode, "CHUNK", 4096)
    monkeypatch.setattr(transcode, "MAX_RUN", 64 * 1024)
    head = "가,나\n".encode("cp949")
    source = tmp_path / "long.csv"
    source.write_bytes(head + ("다" * 100_000).encode("cp949"))
    with pytest.raises(LineTooLong) as raised:
        transcode_part(str(source), 0, source.stat().st_size, str(tmp_path / "out.csv"),
                       "cp949", None)
    assert raised.value.offset == len(head)
