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
from cors_audit.model import Audit, Message, Severity
from cors_audit.origin import parse_origin

PROG = "cors-audit"
FAIL_ON_CHOICES = ("critical", "high", "medium", "low", "info", "never")
DEFAULT_REPORT_DIR = "reports"
# Above this much input a terminal gets a progress display while reading.
PROGRESS_MIN_BYTES = 20 * 1024 * 1024
# From this much input on, captures are decoded in forked reader processes (sources.background).
BACKGROUND_MIN_BYTES = 4 * 1024 * 1024


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
        help="processes for decoding large inputs, this one included (default: one per core; 1: decode "
        "in this process)",
    )
    report.add_argument("-q", "--quiet", action="store_true", help="no terminal summary")
    report.add_argument("--traceback", action="store_true", help="print the Python traceback on errors")
    _add_probe_options(report, command="report")
    _add_probe_parser(commands)
    return parser


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
        _check_probe_options(args)  # before any input is read
        return report(args)
    if args.command == "probe":
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
        gc.enable()


def _report(
    args: argparse.Namespace, reading: _Reading, outputs: dict[str, str], trusted: list[str], redact: bool
) -> ExitStatus:
    from cors_audit.audit import analyze

    with _progress(args.inputs) as progress:
        audit = analyze(
            reading.messages(progress),
            inputs=args.inputs,
            trusted_origins=trusted,
            redact=redact,
            warnings=reading.warnings,
        )
        audit = _probe_capture(args, audit, trusted, progress)
        # Only now is it known which inputs could be read, and a source may add a warning after
        # analyze() copied the list: settle both on the audit before anything is written.
        audit.inputs = reading.inputs_read()
        audit.warnings.extend(w for w in reading.warnings if w not in audit.warnings)
        written: list[str] = []
        report_data: dict[str, Any] = {}
        if audit.inputs:
            progress.stage("writing reports")
            from cors_audit.report.json_out import audit_to_dict

            report_data = audit_to_dict(audit, redact=redact)
            written = _write(audit, outputs, report_data, redact=redact)

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


def _write(audit: Audit, outputs: dict[str, str], report_data: dict[str, Any], *, redact: bool) -> list[str]:
    from cors_audit.report import write_reports

    try:
        return write_reports(
            audit,
            json_path=outputs.get("json"),
            html_path=outputs.get("html"),
            sarif_path=outputs.get("sarif"),
            csv_path=outputs.get("csv"),
            redact=redact,
            report=report_data,
        )
    except OSError as error:
        where = error.filename or ", ".join(outputs.values())
        raise OutputError(f"{where}: cannot write the report: {error.strerror or error}") from error


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


# ---- active confirmation: `cors-audit probe URL...` and `cors-audit report --probe` ----

if TYPE_CHECKING:
    from cors_audit.probe import ProbeStats, Settings, Target

# Headers the probe sets itself: a user value would change what is being tested, or leave the scope.
_PROBE_OWN_HEADERS = frozenset(
    {"origin", "host", "access-control-request-method", "connection", "content-length", "transfer-encoding"}
)
_PROBE_OPTIONS = (
    "scope", "header", "cookie", "proxy", "rate", "timeout", "allow_unsafe_methods", "insecure", "seed", "dry_run"
)  # fmt: skip


_PLAN_OWN_LINE = frozenset({"origin", "access-control-request-method"})


def _add_probe_parser(commands: Any) -> None:
    probe = commands.add_parser(
        "probe",
        help="confirm CORS flaws by sending forged Origin headers to the given URLs (active)",
        description="Send forged Origin values (the catalogue of Corsy, CORScanner, ZAP and nuclei) to each "
        "URL on a preflight and on a GET, and report which ones the server grants. Only the URLs given are "
        "contacted; redirects are not followed. Without an output option, prints the summary only.",
    )
    probe.add_argument("urls", nargs="+", metavar="URL", help="http:// or https:// URL to probe")
    probe.add_argument(
        "--trusted-origin",
        action="append",
        default=[],
        metavar="ORIGIN",
        help="an origin the server legitimately allows; the forged variants derive from it "
        "(repeatable; default: the URL's own origin)",
    )
    probe.add_argument(
        "--method",
        default="GET",
        type=str.upper,
        help="the method the app uses on the URLs: preflights ask for it; the request itself is a GET "
        "unless it is HEAD or --allow-unsafe-methods is given (default GET)",
    )
    probe.add_argument("--json", metavar="PATH", help="write the JSON report (schema 1) here")
    probe.add_argument("-o", "--html", metavar="PATH", help="write the HTML report here")
    probe.add_argument("--sarif", metavar="PATH", help="write SARIF 2.1.0 here")
    probe.add_argument("--csv", metavar="DIR", help="write every report table as DIR/<table>.csv")
    probe.add_argument(
        "--fail-on",
        choices=FAIL_ON_CHOICES,
        default="never",
        help="exit with status 1 when a finding at or above this severity exists (default: never)",
    )
    probe.add_argument("--no-redact", action="store_true", help="keep cookie and auth values in the evidence")
    probe.add_argument("-q", "--quiet", action="store_true", help="no terminal summary")
    probe.add_argument("--traceback", action="store_true", help="print the Python traceback on errors")
    _add_probe_options(probe, command="probe")


