"""Which addresses the gateway may reach: the operator's `DPGHUB_GATEWAY_ALLOWED_NETWORKS`.

The list holds CIDR networks and the word `public` (every globally routable address). The
default is `public` alone: loopback, private ranges, link-local (the cloud metadata service at
169.254.169.254) and the rest stay out unless the operator lists them. A host name is judged by
every address it resolves to; a name that resolves to nothing is refused, so a name that only
an internal resolver knows (metadata.google.internal) is refused here whether it resolves or not.

The check runs twice. At registration it gives the provider a clear 422. On every new
upstream connection (gateway/upstream.py) the name is resolved once, every address is checked,
and the connection goes to a checked address — never to a second resolution of the name — so a
name that answers differently later (DNS rebinding) still cannot reach inside.

An IPv6 address that carries an IPv4 one (IPv4-mapped `::ffff:a.b.c.d`, IPv4-compatible
`::a.b.c.d`, NAT64 `64:ff9b::/96`, 6to4 `2002::/16`) is judged by the IPv4 address it reaches.
"""

from __future__ import annotations

import functools
import ipaddress
import socket
from collections.abc import Callable
from urllib.parse import urlsplit

from .errors import Invalid

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Address = ipaddress.IPv4Address | ipaddress.IPv6Address
# (host, port) → the addresses it resolves to, as text; raises OSError when it does not resolve
Resolver = Callable[[str, int], list[str]]



class Unresolved(Invalid):
    """The host resolves to no address (here, now)."""

    code = "upstream_not_allowed"


class Outside(Invalid):
    """The host is, or resolves to, an address outside the allowed networks."""

    code = "upstream_not_allowed"


_NAT64 = (ipaddress.ip_network("64:ff9b::/96"), ipaddress.ip_network("64:ff9b:1::/48"))
_COMPATIBLE = ipaddress.ip_network("::/96")


def system_resolver(host: str, port: int) -> list[str]:
    """The machine's resolver (getaddrinfo): each address once, in the order given."""
    found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(item[4][0]) for item in found))


def parse_networks(text: str) -> tuple[bool, list[Network]]:
    public = False
    networks: list[Network] = []
    for part in (p.strip() for p in text.split(",")):
        if not part:
            continue
        if part.lower() == "public":
            public = True
        else:
            networks.append(ipaddress.ip_network(part, strict=False))
    return public, networks


def normal_host(host: str) -> str:
    """A host as it is checked and resolved: lower case, without the root's trailing dot
    ("169.254.169.254." is the metadata address too)."""
    host = host.strip().lower()
    return host[:-1] if host.endswith(".") else host


@functools.lru_cache(maxsize=1024)
def literal(host: str) -> Address | None:
    """The address a host names by itself (an IP literal), else None."""
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        return None


def _reached(address: Address) -> Address:
    """The IPv4 address an IPv6 one carries and reaches, or the address itself."""
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return address.ipv4_mapped
        if address.sixtofour is not None:
            return address.sixtofour
        if any(address in network for network in _NAT64) or (
                address in _COMPATIBLE and int(address) > 1):
            return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return address


class NetworkPolicy:
    """The operator's networks, parsed once, with the resolver names are looked up with (the
    machine's; tests give their own to play DNS without a network)."""

    def __init__(self, allowed: str, resolver: Resolver = system_resolver) -> None:
        self.text = allowed
        self.public, self.networks = parse_networks(allowed)
        self.resolve = resolver

    def allows(self, address: Address) -> bool:
        reached = _reached(address)
        if self.public and reached.is_global and not (
                reached.is_multicast or reached.is_reserved or reached.is_unspecified):
            return True
        return any(reached in network for network in self.networks
                   if network.version == reached.version)

    def addresses(self, host: str, port: int) -> list[str]:
        """The addresses of `host` to connect to, every one of them allowed. Raises
        Unresolved when the name resolves to nothing, Outside when any address it resolves to
        lies outside the allowed networks (both 422 `upstream_not_allowed`)."""
        host = normal_host(host)
        address = literal(host)
        if address is not None:
            found = [str(address)]
        else:
            try:
                found = self.resolve(host, port) if host else []
            except (OSError, UnicodeError):
                found = []
            if not found:
                raise Unresolved("The upstream host {host} does not resolve to an address "
                                 "the gateway may reach", field="upstream_url", host=host)
        for text in found:
            candidate = literal(text.partition("%")[0])
            if candidate is None or not self.allows(candidate):
                raise Outside("The upstream address {address} is outside the networks the "
                              "operator allows", field="upstream_url", address=text)
        return found


def check_upstream(url: str, networks: NetworkPolicy) -> None:
    """At registration: the upstream URL's host resolves, and only into allowed networks."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        port = parts.port or (443 if parts.scheme.lower() == "https" else 80)
    except ValueError:            # a bracketed host that is no address, a port past 65535
        host, port = url, 0
    networks.addresses(host, port)
