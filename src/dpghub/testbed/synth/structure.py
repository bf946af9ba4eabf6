"""How the categories join the copula: their order, and which column each depends on.

A category's interval position is its latent value, so the order of the categories decides
what the copula's correlations can express. Two measured choices (bench/synth.py):

- order: by the mean normal score of the number column the category explains best
  (largest η²), so "서울특별시" sits where the high latitudes are; without such a column,
  by frequency;
- parent: a category column that another one depends on strongly (시도명 → 시군구명) becomes
  its parent, and the child is drawn from its distribution *given* the parent's value, which
  keeps that pair's table whole — a Gaussian copula alone smears it.

Both searches are bounded (CANDIDATES other columns per column), so 1,000 columns stay cheap.
"""

from __future__ import annotations

import numpy as np

CANDIDATES = 24
MIN_ETA2 = 0.02
MIN_DEPENDENCE = 0.3  # uncertainty coefficient U(child | parent)
MAX_CELLS = 2_000_000
ROWS_PER_PARENT_VALUE = 5


def _candidates(pool: list[int], rng: np.random.Generator) -> list[int]:
    if len(pool) <= CANDIDATES:
        return pool
    return sorted(rng.choice(pool, size=CANDIDATES, replace=False).tolist())


def category_order(codes: np.ndarray, k: int, numbers: list[np.ndarray],
                   rng: np.random.Generator) -> np.ndarray:
    """Positions -> category codes (missing = k), ordered along the best number column."""
    slot = np.where(codes < 0, k, codes)
    counts = np.bincount(slot, minlength=k + 1).astype(float)
    best, best_eta = None, MIN_ETA2
    for i in _candidates(list(range(len(numbers))), rng):
        eta = eta_squared(numbers[i], codes, k)
        if eta > best_eta:
            best_eta = eta
            best = np.bincount(slot, weights=numbers[i], minlength=k + 1) / np.maximum(counts, 1)
    if best is None:
        return np.argsort(-counts, kind="stable")
    best = np.where(counts > 0, best, np.inf)  # categories never seen (none) go last
    return np.argsort(best, kind="stable")


def _entropy(counts: np.ndarray) -> float:
    p = counts[counts > 0] / counts.sum()
    return float(-(p * np.log(p)).sum())


def dependence(child: np.ndarray, k: int, parent: np.ndarray, parent_k: int) -> float:
    """U(child | parent) = (H(child) − H(child | parent)) / H(child), in [0, 1]."""
    c = np.where(child < 0, k, child)
    p = np.where(parent < 0, parent_k, parent)
    joint = np.bincount(p * (k + 1) + c, minlength=(parent_k + 1) * (k + 1))
    h_child = _entropy(np.bincount(c, minlength=k + 1).astype(float))
    if h_child <= 0:
        return 0.0
    h_joint = _entropy(joint.astype(float))
    h_parent = _entropy(np.bincount(p, minlength=parent_k + 1).astype(float))
    return max(0.0, (h_child + h_parent - h_joint) / h_child)


def choose_parents(columns: list[tuple[np.ndarray, int]], rng: np.random.Generator
                   ) -> list[int | None]:
    """For each category column (codes, number of categories), the column it is drawn given,
    or None. A parent has fewer categories (ties: earlier column), so there is no cycle."""
    n = len(columns[0][0]) if columns else 0
    parents: list[int | None] = []
    for i, (codes, k) in enumerate(columns):
        pool = [j for j, (_, pk) in enumerate(columns)
                if j != i and 2 <= pk and (pk, j) < (k, i)
                and (pk + 1) * (k + 1) <= MAX_CELLS and n >= ROWS_PER_PARENT_VALUE * (pk + 1)]
        best, best_u = None, MIN_DEPENDENCE
        for j in _candidates(pool, rng):
            u = dependence(codes, k, columns[j][0], columns[j][1])
            if u > best_u:
                best, best_u = j, u
        parents.append(best)
    return parents


def decode_order(columns: list[tuple[np.ndarray, int]]) -> list[int]:
    """Parents before children: by number of categories, then position."""
    return sorted(range(len(columns)), key=lambda i: (columns[i][1], i))


MIN_NUMBER_ETA2 = 0.2
ROWS_PER_GROUP = 10


def eta_squared(z: np.ndarray, codes: np.ndarray, k: int) -> float:
    """Share of z's variance explained by the categories (the correlation ratio η²)."""
    slot = np.where(codes < 0, k, codes)
    counts = np.bincount(slot, minlength=k + 1).astype(float)
    means = np.bincount(slot, weights=z, minlength=k + 1) / np.maximum(counts, 1)
    total = float(np.var(z)) * len(z)
    return float((counts * (means - z.mean()) ** 2).sum() / total) if total > 0 else 0.0


def choose_number_parents(numbers: list[np.ndarray], columns: list[tuple[np.ndarray, int]],
                          rng: np.random.Generator) -> list[int | None]:
    """For each number column (normal scores), the category column it is drawn given, or
    None: the one explaining most of it (η² ≥ MIN_NUMBER_ETA2), with ROWS_PER_GROUP rows
    per category on average so each group's distribution is worth learning."""
    n = len(numbers[0]) if numbers else 0
    pool = [j for j, (_, k) in enumerate(columns) if 2 <= k and n >= ROWS_PER_GROUP * (k + 1)]
    parents: list[int | None] = []
    for z in numbers:
        best, best_eta = None, MIN_NUMBER_ETA2
        for j in _candidates(pool, rng):
            eta = eta_squared(z, *columns[j])
            if eta > best_eta:
                best, best_eta = j, eta
        parents.append(best)
    return parents
