"""Live CORS verdicts in mitmproxy: judge flows as they complete, mark them, capture to JSONL, report at exit."""

from __future__ import annotations

import asyncio
import collections
import logging
import os
import re
import sys
import time
import weakref
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO, NamedTuple, Protocol

from mitmproxy import ctx, exceptions, flowfilter, hooks, http
from mitmproxy.addonmanager import Loader
from mitmproxy.log import ALERT

from cors_audit import rules
from cors_audit.audit import LiveJudge
from cors_audit.model import PROBE_USER_AGENT, REDIRECT_STATUSES, Exchange, Message, Severity
from cors_audit.origin import parse_origin
from cors_audit.rules.observe import rule_input
from cors_audit.sources import capture
from cors_audit.sources.mitm import flow_to_message

if TYPE_CHECKING:
    from cors_audit.probe import Prober, ProbeRun

logger = logging.getLogger(__name__)

FORMATS = ("json", "html", "sarif", "csv")
BLOCKED_MARKER = ":no_entry:"
RISKY_MARKER = ":warning:"
SWEEP_EVERY = 1.0
"""Seconds (of flow time) between expiry sweeps of pending preflights."""
MAX_AWAITED_FLOWS = 10_000
"""Flows remembered for marking while their exchange is still open; the oldest are forgotten first."""
MAX_RISK_LINES = 4_096
"""Distinct (rule, resource) pairs logged once each; beyond that risky flows are only counted."""
MAX_MEMO = 4_096
"""Remembered risk-rule results, one per distinct exchange shape; the oldest are forgotten first."""


class Risk(NamedTuple):
    """One live finding, as much of it as the live view shows."""

    rule: str
    severity: Severity
    title: str


class Judge(Protocol):
    """What the addon needs from the core's online pairing and browser judgement."""

    def feed(self, message: Message) -> list[Exchange]: ...
    def expire(self, now: float) -> list[Exchange]: ...
    def flush(self) -> list[Exchange]: ...