def _add_probe_options(parser: ArgumentParser, *, command: str) -> None:
    """The options `probe` and `report --probe` share (and, for report, --probe and --scope)."""
    from cors_audit.probe.model import DEFAULT_RATE, DEFAULT_TIMEOUT

    title = "sending" if command == "probe" else "active confirmation (opt-in)"
    group = parser.add_argument_group(title)
    if command == "report":
        group.add_argument(
            "--probe",
            action="store_true",
            help="also send forged-Origin probes to each endpoint (target origin + path pattern) seen in the "
            "captured cross-origin traffic, and confirm or add findings",
        )
        group.add_argument(
            "--scope",
            metavar="PATTERN",
            type=_probe_scope,
            help="probe only hosts this regular expression finds (searched, case-insensitive)",
        )
    group.add_argument(
        "--header",
        action="append",
        default=[],
        type=_probe_header,
        metavar="'NAME: VALUE'",
        help="send this header with every probe, e.g. an Authorization header (repeatable)",
    )
    group.add_argument(
        "--cookie", action="append", default=[], metavar="COOKIE", help="send this Cookie value (repeatable)"
    )
    group.add_argument(
        "--proxy", metavar="URL", type=_probe_proxy, help="send the probes through this http:// proxy"
    )
    group.add_argument(
        "--rate",
        metavar="N/s",
        type=_probe_rate,
        help=f"at most N requests per second to each host (default {DEFAULT_RATE:g})",
    )
    group.add_argument(
        "--timeout",
        metavar="S",
        type=_probe_timeout,
        help=f"seconds to wait for each answer (default {DEFAULT_TIMEOUT:g})",
    )
    group.add_argument(
        "--allow-unsafe-methods",
        action="store_true",
        help="send the request itself with the app's method (POST, PUT, ...; no body) instead of a GET",
    )
    group.add_argument(
        "--insecure", action="store_true", help="do not verify TLS certificates (self-signed test servers)"
    )
    group.add_argument(
        "--seed", help="seed of the random labels in the forged origins (default 0: the same every run)"
    )
    group.add_argument(
        "--dry-run", action="store_true", help="list the requests that would be sent, and send nothing"
    )


def _probe_scope(value: str) -> str:
    import re

    try:
        re.compile(value)
    except re.error as error:
        raise argparse.ArgumentTypeError(f"{value!r} is not a regular expression: {error}") from error
    return value


def _probe_header(value: str) -> tuple[str, str]:
    name, colon, content = value.partition(":")
    name = name.strip()
    if not colon or not name or any(c in name for c in " \t\r\n") or any(c in content for c in "\r\n"):
        raise argparse.ArgumentTypeError(f"{value!r} is not a header line ('Name: value')")
    if name.lower() in _PROBE_OWN_HEADERS:
        raise argparse.ArgumentTypeError(f"{name} is set by the probe itself")
    return name, content.strip()


def _probe_proxy(value: str) -> str:
    from urllib.parse import urlsplit

    parts = urlsplit(value)
    if parts.scheme != "http" or not parts.hostname:
        raise argparse.ArgumentTypeError(f"{value!r} is not an http:// proxy URL")
    try:
        parts.port  # noqa: B018 - raises on a bad port
    except ValueError as error:
        raise argparse.ArgumentTypeError(f"{value!r}: {error}") from error
    return value


def _probe_rate(value: str) -> float:
    text = value.strip().lower().removesuffix("/s")
    try:
        rate = float(text)
    except ValueError:
        rate = 0.0
    if not rate > 0 or rate == float("inf"):
        raise argparse.ArgumentTypeError(f"{value!r} is not a positive rate (e.g. 5 or 5/s)")
    return rate


def _probe_timeout(value: str) -> float:
    try:
        seconds = float(value)
    except ValueError:
        seconds = 0.0
    if not 0 < seconds < float("inf"):
        raise argparse.ArgumentTypeError(f"{value!r} is not a positive number of seconds")
    return seconds


def _check_probe_options(args: argparse.Namespace) -> None:
    if args.probe:
        return
    given = [name for name in _PROBE_OPTIONS if getattr(args, name, None) not in (None, False, [])]
    if given:
        option = "--" + given[0].replace("_", "-")
        raise UsageError(f"{option} only applies with --probe")


def _probe_settings(args: argparse.Namespace) -> Settings:
    from cors_audit.probe import DEFAULT_RATE, DEFAULT_TIMEOUT, Settings

    headers = list(args.header)
    if args.cookie:
        headers.append(("Cookie", "; ".join(args.cookie)))
    return Settings(
        rate=args.rate or DEFAULT_RATE,
        timeout=args.timeout or DEFAULT_TIMEOUT,
        proxy=args.proxy,
        insecure=args.insecure,
        headers=tuple(headers),
        allow_unsafe_methods=args.allow_unsafe_methods,
        seed=args.seed if args.seed is not None else "0",
        redact=not args.no_redact,
    )


