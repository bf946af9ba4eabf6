"""On the real library standard data: the libraries' road addresses and phone numbers are
found (an institution's phone is not a direct identifier); names of libraries and districts,
codes, dates and coordinates are not personal data."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from dpghub.privacy.detect import scan

SOURCE = (Path(__file__).resolve().parents[5] / "shared/data/kr/library_std"
          / "전국도서관표준데이터.csv")
TYPES = {"VARCHAR": "text", "BIGINT": "integer", "INTEGER": "integer", "DOUBLE": "decimal",
         "DATE": "date", "TIMESTAMP": "timestamp", "BOOLEAN": "boolean", "TIME": "text"}


def test_library_standard_data(tmp_path: Path) -> None:
    if not SOURCE.exists():
        pytest.skip(f"the real Korean data is not beside the clone: {SOURCE}")
    utf8 = tmp_path / "library.csv"
    utf8.write_text(SOURCE.read_bytes().decode("cp949"), encoding="utf-8")
    con = duckdb.connect()
    con.execute(f"CREATE VIEW library AS SELECT * FROM read_csv('{utf8}')")
    columns = [{"name": name, "type": TYPES.get(str(kind).split("(")[0], "text")}
               for name, kind, *_ in con.execute("DESCRIBE library").fetchall()]
    findings = scan(con, "library", columns)
    assert [(f.column, f.kind, f.direct) for f in findings] == [
        ("소재지도로명주소", "address", False), ("도서관전화번호", "landline", False)]
    address, phone = findings
    assert address.share > 0.85   # 11 % are written in ways the pattern misses (measured)
    assert phone.share > 0.9