class CorsAudit:
    """The addon: options, thin hooks, live verdicts and marks, the capture, and the report at exit."""

    def __init__(self, judge_factory: Callable[[], Judge] = LiveJudge) -> None:
        self.judge: Judge = judge_factory()
        self.scope: Callable[[http.HTTPFlow], bool] | None = None
        self.trusted_origins: tuple[str, ...] = ()
        self.formats: tuple[str, ...] = ("json", "html")
        self.folder: Path | None = None
        self.capture: CaptureFile | None = None
        self.captures: list[Path] = []
        self.capture_failed = False
        # aggregates only: nothing here grows with the number of flows
        self.stats: collections.Counter[str] = collections.Counter()
        self.errors: collections.Counter[str] = collections.Counter()
        self.risks: collections.Counter[str] = collections.Counter()
        self._awaited: dict[str, weakref.ref[http.HTTPFlow]] = {}
        self._risks_logged: set[tuple[str, str]] = set()
        self._risk_memo: dict[tuple[object, ...], tuple[Risk, ...]] = {}
        self._failures_logged: set[str] = set()
        self._clock = 0.0
        self._clock_set_at = 0.0
        self._last_sweep = 0.0
        self._ticker: asyncio.Task[None] | None = None
        self._shutting_down = False
        self._current: http.HTTPFlow | None = None
        self.prober: Prober | None = None
        self.probe_runs: list[ProbeRun] = []

    def load(self, loader: Loader) -> None:
        self._answer_unused_hooks()
        loader.add_option(
            "cors_audit_dir",
            str,
            "reports/",
            "Folder for the cors-audit capture (JSONL) and the reports written at exit; created if missing.",
        )
        loader.add_option(
            "cors_audit_scope",
            str,
            "",
            """
            Which flows cors-audit analyzes: a mitmproxy filter expression (anything containing "~",
            e.g. "~d api.example.com & !~a"), or else a regular expression searched in the request host.
            Empty: every flow.
            """,
        )
        loader.add_option(
            "cors_audit_trusted_origins",
            Sequence[str],
            [],
            "Origins the app under test legitimately serves (e.g. https://app.example.com); "
            "reflection of any other origin counts as untrusted.",
        )
        loader.add_option(
            "cors_audit_mark",
            bool,
            True,
            "Mark blocked (⛔) and risky (⚠) flows and explain the verdict in the flow comment.",
        )
        loader.add_option(
            "cors_audit_report",
            bool,
            True,
            "Write the cors-audit report next to the capture when mitmproxy shuts down.",
        )
        loader.add_option(
            "cors_audit_formats",
            Sequence[str],
            ["json", "html"],
            f"Report formats written at exit, any of: {', '.join(FORMATS)}.",
        )
        loader.add_option(
            "cors_audit_redact",
            bool,
            True,
            "Redact cookies, authorization headers and token-like query values in the capture and report.",
        )
        loader.add_option(
            "cors_audit_probe",
            bool,
            False,
            """
            Confirm risky CORS policies actively: send forged Origin headers (OPTIONS and GET only, a few
            per second per host, from a background thread, each in-scope endpoint once) and add what they
            prove to the report written at exit.
            """,
        )

    def configure(self, updated: set[str]) -> None:
        if "cors_audit_dir" in updated:
            folder = Path(os.path.expanduser(ctx.options.cors_audit_dir or ".")).absolute()
            try:
                folder.mkdir(parents=True, exist_ok=True)
            except OSError as e:
                raise exceptions.OptionsError(f"cors_audit_dir: cannot create {folder}: {e}") from e
            if not os.access(folder, os.W_OK | os.X_OK):
                raise exceptions.OptionsError(f"cors_audit_dir: {folder} is not writable")
            if folder != self.folder:
                self._close_capture()  # the next flow starts a capture in the new folder
                self.folder = folder
        if "cors_audit_scope" in updated:
            self.scope = parse_scope(ctx.options.cors_audit_scope)
        if "cors_audit_trusted_origins" in updated or "cors_audit_redact" in updated:
            self.trusted_origins = parse_trusted_origins(ctx.options.cors_audit_trusted_origins)
            self._risk_memo.clear()
        if "cors_audit_probe" in updated:
            self._switch_probing(bool(ctx.options.cors_audit_probe))
        if "cors_audit_formats" in updated or "cors_audit_report" in updated:
            self.formats = parse_formats(ctx.options.cors_audit_formats)
            if ctx.options.cors_audit_report and not self.formats:
                raise exceptions.OptionsError(
                    f"cors_audit_formats: name at least one of {', '.join(FORMATS)} "
                    "(or set cors_audit_report=false)"
                )

    def _answer_unused_hooks(self) -> None:
        """Answer the hooks this addon does not implement with None, and its children with `()`.

        For every event of every flow, mitmproxy looks each hook up by name on every addon, and
        asks each addon for its `addons` (`addonmanager._iter_hooks`, `traverse`). A missing name costs
        an AttributeError with a formatted message each time: about a dozen per proxied request. None
        is skipped as "no hook" (`if func:`).
        """
        for name in hooks.all_hooks:
            if not hasattr(self, name):
                setattr(self, name, None)
        self.addons: tuple[object, ...] = ()

    def running(self) -> None:
        # a preflight that fails stops the browser: no later request tells us its exchange is over
        self._ticker = asyncio.get_running_loop().create_task(self._tick(), name="cors-audit expiry")

    def response(self, flow: http.HTTPFlow) -> None:
        self._observe(flow)

    def error(self, flow: http.HTTPFlow) -> None:
        if flow.response is None:  # otherwise `response` has seen it
            self._observe(flow)

    def done(self) -> None:
        """Flush what is still pending, close the capture and write the report. Logging is gone: stderr."""
        self._shutting_down = True
        if self._ticker is not None:
            self._ticker.cancel()
            self._ticker = None
        try:
            self._conclude(self.judge.flush())
        except Exception as e:  # noqa: BLE001 - analysis must never raise into mitmproxy
            self._analysis_failed("(pending requests at exit)", e)
        self._close_capture()
        self._switch_probing(False)
        probed = self._probe_results()
        written: list[str] = []
        if ctx.options.cors_audit_report:
            for path in self.captures:
                try:
                    written.extend(
                        write_report(path, self.formats, self.trusted_origins, self._redact, probed)
                    )
                except Exception as e:  # noqa: BLE001 - say what failed and finish the shutdown
                    print(f"cors-audit: could not write the report for {path}: {e!r}", file=sys.stderr)
        print(self.summary(written), file=sys.stderr)

    # ---- one flow ----

    def _observe(self, flow: http.HTTPFlow) -> None:
        if flow.is_replay or flow.request.method == "CONNECT":
            return
        try:
            if self.scope is not None and not self.scope(flow):
                return
            if not is_cors_relevant(flow):
                return
            message = flow_to_message(flow, self._capture_name(), self.stats["messages"] + 1)
            if PROBE_USER_AGENT in (message.request_headers.get("user-agent") or ""):
                return  # our own forged-Origin probe (e.g. `cors-audit probe --proxy`), not the browser
        except Exception as e:  # noqa: BLE001 - analysis must never raise into mitmproxy
            self._analysis_failed(flow.request.pretty_url, e)
            return
        self.stats["messages"] += 1
        self._record(message)
        self._remember(message.id, flow)
        try:
            finished = self.judge.feed(message)
            self._advance_clock(message.started)
            finished += self._sweep(self._clock)
        except Exception as e:  # noqa: BLE001 - analysis must never raise into mitmproxy
            self._awaited.pop(message.id, None)
            self._analysis_failed(flow.request.pretty_url, e)
            return
        self._current = flow
        try:
            self._conclude(finished)
        finally:
            self._current = None

    def _conclude(self, exchanges: Iterable[Exchange]) -> None:
        for exchange in exchanges:
            try:
                self._conclude_one(exchange)
            except Exception as e:  # noqa: BLE001 - analysis must never raise into mitmproxy
                self._analysis_failed(exchange.url, e)

    def _conclude_one(self, exchange: Exchange) -> None:
        flows = [self._forget(m.id) for m in exchange.messages]
        verdict = exchange.verdict
        outcome = verdict.outcome if verdict is not None else "unknown"
        findings = self._live_findings(exchange)
        if self.prober is not None:
            self._submit_probe(exchange)
        # info-level findings (e.g. `*` on public data) are counted, not flagged
        risky = [f for f in findings if f.severity >= Severity.LOW]
        self.stats["exchanges"] += 1
        self.stats[outcome] += 1
        notes: list[str] = []
        marker = ""
        if verdict is not None and outcome == "blocked":
            self.errors[verdict.error or "unknown"] += 1
            line = (
                verdict.message or f"{exchange.method} {exchange.url} blocked by CORS policy: {verdict.error}"
            )
            self._say(ALERT, line)
            marker = BLOCKED_MARKER
            notes.append(f"CORS blocked ({verdict.error}): {line}")
        for finding in findings:
            self.risks[finding.rule] += 1
        if risky:
            self.stats["risky"] += 1
            marker = marker or RISKY_MARKER
            for finding in risky:
                self._log_risk(finding, exchange)
            notes.append("CORS risk: " + "; ".join(f"{f.rule} ({f.severity}): {f.title}" for f in risky))
        if notes and ctx.options.cors_audit_mark and not self._shutting_down:
            annotate([f for f in flows if f is not None], marker, "\n".join(notes), self._current)

    def _live_findings(self, exchange: Exchange) -> tuple[Risk, ...]:
        """The risk rules' verdict on one exchange, memoized on everything the rules read: an app calls
        the same endpoints with the same headers over and over, and the rules cost more than the rest."""
        key = rule_input(exchange)
        known = self._risk_memo.get(key)
        if known is None:
            context = rules.RuleContext(self.trusted_origins, self._redact)
            known = tuple(Risk(f.rule, f.severity, f.title) for f in rules.live_evaluate(exchange, context))
            self._risk_memo[key] = known
            if len(self._risk_memo) > MAX_MEMO:
                del self._risk_memo[next(iter(self._risk_memo))]
        return known

    # ---- active probes (cors_audit_probe) ----

    def _switch_probing(self, on: bool) -> None:
        """Start the background prober, or stop it and keep what it found for the report.

        Switched off while running, the prober is told to stop and not waited for (the event loop must not
        block); at shutdown it is given the time to finish the request in flight.
        """
        if on and self.prober is None:
            from cors_audit.probe import Prober, Settings

            settings = Settings(
                redact=self._redact, insecure=bool(getattr(ctx.options, "ssl_insecure", False))
            )
            self.prober = Prober(settings, log=self._say)
        elif not on and self.prober is not None:
            prober, self.prober = self.prober, None
            self.probe_runs.append(prober.close(None if self._shutting_down else 0.0))

    def _submit_probe(self, exchange: Exchange) -> None:
        """Queue the exchange's endpoint for probing (once per endpoint); only flows in scope get here."""
        from cors_audit.probe import targets_from_exchanges

        if self.prober is None or exchange.origin is None or self._shutting_down:
            return
        for target in targets_from_exchanges([exchange], trusted=self.trusted_origins):
            if self.prober.submit(target):
                self.stats["probes_queued"] += 1

    def _probe_results(self) -> ProbeRun | None:
        """Every probe run of this session as one (None when probing was never on)."""
        if not self.probe_runs:
            return None
        from cors_audit.probe import ProbeRun

        merged = ProbeRun()
        for run in self.probe_runs:
            merged.targets.extend(run.targets)
            merged.warnings.extend(run.warnings)
            merged.stats.add(run.stats)
        self.stats["probed"] = merged.stats.targets
        self.stats["probe_requests"] = merged.stats.sent
        return merged

    # ---- capture ----

    def _record(self, message: Message) -> None:
        """Append the message to the capture; losing the capture is loud, but never stops the traffic."""
        if self.capture_failed:
            return
        try:
            record = capture.message_to_record(message, redact=self._redact)
        except Exception as e:  # noqa: BLE001 - analysis must never raise into mitmproxy
            self._analysis_failed(message.url, e)
            return
        try:
            if self.capture is None:
                self.capture = CaptureFile.create(
                    self.folder or Path("reports").absolute(), redact=self._redact
                )
                self.captures.append(self.capture.path)
                logger.info(f"cors-audit: capturing CORS traffic to {self.capture.path}")
            self.capture.append(record)
        except OSError as e:
            self.capture_failed = True
            where = self.capture.path if self.capture else self.folder
            self._say(logging.ERROR, f"cors-audit: cannot write the capture {where}: {e}; capture stopped")

    def _capture_name(self) -> str:
        return str(self.capture.path) if self.capture else "mitmproxy"

    def _close_capture(self) -> None:
        if self.capture is not None:
            try:
                self.capture.close()
            except OSError as e:
                self._say(logging.ERROR, f"cors-audit: cannot close the capture {self.capture.path}: {e}")
            self.capture = None

    # ---- expiry ----

    def _advance_clock(self, flow_time: float) -> None:
        """Flow time drives expiry, so flows replayed from a file expire as they did when recorded."""
        self._clock = max(self._clock, flow_time)
        self._clock_set_at = time.monotonic()

    def _sweep(self, now: float) -> list[Exchange]:
        if now - self._last_sweep < SWEEP_EVERY:
            return []
        self._last_sweep = now
        return self.judge.expire(now)

    def expire_pending(self) -> None:
        """Conclude exchanges whose window has passed, on a clock that keeps running between flows."""
        if not self._clock:
            return
        now = self._clock + (time.monotonic() - self._clock_set_at)
        try:
            finished = self._sweep(now)
        except Exception as e:  # noqa: BLE001 - analysis must never raise into mitmproxy
            self._analysis_failed("(expiry of pending requests)", e)
            return
        self._conclude(finished)

    async def _tick(self) -> None:
        while True:
            await asyncio.sleep(SWEEP_EVERY)
            self.expire_pending()

    # ---- flows awaiting their verdict ----

    def _remember(self, message_id: str, flow: http.HTTPFlow) -> None:
        self._awaited[message_id] = weakref.ref(flow)
        if len(self._awaited) > MAX_AWAITED_FLOWS:
            del self._awaited[next(iter(self._awaited))]

    def _forget(self, message_id: str) -> http.HTTPFlow | None:
        ref = self._awaited.pop(message_id, None)
        return ref() if ref is not None else None

    # ---- reporting to the user ----

    @property
    def _redact(self) -> bool:
        return bool(ctx.options.cors_audit_redact)

    def _say(self, level: int, text: str) -> None:
        if self._shutting_down:
            print(text, file=sys.stderr)
        else:
            logger.log(level, text)

    def _log_risk(self, finding: Risk, exchange: Exchange) -> None:
        """One warning per (rule, resource): a risky endpoint is usually called again and again."""
        resource = exchange.url.split("?", 1)[0]
        key = (finding.rule, resource)
        if key in self._risks_logged or len(self._risks_logged) >= MAX_RISK_LINES:
            return
        self._risks_logged.add(key)
        self._say(
            logging.WARNING,
            f"cors-audit: {finding.severity} {finding.rule}: {finding.title} "
            f"({exchange.method} {resource}, origin {exchange.origin})",
        )

    def _analysis_failed(self, url: str, e: Exception) -> None:
        """Count the failure and log it; the first of each kind with its traceback."""
        self.stats["analysis_errors"] += 1
        kind = type(e).__name__
        first = kind not in self._failures_logged
        self._failures_logged.add(kind)
        if self._shutting_down:
            print(f"cors-audit: analysis failed for {url}: {e!r}", file=sys.stderr)
        else:
            logger.error(f"cors-audit: analysis failed for {url}: {e!r}", exc_info=e if first else None)

    def summary(self, written: Sequence[str] = ()) -> str:
        """The closing line(s) printed at exit."""
        s = self.stats
        lines = [
            (
                f"cors-audit: {s['messages']} messages, {s['exchanges']} exchanges: {s['allowed']} allowed, "
                f"{s['blocked']} blocked, {s['not-cors']} not CORS, {s['unknown']} unknown; {s['risky']} risky"
            )
        ]
        if s["probes_queued"]:
            lines.append(
                f"cors-audit: probed {s['probed']} of {s['probes_queued']} endpoints "
                f"({s['probe_requests']} requests)"
            )
        if s["analysis_errors"]:
            lines.append(f"cors-audit: {s['analysis_errors']} analysis errors (see the log)")
        if self.capture_failed:
            lines.append("cors-audit: the capture is incomplete (it could not be written)")
        lines.extend(f"cors-audit: wrote {path}" for path in written)
        if not self.captures:
            lines.append("cors-audit: no CORS-relevant traffic seen; no capture or report written")
        return "\n".join(lines)


