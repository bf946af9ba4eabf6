"""Path templates of a document as matchers: a dict for fixed paths, regular expressions for
templated ones (most literal first), and the servers' base paths, which a client may keep."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote, urlsplit

PARAM = re.compile(r"\{([^{}/]+)\}")


@dataclass(frozen=True)
class Route:
    template: str
    pattern: re.Pattern[str] | None      # None for a fixed path
    names: tuple[str, ...]
    methods: dict[str, Any]              # "GET" → what the spec keeps for it

    @property
    def specificity(self) -> tuple[int, int]:
        literal = len(PARAM.sub("", self.template))
        return (-literal, len(self.names))


def compile_template(template: str) -> tuple[re.Pattern[str] | None, tuple[str, ...], str]:
    """(the template's matcher, its parameter names, why it cannot be served or "").

    Matching must not backtrack: a request path is the caller's, and Python's regular
    expressions hold the whole process while they try (`/{a}.{b}.{c}.json` against a long
    path of dots took minutes). So a parameter followed by more of the same segment stops at
    the first character of the text that follows it, which leaves each match one way to go;
    parameters side by side (`{a}{b}`) cannot be told apart: the path is matched, and its
    operations answer why they cannot be served."""
    names = tuple(PARAM.findall(template))
    if not names:
        return None, (), ""
    found = list(PARAM.finditer(template))
    parts, problem = [re.escape(template[:found[0].start()])], ""
    for index, param in enumerate(found):
        end = found[index + 1].start() if index + 1 < len(found) else len(template)
        after = template[param.end():end]
        if index + 1 < len(found) and not after:
            problem = problem or (f"the parameters {param.group(0)}{found[index + 1].group(0)} "
                                  "stand side by side and cannot be told apart")
            parts.append("()")               # matched (linearly), then answered with why
            continue
        last_of_segment = index + 1 == len(found) or "/" in after
        stop = "/" if last_of_segment else "/" + after[0]
        parts.append(f"([^{re.escape(stop)}]+)")
        parts.append(re.escape(after))
    return re.compile("".join(parts) + r"\Z"), names, problem


def base_paths(document: dict[str, Any]) -> list[str]:
    """The path part of each server URL ("/api/nts-businessman/v1"), longest first."""
    found = set()
    for server in document.get("servers") or []:
        url = str((server or {}).get("url") or "")
        path = urlsplit(url).path if "://" in url else url
        path = "/" + path.strip("/")
        if path != "/" and "{" not in path:
            found.add(path)
    return sorted(found, key=len, reverse=True)


def normal(path: str) -> str:
    path = "/" + path.lstrip("/")
    return path.rstrip("/") or "/"


class Router:
    def __init__(self, routes: list[Route], bases: list[str]) -> None:
        self.fixed = {normal(r.template): r for r in routes if r.pattern is None}
        self.templated = sorted((r for r in routes if r.pattern is not None),
                                key=lambda r: r.specificity)
        self.bases = bases

    def find(self, method: str, path: str) -> tuple[Route | None, dict[str, str], tuple]:
        """(the route serving `method path`, its path parameters, the methods the path
        allows); a route of None with methods means 405, with none 404."""
        route, params, allowed = self._find(method, normal(path))
        if route is None and not allowed:
            for base in self.bases:
                if path.startswith(base + "/") or path == base:
                    return self._find(method, normal(path[len(base):]))
        return route, params, allowed

    def _find(self, method: str, path: str) -> tuple[Route | None, dict[str, str], tuple]:
        allowed: list[str] = []
        fixed = self.fixed.get(path)
        if fixed is not None and method in fixed.methods:
            return fixed, {}, ()      # the common case, without a regular expression
        candidates: list[tuple[Route, dict[str, str]]] = [(fixed, {})] if fixed else []
        for route in self.templated:
            hit = route.pattern.match(path) if route.pattern else None
            if hit:
                values = [unquote(v) if "%" in v else v for v in hit.groups()]
                candidates.append((route, dict(zip(route.names, values, strict=True))))
        for route, params in candidates:
            if method in route.methods:
                return route, params, ()
            if method == "HEAD" and "GET" in route.methods:
                return route, params, ()
            allowed.extend(m for m in route.methods if m not in allowed)
        return None, {}, tuple(allowed)
