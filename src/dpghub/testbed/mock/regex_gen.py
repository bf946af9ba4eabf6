"""Strings that match a `pattern`: a small generator for the subset schemas use — literals,
classes and ranges (Hangul too), `\\d \\w \\s .`, groups, alternation, quantifiers and
anchors. Lookarounds and back-references are refused; every result is checked with `re`."""

from __future__ import annotations

import re
from functools import lru_cache
from random import Random
from typing import Any

from .draw import between, pick
from .model import Unsatisfiable

Node = tuple[Any, ...]
DIGITS = [(48, 57)]
WORD = [(65, 90), (97, 122), (48, 57), (95, 95)]
SPACE = [(32, 32)]
ANY = [(65, 90), (97, 122), (48, 57)]
PRINTABLE = [(33, 126)]
CLASSES = {"d": DIGITS, "w": WORD, "s": SPACE}
NEGATED = {"D": [(65, 90), (97, 122)], "W": [(45, 45), (46, 46)], "S": [(65, 90), (97, 122)]}
SIMPLE = {"n": "\n", "t": "\t", "r": "\r", "f": "\f", "v": "\v", "0": "\0"}
MAX_REPEAT = 1000
MAX_TEXT = 65_536     # characters of one generated string
HANGUL = (0xAC00, 0xD7A3)    # [가-힣]: drawn from syllables Korean words use
SYLLABLES = "가나다라마바사아자차카타파하고노도로모보소오조초코토포호구누두루무부수우주기니디리미비시이지" \
    "민서준현우은하윤연영재성승유원태희경석혜빈율건한국정보공데터서울대전부산강남"


class Parser:
    def __init__(self, pattern: str) -> None:
        self.text = pattern
        self.at = 0

    def parse(self) -> Node:
        node = self.alternation()
        if self.at < len(self.text):
            raise Unsatisfiable(f"the pattern '{self.text}' has an unmatched ')'")
        return node

    def peek(self) -> str:
        return self.text[self.at] if self.at < len(self.text) else ""

    def take(self) -> str:
        char = self.peek()
        self.at += 1
        return char

    def alternation(self) -> Node:
        branches = [self.sequence()]
        while self.peek() == "|":
            self.take()
            branches.append(self.sequence())
        return ("alt", branches) if len(branches) > 1 else branches[0]

    def sequence(self) -> Node:
        items: list[Node] = []
        while self.peek() not in ("", "|", ")"):
            atom = self.atom()
            items.append(self.quantified(atom))
        return ("seq", items)

    def atom(self) -> Node:
        char = self.take()
        if char == "(":
            if self.text.startswith("?:", self.at):
                self.at += 2
            elif self.text.startswith(("?P<", "?<"), self.at) and \
                    not self.text.startswith(("?<=", "?<!"), self.at):
                self.at = self.text.index(">", self.at) + 1
            elif self.peek() == "?":
                raise Unsatisfiable(f"the pattern '{self.text}' uses a lookaround or flag "
                                    "group, which the mock does not generate")
            inner = self.alternation()
            if self.take() != ")":
                raise Unsatisfiable(f"the pattern '{self.text}' has an unclosed '('")
            return inner
        if char == "[":
            return self.charset()
        if char == ".":
            return ("set", ANY, False)
        if char in "^$":
            return ("seq", [])
        if char == "\\":
            return self.escape(in_set=False)
        if char in "*+?":
            raise Unsatisfiable(f"the pattern '{self.text}' has a quantifier with nothing "
                                "before it")
        return ("lit", char)

    def escape(self, in_set: bool) -> Node:
        char = self.take()
        if char in CLASSES:
            return ("set", CLASSES[char], False)
        if char in NEGATED:
            return ("set", NEGATED[char], False)
        if char in SIMPLE:
            return ("lit", SIMPLE[char])
        if char in "bBAzZ" and not in_set:
            return ("seq", [])
        if char in "ux":
            width = 4 if char == "u" else 2
            code = self.text[self.at:self.at + width]
            self.at += width
            return ("lit", chr(int(code, 16)))
        if char.isdigit() or char in "kpP":
            raise Unsatisfiable(f"the pattern '{self.text}' uses a back-reference or Unicode "
                                "property, which the mock does not generate")
        return ("lit", char)

    def charset(self) -> Node:
        negated = self.peek() == "^"
        if negated:
            self.take()
        ranges: list[tuple[int, int]] = []
        first = True
        while True:
            char = self.take()
            if char == "":
                raise Unsatisfiable(f"the pattern '{self.text}' has an unclosed '['")
            if char == "]" and not first:
                break
            first = False
            if char == "\\":
                node = self.escape(in_set=True)
                if node[0] == "set":
                    ranges.extend(node[1])
                    continue
                char = node[1]
            if self.peek() == "-" and self.text[self.at + 1:self.at + 2] not in ("]", ""):
                self.take()
                end = self.take()
                if end == "\\":
                    end = self.escape(in_set=True)[1]
                ranges.append((ord(char), ord(end)))
            else:
                ranges.append((ord(char), ord(char)))
        return ("set", ranges, negated)

    def quantified(self, atom: Node) -> Node:
        char = self.peek()
        low, high = 1, 1
        if char in ("*", "+", "?"):
            self.take()
            low, high = {"*": (0, None), "+": (1, None), "?": (0, 1)}[char]
        elif char == "{":
            found = re.match(r"\{(\d*)(,?)(\d*)\}", self.text[self.at:])
            if not found or not (found.group(1) or found.group(3)):
                return atom
            self.at += found.end()
            low = int(found.group(1) or 0)
            high = int(found.group(3)) if found.group(3) else (None if found.group(2) else low)
        else:
            return atom
        if self.peek() in ("?", "+"):
            self.take()                      # lazy or possessive: the same strings match
        return ("rep", atom, low, high)


