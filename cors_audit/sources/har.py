"""HAR reader for every producer we know: Chrome, Firefox, Safari, Charles, Fiddler, Playwright, mitmproxy.

A HAR is mostly response bodies nobody needs for CORS, so the reader never materializes them:
it walks the document with msgspec, and a typed decode reads only the fields in `har_fields.py`
(`content.text`, `postData.text`, timings and call stacks are skipped by the decoder). Most of a
file is read in runs of about 128 KB of entries, one typed decode each (`_Runs`); the rest,
and every stretch a run cannot vouch for, is walked one entry at a time (a raw skip finds where
the entry ends, then the typed decode). Reading in bounded pieces is what makes the rest
possible: memory stays flat however large the file is (consumed pages of the mapping are
released), a truncated file still yields every complete entry before the cut, and one broken
entry costs a warning rather than the file.
"""

from __future__ import annotations

import mmap
import re
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime

import msgspec

from cors_audit.browser import kept_request_header, kept_response_header
from cors_audit.errors import InputError
from cors_audit.model import Headers, Message, Source
from cors_audit.sources import WarningLog, id_prefix, line_column, make_headers
from cors_audit.sources.har_fields import (
    ANY,
    CREATOR,
    ENTRIES,
    ENTRY,
    PAGES,
    RAW,
    STR,
    Cache,
    Entry,
    Header,
    Initiator,
    Request,
    Response,
)
from cors_audit.sources.lines import SharedLines

Buffer = bytes | mmap.mmap

# Chrome's `_resourceType` names, mapped to the initiator names the core uses
_INITIATORS = {"xhr": "xmlhttprequest"}
_SCRIPT_INITIATORS = frozenset({"parser", "script"})
_CACHED_FETCH_TYPES = frozenset({"Memory Cache", "Disk Cache"})
_WS = b" \t\r\n"
_RELEASE_EVERY = 32 << 20
# Bytes of entries decoded in one typed call on the fast path: small enough that the copy is
# still in the CPU cache when msgspec reads it (128 KB measured fastest; 1 MB lost most of the gain)
_RUN = 128 << 10
_RUN_SEARCH = 1 << 20  # how far past that the next entry boundary is looked for
_PAGES_TAIL = 64 << 20

_TRAILING = re.compile(r"trailing characters \(byte (\d+)\)")
_AT_BYTE = re.compile(r"\(byte (\d+)\)")
# a \uD800-\uDFFF escape that is not half of a valid pair; the group keeps an even run of
# backslashes in front, so an escaped backslash followed by "ud800" is left alone
_LONE_SURROGATE = re.compile(
    rb"(?<!\\)((?:\\\\)*)(?:\\u[dD][89abAB][0-9a-fA-F]{2}(?!\\u[dD][c-fC-F][0-9a-fA-F]{2})"
    rb"|(?<!\\u[dD][89abAB][0-9a-fA-F]{2})\\u[dD][c-fC-F][0-9a-fA-F]{2})"
)


def _trailing_skew() -> int:
    """How far past the first trailing character msgspec's "trailing characters (byte N)" points.

    msgspec 0.18-0.22 report the byte after it; measured once, so a release that reports the
    character itself cannot make the reader cut values short.
    """
    probe = b"{}  ,"
    try:
        RAW.decode(probe)
    except msgspec.DecodeError as e:
        match = _TRAILING.search(str(e))
        if match:
            return int(match.group(1)) - probe.index(b",")
    raise RuntimeError("msgspec no longer reports where trailing characters start")


_TRAILING_SKEW = _trailing_skew()


class _Truncated(Exception):
    """The buffer ends inside the value that starts at `start`."""

    def __init__(self, start: int) -> None:
        self.start = start


class _Malformed(Exception):
    """Invalid JSON at byte `at` (absolute)."""

    def __init__(self, at: int, detail: str) -> None:
        self.at = at
        self.detail = detail


class _Surrogates(Exception):
    """A lone UTF-16 surrogate escape (mitmproxy writes non-UTF-8 bytes that way); msgspec refuses it."""


