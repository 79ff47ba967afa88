"""Running probes: the staged run over one target, the run over many (one thread per host), and the
background `Prober` the mitmproxy addon feeds.

Stages keep the traffic down: the baseline, the arbitrary origin and `null` go first; when the
arbitrary origin is granted the server reflects everything and the derived probes would only repeat
it, so they are skipped. The special-character probes go last and are skipped when a plain prefix
probe was granted (they all start with it). A server (host and port) that does not answer three
requests in a row is given up for the rest of the run; the rate limit is per host name.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from cors_audit.model import Finding
from cors_audit.probe.catalogue import catalogue, requests_for
from cors_audit.probe.judge import ProbeStats, judge, sort_key
from cors_audit.probe.model import ProbeRequest, ProbeResult, Settings, Target
from cors_audit.probe.send import RateLimiter, Stopped, Transport, send

GIVE_UP_AFTER = 3
"""Requests in a row without any answer after which a server is skipped for the rest of the run."""
MAX_HOST_THREADS = 4


@dataclass(slots=True)
class TargetRun:
    """One target's answers and what they prove."""

    target: Target
    results: list[ProbeResult] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    skipped: int = 0


@dataclass(slots=True)
class ProbeRun:
    """Everything a run produced: per-target answers, the findings, warnings and counts."""

    targets: list[TargetRun] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    stats: ProbeStats = field(default_factory=ProbeStats)

    @property
    def findings(self) -> list[Finding]:
        return sorted((f for t in self.targets for f in t.findings), key=sort_key)


class _Server:
    """Per-server (host:port) bookkeeping: failures in a row, whether it was given up, the last error."""

    def __init__(self) -> None:
        self.failures_in_a_row = 0
        self.given_up = False
        self.skipped = 0
        self.last_error = ""


class Runner:
    """Sends the probes of one target after another, rate-limited per host (shared across threads)."""

    def __init__(
        self,
        settings: Settings,
        *,
        transport: Transport = send,
        limiter: RateLimiter | None = None,
        stop: threading.Event | None = None,
    ) -> None:
        self.settings = settings
        self.transport = transport
        self.stop = stop or threading.Event()
        self.limiter = limiter or RateLimiter(settings.rate, stop=self.stop)
        self._servers: dict[str, _Server] = {}
        self._lock = threading.Lock()

    def probe(self, target: Target) -> TargetRun:
        """Run the staged catalogue against one target and judge the answers. Stopped propagates."""
        run = TargetRun(target)
        server = self._server(target)
        probes = catalogue(target, self.settings.seed)
        for stage in (0, 1, 2):
            todo = [p for p in probes if p.stage == stage]
            if stage > 0 and _granted_kind(run.results, "arbitrary"):
                break
            if stage == 2 and _granted_kind(run.results, "prefix"):
                break
            for probe in todo:
                for request in requests_for(target, probe, self.settings):
                    if server.given_up:
                        run.skipped += 1
                        server.skipped += 1
                        continue
                    run.results.append(self._send(request, server))
        run.findings = judge(target, run.results, redact=self.settings.redact)
        return run

    def _send(self, request: ProbeRequest, server: _Server) -> ProbeResult:
        if self.stop.is_set():
            raise Stopped
        self.limiter.acquire(request.target.host)
        result = self.transport(request, self.settings)
        if result.status is None:
            server.failures_in_a_row += 1
            server.last_error = result.error or "no response"
            server.given_up = server.failures_in_a_row >= GIVE_UP_AFTER
        else:
            server.failures_in_a_row = 0
        return result

    def _server(self, target: Target) -> _Server:
        with self._lock:
            return self._servers.setdefault(target.origin, _Server())

    def server_warnings(self) -> list[str]:
        return [
            f"probe: {origin}: no answer to {GIVE_UP_AFTER} requests in a row ({s.last_error}); "
            f"skipped the remaining {s.skipped} requests to it"
            for origin, s in self._servers.items()
            if s.given_up
        ]


def _granted_kind(results: Sequence[ProbeResult], kind: str) -> bool:
    return any(r.echoes and r.request.probe.kind == kind for r in results)


def target_warnings(run: TargetRun) -> list[str]:
    """One line per target whose requests got network errors (each request is still judged on its own)."""
    failed = [r for r in run.results if r.status is None]
    if not failed:
        return []
    first = failed[0]
    return [
        f"probe: {run.target.url}: {len(failed)} of {len(run.results)} requests got no answer "
        f"(first: {first.request.method} with Origin {first.request.probe.origin}: {first.error})"
    ]


