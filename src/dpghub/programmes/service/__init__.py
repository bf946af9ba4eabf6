"""Every programmes rule, by subject: calls (공모), applications (drafts, consortium,
submission), reviews (reviewers, conflicts, scores), ranking (the weighted arithmetic),
selections (decision, notices, agreements; `of_org` for later domains), agreements (progress
reports), dashboard. Portal notices are identity's (`identity.service.notify`). Routes use them as `service.calls.create(…)`, and so on."""

from . import (  # noqa: F401
    agreements,
    applications,
    calls,
    dashboard,
    ranking,
    reviews,
    selections,
)
