"""Fast draws from a seeded Random: `random()` arithmetic instead of randint and choice,
whose overhead would dominate building an answer (they run for every field)."""

from __future__ import annotations

from collections.abc import Sequence
from random import Random
from typing import TypeVar

T = TypeVar("T")


def pick(rng: Random, options: Sequence[T]) -> T:
    return options[int(rng.random() * len(options))]


def between(rng: Random, low: int, high: int) -> int:
    """An integer from low to high inclusive (for spans below 2**50, which floats draw
    evenly)."""
    return low + int(rng.random() * (high - low + 1))
