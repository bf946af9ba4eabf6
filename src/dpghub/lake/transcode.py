"""Transcoding a byte range of a text file to UTF-8.

CP949 goes, fastest first, through our C table loop (`_cp949.c`, built at install when a
compiler is there: 234 MB in about 0.3 s), the C library's iconv (about 2 s; large files are
then split at a line break outside quotes and both halves decoded at once in spawned
processes, `python -m dpghub.lake.transcode`), or Python's codec. The table is made from
Python's cp949 codec, and tests/unit/lake/test_transcode.py compares every converter with that
codec over every one- and two-byte sequence: the same characters, the same refusals.
"""

from __future__ import annotations

import codecs
import ctypes
import errno
from collections.abc import Callable, Iterator
from functools import lru_cache
from typing import Any

CHUNK = 4 << 20
ICONV_NAMES = {"cp949": b"CP949"}
# bytes with neither a line break nor a byte that ends a character: a line longer than any a
# job accepts (DuckDB's limit is at most 32 MiB), which must not be held whole in memory
MAX_RUN = 64 << 20
Progress = Callable[[int], None]


class LineTooLong(Exception):
    """A run of `MAX_RUN` bytes without a line break starts at `offset`."""

    def __init__(self, offset: int) -> None:
        super().__init__(offset)
        self.offset = offset


class TableConverter:
    """CP949 through a lookup table in C; the same `convert` contract as `Iconv`."""

    def __init__(self, table: bytes) -> None:
        self.table = table

    @classmethod
    def open(cls, codec: str) -> TableConverter | None:
        """None when the codec is not CP949 or the C part was not built."""
        if codec != "cp949":
            return None
        try:
            from . import _cp949  # noqa: F401
        except ImportError:
            return None
        return cls(_cp949_table())

    def convert(self, data: bytes) -> tuple[bytes, int, bool]:
        from ._cp949 import convert

        return convert(self.table, data)

    def close(self) -> None:
        pass


@lru_cache(maxsize=1)
def _cp949_table() -> bytes:
    """Every two-byte CP949 character as its UTF-8 bytes (padded to 3) and their count, at
    index lead << 8 | trail; zeros where Python's codec refuses the pair."""
    table = bytearray(65536 * 4)
    for lead in range(0x81, 0xFF):
        for trail in range(0x41, 0xFF):
            try:
                encoded = bytes((lead, trail)).decode("cp949").encode("utf-8")
            except UnicodeDecodeError:
                continue
            at = (lead << 8 | trail) * 4
            table[at:at + len(encoded)] = encoded
            table[at + 3] = len(encoded)
    return bytes(table)


def open_converter(codec: str) -> TableConverter | Iconv | None:
    """The fastest converter there is for `codec`, or None (use Python's codec)."""
    return TableConverter.open(codec) or Iconv.open(codec)


def fast_table_available() -> bool:
    """Whether CP949 goes through the C table loop (fast enough for one process)."""
    return TableConverter.open("cp949") is not None


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
        if self.handle is None:
            raise ValueError("this converter is closed")
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
        if self.handle is not None:
            self.libc.iconv_close(self.handle)
            self.handle = None  # iconv on a closed handle would crash the process



def _transcode_with(converter: TableConverter | Iconv, handle: Any, out: Any, start: int,
                    end: int, progress: Progress | None) -> int | None:
    if isinstance(converter, TableConverter):
        return _transcode_threaded(converter, handle, out, start, end, progress)
    for base, piece in _line_chunks(handle, start, end):   # iconv keeps state: one by one
        converted, used, _invalid = converter.convert(piece)
        out.write(converted)
        if used < len(piece):     # a bad byte, or the range ends inside a character
            return base + used
        if progress:
            progress(base + len(piece) - start)
    return None


def _line_chunks(handle: Any, start: int, end: int) -> Iterator[tuple[int, bytes]]:
    """(file offset, bytes) pieces of [start, end), each cut after a byte below 0x41 (a line
    break where there is one): such a byte is never part of a CP949 character (lead bytes are
    0x81 and above, trail bytes 0x41 and above), so the pieces convert independently."""
    position = start
    held: list[bytes] = []    # read, not yet cut (a run with no safe byte at all: rare)
    held_size = 0
    while position < end:
        chunk = handle.read(min(CHUNK, end - position))
        if not chunk:
            break
        position += len(chunk)
        cut = _safe_cut(chunk)
        if cut == 0:
            held.append(chunk)
            held_size += len(chunk)
            if held_size > MAX_RUN:
                raise LineTooLong(position - held_size)
            continue
        piece = b"".join([*held, chunk[:cut]]) if held else chunk[:cut]
        yield position - len(chunk) - held_size, piece
        held = [chunk[cut:]] if cut < len(chunk) else []
        held_size = len(chunk) - cut
    if held:
        yield position - held_size, b"".join(held)


SAFE_BYTES = [bytes((value,)) for value in range(0x41)]


def _safe_cut(data: bytes) -> int:
    """Just after the last line break in `data`, or else after the last byte below 0x41 in
    its final 64 KiB (files with CR line ends, or one very long line); 0 if there is none."""
    cut = data.rfind(b"\n") + 1
    if cut:
        return cut
    tail = len(data) - min(len(data), 1 << 16)
    return max(data.rfind(byte, tail) for byte in SAFE_BYTES) + 1


def _transcode_threaded(converter: TableConverter, handle: Any, out: Any, start: int,
                        end: int, progress: Progress | None) -> int | None:
    """The table loop releases the GIL: two threads convert pieces while this one reads and
    writes them in order; at most a few pieces are held at once."""
    from collections import deque
    from concurrent.futures import Future, ThreadPoolExecutor

    window: deque[tuple[int, int, Future[tuple[bytes, int, bool]]]] = deque()

    def settle() -> int | None:
        base, size, done = window.popleft()
        converted, used, _invalid = done.result()
        out.write(converted)
        if progress:
            progress(base + size - start)
        return base + used if used < size else None

    with ThreadPoolExecutor(max_workers=2) as pool:
        for base, piece in _line_chunks(handle, start, end):
            window.append((base, len(piece), pool.submit(converter.convert, piece)))
            if len(window) > 3 and (failure := settle()) is not None:
                return failure
        while window:
            if (failure := settle()) is not None:
                return failure
    return None


def transcode_part(source: str, start: int, end: int, target: str, codec: str,
                   header: bytes | None, progress: Progress | None = None) -> int | None:
    """Write bytes [start, end) of `source` decoded with `codec` as UTF-8 to `target`, after
    `header` (UTF-8 already). `progress` hears how many bytes of the range are done.

    Returns None, or the absolute offset of the first byte that does not decode; raises
    `LineTooLong` where a line is too long to be cut into pieces.
    """
    converter = open_converter(codec)
    if converter is not None:
        try:
            with open(source, "rb") as handle, open(target, "wb") as raw_out:
                if header:
                    raw_out.write(header)
                handle.seek(start)
                return _transcode_with(converter, handle, raw_out, start, end, progress)
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
            if progress:
                progress(position - start)
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
    nothing on success, the offset of the first byte that does not decode, or `long OFFSET`
    where a line too long to hold starts."""
    source, start, end, target, codec, header_file = argv
    header = None
    if header_file != "-":
        with open(header_file, "rb") as handle:
            header = handle.read()
    try:
        failure = transcode_part(source, int(start), int(end), target, codec, header)
    except LineTooLong as exc:
        print(f"long {exc.offset}")
        return 0
    if failure is not None:
        print(failure)
    return 0


if __name__ == "__main__":
    import sys

    raise SystemExit(main(sys.argv[1:]))
