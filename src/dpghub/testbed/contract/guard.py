"""Every connection a contract validation opens goes to an address the operator's networks
allow — checked when it is opened, not only when the validation was asked for.

Schemathesis sends its requests with `requests` (urllib3), which resolves the host name
again for each new connection: a name that answered the hub's check with a public address
could answer the connection with 127.0.0.1 or the metadata service (DNS rebinding). While a
validation runs, the guard wraps urllib3's connection factory as the gateway's own client
does for upstreams (gateway/upstream.py): the name is resolved once through the policy, every
address checked, and the socket opened to a checked address. Schemathesis opens connections
in worker threads of its own, so the guard holds for the process while any validation runs
(urllib3 is the hub's client for validations only); TLS still names the host (SNI and the
certificate check use the URL's name, not the address).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from ...core.errors import Invalid
from ...core.netcheck import NetworkPolicy

_lock = threading.Lock()
_active: list[NetworkPolicy] = []      # the policies of the validations running now


class AddressRefused(OSError):
    """An OSError, so urllib3 and Schemathesis report it as a failed connection."""


@contextmanager
def guarding(policy: NetworkPolicy) -> Iterator[None]:
    """urllib3's connections reach only addresses `policy` allows until the block ends."""
    _install()
    with _lock:
        _active.append(policy)
    try:
        yield
    finally:
        with _lock:
            _active.remove(policy)


def _install() -> None:
    from urllib3.util import connection

    with _lock:
        if getattr(connection.create_connection, "guarded", False):
            return
        unguarded = connection.create_connection

        def create_connection(address: tuple[str, int], *args: Any, **kwargs: Any) -> Any:
            policy = _active[-1] if _active else None
            if policy is None:
                return unguarded(address, *args, **kwargs)
            host, port = address
            try:
                allowed = policy.addresses(host, port)
            except Invalid as exc:
                raise AddressRefused(str(exc)) from None
            failure: OSError | None = None
            for found in allowed:
                try:
                    return unguarded((found, port), *args, **kwargs)
                except OSError as exc:
                    failure = exc
            assert failure is not None
            raise failure

        create_connection.guarded = True  # type: ignore[attr-defined]
        connection.create_connection = create_connection