class _Walker:
    """A cursor over the JSON text that lets msgspec do all the scanning.

    `value_end` asks msgspec to decode one value as `Raw` from the cursor to the end of the buffer;
    msgspec stops with "trailing characters (byte N)", which tells where the value ended. The raw
    skip runs at memory speed and touches only the bytes of that value.
    """

    def __init__(self, buf: Buffer, start: int, *, repaired: bool = False) -> None:
        self.buf = buf
        self.view = memoryview(buf)
        self.size = len(self.view)
        self.pos = start
        self.released = 0
        self.repaired = repaired  # lone surrogates already replaced: a second complaint is real

    def skip_ws(self) -> int:
        buf, pos, size = self.buf, self.pos, self.size
        while pos < size and buf[pos] in _WS:
            pos += 1
        self.pos = pos
        return buf[pos] if pos < size else -1

    def value_end(self, start: int) -> int:
        try:
            RAW.decode(self.view[start:])
        except msgspec.DecodeError as e:
            text = str(e)
            match = _TRAILING.search(text)
            if match:
                return start + int(match.group(1)) - _TRAILING_SKEW
            if "truncated" in text:
                raise _Truncated(start) from None
            if ("surrogate" in text or "hex escape" in text) and not self.repaired:
                raise _Surrogates() from None
            at = _AT_BYTE.search(text)
            position = start + int(at.group(1)) if at else start
            if position >= self.size - 1:  # "93." cut after the dot reads as an invalid number
                raise _Truncated(start) from None
            detail = _AT_BYTE.sub("", text.removeprefix("JSON is malformed: ")).strip()
            raise _Malformed(position, detail) from None
        return self.size

    def read_value(self) -> memoryview:
        start = self.pos
        end = self.value_end(start)
        self.pos = end
        return self.view[start:end]

    def read_repaired_value(self) -> memoryview:
        """The value at the cursor, from a copy whose lone surrogate escapes are replaced.

        Only a window around this value is copied (grown until the value fits), so a large
        mitmproxy HAR with non-UTF-8 bytes here and there never costs a copy of the whole file.
        The replacement has the same length, so offsets stay those of the file.
        """
        start = self.pos
        window = 1 << 20
        while True:
            stop = min(self.size, start + window)
            chunk = _LONE_SURROGATE.sub(rb"\1\\ufffd", self.view[start:stop].tobytes())
            part = _Walker(chunk, 0, repaired=True)
            try:
                end = part.value_end(0)
            except _Truncated:
                end = -1  # the window cut the value: grow it below (no `continue` inside `finally`)
            except _Malformed as e:
                raise _Malformed(start + e.at, e.detail) from None
            finally:
                part.view.release()
            if end < 0:
                if stop >= self.size:
                    raise _Truncated(start) from None
                window *= 4
                continue
            self.pos = start + end
            return memoryview(chunk)[:end]

    def expect(self, char: bytes) -> bool:
        if self.skip_ws() == char[0]:
            self.pos += 1
            return True
        return False

    def require(self, char: bytes) -> None:
        """Step over `char`; the end of the buffer here is a truncation, anything else invalid JSON."""
        if not self.expect(char):
            if self.pos >= self.size:
                raise _Truncated(self.pos)
            raise _Malformed(self.pos, f"expected '{char.decode()}'")

    def release_consumed(self) -> None:
        """Give back the pages behind the cursor: a 2 GB HAR should not cost 2 GB of resident memory."""
        if self.pos - self.released < _RELEASE_EVERY or not isinstance(self.buf, mmap.mmap):
            return
        cut = (self.pos - (1 << 20)) & ~(mmap.PAGESIZE - 1)
        if cut > self.released and hasattr(self.buf, "madvise"):
            try:
                self.buf.madvise(mmap.MADV_DONTNEED, self.released, cut - self.released)
            except (OSError, ValueError):
                return
            self.released = cut

    def close(self) -> None:
        self.view.release()
        if isinstance(self.buf, mmap.mmap):
            try:
                self.buf.close()
            except BufferError:
                pass  # a view is still alive somewhere; the mapping goes when it does


