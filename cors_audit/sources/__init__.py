"""Capture readers: every input format becomes a stream of `Message`s, bodies never read.

`open_capture` sniffs the bytes (not the file name) and hands the file to the reader for its
format: HAR (`har.py`, any producer, optionally gzip/zlib-compressed, UTF-8 with or without BOM,
or UTF-16), the live addon's JSONL capture (`capture.py`) or a mitmproxy flow dump (`mitm.py`).

Problems that make a file unusable raise `InputError` (one line: file, place, problem). Problems
that only cost some entries become warnings, one line per kind of problem, naming the first place
it happened and how many more places had it; every good entry is still yielded.
"""

from __future__ import annotations

import functools
import gzip
import mmap
import os
import re
import zlib
from collections.abc import Iterator

from cors_audit.errors import InputError
from cors_audit.model import Headers, Message

__all__ = ["open_capture"]

_HEAD = 512
_CAPTURE_HEAD = re.compile(rb'\s*\{\s*"cors_audit_capture"\s*:')
_TNETSTRING_HEAD = re.compile(rb"\d{1,12}:")
_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"\x89PNG", "PNG image data"),
    (b"\xff\xd8\xff", "JPEG image data"),
    (b"GIF8", "GIF image data"),
    (b"%PDF", "a PDF document"),
    (b"PK\x03\x04", "a ZIP archive"),
    (b"SQLite format 3", "an SQLite database"),
    (b"\xd4\xc3\xb2\xa1", "a pcap capture"),
    (b"\xa1\xb2\xc3\xd4", "a pcap capture"),
    (b"\x0a\x0d\x0d\x0a", "a pcapng capture"),
)


DAMAGE = frozenset(
    {
        "truncated", "malformed", "tail", "bad-json", "not-object", "bad-line", "no-request", "no-url",
        "no-method", "bad-method", "bad-url", "bad-status", "bad-response", "bad-flow", "bad-header",
        "bad-headers",
    }
)


def tolerant(messages: Iterator[Message], warnings: list[str]) -> Iterator[Message]:
    """Every good message; damage found part-way becomes one more warning instead of an error.

    For readers that must produce a report whatever the file holds (the addon at shutdown).
    """
    start = len(warnings)
    try:
        yield from messages
    except InputError as error:
        if not error.partial:
            raise
        warnings.insert(start, str(error))  # the file's first damage leads its lines


class WarningLog:
    """Collects recoverable problems of one file; `flush` writes one line per kind of problem.

    A thousand entries missing a URL should cost the user one line, not a thousand, and that
    line should still point at a place they can open in an editor.
    """

    def __init__(self, file: str) -> None:
        self.file = file
        self._first: dict[str, tuple[str, str]] = {}
        self._more: dict[str, int] = {}

    def add(self, kind: str, place: str, problem: str) -> None:
        """Record `problem` at `place`; `kind` groups problems that share one output line."""
        if kind in self._first:
            self._more[kind] += 1
        else:
            self._first[kind] = (place, problem)
            self._more[kind] = 0

    def __bool__(self) -> bool:
        return bool(self._first)

    def damage(self) -> tuple[str, str, str] | None:
        """(kind, place, problem) of the first problem that makes the file itself bad input.

        A cut-off file, invalid JSON or entries without the fields every producer writes are the
        file's fault: the CLI says so and exits 2, after every good entry was analyzed. Bytes that
        are not UTF-8, a missing time or a last line cut by a crash are facts of real traffic and
        stay warnings.
        """
        for kind, (place, problem) in self._first.items():
            if kind in DAMAGE:
                return kind, place, self._counted(kind, problem)
        return None

    def finish(self, warnings: list[str], *, usable: bool, what: str) -> None:
        """End of the file: flush the lines, then raise when the file was bad input.

        Nothing `usable` read and a problem recorded: "no usable {what}". Otherwise the first damage,
        as a partial InputError raised after every good entry was yielded.
        """
        fatal = None if usable else self.first_problem()
        if fatal is not None:
            self.flush(warnings, skip_first=True)
            place, problem = fatal
            raise InputError(self.file, f"no usable {what}: {problem}", place or None)
        damage = self.damage()
        self.flush(warnings, skip=damage[0] if damage else None)
        if damage is not None:
            raise InputError(self.file, damage[2], damage[1] or None, partial=True)

    def first_problem(self) -> tuple[str, str] | None:
        """(place, problem) of the first kind recorded, for an InputError when nothing was usable."""
        for kind, (place, problem) in self._first.items():
            return place, self._counted(kind, problem)
        return None

    def flush(self, warnings: list[str], *, skip_first: bool = False, skip: str | None = None) -> None:
        """Append the lines to `warnings`; `skip_first` when the first problem became an InputError,
        `skip` for the kind that did."""
        for number, (kind, (place, problem)) in enumerate(self._first.items()):
            if (skip_first and number == 0) or kind == skip:
                continue
            problem = self._counted(kind, problem)
            warnings.append(f"{self.file}: {place}: {problem}" if place else f"{self.file}: {problem}")
        self._first.clear()
        self._more.clear()

    def _counted(self, kind: str, problem: str) -> str:
        more = self._more[kind]
        return f"{problem} (and {more} more like it)" if more else problem


# Readers build millions of header lines whose names and values are already `str`; Headers()
# would convert every one again, which doubles the per-entry cost of a HAR.
make_headers = Headers.from_pairs


_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def one_line(text: str) -> str:
    """`text` with control characters escaped: every warning and error must stay one line."""
    return _CONTROL.sub(lambda m: repr(m.group())[1:-1], text)


