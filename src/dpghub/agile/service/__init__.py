"""Every agile rule, by subject: projects (consortium, the service built, from a selection),
tokens (CI), items (backlog and board), iterations, releases, deployments, incidents,
metrics, feedback (giving, votes, comments, triage, statuses, merging; the notices it leaves
are identity's), changelog (and its Atom feed), limits (abuse limits of feedback), watch
(incidents from the gateway's error rate), figures (for the programme dashboard). Routes use
them as `service.projects.create(…)`, and so on."""

from . import (  # noqa: F401
    changelog,
    deployments,
    feedback,
    figures,
    incidents,
    items,
    iterations,
    limits,
    metrics,
    projects,
    releases,
    tokens,
    watch,
)
