"""Why a request got no answer, in words a developer acts on: the service is not running, it
is too slow, or what came back is not HTTP. The HTTP client wraps the cause several layers
deep; the kind is read from the whole chain."""

from __future__ import annotations

import http.client
import socket
from collections.abc import Iterator


def causes(exc: BaseException) -> Iterator[BaseException]:
    """`exc` and everything it wraps: causes, contexts, `reason`, and exceptions in `args`."""
    seen: set[int] = set()
    todo: list[BaseException] = [exc]
    while todo:
        item = todo.pop()
        if id(item) in seen:
            continue
        seen.add(id(item))
        yield item
        linked = [item.__cause__, item.__context__, getattr(item, "reason", None),
                  *getattr(item, "args", ())]
        todo += [x for x in linked if isinstance(x, BaseException)]


def classify(exc: BaseException, timeout_s: float) -> tuple[str, str]:
    """(kind, English message) for a request that failed below HTTP."""
    chain = list(causes(exc))
    names = {type(x).__name__ for x in chain}
    if any(isinstance(x, ConnectionRefusedError) for x in chain) or \
            "NewConnectionError" in names and "refused" in str(exc).lower():
        return ("connection_refused", "The service refused the connection: nothing is "
                                      "listening at the base URL. Is it running?")
    if any(isinstance(x, TimeoutError | socket.timeout) for x in chain) or \
            names & {"ReadTimeout", "ConnectTimeout", "ReadTimeoutError", "ConnectTimeoutError",
                     "Timeout"}:
        return ("timeout", f"No answer within {timeout_s:g} s: the request timed out.")
    bad = next((x for x in chain if isinstance(x, http.client.BadStatusLine | http.client.
                                                LineTooLong)), None)
    if bad is not None:
        sample = str(bad)[:80]
        return ("not_http", f"The answer is not HTTP: it begins with {sample!r}.")
    if any(isinstance(x, http.client.RemoteDisconnected) for x in chain) or \
            "ProtocolError" in names:
        return ("not_http", "The service closed the connection without an HTTP answer.")
    if any(isinstance(x, socket.gaierror) for x in chain):
        return ("connection", "The base URL's host name does not resolve.")
    if any(isinstance(x, ConnectionError | OSError) for x in chain) or "ConnectionError" in names:
        return ("connection", f"The connection failed: {str(exc)[:200]}")
    return ("other", f"{type(exc).__name__}: {str(exc)[:300]}")
