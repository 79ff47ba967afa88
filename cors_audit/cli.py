"""`cors-audit report INPUT...`: read captures, judge every request, write the reports, set the exit status.

`main()` wraps `program()`: the program raises, `main` maps each error to an `ExitStatus`
and one line on stderr. No traceback reaches the user unless `--traceback` asks for it.
"""

from __future__ import annotations

import argparse
import enum
import gc
import os
import sys
import traceback
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

import cors_audit
from cors_audit.errors import InputError, UsageError
from cors_audit.model import Audit, Exchange, Message, Severity
from cors_audit.origin import parse_origin

if TYPE_CHECKING:
    from cors_audit.report.renderer import Renderer

PROG = "cors-audit"
FAIL_ON_CHOICES = ("critical", "high", "medium", "low", "info", "never")
DEFAULT_REPORT_DIR = "reports"
# Above this much input a terminal gets a progress display while reading.
PROGRESS_MIN_BYTES = 20 * 1024 * 1024
# From this much input on, captures are decoded in forked reader processes (sources.background).
BACKGROUND_MIN_BYTES = 4 * 1024 * 1024
# From this many exchanges on, the HTML and CSV reports are written by a forked renderer.
RENDER_MIN_EXCHANGES = 5_000


class ExitStatus(enum.IntEnum):
    """Exit statuses of every cors-audit command."""

    SUCCESS = 0
    FINDINGS = 1  # a finding at or above --fail-on
    ERROR = 2  # bad input or usage: the user's to fix
    INTERNAL_ERROR = 3  # a bug in cors-audit
    ERROR_CTRL_C = 130


class OutputError(Exception):
    """A report file cannot be written (exit status 2: the path is the user's to fix)."""


class ArgumentParser(argparse.ArgumentParser):
    """argparse that raises UsageError instead of printing usage and exiting."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{message} (see '{self.prog} --help')")


def build_parser() -> ArgumentParser:
    parser = ArgumentParser(
        prog=PROG,
        description="Browser-exact CORS verdicts and risky CORS configurations from captured traffic.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {cors_audit.__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=ArgumentParser)
    commands.required = True
    report = commands.add_parser(
        "report",
        help="analyze captures (HAR, mitmproxy flows, the addon's JSONL) and write reports",
        description="Analyze captures together as one audit and write the reports. Without any output "
        f"option, writes {DEFAULT_REPORT_DIR}/<stem>.html and {DEFAULT_REPORT_DIR}/<stem>.json.",
    )
    report.add_argument(
        "inputs", nargs="+", metavar="INPUT", help="HAR file, mitmproxy flow file or addon capture"
    )
    report.add_argument("--json", metavar="PATH", help="write the JSON report (schema 1) here")
    report.add_argument("-o", "--html", metavar="PATH", help="write the HTML report here")
    report.add_argument("--sarif", metavar="PATH", help="write SARIF 2.1.0 here")
    report.add_argument(
        "--csv",
        metavar="DIR",
        help="write every report table as DIR/<table>.csv (exchanges, findings, blocked, matrix, timeline, "
        "hosts, endpoints, origins)",
    )
    report.add_argument(
        "--fail-on",
        choices=FAIL_ON_CHOICES,
        default="never",
        help="exit with status 1 when a finding at or above this severity exists (default: never)",
    )
    report.add_argument(
        "--trusted-origin",
        action="append",
        default=[],
        metavar="ORIGIN",
        help="an origin the servers may trust, e.g. https://app.example.com (repeatable)",
    )
    report.add_argument(
        "--no-redact", action="store_true", help="keep cookies, tokens and auth values in outputs"
    )
    report.add_argument(
        "-j",
        "--jobs",
        type=int,
        default=0,
        metavar="N",
        help="processes for decoding large inputs and writing large HTML and CSV reports, this one "
        "included (default: one per core; 1: all in this process)",
    )
    report.add_argument("-q", "--quiet", action="store_true", help="no terminal summary")
    report.add_argument("--traceback", action="store_true", help="print the Python traceback on errors")
    from cors_audit.probe import cli as probe_cli

    probe_cli.add_options(report, command="report")
    probe_cli.add_parser(commands)
    return parser


# Set by `run` (the console script): what a batch run built is left for the process exit to reclaim.
_LEFT_FOR_EXIT: list[object] | None = None


def run() -> NoReturn:
    """The `cors-audit` console script: `main`, then exit without freeing the audit object by object.

    Freeing the millions of objects a large capture's audit holds costs about as much as writing its
    JSON (0.4 s per 100,000 entries); the operating system reclaims the whole heap at once instead.
    Output streams are flushed first; nothing registered with atexit is needed by then.
    """
    global _LEFT_FOR_EXIT
    _LEFT_FOR_EXIT = []
    status = main()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # a closed pipe: the reader has gone, nothing more to say
            pass
    os._exit(status)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit status instead of raising."""
    args: argparse.Namespace | None = None
    try:
        args = build_parser().parse_args(argv)
        return program(args)
    except SystemExit as exit_:  # --help and --version
        return exit_.code if isinstance(exit_.code, int) else ExitStatus.SUCCESS
    except (UsageError, OutputError) as error:
        _print_traceback(args)
        _error(str(error))
        return ExitStatus.ERROR
    except KeyboardInterrupt:
        _error("interrupted")
        return ExitStatus.ERROR_CTRL_C
    except Exception as error:  # the last line of defence: one line, never a traceback
        hint = "" if _print_traceback(args) else " (rerun with --traceback for details)"
        _error(f"internal error: {type(error).__name__}: {_one_line(str(error))}{hint}")
        return ExitStatus.INTERNAL_ERROR


