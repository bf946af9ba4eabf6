"""CP949 through the C library's iconv must read exactly as Python's cp949 codec: the same
characters for every sequence, the same refusals at the same offsets."""

from __future__ import annotations

from pathlib import Path

import pytest

from dpghub.lake.transcode import Iconv, transcode_part


@pytest.fixture
def iconv() -> Iconv:
    converter = Iconv.open("cp949")
    if converter is None:
        pytest.skip("this C library has no iconv for CP949 (Python's codec is used instead)")
    return converter


def _python(data: bytes) -> bytes | None:
    try:
        return data.decode("cp949").encode("utf-8")
    except UnicodeDecodeError:
        return None


def _iconv(converter: Iconv, data: bytes) -> bytes | None:
    converted, used, invalid = converter.convert(data)
    return converted if used == len(data) and not invalid else None


def test_every_one_and_two_byte_sequence_reads_the_same(iconv: Iconv) -> None:
    differences = []
    for first in range(256):
        single = bytes([first])
        if first < 0x80 and _python(single) != _iconv(iconv, single):
            differences.append(single.hex())
        if first >= 0x80:
            for second in range(256):
                pair = bytes([first, second])
                if _python(pair) != _iconv(iconv, pair):
                    differences.append(pair.hex())
    assert differences == []


@pytest.mark.parametrize("codec_path", ["iconv", "python"])
def test_the_first_bad_byte_is_reported_where_python_would(
        tmp_path: Path, codec_path: str, monkeypatch: pytest.MonkeyPatch) -> None:
    if codec_path == "python":
        monkeypatch.setattr(Iconv, "open", classmethod(lambda cls, codec: None))
    unit = "시도명,시군구명\n서울특별시,종로구\n".encode("cp949")
    text = unit * 200_000                             # ~6 MB: several chunks
    bad_at = len(unit) * 150_000 + 4                  # inside a line, between characters
    source = tmp_path / "bad.csv"
    source.write_bytes(text[:bad_at] + b"\xff\xff" + text[bad_at:])
    target = tmp_path / "out.csv"
    assert transcode_part(str(source), 0, bad_at, str(target), "cp949", None) is None
    assert target.read_bytes() == text[:bad_at].decode("cp949").encode("utf-8")
    assert transcode_part(str(source), 0, source.stat().st_size, str(target), "cp949",
                          None) == bad_at
    # a range that ends inside a two-byte character (bytes 11 and 12) is refused at its start
    assert transcode_part(str(source), 0, 12, str(target), "cp949", None) == 11
