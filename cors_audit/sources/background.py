"""Read captures in helper processes while the caller analyzes: decoding overlaps judging.

Decoding a large HAR costs about a third of a batch run. A forked reader per input decodes its
file and streams compact batches of messages (msgpack, typed, so rebuilding a message costs a
fraction of decoding it from the file) through a pipe; the caller judges what has arrived in the
meantime. Several inputs are decoded side by side, up to one reader per core. A full pipe blocks
its reader, so memory stays bounded however far a reader could run ahead.

Each input's stream behaves like `open_capture`'s: the same messages in the same order, the same
warnings appended when it ends, the same `InputError` (or `OSError`) raised where reading failed.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Iterable, Iterator, Sequence
from multiprocessing.connection import Connection
from typing import Any

import msgspec

from cors_audit.errors import InputError
from cors_audit.model import Headers, Message, Source
from cors_audit.sources.lines import SharedLines

__all__ = ["Prefetcher", "available"]

BATCH = 2000  # messages per pipe write: big enough to amortize, small enough to start judging early

# Header lines travel as numbers into a table of the distinct lines both ends build up: a capture
# repeats the same lines entry after entry, so most lines cost an int to send and a list index to
# rebuild, and every message holding a line shares one tuple. The table starts over when full
# (unique values such as cookies would otherwise grow it without end).
LINE_TABLE_SIZE = 1 << 16

# id, started, method, url, request line numbers, status, response line numbers, error, initiator,
# page_url, from_cache, via_proxy, source file, source index, flow id, whether the reader kept only
# what is read
_Row = tuple[
    str, float, str, str, list[int], int | None, list[int], str | None, str | None,
    str | None, bool, bool, str, int | None, str | None, bool,
]


class _Batch(msgspec.Struct, array_like=True, tag="m"):
    restart: bool  # the line table starts over before this batch's new lines
    new_lines: list[tuple[str, str]]  # numbered on from the table's current end
    rows: list[_Row]


class _End(msgspec.Struct, array_like=True, tag="end"):
    warnings: list[str]


class _Failed(msgspec.Struct, array_like=True, tag="error"):
    warnings: list[str]
    kind: str  # "input" or "os"
    file: str
    problem: str
    place: str | None
    partial: bool
    errno: int | None


class _Crashed(msgspec.Struct, array_like=True, tag="crash"):
    text: str


_DECODER = msgspec.msgpack.Decoder(_Batch | _End | _Failed | _Crashed)


def available() -> bool:
    """Whether readers can be forked here (Linux and other Unixes; not Windows)."""
    return "fork" in multiprocessing.get_all_start_methods()


class Prefetcher:
    """One forked reader per input, at most `workers` running at once, consumed in input order."""

    def __init__(self, paths: Sequence[str], workers: int | None = None) -> None:
        self._paths = list(paths)
        self._workers = max(1, workers or os.cpu_count() or 1)
        self._context = multiprocessing.get_context("fork")
        self._started: dict[int, tuple[Any, Connection]] = {}
        self._next = 0

    def open(self, index: int) -> Iterator[Message]:
        """The messages of input `index` (inputs must be opened in order)."""
        self._start_up_to(index + self._workers)
        process, conn = self._started.pop(index)
        try:
            yield from _receive(conn)
        finally:
            conn.close()
            process.join(timeout=5)
            if process.is_alive():  # the caller stopped early (an error, Ctrl-C): do not leave it behind
                process.kill()
                process.join()

    def close(self) -> None:
        """Stop every reader still running (an early exit)."""
        for process, conn in self._started.values():
            conn.close()
            process.kill()
            process.join()
        self._started.clear()

    def _start_up_to(self, stop: int) -> None:
        while self._next < min(stop, len(self._paths)):
            receiver, sender = self._context.Pipe(duplex=False)
            process = self._context.Process(
                target=_read_into, args=(self._paths[self._next], sender), daemon=True,
                name=f"cors-audit reader {self._next}",
            )
            process.start()
            sender.close()  # the child holds the only writing end: its exit ends the stream
            self._started[self._next] = (process, receiver)
            self._next += 1


def _receive(conn: Connection) -> Iterator[Message]:
    shared = SharedLines()
    lines: list[tuple[str, str]] = []
    while True:
        try:
            data = conn.recv_bytes()
        except EOFError:
            raise RuntimeError("a capture reader process died before it finished") from None
        item = _DECODER.decode(data)
        if isinstance(item, _Batch):
            if item.restart:
                lines = []
            # decoded batches hold a fresh copy of every string: share them again, as reading
            # in-process would
            lines.extend(shared.lines(item.new_lines))
            for row in item.rows:
                yield _message(row, lines)
            continue
        if isinstance(item, _Crashed):
            raise RuntimeError(f"the capture reader failed: {item.text}")
        raise _Finished(item)


class _Finished(Exception):
    """Internal: the reader's last word (end of stream, warnings, error)."""

    def __init__(self, item: _End | _Failed) -> None:
        self.item = item