def program(args: argparse.Namespace) -> ExitStatus:
    """Dispatch to the command; raise on problems, return the status for a completed run."""
    if args.command == "report":
        from cors_audit.probe.cli import check_options

        check_options(args)  # before any input is read
        return report(args)
    if args.command == "probe":
        from cors_audit.probe.cli import probe_urls

        return probe_urls(args)
    raise UsageError(f"unknown command {args.command!r}")  # pragma: no cover - argparse rejects it first


def report(args: argparse.Namespace) -> ExitStatus:
    """Read every input as one audit, print warnings and the summary, write the reports."""

    trusted = [_trusted_origin(value) for value in args.trusted_origin]
    outputs = _outputs(args)
    _refuse_overwriting_inputs(args.inputs, outputs.values())
    redact = not args.no_redact

    if args.jobs < 0:
        raise UsageError(f"--jobs: {args.jobs} is not a number of processes")
    reading = _Reading(args.inputs, show_traceback=args.traceback, jobs=args.jobs or (os.cpu_count() or 1))
    # A batch run allocates millions of long-lived, acyclic objects (messages, headers); the cyclic
    # collector would rescan them again and again for nothing.
    gc.disable()
    try:
        return _report(args, reading, outputs, trusted, redact)
    finally:
        if _LEFT_FOR_EXIT is None:  # a library call goes on running: collect again
            gc.enable()


def _report(
    args: argparse.Namespace, reading: _Reading, outputs: dict[str, str], trusted: list[str], redact: bool
) -> ExitStatus:
    from cors_audit.audit import analyze

    rendering = _Rendering(outputs, redact=redact, jobs=reading.jobs)
    with _progress(args.inputs) as progress, rendering:
        audit = analyze(
            reading.messages(progress),
            inputs=args.inputs,
            trusted_origins=trusted,
            redact=redact,
            warnings=reading.warnings,
            judged=rendering.start,
        )
        from cors_audit.probe.cli import probe_capture

        audit = probe_capture(args, audit, trusted, progress)
        # Only now is it known which inputs could be read, and a source may add a warning after
        # analyze() copied the list: settle both on the audit before anything is written.
        audit.inputs = reading.inputs_read()
        audit.warnings.extend(w for w in reading.warnings if w not in audit.warnings)
        written: list[str] = []
        report_data: dict[str, Any] = {}
        if audit.inputs:
            progress.stage("writing reports")
            from cors_audit.report.json_out import audit_to_dict

            rendering.send(audit)
            report_data = audit_to_dict(audit, redact=redact)
            written = _write(audit, outputs, report_data, redact=redact, rendering=rendering)
            if rendering.failure and args.traceback:
                why = rendering.failure
                print(
                    f"{PROG}: the report renderer failed; wrote its files here instead:\n{why}",
                    file=sys.stderr,
                )
    if _LEFT_FOR_EXIT is not None:
        _LEFT_FOR_EXIT.append((audit, report_data))

    for warning in audit.warnings:
        if warning not in reading.problems:
            _warn(warning)
    for problem in reading.problems:
        _error(problem)
    if not audit.inputs:
        return ExitStatus.ERROR
    if not args.quiet:
        from cors_audit.report.console import discard, print_summary

        try:
            print_summary(report_data)
        except BrokenPipeError:  # `cors-audit report ... | head`: the reader has seen enough
            discard(sys.stdout)
        for path in written:
            print(f"{PROG}: wrote {path}", file=sys.stderr)

    if reading.problems:
        return ExitStatus.ERROR
    if _fails(audit, args.fail_on):
        return ExitStatus.FINDINGS
    return ExitStatus.SUCCESS


