"""Synthetic data: a copy of a table that keeps its shape and trends but none of its rows.

`synthesize(table)` fits and samples; `fit(table).sample(n, seed)` does the two apart.
`quality_report` and `privacy_report` score a synthetic table against the real one, the way
SDMetrics defines the scores, with our own code.
"""

from .model import Model, fit, synthesize
from .privacy import privacy_report
from .quality import quality_report

__all__ = ["Model", "fit", "privacy_report", "quality_report", "synthesize"]
