"""Agile service projects: backlog, iterations, releases, deployments, feedback, metrics."""