class CaptureFile:
    """The addon's append-only JSONL capture. Each line goes to the OS as it is written (the file is
    unbuffered: one write call per line), so a proxy killed with SIGKILL loses nothing it had finished
    (no fsync: the page cache survives the process)."""

    def __init__(self, path: Path, file: BinaryIO) -> None:
        self.path = path
        self._file = file

    @classmethod
    def create(cls, folder: Path, *, redact: bool) -> CaptureFile:
        """A new capture file `cors-audit-YYYYmmdd-HHMMSS[-N].jsonl` in `folder`, never overwriting one."""
        folder.mkdir(parents=True, exist_ok=True)
        stem = time.strftime("cors-audit-%Y%m%d-%H%M%S")
        for n in range(1000):
            path = folder / (f"{stem}.jsonl" if n == 0 else f"{stem}-{n}.jsonl")
            try:
                file = open(path, "xb", buffering=0)  # noqa: SIM115 - lives as long as the capture
            except FileExistsError:
                continue
            capture_file = cls(path, file)
            capture_file.append(capture.header_line(redact=redact))
            return capture_file
        raise FileExistsError(f"no free capture file name for {folder / stem}")

    def append(self, record: bytes) -> None:
        written = self._file.write(record)
        if written < len(record):  # a raw write may be short (a signal, a nearly full disk): finish the line
            view = memoryview(record)[written:]
            while view:
                view = view[self._file.write(view) :]

    def close(self) -> None:
        self._file.close()


