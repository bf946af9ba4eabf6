"""Which synthetic rows are identical to some real row (on chosen columns).

Each column's values get integer codes on one code book shared by both tables, and a row is
hashed from its codes; a synthetic row is a copy when its hash is a real row's. A hash
collision can only flag a row that is not a copy (it is then drawn again, harmlessly); a
true copy is never missed.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from .columns import codes

MIX = np.uint64(0x9E3779B97F4A7C15)


def _hashes(real: pa.Table, synthetic: pa.Table, columns: list[str]
            ) -> tuple[np.ndarray, np.ndarray]:
    h_real = np.full(real.num_rows, 0xCBF29CE484222325, dtype=np.uint64)
    h_syn = np.full(synthetic.num_rows, 0xCBF29CE484222325, dtype=np.uint64)
    with np.errstate(over="ignore"):
        for name in columns:
            a, b, _ = codes(real.column(name), synthetic.column(name).cast(
                real.column(name).type))
            assert b is not None
            for h, c in ((h_real, a), (h_syn, b)):
                h ^= (c + 2).astype(np.uint64)
                h *= MIX
                h ^= h >> np.uint64(29)
    return h_real, h_syn


def copied_rows(real: pa.Table, synthetic: pa.Table, columns: list[str] | None = None
                ) -> np.ndarray:
    """Boolean mask over the synthetic rows: identical to a real row on `columns` (all)."""
    names = list(real.column_names) if columns is None else columns
    if not names or real.num_rows == 0:
        return np.zeros(synthetic.num_rows, dtype=bool) if names else \
            np.full(synthetic.num_rows, real.num_rows > 0)
    h_real, h_syn = _hashes(real, synthetic, names)
    return np.isin(h_syn, h_real)
