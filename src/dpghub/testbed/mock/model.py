"""The mock's values: what a request is found to be, what is wrong with it, what it asks
the mock for (Prism's `Prefer` header), and the answer the mock gives."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, NamedTuple

from ...core.i18n import translate
from .messages import TRANSLATED

if TYPE_CHECKING:
    from .operation import Operation

Kind = Literal["found", "unknown", "not_allowed", "broken"]


class Phrase(NamedTuple):
    """A sentence by its name in messages.TRANSLATED, with its parameters: written in English
    once, and in another language when asked."""

    key: str
    params: tuple[tuple[str, Any], ...] = ()

    def text(self, lang: str = "en") -> str:
        template = TRANSLATED.get(self.key, self.key)
        values = {k: v.text(lang) if isinstance(v, Phrase) else v for k, v in self.params}
        return translate(template, lang, **values) if lang != "en" else \
            template.format(**values)


def phrase(key: str, /, **params: Any) -> Phrase:
    return Phrase(key, tuple(params.items()))


@dataclass(frozen=True, slots=True)
class Violation:
    """One way a request (or a real server's answer) breaks the contract."""

    location: str          # query | path | header | cookie | body | status | content-type
    field: str             # "page", "body.b_no[0]", "content-type"
    rule: str              # required | type | enum | maxLength | declared | syntax | …
    message: str           # in English; text(lang) in another language
    sentence: Phrase | None = field(default=None, compare=False, repr=False)

    @classmethod
    def of(cls, location: str, name: str, rule: str, key: str, **params: Any) -> Violation:
        """A violation whose message is the sentence `key` (see messages.TRANSLATED)."""
        sentence = phrase(key, field=name, rule=rule, **params)
        return cls(location, name, rule, sentence.text(), sentence)

    def text(self, lang: str) -> str:
        return self.sentence.text(lang) if self.sentence is not None else self.message

    def as_dict(self, lang: str = "en") -> dict[str, str]:
        return {"location": self.location, "field": self.field, "rule": self.rule,
                "message": self.text(lang)}


@dataclass(frozen=True, slots=True)
class Prefer:
    """What a `Prefer` header asks of the mock, as Stoplight Prism reads it:
    `code=404`, `example=NAME`, `dynamic=true`, comma or semicolon separated."""

    code: int | None = None
    example: str | None = None
    dynamic: bool = False

    @classmethod
    def parse(cls, header: str | None) -> Prefer:
        if not header:
            return NO_PREFERENCE
        code, example, dynamic = None, None, False
        for part in header.replace(";", ",").split(","):
            name, _, value = part.partition("=")
            name, value = name.strip().lower(), value.strip().strip('"')
            if name == "code" and value.isdigit():
                code = int(value)
            elif name == "example" and value:
                example = value
            elif name == "dynamic":
                dynamic = value.lower() in ("true", "1", "yes", "")
        return cls(code, example, dynamic)


NO_PREFERENCE = Prefer()


@dataclass(frozen=True, slots=True)
class MockAnswer:
    status: int
    media_type: str        # "" when the answer has no body
    body: bytes
    headers: list[tuple[bytes, bytes]] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Match:
    """What `METHOD path` is in the document: an operation (with its path parameters), an
    unknown path (404), a known path without that method (405), or a broken operation."""

    kind: Kind
    operation: Operation | None = None
    params: dict[str, str] = field(default_factory=dict)
    allowed: tuple[str, ...] = ()
    reason: str = ""

    @property
    def found(self) -> bool:
        return self.kind == "found"

    @property
    def status(self) -> int:
        """The HTTP status a refusal of this match has (200 when found)."""
        return {"found": 200, "unknown": 404, "not_allowed": 405, "broken": 501}[self.kind]


class Unsatisfiable(Exception):
    """The mock cannot build a value for a schema; the message says why, in English."""


class Recursion(Unsatisfiable):
    """A schema contains itself deeper than the mock follows; optional places drop it."""