class _Runs:
    """The fast path: many entries decoded by one typed call, with no raw skip in front of each.

    After the second entry the reader knows what lies between two entries: the last byte of one,
    the separator, and the start of the next up to its first key (`},\n    {\n      "_initiator"`).
    That text marks a boundary in the rest of the file. A quote cannot sit unescaped inside a
    JSON string, so a match is never inside one. A run is the bytes from the cursor to the first
    boundary past `_RUN` bytes, decoded as `[run]` into a list of entries.

    The decode is also the proof. A run begins where an entry begins, so `[run]` decodes only
    when the run ends right after a complete entry; a cut anywhere deeper leaves a bracket open.
    Anything unusual (an entry of another shape, bytes that are not UTF-8, a lone surrogate, a
    truncated or broken file, no boundary in reach) fails the decode or the search, and the
    entry-by-entry path reads that stretch with its warnings; the fast path resumes after it.
    """

    def __init__(self, run: int, search: int) -> None:
        self.run = run
        self.search = search
        self.marker = b""
        self.resume_at = 0  # no run starts before this offset (a stretch the slow path must read)

    def learn(self, buf: Buffer, previous_end: int, start: int) -> None:
        """Take the marker from the boundary between the first two entries (`previous_end`, `start`)."""
        if previous_end < 1 or buf[previous_end - 1] != ord("}") or buf[start] != ord("{"):
            return
        quote = buf.find(b'"', start, start + 64)
        close = buf.find(b'"', quote + 1, start + 64) if quote >= 0 else -1
        if close < 0 or buf.find(b"\\", quote, close) >= 0:
            return
        self.marker = bytes(buf[previous_end - 1 : close + 1])

    def read(self, walker: _Walker) -> list[Entry] | None:
        """The entries of the run at the cursor, the cursor moved past them; None: read one slowly."""
        start = walker.pos
        if not self.marker or start < self.resume_at:
            return None
        target = start + self.run
        limit = min(walker.size, target + self.search)
        if target >= limit:
            return None  # the last stretch: the slow path sees how the file ends
        found = walker.buf.find(self.marker, target, limit)
        if found < 0:
            self.resume_at = limit
            return None
        end = found + 1  # right after the closing brace of the run's last entry
        run = bytearray(end - start + 2)
        run[0] = ord("[")
        run[1:-1] = walker.view[start:end]
        run[-1] = ord("]")
        try:
            entries = ENTRIES.decode(run)
        except (msgspec.DecodeError, UnicodeDecodeError):
            self.resume_at = end
            return None
        walker.pos = end
        return entries


class _Context:
    """What the reader knows about the whole file while converting entries."""

    def __init__(self, path: str, log: WarningLog) -> None:
        self.path = path
        self.prefix = id_prefix(path)
        self.log = log
        self.pages: dict[str, str] = {}
        self.pages_seen = False
        self.creator = ""
        self.via_proxy = False  # mitmproxy's savehar/hardump: failures reached the browser as 502
        self.previous_started = 0.0
        self.repaired = False  # bytes were replaced somewhere: look for U+FFFD in headers
        self.shared = SharedLines()
        self.keep_request: dict[str, bool] = {}
        self.keep_response: dict[str, bool] = {}

    def headers(self, lines: list[Header], keep: dict[str, bool]) -> Headers:
        """The lines the analysis reads (see `browser.slim`), str objects shared with earlier entries.

        Most lines of a capture are read by no check: whether a name is kept is decided once per
        distinct name (`keep` is the memo); HTTP/2 pseudo-headers never are.
        """
        pairs = []
        for line in lines:
            name = line.name
            kept = keep.get(name)
            if kept is None:
                kept = keep[name] = self._keeps(name, keep is self.keep_request)
            if kept:
                pairs.append((name, line.value))
        return make_headers(self.shared.lines(pairs), slim=True)

    @staticmethod
    def _keeps(name: str, request: bool) -> bool:
        if not name or name[0] == ":":
            return False
        lowered = name.lower()
        return kept_request_header(lowered) if request else kept_response_header(lowered)


def read_har(path: str, buf: Buffer, warnings: list[str]) -> Iterator[Message]:
    """Check the HAR's outline now (InputError if it is not a HAR); return the lazy entry stream."""
    log = WarningLog(path)
    ctx = _Context(path, log)
    start = 3 if buf[:3] == b"\xef\xbb\xbf" else 0
    try:
        walker = _prologue(path, buf, start, ctx)
    except _Surrogates:
        fixed = _repair_surrogates(buf, 0)
        if isinstance(buf, mmap.mmap):
            try:
                buf.close()
            except BufferError:
                pass  # a view from the first attempt is still referenced; the mapping goes with it
        ctx.repaired = True
        walker = _prologue(path, fixed, start, ctx)  # a second complaint is reported as invalid JSON
    return _entries(walker, ctx, warnings)


