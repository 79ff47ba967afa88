"""The terminal summary: verdict counts, blocked requests with Chromium's message, findings.

Rendered with rich from the report dict. Colour and box lines only on a terminal; piped
into a file or a CI log it is plain text. Long URLs are shortened here only: the files keep
them whole.
"""

from __future__ import annotations

import io
import os
import sys
from collections import Counter
from typing import IO, Any

from rich import box
from rich.console import Console, ConsoleOptions, RenderableType, RenderResult
from rich.measure import Measurement
from rich.table import Table
from rich.text import Text

from cors_audit.report.text import visible

MAX_ROWS = 20
PLAIN_WIDTH = 120
SEVERITY_STYLE = {"critical": "bold red", "high": "red", "medium": "yellow", "low": "cyan", "info": "dim"}
_POLICY = " has been blocked by CORS policy: "
VERDICT_STYLE = {"allowed": "green", "blocked": "bold red", "not-cors": "dim", "unknown": "yellow"}


def print_summary(report: dict[str, Any], file: IO[str] | None = None, *, max_rows: int = MAX_ROWS) -> None:
    """Print the summary of a report dict to `file` (stdout by default)."""
    render_summary(report, make_console(file if file is not None else sys.stdout), max_rows=max_rows)


def make_console(file: IO[str]) -> Console:
    """A rich console: styled on a terminal, plain (no colour, ASCII boxes, 120 columns) otherwise."""
    console = _Console(file=file, highlight=False, emoji=False)
    if console.is_terminal:
        return console
    width = int(os.environ["COLUMNS"]) if os.environ.get("COLUMNS", "").isdigit() else PLAIN_WIDTH
    return _Console(file=file, highlight=False, emoji=False, no_color=True, width=width, color_system=None)


class _Console(Console):
    """A rich Console that goes quiet when its reader leaves (`| head`) instead of exiting.

    rich's default raises SystemExit(1), which would pass for "findings found".
    """

    def on_broken_pipe(self) -> None:
        self.quiet = True
        discard(self.file)


def discard(stream: IO[str]) -> None:
    """Point `stream` at /dev/null, so the interpreter's final flush cannot fail on a closed pipe."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, stream.fileno())
        os.close(devnull)
    except (OSError, ValueError, io.UnsupportedOperation):
        pass


def render_summary(report: dict[str, Any], console: Console, *, max_rows: int = MAX_ROWS) -> None:
    summary = report["summary"]
    table_box = box.SIMPLE_HEAD if console.is_terminal else box.ASCII

    counts = Text(f"{summary['messages']} messages, {summary['exchanges']} requests: ")
    for i, (key, outcome) in enumerate(
        (("allowed", "allowed"), ("blocked", "blocked"), ("not_cors", "not-cors"), ("unknown", "unknown"))
    ):
        if i:
            counts.append(", ")
        counts.append(f"{summary[key]} {outcome}", style=VERDICT_STYLE[outcome] if summary[key] else None)
    console.print(Text("cors-audit ", style="bold") + safe_text(", ".join(report["inputs"]) or "(no input)"))
    console.print(counts)
    _print_blocked(report["exchanges"], console, table_box, max_rows)
    _print_findings(report["findings"], summary["findings"], console, table_box, max_rows)


def shorten(text: str, width: int) -> str:
    """Cut the middle out of a long URL so both its host and the end of its path stay visible."""
    if len(text) <= width:
        return text
    if width <= 1:
        return "…"[:width]
    head = -(-(width - 1) * 2 // 3)  # round up: the host matters more than the tail
    tail = width - 1 - head
    return text[:head] + "…" + (text[-tail:] if tail else "")


def safe_text(text: str, style: str = "") -> Text:
    """Captured text for the terminal: never console markup, control bytes shown as escapes.

    A URL or header from a capture may hold ESC sequences that would restyle or rewrite the
    user's terminal, or bidi overrides that reorder the line; they are printed as `\\u001b`,
    `\\u202e` instead, as in the HTML report.
    """
    return Text(visible(text, keep_lines=False), style=style)


def _print_blocked(
    exchanges: list[dict[str, Any]], console: Console, table_box: box.Box, max_rows: int
) -> None:
    groups: Counter[tuple[str, str, str, str, str]] = Counter(
        (x["method"], x["url"], x["origin"] or "", x["error"] or "", x["message"] or "")
        for x in exchanges
        if x["verdict"] == "blocked"
    )
    console.print()
    if not groups:
        console.print("No request was blocked by CORS.")
        return
    by_error = Counter[str]()
    for (*_, error, _), n in groups.items():
        by_error[error] += n
    console.print(
        Text("Blocked by: ")
        + safe_text(", ".join(f"{e or '(no error name)'} {n}" for e, n in by_error.most_common()))
    )
    rows = [
        (str(number), safe_text(method), safe_text(url), safe_text(origin), safe_text(error), n, message)
        for number, ((method, url, origin, error, message), n) in enumerate(_varied(groups, max_rows), 1)
    ]
    repeated = any(n > 1 for *_, n, _ in rows)
    table = Table(
        title="Blocked requests", title_justify="left", box=table_box, show_edge=False, pad_edge=False
    )
    table.add_column("#", justify="right", no_wrap=True)
    table.add_column("method", no_wrap=True)
    # URL and origin are the columns that give way (middle-ellipsis); the others keep their width
    table.add_column("URL")
    longest_origin = max(len(origin.plain) for _, _, _, origin, *_ in rows)
    table.add_column("origin", max_width=max(14, min(longest_origin, console.width // 4)))
    table.add_column("error", no_wrap=True, overflow="ellipsis")
    if repeated:
        table.add_column("n", justify="right", no_wrap=True)
    for number, method_text, url_text, origin_text, error_text, n, _ in rows:
        cells: list[RenderableType] = [
            number,
            method_text,
            MiddleEllipsis(url_text),
            MiddleEllipsis(origin_text),
            error_text,
        ]
        table.add_row(*cells, *([f"{n}×"] if repeated else []))
    console.print(table)
    _print_console_messages([(number, message) for number, *_, message in rows], console)
    if len(groups) > len(rows):
        console.print(
            f"… and {len(groups) - len(rows)} more distinct blocked requests (see the report files)"
        )


def _varied(groups: Counter[tuple[str, str, str, str, str]], limit: int) -> list[tuple[tuple[str, ...], int]]:
    """The `limit` rows to show: first the largest group of each error, then the rest by size.

    So a long run of one failure cannot hide that a different one happened too.
    """
    ordered = groups.most_common()
    leaders: dict[str, tuple[tuple[str, ...], int]] = {}
    for key, n in ordered:
        leaders.setdefault(key[3], (key, n))
    chosen = list(leaders.values())[:limit]
    taken = {key for key, _ in chosen}
    chosen += [(key, n) for key, n in ordered if key not in taken][: limit - len(chosen)]
    return chosen


def _print_console_messages(numbered: list[tuple[str, str]], console: Console) -> None:
    """Chromium's console text in full once per distinct reason; rows sharing it are listed after it."""
    first: dict[str, tuple[str, str, list[str]]] = {}
    for number, message in numbered:
        if not message:
            continue
        reason = message.partition(_POLICY)[2] or message
        if reason in first:
            first[reason][2].append(number)
        else:
            first[reason] = (number, message, [])
    if not first:
        return
    console.print("Chromium console:")
    for number, message, same in first.values():
        console.print(Text(f"[{number}] ", style="bold") + safe_text(message, style="dim"))
        if same:
            console.print(Text(f"    (the same for {_ranges(same)}, each with its own URL)", style="dim"))


