"""Arrow columns to numpy and back, keeping each column's exact arrow type.

The model works on float64 numbers, integer category indexes and Python strings; the output
must still be the input's schema, so every conversion here has its way back.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc


def is_numeric(type_: pa.DataType) -> bool:
    """Numbers and instants: they have an order and a distance, so the copula models them."""
    return (pa.types.is_integer(type_) or pa.types.is_floating(type_)
            or pa.types.is_decimal(type_) or pa.types.is_temporal(type_))


def is_text(type_: pa.DataType) -> bool:
    return pa.types.is_string(type_) or pa.types.is_large_string(type_)


def _as_int64(column: pa.ChunkedArray) -> pa.ChunkedArray:
    type_ = column.type
    if pa.types.is_date32(type_) or pa.types.is_time32(type_):
        return column.cast(pa.int32()).cast(pa.int64())
    return column.cast(pa.int64())


def to_float(column: pa.ChunkedArray | pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """(values as float64, valid mask). Instants become their integer count of units; a NaN or
    infinite float counts as missing, since no distribution can place it."""
    if isinstance(column, pa.Array):
        column = pa.chunked_array([column])
    type_ = column.type
    if pa.types.is_temporal(type_):
        column = _as_int64(column)
    elif not pa.types.is_floating(type_) and not pa.types.is_integer(type_):
        column = column.cast(pa.float64())
    valid = np.asarray(column.is_valid().to_numpy(zero_copy_only=False), dtype=bool)
    values = np.asarray(column.fill_null(0).to_numpy(zero_copy_only=False), dtype=np.float64)
    finite = np.isfinite(values)
    return np.where(finite, values, 0.0), valid & finite


def decimals_of(values: np.ndarray, limit: int = 10) -> int:
    """How many decimal places the real values show, so synthetic 37.53284628 is not
    37.532846281937."""
    sample = values[:2000]
    for places in range(limit + 1):
        if np.all(np.abs(np.round(sample, places) - sample) <= 1e-9 * np.maximum(
                1.0, np.abs(sample))):
            return places
    return limit


def from_float(values: np.ndarray, valid: np.ndarray, type_: pa.DataType) -> pa.Array:
    """float64 back to `type_`; integers and instants are rounded, clipped to the type's range."""
    mask = ~valid
    if pa.types.is_floating(type_):
        return pa.array(values, mask=mask, type=pa.float64()).cast(type_)
    if pa.types.is_decimal(type_):
        rounded = np.round(values, type_.scale)
        return pc.cast(pa.array(rounded, mask=mask, type=pa.float64()), type_)
    bits = type_.bit_width if pa.types.is_integer(type_) else 64
    if pa.types.is_date32(type_) or pa.types.is_time32(type_):
        bits = 32
    info = np.iinfo(f"int{bits}")
    low, high = float(info.min), float(info.max)
    if pa.types.is_unsigned_integer(type_):
        low, high = 0.0, float(np.iinfo(f"uint{bits}").max)
    ints = np.clip(np.round(values), low, high)
    if pa.types.is_unsigned_integer(type_):
        return pa.array(ints.astype(f"uint{bits}"), mask=mask, type=type_)
    array = pa.array(ints.astype(f"int{bits}"), mask=mask)
    return array if array.type == type_ else array.cast(type_)


def codes(real: pa.ChunkedArray, other: pa.ChunkedArray | None = None
          ) -> tuple[np.ndarray, np.ndarray | None, pa.Array]:
    """Integer codes for each value of `real` (and `other`, on the same code book), with -1 for
    missing values, and the distinct values in code order. Works for any arrow type."""
    parts = list(real.chunks) + (list(other.chunks) if other is not None else [])
    both = pa.chunked_array(parts, type=real.type) if parts else pa.chunked_array([], real.type)
    if pa.types.is_dictionary(both.type):
        both = both.cast(both.type.value_type)
    encoded = both.dictionary_encode().combine_chunks() if len(both) else None
    if encoded is None:
        empty = np.zeros(0, dtype=np.int64)
        return empty, (empty if other is not None else None), pa.array([], type=both.type)
    idx = np.asarray(encoded.indices.fill_null(-1).to_numpy(zero_copy_only=False),
                     dtype=np.int64)
    n = len(real)
    return idx[:n], (idx[n:] if other is not None else None), encoded.dictionary


def strings(column: pa.ChunkedArray) -> list[str | None]:
    return column.cast(pa.string()).to_pylist() if not is_text(column.type) \
        else column.to_pylist()
