"""The report stage: JSON, HTML, CSV and SARIF files for one Audit, written atomically.

Importing this package is cheap: pandas and jinja2 are imported only when a format that
needs them is written, so the live addon can import it without paying for them.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from collections.abc import Iterator
from typing import IO, TYPE_CHECKING, Any, Literal, overload

if TYPE_CHECKING:
    import pandas as pd

    from cors_audit.model import Audit

__all__ = ["atomic_writer", "write_reports"]


def write_reports(
    audit: Audit,
    *,
    json_path: str | None = None,
    html_path: str | None = None,
    sarif_path: str | None = None,
    csv_path: str | None = None,
    redact: bool = True,
    report: dict[str, Any] | None = None,
    exchanges_frame: pd.DataFrame | None = None,
) -> list[str]:
    """Write every requested format for `audit`; return the paths written, in that order.

    The report data (`json_out.audit_to_dict`; pass `report` if you already built it with the
    same `redact`) and its pandas frames are built once and shared by the JSON, HTML and CSV
    writers, so the formats cannot disagree. Each file appears complete or not at all.
    `csv_path` is a folder: every frame is written as `<folder>/<frame>.csv`.
    `exchanges_frame`: the requests table, if already built from `report`'s records (the renderer).
    """
    written: list[str] = []
    if report is None and (json_path or html_path or csv_path):
        from cors_audit.report.json_out import audit_to_dict

        report = audit_to_dict(audit, redact=redact)
    if json_path and report is not None:
        from cors_audit.report.json_out import dump_json

        dump_json(report, json_path)
        written.append(json_path)
    if (html_path or csv_path) and report is not None:
        from cors_audit.report.frames import build_frames, dump_csv
        from cors_audit.report.html import dump_html

        frames = build_frames(report, audit, exchanges=exchanges_frame)
        if html_path:
            dump_html(report, html_path, frames, audit=audit, redact=redact)
            written.append(html_path)
        if csv_path:  # a folder: one <frame>.csv per table
            dump_csv(frames, csv_path)
            written.append(csv_path)
    if sarif_path:
        from cors_audit.report.sarif import write_sarif

        write_sarif(audit, sarif_path)
        written.append(sarif_path)
    return written


@overload
def atomic_writer(
    path: str, *, binary: Literal[False] = ...
) -> contextlib.AbstractContextManager[IO[str]]: ...
@overload
def atomic_writer(path: str, *, binary: Literal[True]) -> contextlib.AbstractContextManager[IO[bytes]]: ...


def atomic_writer(path: str, *, binary: bool = False) -> contextlib.AbstractContextManager[IO[Any]]:
    """Write `path` through a temporary file in the same folder, renamed over it on success.

    A reader (a CI step, a browser tab being refreshed) never sees half a report, and a
    failure leaves the previous file in place. Missing parent folders are created.
    """
    return _atomic_writer(path, binary)


@contextlib.contextmanager
def _atomic_writer(path: str, binary: bool) -> Iterator[IO[Any]]:
    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, exist_ok=True)
    tmp = os.path.join(directory, f".{os.path.basename(path)}.{secrets.token_hex(4)}.tmp")
    # 0o666 minus the umask: the same permissions a plain open() would give the report
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        with os.fdopen(fd, "wb") if binary else os.fdopen(fd, "w", encoding="utf-8", newline="") as out:
            yield out
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