@lru_cache(maxsize=512)
def parsed(pattern: str) -> tuple[Node, re.Pattern[str], bool, bool]:
    try:
        compiled = re.compile(pattern)
    except re.error as exc:
        raise Unsatisfiable(f"the pattern '{pattern}' is not a valid regular expression: "
                            f"{exc}") from None
    tree = Parser(pattern).parse()
    return tree, compiled, pattern.startswith("^"), pattern.endswith("$")


def build(node: Node, rng: Random, spread: int, left: list[int]) -> str:
    """A string of the pattern's tree; `left` counts down the characters it may still have:
    nested repeats multiply (`((((a*)*)*)*)…` drew strings of many millions for some
    seeds, and a request picks the seed)."""
    kind = node[0]
    if kind == "lit":
        return _spend(node[1], left)
    if kind == "seq":
        return "".join(build(n, rng, spread, left) for n in node[1])
    if kind == "alt":
        return build(pick(rng, node[1]), rng, spread, left)
    if kind == "set":
        return _spend(character(node[1], node[2], rng), left)
    low, high = node[2], node[3]
    top = min(high if high is not None else MAX_REPEAT, low + spread)
    return "".join(build(node[1], rng, spread, left)
                   for _ in range(between(rng, low, max(low, top))))


def _spend(text: str, left: list[int]) -> str:
    left[0] -= len(text)
    if left[0] < 0:
        raise Unsatisfiable(f"the pattern asks for strings longer than the mock builds "
                            f"({MAX_TEXT:,} characters)")
    return text


def character(ranges: list[tuple[int, int]], negated: bool, rng: Random) -> str:
    if negated:
        allowed = [c for lo, hi in PRINTABLE for c in range(lo, hi + 1)
                   if not any(a <= c <= b for a, b in ranges)]
        if not allowed:
            raise Unsatisfiable("a negated class of the pattern excludes every printable "
                                "character")
        return chr(pick(rng, allowed))
    lo, hi = pick(rng, ranges)
    if (lo, hi) == HANGUL:
        return pick(rng, SYLLABLES)
    return chr(between(rng, lo, hi))


def matching(pattern: str, rng: Random, min_length: int = 0,
             max_length: int | None = None) -> str:
    """A string `re.search(pattern, ·)` finds a match in, of an allowed length."""
    tree, compiled, anchored_start, anchored_end = parsed(pattern)
    for attempt in range(30):
        spread = (3, 0, 8, 16)[attempt % 4]
        text = build(tree, rng, spread, [MAX_TEXT])
        if len(text) < min_length and not anchored_end:
            text += "0" * (min_length - len(text))
        elif len(text) < min_length and not anchored_start:
            text = "0" * (min_length - len(text)) + text
        if len(text) >= min_length and (max_length is None or len(text) <= max_length) \
                and compiled.search(text):
            return text
    raise Unsatisfiable(f"no string of the allowed length matching the pattern '{pattern}' "
                        "was found")
