"""The addon's durable capture: JSON Lines, one message per line, headers only, no bodies.

The live addon appends one line per message as it arrives and flushes it, so a crash loses at
most the line being written; `cors-audit report capture.jsonl` reads the file back through the
same core. The first line identifies the format:

    {"cors_audit_capture":1,"tool":"cors-audit","version":"0.1.0","created":1714557600.0,"redacted":true}
    {"started":1714557600.123,"method":"GET","url":"https://api.example/x","request_headers":[["origin","https://app.example"]],"status":200,"response_headers":[["access-control-allow-origin","*"]],"initiator":"fetch","flow_id":"4f1c..."}

Absent keys mean None/false/empty. With redaction on, secret header values (Cookie,
Authorization, ...) and token-like URL parameters are replaced, but header names stay: the browser
model infers `credentials: include` from the presence of a Cookie header, so `Cookie: sid=[redacted]`
keeps that evidence while the secret is gone.
"""

from __future__ import annotations

import mmap
import re
import time
from collections.abc import Iterator, Mapping
from typing import Any

import msgspec

import cors_audit
from cors_audit import redact as redaction
from cors_audit.errors import InputError
from cors_audit.model import Message, Source
from cors_audit.sources import WarningLog, id_prefix, make_headers

CAPTURE_VERSION = 1
# header values that carry URLs whose query strings may hold tokens, redacted like the URL itself
_URL_HEADERS = frozenset({"location", "referer", "content-location"})


class Record(msgspec.Struct, omit_defaults=True, gc=False):
    """One captured message as written on one line."""

    started: float
    method: str
    url: str
    request_headers: list[tuple[str, str]] = []
    status: int | None = None
    response_headers: list[tuple[str, str]] = []
    error: str | None = None
    initiator: str | None = None
    page_url: str | None = None
    from_cache: bool = False
    flow_id: str | None = None


class CaptureHeader(msgspec.Struct):
    """The first line of a capture file."""

    cors_audit_capture: int
    tool: str = "cors-audit"
    version: str = ""
    created: float | None = None
    redacted: bool = True


_ENCODER = msgspec.json.Encoder()
_RECORD = msgspec.json.Decoder(Record)
_HEADER = msgspec.json.Decoder(CaptureHeader)


def header_line(*, redact: bool, created: float | None = None) -> bytes:
    """The first line of a new capture file (ends with a newline)."""
    header = CaptureHeader(
        cors_audit_capture=CAPTURE_VERSION,
        version=cors_audit.__version__,
        created=time.time() if created is None else created,
        redacted=redact,
    )
    return _ENCODER.encode(header) + b"\n"


def message_to_record(msg: Message, *, redact: bool) -> bytes:
    """One line of JSON (ending with a newline) describing `msg`; secrets replaced when `redact`."""
    request_headers = msg.request_headers.items()
    response_headers = msg.response_headers.items()
    url, page_url = msg.url, msg.page_url
    if redact:
        request_headers = _redact_headers(request_headers)
        response_headers = _redact_headers(response_headers)
        url = redaction.redact_url(url)
        page_url = redaction.redact_url(page_url) if page_url else page_url
    record = Record(
        started=msg.started,
        method=msg.method,
        url=url,
        request_headers=request_headers,
        status=msg.status,
        response_headers=response_headers,
        error=msg.error,
        initiator=msg.initiator,
        page_url=page_url,
        from_cache=msg.from_cache,
        flow_id=msg.source.flow_id,
    )
    try:
        return _ENCODER.encode(record) + b"\n"
    except UnicodeEncodeError:
        # mitmproxy hands over non-UTF-8 header bytes as lone surrogates, which JSON cannot carry
        return _ENCODER.encode(_without_surrogates(record)) + b"\n"


def _redact_headers(items: list[tuple[str, str]]) -> list[tuple[str, str]]:
    out = redaction.redact_headers(items)
    return [(n, redaction.redact_url(v)) if n.lower() in _URL_HEADERS else (n, v) for n, v in out]


def _clean(text: str) -> str:
    return text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")


def _without_surrogates(record: Record) -> Record:
    def clean_pairs(pairs: list[tuple[str, str]]) -> list[tuple[str, str]]:
        return [(_clean(n), _clean(v)) for n, v in pairs]

    return msgspec.structs.replace(
        record,
        method=_clean(record.method),
        url=_clean(record.url),
        request_headers=clean_pairs(record.request_headers),
        response_headers=clean_pairs(record.response_headers),
        error=_clean(record.error) if record.error else record.error,
        page_url=_clean(record.page_url) if record.page_url else record.page_url,
    )


