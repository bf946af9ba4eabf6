"""Every AI rule, by subject: providers (and the routes of an alias), budgets (monthly credit
and what is left), ledger (the calls' rows and the usage figures), settings (masking). Routes use them as
`service.providers.create(…)`, and so on."""

from . import budgets, ledger, providers, settings  # noqa: F401