def _ranges(numbers: list[str]) -> str:
    """ "2, 3, 4, 7" -> "2–4, 7"."""
    values = sorted(int(n) for n in numbers)
    spans: list[list[int]] = []
    for value in values:
        if spans and value == spans[-1][1] + 1:
            spans[-1][1] = value
        else:
            spans.append([value, value])
    return ", ".join(str(a) if a == b else f"{a}–{b}" for a, b in spans)


def _print_findings(
    findings: list[dict[str, Any]],
    by_severity: dict[str, int],
    console: Console,
    table_box: box.Box,
    max_rows: int,
) -> None:
    console.print()
    tally = Text("Findings: ")
    for i, (severity, n) in enumerate(by_severity.items()):
        if i:
            tally.append(", ")
        tally.append(f"{n} {severity}", style=SEVERITY_STYLE.get(severity) if n else None)
    confirmed = sum(1 for f in findings if f.get("confidence") == "confirmed")
    if confirmed:
        tally.append(f" ({confirmed} confirmed by forged-Origin probes)")
    console.print(tally)
    if not findings:
        return
    rank = {severity: i for i, severity in enumerate(by_severity)}
    shown = sorted(findings, key=lambda f: rank.get(f["severity"], len(rank)))[:max_rows]
    table = Table(box=table_box, show_edge=False, pad_edge=False)
    table.add_column("severity", no_wrap=True)
    table.add_column("rule", no_wrap=True)
    table.add_column("target")
    table.add_column("n", justify="right", no_wrap=True)
    for f in shown:
        table.add_row(
            safe_text(f["severity"], style=SEVERITY_STYLE.get(f["severity"], "")),
            safe_text(f["rule"] + (" (confirmed)" if f.get("confidence") == "confirmed" else "")),
            MiddleEllipsis(safe_text(f["target"])),
            str(f["count"]),
        )
    console.print(table)
    if len(findings) > len(shown):
        console.print(f"… and {len(findings) - len(shown)} more findings (see the report files)")


class MiddleEllipsis:
    """A one-line cell that loses its middle, not its end, when the column is too narrow."""

    def __init__(self, text: Text) -> None:
        self.text = text

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        yield Text(shorten(self.text.plain, options.max_width), style=self.text.style, no_wrap=True, end="")

    def __rich_measure__(self, console: Console, options: ConsoleOptions) -> Measurement:
        width = len(self.text.plain)
        return Measurement(min(width, 12), width)