# ---- pure helpers ----


_CORS_REQUEST_PREFIXES = (b"sec-fetch-", b"access-control-request-")


def is_cors_relevant(flow: http.HTTPFlow) -> bool:
    """Worth capturing and judging: a browser request (Origin, Sec-Fetch-*, Access-Control-Request-*),
    a response with Access-Control-* headers, or a redirect that may be a hop of one. Other traffic
    is never CORS, and is let through after a look at its raw header names: nothing is decoded or
    built for it. (Lower-cased bytes match as str.lower would: every name looked for is ASCII.)"""
    for name, _ in flow.request.headers.fields:
        name = name.lower()
        if name == b"origin" or name.startswith(_CORS_REQUEST_PREFIXES):
            return True
    response = flow.response
    if response is None:
        return False
    if any(name.lower().startswith(b"access-control-") for name, _ in response.headers.fields):
        return True
    if response.status_code not in REDIRECT_STATUSES:
        return False
    return bool(response.headers.get("location", "").strip(" \t"))


def parse_scope(spec: str) -> Callable[[http.HTTPFlow], bool] | None:
    """A mitmproxy filter when `spec` contains "~", else a host regex; None (everything) when empty."""
    spec = spec.strip()
    if not spec:
        return None
    if "~" in spec:
        try:
            return flowfilter.parse(spec)
        except ValueError as e:
            raise exceptions.OptionsError(f"cors_audit_scope: invalid filter expression {spec!r}: {e}") from e
    try:
        pattern = re.compile(spec, re.IGNORECASE)
    except re.error as e:
        raise exceptions.OptionsError(f"cors_audit_scope: invalid host pattern {spec!r}: {e}") from e
    return lambda flow: pattern.search(flow.request.pretty_host) is not None