def probe_urls(args: argparse.Namespace) -> ExitStatus:
    """`cors-audit probe URL...`: probe exactly the URLs given, report like `report` does."""
    from cors_audit import probe as probing

    trusted = [_trusted_origin(value) for value in args.trusted_origin]
    settings = _probe_settings(args)
    targets: dict[str, Target] = {}
    for url in args.urls:
        try:
            target = probing.target_from_url(url, trusted=trusted, method=args.method)
        except ValueError as error:
            raise UsageError(str(error)) from error
        if target.endpoint in targets:  # one endpoint (origin + path pattern) is probed once
            _warn(f"{url}: the same endpoint as {targets[target.endpoint].url}; probed once")
            continue
        targets[target.endpoint] = target
    return _probe_targets(args, list(targets.values()), settings)


def _probe_targets(args: argparse.Namespace, targets: list[Target], settings: Settings) -> ExitStatus:
    """Probe (or, with --dry-run, list), then warn, summarize and write like `report`; the exit status."""
    from cors_audit import probe as probing
    from cors_audit.report.json_out import audit_to_dict

    if args.dry_run:
        _print_probe_plan(targets, settings)
        return ExitStatus.SUCCESS
    outputs = {fmt: getattr(args, fmt) for fmt in ("json", "html", "sarif", "csv") if getattr(args, fmt)}
    redact = not args.no_redact
    _say_probing(targets, settings)
    run = probing.run_probes(targets, settings)
    audit = probing.merge(Audit(list(args.urls), 0, []), run.findings, run.stats, run.warnings)
    report_data = audit_to_dict(audit, redact=redact)
    written = _write(audit, outputs, report_data, redact=redact) if outputs else []
    for warning in audit.warnings:
        _warn(warning)
    print(_probe_done(run.stats), file=sys.stderr)
    if not args.quiet:
        from cors_audit.report.console import discard, print_summary

        try:
            print_summary(report_data)
        except BrokenPipeError:
            discard(sys.stdout)
    for path in written:
        print(f"{PROG}: wrote {path}", file=sys.stderr)
    if run.stats.answered == 0:
        _error("no probe got an answer: nothing was tested")
        return ExitStatus.ERROR
    if _fails(audit, args.fail_on):
        return ExitStatus.FINDINGS
    return ExitStatus.SUCCESS


def _probe_capture(args: argparse.Namespace, audit: Audit, trusted: list[str], progress: _Progress) -> Audit:
    """`report --probe`: probe each endpoint of the capture's cross-origin traffic in scope and merge."""
    if not args.probe:
        return audit
    from cors_audit import probe as probing

    settings = _probe_settings(args)
    targets = probing.targets_from_audit(audit, trusted=trusted, scope=args.scope)
    if args.dry_run:
        _print_probe_plan(targets, settings)
        return audit
    if not targets:
        audit.warnings.append("probe: no cross-origin traffic in scope: nothing was probed")
    progress.stage(f"probing {len(targets)} endpoints")
    _say_probing(targets, settings)
    run = probing.run_probes(targets, settings)
    print(_probe_done(run.stats), file=sys.stderr)
    return probing.merge(audit, run.findings, run.stats, run.warnings)


def _say_probing(targets: Sequence[Target], settings: Settings) -> None:
    hosts = len({t.host for t in targets})
    print(
        f"{PROG}: probing {len(targets)} endpoints on {hosts} host{'' if hosts == 1 else 's'}, "
        f"at most {settings.rate:g} requests/s per host",
        file=sys.stderr,
    )


def _probe_done(stats: ProbeStats) -> str:
    line = f"{PROG}: probed {stats.targets} endpoints: {stats.sent} requests in {stats.seconds:.1f} s"
    if stats.failed:
        line += f", {stats.failed} without an answer"
    if stats.skipped:
        line += f", {stats.skipped} skipped"
    return line


def _print_probe_plan(targets: Sequence[Target], settings: Settings) -> None:
    """The dry run: every request a run may send, one line each, on stdout. Nothing is sent."""
    from cors_audit import probe as probing

    requests = probing.plan(targets, settings)
    out = sys.stdout
    print(f"{PROG}: dry run: up to {len(requests)} requests to {len(targets)} endpoints; none sent", file=out)
    from cors_audit.redact import redact_header

    current = None
    for request in requests:
        headers = dict((n.lower(), v) for n, v in request.headers)
        if request.target is not current:
            current = request.target
            common = "; ".join(
                f"{n}: {redact_header(n, v) if settings.redact else v}"
                for n, v in request.headers
                if n.lower() not in _PLAN_OWN_LINE
            )
            print(f"\n{current.url}  (variants of {', '.join(current.bases)})", file=out)
            print(f"  every request: {common}", file=out)
        acrm = headers.get("access-control-request-method")
        extra = f"  Access-Control-Request-Method: {acrm}" if acrm else ""
        print(
            f"  {request.method:<7} Origin: {request.probe.origin}  [{request.probe.kind}]{extra}", file=out
        )
    print(
        "\nA run skips the derived probes when the arbitrary origin is granted, and the special-character "
        "probes when a prefix probe is.",
        file=out,
    )


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