def record_to_message(obj: Mapping[str, Any] | Record, path: str, line_no: int) -> Message:
    """The Message a capture line describes; InputError (naming the line) when it does not describe one."""
    if not isinstance(obj, Record):
        try:
            obj = msgspec.convert(obj, Record)
        except msgspec.ValidationError as e:
            raise InputError(path, f"not a capture record ({e})", f"line {line_no}") from None
    return Message(
        id=f"{id_prefix(path)}#{line_no}",
        started=obj.started,
        method=obj.method,
        url=obj.url,
        request_headers=make_headers(list(obj.request_headers)),
        status=obj.status if obj.status is None or obj.status > 0 else None,
        response_headers=make_headers(list(obj.response_headers)),
        error=obj.error,
        initiator=obj.initiator,
        page_url=obj.page_url,
        from_cache=obj.from_cache,
        via_proxy=True,  # the live addon runs inside the proxy the browser talks to
        source=Source(file=path, index=line_no, flow_id=obj.flow_id),
    )


def read_capture(path: str, buf: bytes | mmap.mmap, warnings: list[str]) -> Iterator[Message]:
    """Check the capture's first line now (InputError if it is wrong); return the lazy message stream."""
    start = 3 if buf[:3] == b"\xef\xbb\xbf" else 0
    end = buf.find(b"\n", start)
    first = buf[start : len(buf) if end < 0 else end]
    try:
        header = _HEADER.decode(first)
    except (msgspec.DecodeError, msgspec.ValidationError, UnicodeDecodeError) as e:
        _close(buf)
        raise InputError(path, f"not a cors-audit capture (bad first line: {e})", "line 1") from None
    if header.cors_audit_capture > CAPTURE_VERSION:
        _close(buf)
        raise InputError(
            path,
            f"capture format {header.cors_audit_capture} is newer than this cors-audit understands "
            f"({CAPTURE_VERSION}); upgrade cors-audit",
            "line 1",
        )
    return _records(path, buf, len(buf) if end < 0 else end + 1, warnings)


def _records(path: str, buf: bytes | mmap.mmap, pos: int, warnings: list[str]) -> Iterator[Message]:
    log = WarningLog(path)
    size = len(buf)
    line_no = 1
    read = 0
    empty = False
    try:
        while pos < size:
            line_no += 1
            end = buf.find(b"\n", pos)
            complete = end >= 0
            line = buf[pos : end if complete else size]
            pos = end + 1 if complete else size
            if not line.strip():
                continue
            place = f"line {line_no}"
            try:
                record = _RECORD.decode(line)
            except UnicodeDecodeError:
                log.add("utf8", place, "bytes that are not UTF-8; replaced with U+FFFD")
                line = line.decode("utf-8", "replace").encode("utf-8")
                try:
                    record = _RECORD.decode(line)
                except (msgspec.DecodeError, msgspec.ValidationError) as e:
                    log.add("bad-line", place, f"not a capture record ({e}); line skipped")
                    continue
            except msgspec.ValidationError as e:
                log.add("bad-line", place, f"not a capture record ({e}); line skipped")
                continue
            except msgspec.DecodeError as e:
                if not complete:
                    log.add(
                        "cut", place, "last line is incomplete (capture cut off mid-write?); line skipped"
                    )
                else:
                    log.add("bad-json", place, f"invalid JSON ({_json_problem(e)}); line skipped")
                continue
            read += 1
            yield record_to_message(record, path, line_no)
        if read == 0 and not log:
            empty = True
            log.add("empty", "", "no messages: the capture is empty")
    finally:
        _close(buf)
    log.finish(warnings, usable=read > 0 or line_no <= 1 or empty, what="record")


def _json_problem(error: msgspec.DecodeError) -> str:
    """msgspec's "JSON is malformed: X (byte N)" as "X at column N+1", the way an editor counts."""
    text = str(error).removeprefix("JSON is malformed: ")
    match = re.search(r" \(byte (\d+)\)$", text)
    if match:
        text = f"{text[: match.start()]} at column {int(match.group(1)) + 1}"
    return text


def _close(buf: bytes | mmap.mmap) -> None:
    if isinstance(buf, mmap.mmap):
        buf.close()