class _Reading:
    """Messages from every input in turn; a bad input is recorded and skipped, the others still read."""

    def __init__(self, paths: Sequence[str], *, show_traceback: bool = False, jobs: int = 1) -> None:
        self.paths = list(paths)
        self.show_traceback = show_traceback
        self.jobs = jobs
        self.warnings: list[str] = []
        self.problems: list[str] = []  # one line per input that failed
        self.read: dict[str, int] = {}  # messages read per input
        self.failed: set[str] = set()

    def messages(self, progress: _Progress) -> Iterator[Message]:
        from cors_audit.sources import background, open_capture

        # Large inputs are decoded by forked readers while this process judges what has arrived.
        readers = self.jobs - 1  # this process judges; the others decode
        prefetcher = (
            background.Prefetcher(self.paths, readers) if readers and _wants_background(self.paths) else None
        )
        try:
            for index, path in enumerate(self.paths):
                self.read[path] = 0
                try:
                    stream = (
                        background.stream(prefetcher, index, self.warnings)
                        if prefetcher is not None
                        else open_capture(path, self.warnings)
                    )
                    for message in stream:
                        self.read[path] += 1
                        progress.reading(path, self.read[path])
                        yield message
                except InputError as error:
                    self._fail(path, str(error))
                except OSError as error:  # a source let an OS error through: still the input's fault
                    self._fail(path, f"{path}: {error.strerror or error}")
        finally:
            if prefetcher is not None:
                prefetcher.close()
        progress.stage("judging")

    def inputs_read(self) -> list[str]:
        """Inputs that were read, in full or up to an error part-way."""
        return [p for p in self.paths if p not in self.failed or self.read.get(p, 0) > 0]

    def _fail(self, path: str, line: str) -> None:
        if self.show_traceback:
            traceback.print_exc()
        line = _one_line(line)
        self.failed.add(path)
        self.problems.append(line)
        if getattr(sys.exc_info()[1], "partial", False):
            self.warnings.append(line)  # for the report; printed once, as the error it is
        elif self.read.get(path):
            self.warnings.append(f"{line}; analyzed only the {self.read[path]} messages before it")


def _outputs(args: argparse.Namespace) -> dict[str, str]:
    """Requested output paths by format; with none requested, the HTML and JSON defaults."""
    outputs = {fmt: getattr(args, fmt) for fmt in ("json", "html", "sarif", "csv") if getattr(args, fmt)}
    if outputs:
        return outputs
    stem = Path(args.inputs[0]).stem or "report"
    return {
        "html": os.path.join(DEFAULT_REPORT_DIR, f"{stem}.html"),
        "json": os.path.join(DEFAULT_REPORT_DIR, f"{stem}.json"),
    }


def _refuse_overwriting_inputs(inputs: Iterable[str], outputs: Iterable[str]) -> None:
    sources = {os.path.realpath(p) for p in inputs}
    for path in outputs:
        if os.path.realpath(path) in sources:
            raise UsageError(f"{path}: is an input; refusing to overwrite it with a report")


def _write(
    audit: Audit,
    outputs: dict[str, str],
    report_data: dict[str, Any],
    *,
    redact: bool,
    rendering: _Rendering | None = None,
) -> list[str]:
    """Write every requested report; the paths written, in write_reports' order (JSON, HTML, CSV, SARIF)."""
    from cors_audit.report import write_reports

    rendering = rendering if rendering is not None else _Rendering(outputs, redact=redact, jobs=1)
    here = {fmt: path for fmt, path in outputs.items() if fmt not in rendering.formats}
    try:
        written = write_reports(
            audit,
            json_path=here.get("json"),
            html_path=here.get("html"),
            sarif_path=here.get("sarif"),
            csv_path=here.get("csv"),
            redact=redact,
            report=report_data,
        )
        rendered = rendering.finish()
        if rendered is None:  # the renderer failed: what it was to write (HTML, CSV) is written here
            rendered = write_reports(
                audit,
                html_path=outputs.get("html"),
                csv_path=outputs.get("csv"),
                redact=redact,
                report=report_data,
            )
        order = {path: position for position, path in enumerate(outputs.get(f) for f in _WRITE_ORDER)}
        return sorted([*written, *rendered], key=lambda path: order.get(path, len(order)))
    except OSError as error:
        where = error.filename or ", ".join(outputs.values())
        raise OutputError(f"{where}: cannot write the report: {error.strerror or error}") from error


_WRITE_ORDER = ("json", "html", "csv", "sarif")


