"""The command line of active confirmation: `cors-audit probe URL...` and `cors-audit report --probe`.

`cors_audit.cli` owns the program (exit statuses, errors, report writing); this module adds the
probe's options to its parser and runs the probe flows with its helpers.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from cors_audit.cli import (
    FAIL_ON_CHOICES,
    PROG,
    ArgumentParser,
    ExitStatus,
    _error,
    _fails,
    _Progress,
    _trusted_origin,
    _warn,
    _write,
)
from cors_audit.errors import UsageError
from cors_audit.model import Audit

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


def add_parser(commands: Any) -> None:
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
    add_options(probe, command="probe")


def add_options(parser: ArgumentParser, *, command: str) -> None:
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


def check_options(args: argparse.Namespace) -> None:
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
    audit = probing.merge(Audit(list(args.urls), 0, []), run.findings, run.warnings)
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


def probe_capture(args: argparse.Namespace, audit: Audit, trusted: list[str], progress: _Progress) -> Audit:
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
    return probing.merge(audit, run.findings, run.warnings)


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
