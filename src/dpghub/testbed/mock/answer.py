"""The mock's answer to a valid request: the status (Prefer's code if declared, else the lowest
2xx, else default), the media type (JSON first, XML when only XML is declared, or what Accept
asks), and the body (a named example, else a valid example, else one built from the schema,
checked against it before it is sent)."""

from __future__ import annotations

import json
from random import Random
from typing import Any
from urllib.parse import urlencode

from ...web import datagokr
from . import faults
from .generate import Generator
from .model import MockAnswer, Prefer, Unsatisfiable, Violation, phrase
from .operation import MISSING, Media, Operation, Response, status_of
from .request import is_json
from .xmlout import XmlWriter

STRING = {"type": "string"}
TRIES = 4          # fresh values built when one fails its schema (rare: overlapping oneOf)


def is_xml(media_type: str) -> bool:
    return media_type in ("application/xml", "text/xml") or media_type.endswith("+xml")


def rank(media_type: str) -> int:
    if is_json(media_type):
        return 0
    if media_type in ("*/*", "application/*"):
        return 1
    if is_xml(media_type):
        return 2
    return 3 if media_type.startswith("text/") else 4


def choose_media(content: dict[str, Media], accept: str | None) -> Media | None:
    """The media type to answer in: the first Accept names that is declared, else JSON, else
    XML, else text, else the first declared."""
    if not content:
        return None
    for wanted in _accepted(accept):
        if wanted in ("*/*", ""):
            break
        for media_type, media in content.items():
            if wanted == media_type or (wanted.endswith("/*") and
                                        media_type.startswith(wanted[:-1])):
                return media
    return min(content.values(), key=lambda m: rank(m.media_type))


def _accepted(accept: str | None) -> list[str]:
    ranked = []
    for index, part in enumerate((accept or "").split(",")):
        media, _, params = part.partition(";")
        quality = 1.0
        for param in params.split(";"):
            name, _, value = param.strip().partition("=")
            if name == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        if quality > 0:
            ranked.append((-quality, index, media.strip().lower()))
    return [media for _, _, media in sorted(ranked)]


class Answerer:
    def __init__(self, generator: Generator, xml: XmlWriter) -> None:
        self.generator = generator
        self.xml = xml

    def answer(self, op: Operation, prefer: Prefer, rng: Random, accept: str | None,
               style: str, lang: str) -> MockAnswer:
        key = op.default_key if prefer.code is None else op.response_key(prefer.code)
        if key is None:
            return self._refuse(op, "prefer code", prefer.code, ", ".join(op.responses),
                                style, lang)
        if prefer.example and prefer.code is None:
            key = next((k for k in [key, *op.responses]
                        if any(prefer.example in m.examples
                               for m in op.responses[k].content.values())), key)
        status = prefer.code if prefer.code is not None else status_of(key)
        response = op.responses[key]
        media = choose_media(response.content, accept)
        headers = self._headers(response, rng)
        if media is None:
            return MockAnswer(status, "", b"", headers)
        if prefer.example:
            if prefer.example not in media.examples:
                names = sorted({n for r in op.responses.values() for m in r.content.values()
                                for n in m.examples})
                return self._refuse(op, "prefer example", prefer.example,
                                    ", ".join(names) or "-", style, lang)
            value = media.examples[prefer.example]
        elif media.example is not MISSING and not prefer.dynamic:
            value = media.example
        else:
            try:
                value = self.build(op, key, media, rng)
            except Unsatisfiable as exc:
                return self._cannot(op, key, str(exc), style, lang)
        return MockAnswer(status, *self.serialise(value, media), headers)

    def build(self, op: Operation, key: str, media: Media, rng: Random) -> Any:
        """A value valid against the media type's schema (Unsatisfiable when none is found)."""
        if media.schema is None:
            return {}
        for _ in range(TRIES):
            value = self.generator.value(media.schema, rng)
            if media.validator is None or media.validator.is_valid(value):
                return value
        first = next(iter(media.validator.iter_errors(value)))
        raise Unsatisfiable(f"the values the mock builds for {key} are not valid against its "
                            f"schema ({first.message.splitlines()[0]})")

    def serialise(self, value: Any, media: Media) -> tuple[str, bytes]:
        media_type = media.media_type
        if is_json(media_type) or media_type in ("*/*", "application/*"):
            out = "application/json" if "*" in media_type else media_type
            return out, json.dumps(value, ensure_ascii=False).encode()
        if is_xml(media_type):
            return media_type + ";charset=UTF-8", self.xml.document(value, media.schema)
        if media_type == "application/x-www-form-urlencoded" and isinstance(value, dict):
            return media_type, urlencode(value, doseq=True).encode()
        if isinstance(value, bytes):
            return media_type, value
        text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
        if media_type.startswith("text/"):
            return media_type + ";charset=UTF-8", text.encode()
        return media_type, text.encode()

    def _headers(self, response: Response, rng: Random) -> list[tuple[bytes, bytes]]:
        out = []
        for header in response.headers:
            try:
                value = self.generator.value(header.schema or STRING, rng, header.name)
            except Unsatisfiable:
                continue
            if isinstance(value, list):
                value = ",".join(map(str, value))
            elif isinstance(value, bool):
                value = "true" if value else "false"
            out.append((header.name.lower().encode("latin-1", "replace"),
                        str(value).encode("utf-8")))
        return out

    @staticmethod
    def _refuse(op: Operation, key: str, asked: Any, expected: str, style: str,
                lang: str) -> MockAnswer:
        violation = Violation.of("header", "prefer", "declared", key, asked=asked,
                                 operation=op.label, expected=expected)
        return MockAnswer(*faults.render_violations([violation], style, lang))

    @staticmethod
    def _cannot(op: Operation, key: str, reason: str, style: str, lang: str) -> MockAnswer:
        message = phrase("unbuildable", key=key, operation=op.label, reason=reason).text(lang)
        return MockAnswer(*faults.render_plain(501, "mock_answer_unbuildable",
                                               datagokr.UNKNOWN, message, style))