class _Rendering:
    """The HTML and CSV reports of a large audit, written by a forked renderer (report.renderer).

    The renderer starts once the exchanges are judged and builds the requests table while this
    process runs the rules and writes the JSON. Small audits, `--jobs 1`, systems without fork
    and machines short of memory for a second process write every report in this process.
    """

    def __init__(self, outputs: dict[str, str], *, redact: bool, jobs: int) -> None:
        self.outputs = outputs
        self.redact = redact
        self.jobs = jobs
        self.renderer: Renderer | None = None

    def __enter__(self) -> _Rendering:
        return self

    def __exit__(self, *exc: object) -> None:
        if self.renderer is not None:  # an early exit: do not leave it behind
            self.renderer.close()

    @property
    def formats(self) -> tuple[str, ...]:
        """What the renderer writes (nothing without one)."""
        return tuple(f for f in ("html", "csv") if f in self.outputs) if self.renderer is not None else ()

    @property
    def failure(self) -> str | None:
        """Why the renderer wrote nothing (its traceback), once it has finished."""
        return self.renderer.failure if self.renderer is not None else None

    def start(self, exchanges: list[Exchange]) -> None:
        from cors_audit.report import renderer

        wanted = "html" in self.outputs or "csv" in self.outputs
        if not wanted or self.jobs < 2 or len(exchanges) < RENDER_MIN_EXCHANGES:
            return
        if not (renderer.available() and renderer.affordable()):
            return
        try:
            self.renderer = renderer.Renderer(
                exchanges,
                redact=self.redact,
                html_path=self.outputs.get("html"),
                csv_path=self.outputs.get("csv"),
            )
        except OSError:  # no process to be had (a process limit, memory): write them here
            return

    def send(self, audit: Audit) -> None:
        """The audit is final (rules, probes, warnings): the renderer gets what it does not have yet."""
        if self.renderer is not None:
            self.renderer.send(audit)

    def finish(self) -> list[str] | None:
        """The paths the renderer wrote; None if it failed with something to write."""
        return self.renderer.finish() if self.renderer is not None else []


def _fails(audit: Audit, fail_on: str) -> bool:
    if fail_on == "never":
        return False
    threshold = Severity.parse(fail_on)
    from cors_audit.report.json_out import severity_of

    return any(severity_of(f.severity) >= threshold for f in audit.findings)


def _trusted_origin(value: str) -> str:
    origin = parse_origin(value)
    if origin is None:
        raise UsageError(f"--trusted-origin: {value!r} is not an origin (expected scheme://host[:port])")
    return origin.serialize()


def _wants_background(paths: Sequence[str]) -> bool:
    """Forked readers pay off once decoding takes longer than starting them (a few MB of input)."""
    from cors_audit.sources import background

    return background.available() and _total_size(paths) >= BACKGROUND_MIN_BYTES


def _total_size(paths: Sequence[str]) -> int:
    total = 0
    for path in paths:
        try:
            total += os.path.getsize(path)
        except OSError:
            continue
    return total


def _progress(paths: Sequence[str]) -> _Progress:
    """A live display on stderr for large inputs on a terminal; otherwise one that shows nothing."""
    return _LiveProgress(paths) if _wants_progress(paths, sys.stderr) else _Progress()


def _wants_progress(paths: Sequence[str], stream: Any) -> bool:
    isatty = getattr(stream, "isatty", None)
    if not (callable(isatty) and isatty()):
        return False
    return _total_size(paths) > PROGRESS_MIN_BYTES


class _Progress:
    """What the report command tells a progress display; this one shows nothing."""

    def __enter__(self) -> _Progress:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def reading(self, path: str, count: int) -> None:
        """`count` messages have been read from `path` so far."""

    def stage(self, description: str) -> None:
        """A new phase has begun (judging, writing the reports)."""


class _LiveProgress(_Progress):
    """rich spinner on stderr: the input being read, messages so far, then each later phase."""

    def __init__(self, paths: Sequence[str]) -> None:
        from rich.console import Console
        from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

        self._paths = list(paths)
        self._path = ""
        self._display = Progress(
            SpinnerColumn(),
            TextColumn("{task.description}"),
            TextColumn("{task.fields[detail]}", style="dim"),
            TimeElapsedColumn(),
            console=Console(file=sys.stderr),
            transient=True,
        )
        self._task = self._display.add_task("reading", total=None, detail="")

    def __enter__(self) -> _Progress:
        self._display.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self._display.__exit__(None, None, None)

    def reading(self, path: str, count: int) -> None:
        if path != self._path:
            self._path = path
            place = f" ({self._paths.index(path) + 1}/{len(self._paths)})" if len(self._paths) > 1 else ""
            self._display.update(self._task, description=f"reading {os.path.basename(path)}{place}")
        if count == 1 or count % 1000 == 0:
            self._display.update(self._task, detail=f"{count:,} messages")

    def stage(self, description: str) -> None:
        self._display.update(self._task, description=description, detail="")


def _print_traceback(args: argparse.Namespace | None) -> bool:
    if args is None or not getattr(args, "traceback", False):
        return False
    traceback.print_exc()
    return True


def _error(line: str) -> None:
    print(f"{PROG}: error: {_one_line(line)}", file=sys.stderr)


def _warn(line: str) -> None:
    print(f"{PROG}: warning: {_one_line(line)}", file=sys.stderr)


def _one_line(text: str) -> str:
    return " ".join(text.split()) if text else text
