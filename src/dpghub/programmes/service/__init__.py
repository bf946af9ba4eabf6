"""Every programmes rule, by subject: calls (공모), applications (drafts, consortium,
submission), reviews (reviewers, conflicts, scores), ranking (the weighted arithmetic),
selections (decision, notices, agreements; `of_org` for later domains), agreements (progress
reports), notices, dashboard. Routes use them as `service.calls.create(…)`, and so on."""

from . import (  # noqa: F401
    agreements,
    applications,
    calls,
    dashboard,
    notices,
    ranking,
    reviews,
    selections,
)
