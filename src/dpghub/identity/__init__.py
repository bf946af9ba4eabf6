"""Organizations, users, memberships, web sessions, API tokens and the authorization policy."""