def _prologue(path: str, buf: Buffer, start: int, ctx: _Context) -> _Walker:
    """Walk from the top of the document to the first byte inside `log.entries`."""
    walker = _Walker(buf, start, repaired=ctx.repaired)
    try:
        problem, at = _outline(walker, ctx)
    except _Truncated:
        problem, at = "the file ends before the first entry (truncated?)", walker.size
    except _Malformed as e:
        problem, at = f"invalid JSON: {e.detail}", e.at
    except _Surrogates:
        walker.view.release()
        raise
    if problem:
        place = line_column(buf, at)
        walker.close()
        raise InputError(path, problem, place)
    if not ctx.pages_seen:
        _pages_after_entries(walker, ctx)
    return walker


def _outline(walker: _Walker, ctx: _Context) -> tuple[str, int]:
    """('', 0) with the cursor inside log.entries, or (problem, byte offset) when this is no HAR."""
    if not walker.expect(b"{"):
        found = "a JSON array" if walker.skip_ws() == ord("[") else "no JSON object"
        return f"not a HAR file (expected a JSON object with log.entries; found {found})", walker.pos
    if not _find_key(walker, "log", ctx):
        return "not a HAR file (expected a JSON object with log.entries)", 0
    log_at = walker.pos
    if not walker.expect(b"{"):
        if walker.skip_ws() < 0:
            raise _Truncated(walker.pos)
        return "not a HAR file (log is not a JSON object)", log_at
    if not _find_key(walker, "entries", ctx):
        return "not a HAR file (log has no entries)", log_at
    entries_at = walker.pos
    if not walker.expect(b"["):
        if walker.skip_ws() < 0:
            raise _Truncated(walker.pos)
        return "not a HAR file (log.entries is not a JSON array)", entries_at
    return "", 0


def _find_key(walker: _Walker, wanted: str, ctx: _Context) -> bool:
    """Advance over the members of the current object until `wanted`; leave the cursor on its value.

    `pages` and `creator` met on the way are read, the rest skipped raw.
    """
    first = True
    while True:
        char = walker.skip_ws()
        if char < 0:
            raise _Truncated(walker.pos)
        if char == ord("}"):
            walker.pos += 1
            return False
        if not first:
            if char != ord(","):
                raise _Malformed(walker.pos, "expected ',' or '}'")
            walker.pos += 1
            walker.skip_ws()
        first = False
        key_view = walker.read_value()
        try:
            key = STR.decode(key_view)
        except msgspec.ValidationError:
            raise _Malformed(walker.pos - len(key_view), "expected a string key") from None
        except UnicodeDecodeError:
            key = ""  # not a key we look for
        walker.require(b":")
        walker.skip_ws()
        if key == wanted:
            return True
        value = walker.read_value()
        if key == "pages":
            ctx.pages_seen = True
            ctx.pages = _read_pages(value)
        elif key == "creator":
            try:
                ctx.creator = CREATOR.decode(value).name or ""
                ctx.via_proxy = ctx.creator.lower() == "mitmproxy"
            except (msgspec.DecodeError, UnicodeDecodeError):
                pass


def _read_pages(value: memoryview | bytes) -> dict[str, str]:
    try:
        pages = PAGES.decode(value)
    except (msgspec.DecodeError, UnicodeDecodeError):
        return {}
    return {p.id: p.title for p in pages if p.id and p.title}


def _pages_after_entries(walker: _Walker, ctx: _Context) -> None:
    """Some writers put `pages` after `entries`: look for it near the end instead of scanning twice."""
    buf = walker.buf
    found = buf.rfind(b'"pages"', max(walker.pos, walker.size - _PAGES_TAIL))
    if found < 0:
        return
    probe = _Walker(buf, found)
    try:
        probe.read_value()
        if probe.expect(b":"):
            probe.skip_ws()
            ctx.pages = _read_pages(probe.read_value())
    except (_Truncated, _Malformed, _Surrogates):
        pass
    finally:
        probe.view.release()


