"""How the upstream client writes a URL on the wire: the same request target and Host header
as urllib's parsing and quoting would give, without paying for them on every call."""

from __future__ import annotations

from urllib.parse import quote, urlsplit

import pytest

from dpghub.gateway.upstream import _NEEDS_QUOTING, TARGET_SAFE, UpstreamError, _origin, _split


def wire_target(url: str) -> str:
    target = _split(url)[1]
    return quote(target, safe=TARGET_SAFE) if _NEEDS_QUOTING.search(target) else target


@pytest.mark.parametrize("url", [
    "http://127.0.0.1:8080/svc/getRestDeInfo?solYear=2024&solMonth=03",
    "http://example.go.kr",
    "http://example.go.kr?only=query",
    "http://example.go.kr/a%2Fb/c?x=%C7%D1",        # encoded pieces stay encoded
    "http://example.go.kr/공휴일 목록?이름=삼일절",   # Korean and spaces get %-encoded
    "http://example.go.kr/p?q=1#fragment",
    "https://user@[::1]:8443/x",
])
def test_target_is_what_urllib_would_send(url: str) -> None:
    parts = urlsplit(url)
    expected = quote((parts.path or "/") + ("?" + parts.query if parts.query else ""),
                     safe=TARGET_SAFE)
    assert wire_target(url) == expected


def test_every_ascii_character_is_quoted_exactly_when_urllib_quotes_it() -> None:
    for code in range(128):
        target = "/a" + chr(code)
        assert bool(_NEEDS_QUOTING.search(target)) == (quote(target, safe=TARGET_SAFE)
                                                       != target), repr(chr(code))


def test_origin_gives_the_pool_key_and_host_header() -> None:
    assert _origin("http://Example.GO.kr") == (("http", "example.go.kr", 80), "Example.GO.kr")
    assert _origin("https://user@[::1]:8443") == (("https", "::1", 8443), "[::1]:8443")
    assert _origin("http://공공데이터.kr:81")[1] == "xn--ob0ba190cv9w99k.kr:81"
    with pytest.raises(UpstreamError, match="not an http"):
        _origin("ftp://example.go.kr")
