"""Shared kernel: database, errors, security, audit, i18n, pagination. No domain knowledge."""
