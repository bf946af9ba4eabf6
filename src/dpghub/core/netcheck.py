"""Is an upstream URL inside the networks the operator allows? (`DPGHUB_GATEWAY_ALLOWED_NETWORKS`)

The list holds CIDR networks and the word `public` (every globally routable address). The
default, `public,127.0.0.0/8,::1/128`, keeps private ranges and cloud metadata addresses
(169.254.169.254) out unless the operator adds them. A host name is checked by what it
resolves to; when it does not resolve here, it passes only where `public` is allowed.
"""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlparse

from .errors import Invalid

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


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


def check_upstream(url: str, allowed: str) -> None:
    host = urlparse(url).hostname or ""
    public, networks = parse_networks(allowed)
    try:
        addresses = [ipaddress.ip_address(host)]
    except ValueError:
        try:
            found = socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
            addresses = [ipaddress.ip_address(str(item[4][0]).split("%")[0]) for item in found]
        except OSError:
            if public:
                return
            raise Invalid("The upstream host {host} does not resolve, and only listed networks "
                          "are allowed", code="upstream_not_allowed", field="upstream_url",
                          host=host) from None
    for address in addresses:
        if public and address.is_global:
            continue
        if any(address in network for network in networks):
            continue
        raise Invalid("The upstream address {address} is outside the networks the operator "
                      "allows", code="upstream_not_allowed", field="upstream_url",
                      address=str(address))
