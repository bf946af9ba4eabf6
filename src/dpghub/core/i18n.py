"""Korean first, English second.

Message ids are the English text; `locale/ko/LC_MESSAGES/messages.po` gives the Korean. The
catalogs are read with Babel when first needed (no compile step, so a translator edits one file).
The language of a request is chosen by: explicit choice (cookie), the user's setting, the
`Accept-Language` header, then the hub's default.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

from babel.messages.pofile import read_po

LANGUAGES = ("ko", "en")
LOCALE_DIR = Path(__file__).resolve().parent.parent / "locale"


@cache
def catalog(lang: str) -> dict[str, str]:
    path = LOCALE_DIR / lang / "LC_MESSAGES" / "messages.po"
    if not path.exists():
        return {}
    with path.open("rb") as handle:
        po = read_po(handle, locale=lang)
    return {str(m.id): str(m.string) for m in po if m.id and m.string}


def translate(msgid: str, lang: str, /, **params: Any) -> str:
    text = catalog(lang).get(msgid, msgid) if lang != "en" else msgid
    return text.format(**params) if params else text


def pick_language(
    *, explicit: str | None, user_setting: str | None, accept_language: str | None, default: str
) -> str:
    for candidate in (explicit, user_setting):
        if candidate in LANGUAGES:
            return candidate  # type: ignore[return-value]
    for lang in _parse_accept_language(accept_language or ""):
        if lang in LANGUAGES:
            return lang
    return default


def _parse_accept_language(header: str) -> list[str]:
    """Primary language tags of an Accept-Language header, best first."""
    ranked: list[tuple[float, int, str]] = []
    for index, part in enumerate(header.split(",")):
        piece = part.strip()
        if not piece:
            continue
        tag, _, params = piece.partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                quality = 0.0
        if quality > 0:
            ranked.append((-quality, index, tag.strip().split("-")[0].lower()))
    return [tag for _, _, tag in sorted(ranked)]