def run_probes(
    targets: Sequence[Target],
    settings: Settings,
    *,
    transport: Transport = send,
    on_target: Callable[[TargetRun], None] | None = None,
) -> ProbeRun:
    """Probe every target; hosts in parallel (up to MAX_HOST_THREADS), each host's targets in turn."""
    started = time.monotonic()
    runner = Runner(settings, transport=transport)
    by_host: dict[str, list[Target]] = {}
    for target in targets:
        by_host.setdefault(target.host.lower(), []).append(target)

    def one_host(host_targets: list[Target]) -> list[TargetRun]:
        done = []
        for target in host_targets:
            target_run = runner.probe(target)
            if on_target is not None:
                on_target(target_run)
            done.append(target_run)
        return done

    runs: dict[int, TargetRun] = {}
    pool = ThreadPoolExecutor(max_workers=max(1, min(MAX_HOST_THREADS, len(by_host))))
    try:
        for host_runs in pool.map(one_host, by_host.values()):
            for target_run in host_runs:
                runs[id(target_run.target)] = target_run
    except BaseException:  # Ctrl-C included: the other hosts' threads stop at their next request
        runner.stop.set()
        raise
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
    ordered = [runs[id(t)] for t in targets if id(t) in runs]
    out = ProbeRun(ordered)
    for target_run in ordered:
        out.warnings.extend(target_warnings(target_run))
    out.warnings.extend(runner.server_warnings())
    out.stats = _stats(ordered, time.monotonic() - started)
    return out


def _stats(runs: Sequence[TargetRun], seconds: float) -> ProbeStats:
    stats = ProbeStats(targets=len(runs), seconds=round(seconds, 3))
    for target_run in runs:
        stats.sent += len(target_run.results)
        stats.answered += sum(1 for r in target_run.results if r.status is not None)
        stats.skipped += target_run.skipped
    stats.failed = stats.sent - stats.answered
    return stats


class Prober:
    """Probes endpoints in one background thread, each endpoint once, never on the caller's thread.

    The mitmproxy addon submits targets from its hooks (a queue put, nothing more) and collects the
    findings when mitmproxy shuts down. Exceptions are logged, never raised; a stop abandons the
    request being rate-limited and lists the endpoints left unprobed as a warning.
    """

    def __init__(
        self,
        settings: Settings,
        *,
        transport: Transport = send,
        log: Callable[[int, str], None] | None = None,
    ) -> None:
        self.settings = settings
        self.log = log or (lambda level, text: logging.getLogger(__name__).log(level, text))
        self._stop = threading.Event()
        self._runner = Runner(settings, transport=transport, stop=self._stop)
        self._queue: queue.Queue[Target | None] = queue.Queue()
        self._seen: set[str] = set()
        self._runs: list[TargetRun] = []
        self._warnings: list[str] = []
        self._lock = threading.Lock()
        self._started = time.monotonic()
        self._thread = threading.Thread(target=self._work, name="cors-audit probe", daemon=True)
        self._thread.start()

    def submit(self, target: Target) -> bool:
        """Queue `target` unless its endpoint was queued before; True when queued."""
        with self._lock:
            if self._stop.is_set() or target.endpoint in self._seen:
                return False
            self._seen.add(target.endpoint)
        self._queue.put(target)
        return True

    @property
    def pending(self) -> int:
        return self._queue.qsize()

    @property
    def stopped(self) -> bool:
        return self._stop.is_set()

    def close(self, timeout: float | None = None) -> ProbeRun:
        """Stop now: finish or abandon the request in flight, then return what was found."""
        self._stop.set()
        self._queue.put(None)
        self._thread.join(self.settings.timeout + 1.0 if timeout is None else timeout)
        left: list[str] = []
        while True:
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                break
            if item is not None:
                left.append(item.endpoint)
        with self._lock:
            runs = list(self._runs)
            warnings = list(self._warnings)
        if left:
            warnings.append(f"probe: stopped before probing {len(left)} endpoints: {', '.join(left)}")
        warnings.extend(self._runner.server_warnings())
        return ProbeRun(runs, warnings, _stats(runs, time.monotonic() - self._started))

    def _work(self) -> None:
        while not self._stop.is_set():
            target = self._queue.get()
            if target is None:
                return
            try:
                target_run = self._runner.probe(target)
            except Stopped:
                with self._lock:
                    self._warnings.append(f"probe: {target.endpoint}: stopped part-way; not judged")
                return
            except Exception as error:  # noqa: BLE001 - a worker thread must never die silently
                self.log(logging.ERROR, f"cors-audit: probing {target.url} failed: {error!r}")
                continue
            with self._lock:
                self._runs.append(target_run)
                self._warnings.extend(target_warnings(target_run))
            rules = ", ".join(f"{f.rule} ({f.severity})" for f in target_run.findings) or "nothing"
            self.log(
                logging.INFO,
                f"cors-audit: probed {target.endpoint} ({len(target_run.results)} requests): {rules}",
            )