def _entries(walker: _Walker, ctx: _Context, warnings: list[str]) -> Iterator[Message]:
    """Yield one Message per usable entry; stop with a warning where the JSON stops being valid."""
    log = ctx.log
    index = 0
    yielded = 0
    stopped = False
    runs = _Runs(_RUN, _RUN_SEARCH)
    previous_end = 0
    try:
        while True:
            try:
                char = walker.skip_ws()
                if char == ord("]"):
                    walker.pos += 1
                    break
                if char < 0:
                    stopped = True
                    where = line_column(walker.buf, walker.size)
                    problem = f"the file ends at {where}, before log.entries is closed (truncated?)"
                    log.add("truncated", f"after entry {index - 1}" if index else "log.entries", problem)
                    break
                if index:
                    if char != ord(","):
                        raise _Malformed(walker.pos, "expected ',' or ']' between entries")
                    walker.pos += 1
                    if walker.skip_ws() == ord("]"):  # a trailing comma: harmless, tolerate it
                        walker.pos += 1
                        break
                if walker.pos >= walker.size:
                    raise _Truncated(walker.pos)
                if index == 1:
                    runs.learn(walker.buf, previous_end, walker.pos)
                entries: Sequence[Entry | None] | None = runs.read(walker) if index > 1 else None
                if entries is None:  # one entry, the slow way
                    try:
                        raw = walker.read_value()
                    except _Surrogates:
                        raw = walker.read_repaired_value()
                        ctx.repaired = True
                    previous_end = walker.pos
                    entries = [_decode(raw, index, ctx)]
                    del raw
            except _Truncated:
                stopped = True
                log.add("truncated", f"entry {index}", _truncation(walker, index))
                break
            except _Malformed as e:
                stopped = True
                log.add(
                    "malformed",
                    f"entry {index}",
                    f"invalid JSON at {line_column(walker.buf, e.at)} ({e.detail}); "
                    f"stopped reading, the {index} entries before it were read",
                )
                break
            for entry in entries:
                message = None if entry is None else _message(entry, index, ctx)
                if message is not None:
                    yielded += 1
                    yield message
                index += 1
            walker.release_consumed()
        if not stopped:
            if index == 0:
                log.add("empty", "log.entries", "no entries: the capture is empty")
            _check_tail(walker, log, index)
    finally:
        walker.close()
    log.finish(warnings, usable=yielded > 0 or (index == 0 and not stopped), what="entry")


def _check_tail(walker: _Walker, log: WarningLog, count: int) -> None:
    """After log.entries: the rest of `log` and of the document should be there; say so if not."""
    try:
        for _ in range(2):  # the members of log after entries, then those of the document after log
            while True:
                char = walker.skip_ws()
                if char == ord("}"):
                    walker.pos += 1
                    break
                if char != ord(","):
                    raise (
                        _Truncated(walker.pos) if char < 0 else _Malformed(walker.pos, "expected ',' or '}'")
                    )
                walker.pos += 1
                walker.skip_ws()
                walker.read_value()
                walker.require(b":")
                walker.skip_ws()
                walker.read_value()
    except _Surrogates:
        pass  # in pages or a comment after the entries: nothing we need
    except _Truncated:
        where = line_column(walker.buf, walker.size)
        log.add(
            "tail",
            "after log.entries",
            f"the file ends at {where} (truncated?); all {count} entries were read",
        )
    except _Malformed as e:
        where = line_column(walker.buf, e.at)
        log.add(
            "tail",
            "after log.entries",
            f"invalid JSON at {where} ({e.detail}); all {count} entries were read",
        )


def _truncation(walker: _Walker, index: int) -> str:
    where = line_column(walker.buf, walker.size)
    if index == 0:
        return f"the file ends inside the first entry, at {where} (truncated?)"
    return (
        f"the file ends inside this entry, at {where} (truncated?); the {index} entries before it were read"
    )


def _repair_surrogates(buf: Buffer, start: int) -> bytes:
    """Replace lone surrogate escapes with U+FFFD; same length, so every byte offset stays valid."""
    data = bytes(memoryview(buf)[start:])
    return _LONE_SURROGATE.sub(rb"\1\\ufffd", data)


# --- one entry -----------------------------------------------------------------------------------


