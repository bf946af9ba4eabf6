"""The ranking arithmetic: Σ weight·score/max ÷ Σ weight × 100 per reviewer, the mean over
complete reviews."""

from __future__ import annotations

import pytest

from dpghub.programmes.service.ranking import application_score, weighted_total

CRITERIA = [{"id": "feasibility", "weight": 40, "max_score": 10},
            {"id": "impact", "weight": 60, "max_score": 20}]


def test_weights_summing_to_100_give_the_weighted_sum() -> None:
    assert weighted_total(CRITERIA, {"feasibility": 8, "impact": 18}) == pytest.approx(86)
    assert weighted_total(CRITERIA, {"feasibility": 10, "impact": 20}) == pytest.approx(100)
    assert weighted_total(CRITERIA, {"feasibility": 0, "impact": 0}) == 0


def test_weights_are_relative() -> None:
    halves = [{"id": "a", "weight": 1, "max_score": 5}, {"id": "b", "weight": 3, "max_score": 5}]
    # (1·4/5 + 3·1/5) / 4 × 100 = (0.8 + 0.6) / 4 × 100 = 35
    assert weighted_total(halves, {"a": 4, "b": 1}) == pytest.approx(35)


def test_the_score_is_the_mean_of_complete_reviews_only() -> None:
    reviews = [{"feasibility": 8, "impact": 18}, {"feasibility": 6, "impact": 14},
               {"feasibility": 10}]                      # incomplete: not counted
    assert application_score(CRITERIA, reviews) == (pytest.approx(76), 2)
    assert application_score(CRITERIA, []) == (None, 0)
