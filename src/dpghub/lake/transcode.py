"""Transcoding a byte range of a text file to UTF-8, in a separate process.

Kept free of heavy imports: large CP949 files are split at a line break outside quotes and
both halves are decoded at once in spawned processes (Python's codecs hold the GIL, so threads
would not help). CP949 goes through the C library's iconv when it has one — bytes to bytes,
without Python strings: 2.0 s for 234 MB against 2.8 s for decode and encode in Python.
Its mapping was compared with Python's cp949 codec over every one- and two-byte sequence
(tests/unit/lake/test_transcode.py): the same characters, the same refusals.
"""

from __future__ import annotations

import codecs
import ctypes
import errno
from typing import Any

CHUNK = 4 << 20
ICONV_NAMES = {"cp949": b"CP949"}


class Iconv:
    """glibc's iconv from one encoding to UTF-8, fed chunk by chunk."""

    def __init__(self, libc: Any, handle: int) -> None:
        self.libc = libc
        self.handle = handle
        self.out = ctypes.create_string_buffer(0)

    @classmethod
    def open(cls, codec: str) -> Iconv | None:
        """None when the codec has no iconv name or the C library has no iconv for it."""
        name = ICONV_NAMES.get(codec)
        if name is None:
            return None
        try:
            libc = ctypes.CDLL(None, use_errno=True)
            libc.iconv_open.restype = ctypes.c_void_p
            libc.iconv_open.argtypes = [ctypes.c_char_p, ctypes.c_char_p]
            libc.iconv.restype = ctypes.c_size_t
            libc.iconv.argtypes = [ctypes.c_void_p] + [
                ctypes.POINTER(ctypes.c_void_p), ctypes.POINTER(ctypes.c_size_t)] * 2
            libc.iconv_close.argtypes = [ctypes.c_void_p]
        except (OSError, AttributeError):
            return None
        handle = libc.iconv_open(b"UTF-8", name)
        if handle is None or handle == ctypes.c_void_p(-1).value:
            return None
        return cls(libc, handle)

    def convert(self, data: bytes) -> tuple[bytes, int, bool]:
        """(UTF-8 of the longest whole prefix, bytes of `data` it used, whether the next
        byte is invalid). An incomplete character at the end is left for the next chunk."""
        if len(self.out) < 2 * len(data) + 16:    # CP949 grows to 1.5× at most
            self.out = ctypes.create_string_buffer(2 * len(data) + 16)
        source = ctypes.create_string_buffer(data, len(data))
        in_ptr = ctypes.c_void_p(ctypes.addressof(source))
        in_left = ctypes.c_size_t(len(data))
        out_ptr = ctypes.c_void_p(ctypes.addressof(self.out))
        out_left = ctypes.c_size_t(len(self.out))
        result = self.libc.iconv(self.handle, ctypes.byref(in_ptr), ctypes.byref(in_left),
                                 ctypes.byref(out_ptr), ctypes.byref(out_left))
        invalid = result == ctypes.c_size_t(-1).value and ctypes.get_errno() == errno.EILSEQ
        produced = len(self.out) - out_left.value
        return self.out.raw[:produced], len(data) - in_left.value, invalid

    def close(self) -> None:
        self.libc.iconv_close(self.handle)



def _transcode_iconv(converter: Iconv, handle: Any, out: Any, start: int, end: int
                     ) -> int | None:
    position = start          # file offset of the next byte to read
    carry = b""
    while position < end:
        chunk = handle.read(min(CHUNK, end - position))
        if not chunk:
            break
        data = carry + chunk
        base = position - len(carry)
        position += len(chunk)
        converted, used, invalid = converter.convert(data)
        out.write(converted)
        if invalid:
            return base + used
        carry = data[used:]
    if carry:                 # the range ends inside a character
        return position - len(carry)
    return None


def transcode_part(source: str, start: int, end: int, target: str, codec: str,
                   header: bytes | None) -> int | None:
    """Write bytes [start, end) of `source` decoded with `codec` as UTF-8 to `target`.

    Returns None, or the absolute offset of the first byte that does not decode.
    """
    converter = Iconv.open(codec)
    if converter is not None:
        try:
            with open(source, "rb") as handle, open(target, "wb") as raw_out:
                if header:
                    raw_out.write(header)
                handle.seek(start)
                return _transcode_iconv(converter, handle, raw_out, start, end)
        finally:
            converter.close()
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
            held = pending(decoder)
            try:
                out.write(decoder.decode(chunk))
            except UnicodeDecodeError as exc:
                return position - held + exc.start
            position += len(chunk)
        held = pending(decoder)
        try:
            out.write(decoder.decode(b"", final=True))
        except UnicodeDecodeError as exc:
            return position - held + exc.start
    return None


def pending(decoder: codecs.IncrementalDecoder) -> int:
    """Bytes an incremental decoder holds from earlier chunks (the start of a character cut
    by a chunk's end): its error offsets count them, the file's offsets must not."""
    held = decoder.getstate()[0]
    return len(held) if isinstance(held, bytes) else 0


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