def _decode(raw: memoryview, index: int, ctx: _Context) -> Entry | None:
    """The entry `raw` holds, rebuilt leniently when its fields have unexpected types; None: skipped."""
    entry: Entry | None
    try:
        entry = ENTRY.decode(raw)
    except msgspec.ValidationError:
        entry = _lenient(raw, index, ctx)
    except msgspec.DecodeError as e:  # the raw skip accepted it, so this should not happen; never raise
        ctx.log.add("undecodable", f"entry {index}", f"cannot decode ({e}); entry skipped")
        return None
    except UnicodeDecodeError:
        ctx.log.add("utf8", f"entry {index}", "bytes that are not UTF-8; replaced with U+FFFD")
        text = raw.tobytes().decode("utf-8", "replace").encode("utf-8")
        try:
            entry = ENTRY.decode(text)
        except msgspec.ValidationError:
            entry = _lenient(text, index, ctx)
    return entry


def _message(entry: Entry, index: int, ctx: _Context) -> Message | None:
    log = ctx.log
    request = entry.request
    if request is None:
        log.add("no-request", f"entry {index}", "missing request; entry skipped")
        return None
    if not request.url:
        log.add("no-url", f"entry {index}", "missing request.url; entry skipped")
        return None
    if not request.method:
        log.add("no-method", f"entry {index}", "missing request.method; entry skipped")
        return None
    started = _started(entry.started, index, ctx)
    request_headers = ctx.headers(request.headers, ctx.keep_request)
    response = entry.response
    status: int | None = None
    error: str | None = None
    response_headers = Headers()
    if response is not None:
        raw_status = response.status
        if raw_status is not None and raw_status > 0:
            status = int(raw_status)
        response_headers = ctx.headers(response.headers, ctx.keep_response)
        error = response.error or response.failure_text or None
        if error is None and response.charles_status not in (None, "", "COMPLETE"):
            error = response.charles_status
    if ctx.repaired and _has_replacement(request.url, request.headers, response.headers if response else []):
        log.add(
            "surrogates", f"entry {index}", "non-UTF-8 bytes in the URL or a header; replaced with U+FFFD"
        )
    return Message(
        id=f"{ctx.prefix}#{index}",
        started=started,
        method=request.method,
        url=request.url,
        request_headers=request_headers,
        status=status,
        response_headers=response_headers,
        error=error,
        initiator=_initiator(entry),
        page_url=_page_url(entry, ctx),
        from_cache=_from_cache(entry, ctx),
        via_proxy=ctx.via_proxy,
        source=Source(file=ctx.path, index=index),
    )


def _started(text: str | None, index: int, ctx: _Context) -> float:
    """Epoch seconds (UTC); a missing or unreadable time borrows the previous entry's, with a warning."""
    if text:
        try:
            moment = datetime.fromisoformat(text)
        except ValueError:
            moment = None
        if moment is not None:
            if moment.tzinfo is None:
                moment = moment.replace(tzinfo=UTC)
            ctx.previous_started = moment.timestamp()
            return ctx.previous_started
        problem = f"startedDateTime {text[:40]!r} is not an ISO 8601 time"
    else:
        problem = "missing startedDateTime"
    ctx.log.add("time", f"entry {index}", f"{problem}; using the previous entry's time")
    return ctx.previous_started


def _initiator(entry: Entry) -> str | None:
    kind = entry.resource_type
    if kind:
        kind = kind.lower()
        return _INITIATORS.get(kind, kind)
    initiator = entry.initiator
    if isinstance(initiator, Initiator) and initiator.type == "preflight":
        return "preflight"
    return None


def _page_url(entry: Entry, ctx: _Context) -> str | None:
    initiator = entry.initiator
    if isinstance(initiator, Initiator) and initiator.url and initiator.type in _SCRIPT_INITIATORS:
        return initiator.url
    if entry.pageref:
        title = ctx.pages.get(entry.pageref)
        if title and title.startswith(("http://", "https://")):
            return title
    return None


def _from_cache(entry: Entry, ctx: _Context) -> bool:
    cached = entry.from_cache
    if cached:
        return cached is True or isinstance(cached, str) and cached.lower() not in ("false", "no", "0")
    if entry.fetch_type in _CACHED_FETCH_TYPES:
        return True
    cache = entry.cache
    return bool(
        cache is not None
        and cache.after_request is not msgspec.UNSET
        and ctx.creator.lower().startswith("firefox")
    )


def _has_replacement(url: str, *headers: list[Header]) -> bool:
    """U+FFFD in the URL or any header line, read or not (the warning is about the capture)."""
    return "\ufffd" in url or any("\ufffd" in h.name or "\ufffd" in h.value for lines in headers for h in lines)


# --- entries that do not match the typed shape ----------------------------------------------------