def stream(prefetcher: Prefetcher, index: int, warnings: list[str]) -> Iterator[Message]:
    """`open_capture(paths[index], warnings)`, read by a helper process."""
    try:
        yield from prefetcher.open(index)
    except _Finished as finished:
        item = finished.item
        warnings.extend(item.warnings)
        if isinstance(item, _Failed):
            if item.kind == "os":
                raise OSError(item.errno, item.problem, item.file) from None
            raise InputError(item.file, item.problem, item.place, partial=item.partial) from None


def _message(row: _Row, lines: list[tuple[str, str]]) -> Message:
    """A message as the reader built it, its header lines looked up in the line table."""
    (id_, started, method, url, request, status, response, error, initiator, page_url, from_cache,
     via_proxy, file, index, flow_id, slim) = row
    return Message(
        id_, started, method, url, Headers.from_pairs([lines[i] for i in request], slim=slim), status,
        Headers.from_pairs([lines[i] for i in response], slim=slim), error, initiator, page_url, from_cache,
        via_proxy, Source(file, index, flow_id),
    )


class _LineTable:
    """The reader's end of the line table: numbers lines, collects the new ones for the next batch."""

    def __init__(self) -> None:
        self.numbers: dict[tuple[str, str], int] = {}
        self.new: list[tuple[str, str]] = []
        self.restart = False

    def number(self, lines: Iterable[tuple[str, str]]) -> list[int]:
        numbers = self.numbers
        out = []
        for line in lines:
            number = numbers.get(line)
            if number is None:
                number = numbers[line] = len(numbers)
                self.new.append(line)
            out.append(number)
        return out

    def batch(self, rows: list[_Row]) -> _Batch:
        """The batch of `rows` with the lines first numbered for them; a full table starts over after it."""
        batch = _Batch(self.restart, self.new, rows)
        self.new = []
        self.restart = len(self.numbers) >= LINE_TABLE_SIZE
        if self.restart:
            self.numbers = {}
        return batch


def _row(m: Message, table: _LineTable) -> _Row:
    return (
        m.id, m.started, m.method, m.url, table.number(m.request_headers), m.status,
        table.number(m.response_headers), m.error, m.initiator, m.page_url, m.from_cache, m.via_proxy,
        m.source.file, m.source.index, m.source.flow_id, m.request_headers.is_slim,
    )


def _read_into(path: str, conn: Connection) -> None:
    """The reader process: decode `path`, send batches, then the end or the error, and exit."""
    from cors_audit.sources import open_capture

    encode = msgspec.msgpack.Encoder().encode
    warnings: list[str] = []
    batch: list[_Row] = []
    table = _LineTable()
    try:
        try:
            for message in open_capture(path, warnings):
                batch.append(_row(message, table))
                if len(batch) >= BATCH:
                    conn.send_bytes(encode(table.batch(batch)))
                    batch = []
            if batch:
                conn.send_bytes(encode(table.batch(batch)))
            conn.send_bytes(encode(_End(warnings)))
        except InputError as e:
            if batch:
                conn.send_bytes(encode(table.batch(batch)))
            conn.send_bytes(encode(_Failed(warnings, "input", e.file, e.problem, e.place, e.partial, None)))
        except OSError as e:
            if batch:
                conn.send_bytes(encode(table.batch(batch)))
            conn.send_bytes(
                encode(_Failed(warnings, "os", e.filename or path, e.strerror or str(e), None, False, e.errno))
            )
        except Exception as e:  # a bug: say what it was, never leave the caller guessing
            conn.send_bytes(encode(_Crashed(f"{type(e).__name__}: {e}")))
    except (BrokenPipeError, KeyboardInterrupt):
        pass  # the caller stopped listening
    finally:
        conn.close()
        os._exit(0)  # no atexit handlers, no flushing of the parent's inherited buffers
