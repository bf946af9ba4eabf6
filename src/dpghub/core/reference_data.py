"""Where the hub finds official Korean reference files by itself (code tables for the demo
and for the region functions): `../shared/data/kr` beside the checkout or the working folder,
else the tables shipped by the PyPI package PublicDataReader (MIT)."""

from __future__ import annotations

import importlib.util
from pathlib import Path


def shared_data_dir() -> Path | None:
    for base in (Path.cwd(), Path(__file__).resolve().parents[3]):
        candidate = (base / ".." / "shared" / "data" / "kr").resolve()
        if candidate.is_dir():
            return candidate
    return None


def packaged_data_dir() -> Path | None:
    spec = importlib.util.find_spec("PublicDataReader")
    if spec is None or not spec.submodule_search_locations:
        return None
    raw = Path(list(spec.submodule_search_locations)[0]) / "raw"
    return raw if (raw / "code_bdong.json").is_file() else None