def _lenient(raw: memoryview | bytes, index: int, ctx: _Context) -> Entry | None:
    """Rebuild an entry whose fields have unexpected types; only this entry's bodies get decoded."""
    log = ctx.log
    place = f"entry {index}"
    try:
        data = ANY.decode(raw)
    except UnicodeDecodeError:  # in a body: this slow path decodes the whole entry
        try:
            data = ANY.decode(bytes(raw).decode("utf-8", "replace").encode("utf-8"))
        except msgspec.DecodeError as e:
            log.add("undecodable", place, f"cannot decode ({e}); entry skipped")
            return None
    except msgspec.DecodeError as e:
        log.add("undecodable", place, f"cannot decode ({e}); entry skipped")
        return None
    if not isinstance(data, dict):
        log.add("not-object", place, "entry is not a JSON object; entry skipped")
        return None
    request = data.get("request")
    if not isinstance(request, dict):
        log.add("no-request", place, "missing request; entry skipped")
        return None
    url = request.get("url")
    method = request.get("method")
    if url is not None and not isinstance(url, str):
        log.add("bad-url", place, "request.url is not a string; entry skipped")
        return None
    if method is not None and not isinstance(method, str):
        log.add("bad-method", place, "request.method is not a string; entry skipped")
        return None
    started = data.get("startedDateTime")
    if isinstance(started, (int, float)) and not isinstance(started, bool) and started > 0:
        started = datetime.fromtimestamp(started / 1000 if started > 1e11 else started, UTC).isoformat()
    elif not isinstance(started, str):
        started = None
    response = data.get("response")
    parsed_response = None
    if isinstance(response, dict):
        parsed_response = Response(
            status=_status(response.get("status"), place, log),
            headers=_headers(response.get("headers"), f"{place}: response.headers", log),
            error=_text(response.get("_error")),
            failure_text=_text(response.get("_failureText")),
            charles_status=_text(response.get("_charlesStatus")),
        )
    elif response is not None:
        log.add("bad-response", place, "response is not a JSON object; treated as no response")
    initiator = data.get("_initiator")
    if isinstance(initiator, dict):
        initiator = Initiator(type=_text(initiator.get("type")), url=_text(initiator.get("url")))
    elif not isinstance(initiator, str):
        initiator = None
    from_cache = data.get("_fromCache")
    cache = data.get("cache")
    return Entry(
        started=started,
        request=Request(
            method=method, url=url, headers=_headers(request.get("headers"), f"{place}: request.headers", log)
        ),
        response=parsed_response,
        pageref=_text(data.get("pageref")),
        cache=Cache(after_request=cache["afterRequest"])
        if isinstance(cache, dict) and "afterRequest" in cache
        else None,
        initiator=initiator,
        resource_type=_text(data.get("_resourceType")),
        from_cache=from_cache if isinstance(from_cache, (str, bool)) else None,
        fetch_type=_text(data.get("_fetchType")),
    )


def _text(value: object) -> str | None:
    return value if isinstance(value, str) else None


def _status(value: object, place: str, log: WarningLog) -> int | None:
    if isinstance(value, bool):
        value = None
    if isinstance(value, str):
        try:
            value = int(value.strip())
        except ValueError:
            value = None
    if isinstance(value, (int, float)):
        return int(value)
    if value is not None:
        log.add("bad-status", place, "response.status is not a number; treated as no response")
    return None


def _headers(value: object, place: str, log: WarningLog) -> list[Header]:
    """Header lists as {name, value} objects, or as [name, value] pairs (Slack's exports)."""
    if value is None:
        return []
    if not isinstance(value, list):
        log.add("bad-headers", place, "headers are not a list; ignored")
        return []
    out: list[Header] = []
    for item in value:
        if isinstance(item, dict):
            name, val = item.get("name"), item.get("value")
        elif isinstance(item, (list, tuple)) and len(item) == 2:
            name, val = item
        else:
            log.add(
                "bad-header", place, "a header is neither {name, value} nor [name, value]; header skipped"
            )
            continue
        if not isinstance(name, str) or not name:
            log.add("bad-header", place, "a header has no name; header skipped")
            continue
        if val is None:
            val = ""
        elif not isinstance(val, str):
            val = msgspec.json.encode(val).decode() if not isinstance(val, (int, float)) else str(val)
        out.append(Header(name=name, value=val))
    return out
