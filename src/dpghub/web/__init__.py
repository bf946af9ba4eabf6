"""The web layer shared by every domain: request context, errors, templates, CSRF."""
