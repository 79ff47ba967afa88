"""Build the HTML (and CSV) report in a forked process while the caller runs the rules and writes the JSON.

The pandas stage and the page cost about as much again as the rules and the JSON together, and
all of it used to run after them, in one process. A batch run forks a renderer as soon as every
exchange is judged. The renderer imports pandas and jinja2, builds every exchange's record and
the requests table, the biggest table, while the caller evaluates the rules. Before it builds
its own records and writes the JSON, the caller sends what was settled after the fork: the
findings, each exchange's rule ids, the inputs read, the warnings, whether probes ran. The
renderer builds the report dict with the same `audit_to_dict`, finishes the other tables, writes
the files and says which it wrote.

The fork shares the judged exchanges copy-on-write, so nothing large crosses the pipe. The rules
change only each exchange's `findings` (their contract), and the renderer takes those from the
caller, so both processes report the same data: the files are byte for byte the ones an
in-process run writes. Anything that goes wrong in the renderer (it dies, it raises, the
exchanges changed after the fork) makes `finish` return None, and the caller writes the report
itself: a renderer can cost time, never a report.
"""

from __future__ import annotations

import os
import sys
import traceback
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from multiprocessing.connection import Connection
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from cors_audit.model import Audit, Exchange

__all__ = ["Renderer", "affordable", "available"]


def available() -> bool:
    """Whether a renderer can be forked here (Linux and other Unixes; not Windows)."""
    from cors_audit.sources import background

    return background.available()


def affordable() -> bool:
    """Whether the machine has the memory a renderer may take: as much again as this process holds.

    Copy-on-write shares the judged exchanges only until a process touches them, and both do.
    Where that much is not available, writing in this process is slower but cannot run out.
    Unknown (no /proc): assume so.
    """
    available = _meminfo_kb("MemAvailable")
    held = _status_kb("VmRSS")
    return available is None or held is None or available >= held


def _meminfo_kb(field: str) -> int | None:
    return _proc_kb("/proc/meminfo", field)


def _status_kb(field: str) -> int | None:
    return _proc_kb("/proc/self/status", field)


def _proc_kb(path: str, field: str) -> int | None:
    try:
        with open(path, encoding="ascii") as lines:
            for line in lines:
                name, _, value = line.partition(":")
                if name == field:
                    return int(value.split()[0])
    except (OSError, ValueError, IndexError):
        return None
    return None


class Renderer:
    """A forked process that writes the HTML and CSV reports for exchanges judged before the fork."""

    def __init__(
        self,
        exchanges: Sequence[Exchange],
        *,
        redact: bool,
        html_path: str | None = None,
        csv_path: str | None = None,
    ) -> None:
        import multiprocessing

        context = multiprocessing.get_context("fork")
        self._conn, child = context.Pipe(duplex=True)
        self._process = context.Process(
            target=_render,
            args=(exchanges, redact, html_path, csv_path, child),
            daemon=True,
            name="cors-audit renderer",
        )
        self._process.start()
        child.close()  # the renderer holds the only other end: its exit ends the conversation
        self.failure: str | None = None  # why it wrote nothing (its traceback), once finished
        self._answered = False

    def send(self, audit: Audit) -> None:
        """Hand over what the rules (and anything after them) settled: `audit` as it will be reported."""
        try:
            exchanges = audit.exchanges
            # rule ids only where there are some: most exchanges have none, and the pickle stays small
            rules = {i: (x.id, list(x.findings)) for i, x in enumerate(exchanges) if x.findings}
            settled = (audit.inputs, audit.messages, audit.findings, audit.warnings, audit.probed)
            self._conn.send((len(exchanges), rules, settled))
        except Exception as error:  # noqa: BLE001 - it died, or the data would not pickle: write here
            self._fail(f"{type(error).__name__}: {error}")

    def finish(self) -> list[str] | None:
        """Wait for the files: the paths written, or None (with `failure` set) if the caller must write them."""
        if self.failure is None:
            try:
                outcome, detail = self._conn.recv()
            except Exception as error:  # noqa: BLE001 - it died: write here
                self._process.join(timeout=5)
                status = self._process.exitcode
                outcome, detail = (
                    "failed",
                    f"the renderer exited with status {status} before it answered ({error!r})",
                )
            self._answered = True
            if outcome == "written":
                self.close()
                return list(detail)
            self._fail(str(detail))
        return None

    def _fail(self, why: str) -> None:
        self.failure = why
        self.close()

    def close(self) -> None:
        """End the renderer: it exits by itself once it has answered; before that, it is killed."""
        self._conn.close()
        if self._answered:
            self._process.join(timeout=5)
        if self._process.is_alive():
            self._process.kill()
        self._process.join()


def _render(
    exchanges: Sequence[Exchange], redact: bool, html_path: str | None, csv_path: str | None, conn: Connection
) -> None:
    """The renderer process: everything that does not need the rules first, then the rest, then exit."""
    # It reports over the pipe only. A line of its own would tear the caller's progress display, and
    # the inherited streams' locks may have been held by a thread of the caller's at the fork.
    sys.stdout = sys.stderr = open(os.devnull, "w")  # noqa: SIM115 - for the life of the process
    try:
        outcome: tuple[str, Any] = ("written", _write(exchanges, redact, html_path, csv_path, conn))
    except EOFError:  # the caller gave up (an error, Ctrl-C) or wrote the report itself
        os._exit(0)
    except BaseException:  # noqa: BLE001 - reported to the caller, which then writes the report itself
        outcome = ("failed", traceback.format_exc())
    try:
        conn.send(outcome)
    finally:
        # Not multiprocessing's exit: it would flush stdio buffers this process inherited.
        os._exit(0)


def _write(
    exchanges: Sequence[Exchange], redact: bool, html_path: str | None, csv_path: str | None, conn: Connection
) -> list[str]:
    import pandas as pd

    from cors_audit.model import Audit
    from cors_audit.report import write_reports
    from cors_audit.report.frames import exchange_times, exchanges_frame
    from cors_audit.report.html import warm_up
    from cors_audit.report.json_out import audit_to_dict, exchange_to_dict

    # The caller's send must not wait until this process is ready for it: a thread takes it as it
    # comes (its error, the caller's end closed, is raised here by `result`).
    settled = ThreadPoolExecutor(1, thread_name_prefix="cors-audit renderer").submit(conn.recv)
    # While the caller runs the rules: the template, every record, the requests table.
    warm_up()
    records = [exchange_to_dict(x, redact=redact) for x in exchanges]
    frame = exchanges_frame(records, exchange_times(exchanges))

    count, rules, (inputs, messages, findings, warnings, probed) = settled.result()
    if count != len(records) or any(records[i]["id"] != xid for i, (xid, _) in rules.items()):
        raise RuntimeError("the exchanges changed after the renderer was forked")
    for index, (_, names) in rules.items():
        exchanges[index].findings = names
        records[index]["findings"] = list(names)
    frame["findings"] = pd.Series([r["findings"] for r in records], index=frame.index, dtype=object)
    audit = Audit(inputs, messages, list(exchanges), findings, warnings, probed)
    report = audit_to_dict(audit, redact=redact, exchanges=records)
    return write_reports(
        audit, html_path=html_path, csv_path=csv_path, redact=redact, report=report, exchanges_frame=frame
    )
