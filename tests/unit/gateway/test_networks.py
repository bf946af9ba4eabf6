"""The operator's networks for upstreams: public only unless loopback or private ranges are
listed, every address a name resolves to judged, names that resolve to nothing refused."""

from __future__ import annotations

import pytest

from dpghub.config import Settings
from dpghub.core.netcheck import NetworkPolicy, Outside, Unresolved, check_upstream

PUBLIC = "211.43.0.8"      # an address in a Korean public range (never connected to here)


def dns(table: dict[str, list[str]]):  # type: ignore[no-untyped-def]
    """A resolver answering from a table; a name not in it does not resolve."""
    def resolve(host: str, port: int) -> list[str]:
        if host not in table:
            raise OSError(f"{host}: Name or service not known")
        return table[host]
    return resolve


def test_the_default_is_public_addresses_only() -> None:
    assert Settings().gateway_allowed_networks == "public"
    default = NetworkPolicy(Settings().gateway_allowed_networks, dns({}))
    for url in ("http://127.0.0.1:8080/x", "http://[::1]/x", "http://10.0.0.5/",
                "http://192.168.1.1/", "http://172.16.0.1/", "http://169.254.169.254/latest",
                "http://100.64.0.1/", "http://0.0.0.0/"):
        with pytest.raises(Outside):
            check_upstream(url, default)
    check_upstream(f"https://{PUBLIC}/api", default)


@pytest.mark.parametrize("url", [
    "http://169.254.169.254./latest/meta-data/",          # the root's trailing dot
    "http://[::ffff:169.254.169.254]/latest",            # IPv4-mapped
    "http://[::ffff:127.0.0.1]:8080/",
    "http://[64:ff9b::a9fe:a9fe]/latest",                # NAT64 of 169.254.169.254
    "http://[2002:a9fe:a9fe::1]/latest",                 # 6to4 of 169.254.169.254
    "http://[::127.0.0.1]/",                             # IPv4-compatible
    "http://[fe80::1%25eth0]/",                          # link-local with a zone
])
def test_an_internal_address_in_any_spelling_is_refused(url: str) -> None:
    with pytest.raises(Outside) as refused:
        check_upstream(url, NetworkPolicy("public", dns({})))
    assert refused.value.code == "upstream_not_allowed" and refused.value.field == "upstream_url"


def test_numeric_spellings_are_judged_by_what_they_resolve_to() -> None:
    # the machine's own resolver reads "127.1" and "2130706433" as 127.0.0.1 (no DNS asked)
    for host in ("127.1", "2130706433", "0x7f000001"):
        with pytest.raises(Outside):
            check_upstream(f"http://{host}/", NetworkPolicy("public"))


def test_names_are_judged_by_every_address_they_resolve_to() -> None:
    table = {"api.example.kr": [PUBLIC], "metadata.google.internal": ["169.254.169.254"],
             "split.example.kr": [PUBLIC, "10.0.0.7"], "localhost": ["127.0.0.1", "::1"]}
    policy = NetworkPolicy("public", dns(table))
    check_upstream("https://api.example.kr/v1", policy)
    check_upstream("https://API.Example.KR./v1", policy)             # case and trailing dot
    for url in ("http://metadata.google.internal/computeMetadata/v1/",
                "http://metadata.google.internal./computeMetadata/v1/",
                "https://split.example.kr/", "http://localhost:8000/"):
        with pytest.raises(Outside):
            check_upstream(url, policy)


def test_a_name_that_does_not_resolve_is_refused_even_where_public_is_allowed() -> None:
    policy = NetworkPolicy("public", dns({}))
    for url in ("http://metadata.google.internal/", "http://no-such-host.invalid/x",
                "http://[not-an-address/"):
        with pytest.raises(Unresolved):
            check_upstream(url, policy)
    with pytest.raises(Unresolved, match="does not resolve"):
        check_upstream("http://metadata.google.internal/", policy)
    empty = NetworkPolicy("public", lambda host, port: [])
    with pytest.raises(Unresolved):
        check_upstream("https://api.example.kr/", empty)


def test_listed_networks_let_loopback_and_private_ranges_in() -> None:
    table = {"localhost": ["127.0.0.1", "::1"], "db.internal": ["10.1.2.3"]}
    policy = NetworkPolicy("127.0.0.0/8, ::1/128, 10.1.0.0/16", dns(table))
    for url in ("http://127.0.0.1:9/x", "http://localhost:8000/", "http://[::1]/",
                "http://db.internal/", "http://[::ffff:127.0.0.1]/"):
        check_upstream(url, policy)
    for url in (f"https://{PUBLIC}/", "http://10.2.0.1/", "http://169.254.169.254/"):
        with pytest.raises(Outside):
            check_upstream(url, policy)
    assert policy.addresses("localhost", 80) == ["127.0.0.1", "::1"]