@functools.lru_cache(maxsize=64)
def id_prefix(path: str) -> str:
    """The prefix of message ids read from `path`: the path as given, so ids are unique per run
    even when `a/proxy.har` and `b/proxy.har` are analysed together, and stable from run to run.
    Remembered: the capture reader and the addon ask again for every message of the same file."""
    return os.path.normpath(path) if path else "capture"


def line_column(buf: bytes | mmap.mmap | memoryview, offset: int) -> str:
    """'line L column C' (1-based) of byte `offset`, for messages a user can act on in an editor."""
    view = memoryview(buf)
    offset = max(0, min(offset, len(view)))
    line = 1
    last_newline = -1
    step = 1 << 24
    for start in range(0, offset, step):
        chunk = view[start : min(offset, start + step)].tobytes()
        count = chunk.count(b"\n")
        if count:
            line += count
            last_newline = start + chunk.rfind(b"\n")
    column = offset - last_newline
    return f"line {line} column {column}"


def _load(path: str) -> bytes | mmap.mmap:
    """The file's bytes, memory-mapped when possible so large files cost page cache, not heap."""
    try:
        with open(path, "rb") as f:
            size = os.fstat(f.fileno()).st_size
            if size == 0:
                if os.path.isfile(path):
                    raise InputError(path, "empty file")
                return f.read()  # a pipe or special file: read what it gives
            try:
                return mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
            except (OSError, ValueError):
                return f.read()
    except FileNotFoundError:
        raise InputError(path, "no such file") from None
    except IsADirectoryError:
        raise InputError(path, "is a directory, not a capture file") from None
    except PermissionError:
        raise InputError(path, "permission denied") from None
    except OSError as e:
        raise InputError(path, f"cannot read: {e.strerror or e}") from None


def _unwrap(path: str, data: bytes | mmap.mmap) -> bytes | mmap.mmap:
    """Undo gzip / zlib (mitmproxy's .zhar) compression and UTF-16 encoding; UTF-8 passes through."""
    head = data[:4]
    if head[:2] == b"\x1f\x8b":
        try:
            data = gzip.decompress(data)
        except (OSError, EOFError, zlib.error) as e:
            raise InputError(path, f"gzip data is corrupt ({e})", "byte 0") from None
    elif len(head) >= 2 and head[0] == 0x78 and (head[0] << 8 | head[1]) % 31 == 0:
        try:
            data = zlib.decompress(data)
        except zlib.error:
            pass  # text that merely starts like a zlib stream; the sniffing below will say what it is
    head = data[:4]
    if head[:2] in (b"\xff\xfe", b"\xfe\xff") or (
        len(head) == 4 and head[1] == 0 and head[3] == 0 and head[0]
    ):
        encoding = "utf-16" if head[:2] in (b"\xff\xfe", b"\xfe\xff") else "utf-16-le"
        data = bytes(data).decode(encoding, "replace").encode("utf-8")
    return data


def _kind(path: str, data: bytes | mmap.mmap) -> str:
    """'har', 'capture' or 'flows', judged from the content; InputError for anything else."""
    head = data[:_HEAD]
    body = head[3:] if head.startswith(b"\xef\xbb\xbf") else head
    stripped = body.lstrip()
    if _CAPTURE_HEAD.match(body):
        return "capture"
    if stripped.startswith(b"{"):
        return "har"
    if _TNETSTRING_HEAD.match(body):
        return "flows"
    found = _describe(stripped)
    raise InputError(path, f"{_expected(path)}; found {found})", "line 1 column 1" if stripped else None)


def _expected(path: str) -> str:
    name = path.lower()
    if name.endswith((".har", ".zhar", ".har.gz", ".json")):
        return "not a HAR file (expected a JSON object with log.entries"
    if name.endswith(".jsonl"):
        return "not a cors-audit capture (expected a JSONL file starting with a cors_audit_capture line"
    if name.endswith((".flow", ".flows", ".mitm", ".dump")):
        return "not a mitmproxy flow file (expected flows written by mitmdump -w"
    return "not a capture file (expected a HAR file, a cors-audit JSONL capture or a mitmproxy flow dump"


def _describe(head: bytes) -> str:
    if not head:
        return "only whitespace"
    if head.startswith(b"["):
        return "a JSON array"
    for magic, name in _MAGIC:
        if head.startswith(magic):
            return name
    if head[:1] == b"<":
        return "HTML or XML"
    if head[:1] in b'"-0123456789tfn':
        return "a JSON value that is not an object"
    if any(b < 9 or 13 < b < 32 for b in head[:64]):
        return "binary data"
    return "text that is not JSON"


def open_capture(path: str, warnings: list[str]) -> Iterator[Message]:
    """Messages of the capture at `path`, in file order, whatever its format.

    Raises InputError at once when the file is missing, unreadable or not a capture at all (so a
    caller can reject one bad input among good ones before analysing), and while iterating only
    when not a single message could be read. Recoverable problems are appended to `warnings`
    when iteration ends: one line per kind of problem.
    """
    loaded = _load(path)
    try:
        data = _unwrap(path, loaded)
        kind = _kind(path, data)
    except InputError:
        if isinstance(loaded, mmap.mmap):
            loaded.close()
        raise
    if data is not loaded and isinstance(loaded, mmap.mmap):
        loaded.close()
    if kind == "har":
        from cors_audit.sources import har

        return har.read_har(path, data, warnings)
    if kind == "capture":
        from cors_audit.sources import capture

        return capture.read_capture(path, data, warnings)
    from cors_audit.sources import mitm

    if isinstance(data, mmap.mmap):
        data.close()
        return mitm.read_flows(path, warnings)
    return mitm.read_flows(path, warnings, data=bytes(data))