def _items(values: Iterable[str]) -> list[str]:
    """Option values, also accepting comma-separated lists in one `--set`."""
    return [item.strip() for value in values for item in value.split(",") if item.strip()]


def parse_trusted_origins(values: Iterable[str]) -> tuple[str, ...]:
    """Serialized origins (scheme://host[:port], or null); OptionsError names the first bad value.

    A trailing "/" is forgiven: people paste origins from the address bar."""
    origins: list[str] = []
    for value in _items(values):
        origin = parse_origin(value[:-1] if value.endswith("/") and value.count("/") == 3 else value)
        if origin is None:
            raise exceptions.OptionsError(
                f"cors_audit_trusted_origins: {value!r} is not an origin (expected scheme://host[:port])"
            )
        origins.append(origin.serialize())
    return tuple(dict.fromkeys(origins))


def parse_formats(values: Iterable[str]) -> tuple[str, ...]:
    formats = [value.lower() for value in _items(values)]
    unknown = [f for f in formats if f not in FORMATS]
    if unknown:
        raise exceptions.OptionsError(
            f"cors_audit_formats: unknown format {unknown[0]!r} (choose from {', '.join(FORMATS)})"
        )
    return tuple(dict.fromkeys(formats))


def annotate(
    flows: Iterable[http.HTTPFlow], marker: str, note: str, current: http.HTTPFlow | None = None
) -> None:
    """Mark flows and add `note` to their comment, keeping what the user wrote.

    The UI learns of changes to earlier flows through an update event; the flow whose hook is running
    (`current`) needs none, because mitmproxy's view sees it after the script addons."""
    earlier = []
    for flow in flows:
        if flow.marked != BLOCKED_MARKER:  # blocked outranks risky
            flow.marked = marker
        if note not in flow.comment:
            flow.comment = f"{flow.comment}\n{note}" if flow.comment else note
        if flow is not current:
            earlier.append(flow)
    if earlier:
        ctx.master.addons.trigger(hooks.UpdateHook(earlier))


