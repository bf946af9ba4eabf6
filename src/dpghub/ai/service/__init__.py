"""Every AI rule, by subject: providers (and the routes of an alias), budgets (monthly credit
and what is left), ledger (the calls' rows and the usage figures), settings (masking), and the
hub's own AI features: nl2sql (ask the data), qa (catalogue Q&A), with what they share in
assist (the model call, abuse limits) and prompts. Routes use them as
`service.providers.create(…)`, and so on."""

from . import assist, budgets, ledger, nl2sql, prompts, providers, qa, settings  # noqa: F401
