"""Transcoding a byte range of a text file to UTF-8, in a separate process.

Kept free of heavy imports: large CP949 files are split at a line break outside quotes and
both halves are decoded at once in spawned processes (Python's codecs hold the GIL, so threads
would not help).
"""

from __future__ import annotations

import codecs

CHUNK = 4 << 20


def transcode_part(source: str, start: int, end: int, target: str, codec: str,
                   header: bytes | None) -> int | None:
    """Write bytes [start, end) of `source` decoded with `codec` as UTF-8 to `target`.

    Returns None, or the absolute offset of the first byte that does not decode.
    """
    decoder = codecs.getincrementaldecoder(codec)("strict")
    position = start
    with open(source, "rb") as handle, open(target, "w", encoding="utf-8", newline="") as out:
        if header:
            out.write(header.decode("utf-8"))
        handle.seek(start)
        while position < end:
            chunk = handle.read(min(CHUNK, end - position))
            if not chunk:
                break
            try:
                out.write(decoder.decode(chunk))
            except UnicodeDecodeError as exc:
                return position + exc.start
            position += len(chunk)
        try:
            out.write(decoder.decode(b"", final=True))
        except UnicodeDecodeError as exc:
            return position + exc.start
    return None


def main(argv: list[str]) -> int:
    """`python -m dpghub.lake.transcode SOURCE START END TARGET CODEC HEADER_FILE|-`: prints
    nothing on success, or the offset of the first byte that does not decode."""
    source, start, end, target, codec, header_file = argv
    header = None
    if header_file != "-":
        with open(header_file, "rb") as handle:
            header = handle.read()
    failure = transcode_part(source, int(start), int(end), target, codec, header)
    if failure is not None:
        print(failure)
    return 0


if __name__ == "__main__":
    import sys

    raise SystemExit(main(sys.argv[1:]))
