"""Which encoding a text file is in, and refusals that name the line of a byte it lacks."""

from __future__ import annotations

import codecs
from pathlib import Path

from ..errors import bad_file
from ..transcode import pending
from .staged import CHUNK

SAMPLE = 1 << 20  # bytes read to guess an encoding
CODECS = {"utf-8": "utf-8-sig", "cp949": "cp949", "utf-16": "utf-16", "utf-16-le": "utf-16-le",
          "utf-16-be": "utf-16-be"}
LABELS = {"utf-8": "UTF-8", "cp949": "CP949 (EUC-KR)", "utf-16": "UTF-16",
          "utf-16-le": "UTF-16LE", "utf-16-be": "UTF-16BE"}


def guess_encoding(path: Path) -> str:
    """UTF-8, CP949 or UTF-16: a byte-order mark says; else UTF-16's zero bytes; else the
    codec that reads further into the file before a byte it cannot decode. A file that mixes
    UTF-8 and CP949 lines is then read as the one its first lines are in, and the error names
    the first line in the other."""
    with path.open("rb") as handle:
        head = handle.read(SAMPLE)
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8"
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    wide = _utf16_without_bom(head)
    if wide is not None:
        return wide
    utf8_bad = _first_bad(path, "utf-8", stop=len(head))  # (a character cut at its end is no fault)
    if utf8_bad is None:
        utf8_bad = _first_bad(path, "utf-8")
        if utf8_bad is None:
            return "utf-8"
    # CP949 is checked over its first chunk (the common case: it decodes, UTF-8 did not),
    # or as far as UTF-8 went when that is further
    cp949_bad = _first_bad(path, "cp949", stop=max(CHUNK, utf8_bad + 1))
    if cp949_bad is None or cp949_bad > utf8_bad:
        return "cp949"
    if utf8_bad > cp949_bad:
        return "utf-8"
    from charset_normalizer import from_bytes  # both stop at the same byte: a closer look

    best = from_bytes(head).best()
    return "utf-8" if best is not None and best.encoding == "utf_8" else "cp949"


def _utf16_without_bom(head: bytes) -> str | None:
    """CSV text always holds ASCII (delimiters, line breaks, digits), which UTF-16 writes
    with a zero byte beside it; UTF-8 and CP949 text never holds a zero byte."""
    sample = head[:65536]
    sample = sample[: len(sample) - len(sample) % 2]
    if b"\x00" not in sample:
        return None
    zeros_even, zeros_odd = sample[0::2].count(0), sample[1::2].count(0)
    pairs = len(sample) // 2
    for codec, zeros, others in (("utf-16-le", zeros_odd, zeros_even),
                                 ("utf-16-be", zeros_even, zeros_odd)):
        if zeros * 10 >= pairs and others * 10 <= zeros:
            try:
                codecs.getincrementaldecoder(codec)("strict").decode(sample)
            except UnicodeDecodeError:
                continue
            return codec
    return None


def _first_bad(path: Path, codec: str, stop: int | None = None) -> int | None:
    """Offset of the first byte `codec` cannot decode, reading the whole file or its first
    `stop` bytes (a character cut at `stop` is not counted); None when all of it decodes."""
    decoder = codecs.getincrementaldecoder(codec)("strict")
    position = 0
    with path.open("rb") as handle:
        while stop is None or position < stop:
            chunk = handle.read(CHUNK if stop is None else min(CHUNK, stop - position))
            if not chunk:
                try:
                    decoder.decode(b"", final=True)
                except UnicodeDecodeError as exc:
                    return position - pending(decoder) + exc.start
                return None
            held = pending(decoder)
            try:
                decoder.decode(chunk)
            except UnicodeDecodeError as exc:
                return position - held + exc.start
            position += len(chunk)
    return None


def line_at(path: Path, encoding: str, offset: int) -> int:
    """The line (from 1) holding byte `offset`. In UTF-8 and CP949 the byte 0x0A is never
    part of another character, so counting it is exact; UTF-16 is decoded to count."""
    wide = encoding.startswith("utf-16")
    decoder = codecs.getincrementaldecoder(CODECS[encoding])("replace") if wide else None
    line = 1
    with path.open("rb") as handle:
        remaining = offset
        while remaining > 0:
            chunk = handle.read(min(CHUNK, remaining))
            if not chunk:
                break
            line += decoder.decode(chunk).count("\n") if decoder else chunk.count(b"\n")
            remaining -= len(chunk)
    return line


def decode_error(path: Path, name: str, encoding: str, offset: int) -> Exception:
    """The refusal for a byte that does not decode: its line, its bytes, the encoding."""
    with path.open("rb") as handle:
        handle.seek(offset)
        bad = handle.read(2).hex(" ")
    return bad_file("{file} line {line}: bytes {bytes} (offset {offset}) are not valid {encoding}",
                    file=name, code="bad_encoding", line=line_at(path, encoding, offset),
                    bytes=bad, offset=offset, encoding=LABELS[encoding])