def write_report(
    capture_path: Path,
    formats: Sequence[str],
    trusted_origins: Sequence[str],
    redact: bool,
    probed: ProbeRun | None = None,
) -> list[str]:
    """Re-read a finished capture through the batch pipeline and write its reports next to it.

    Re-reading the file (not the live state) gives exactly what `cors-audit report capture.jsonl` gives,
    plus the findings of the session's probes (`probed`), merged as `cors-audit report --probe` does.
    """
    from cors_audit.audit import analyze
    from cors_audit.report import write_reports
    from cors_audit.sources import open_capture, tolerant

    warnings: list[str] = []
    audit = analyze(
        tolerant(open_capture(str(capture_path), warnings), warnings),
        inputs=[str(capture_path)],
        trusted_origins=trusted_origins,
        redact=redact,
        warnings=warnings,
    )
    if probed is not None:
        from cors_audit.probe import merge

        audit = merge(audit, probed.findings, probed.warnings)
    stem = capture_path.with_suffix("")
    # the CSV export is a folder of tables: cors-audit-<date>-<time>-csv/exchanges.csv, ...
    paths = {fmt: f"{stem}-csv" if fmt == "csv" else f"{stem}.{fmt}" for fmt in formats}
    return write_reports(
        audit,
        json_path=paths.get("json"),
        html_path=paths.get("html"),
        sarif_path=paths.get("sarif"),
        csv_path=paths.get("csv"),
        redact=redact,
    )
