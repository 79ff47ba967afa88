"""The live addon end to end: real headless Chromium through a real `mitmdump -s addons/cors_audit.py`
to real local servers, for every case of the oracle table.

- Live: each request Chromium blocked gets exactly one ALERT line in the proxy's log, worded as
  Chromium's console message; nothing Chromium allowed is alerted.
- At SIGINT: the report the addon writes agrees with Chromium (verdict, CorsError name, message).
- At SIGKILL mid-run: the capture holds every flow that completed before the kill, and
  `cors-audit report capture.jsonl` re-analyzes it cleanly to the same verdicts.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.cases import CASES, Case, routes_for, select
from tests.e2e.harness import CaseServer, ChromiumDriver, Mitmdump, Truth, write_json

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "addons" / "cors_audit.py"
BLOCKED = " has been blocked by CORS policy: "
KILL_AFTER = 40
"""Cases run before the SIGKILL (table order, so every section up to the preflight checks is in)."""


@dataclass
class AddonRun:
    """One browser session through the addon: Chromium's truth per case and what the addon left."""

    cases: list[Case]
    truths: dict[str, Truth]
    folder: Path
    log: str
    server_hits: list[tuple[str, str]]

    @property
    def capture(self) -> Path:
        [capture] = self.folder.glob("cors-audit-*.jsonl")
        return capture

    def alerts(self) -> list[str]:
        """The addon's ALERT lines: Chromium's console wording, whatever prefix the log adds."""
        return [line[line.index("Access to ") :] for line in self.log.splitlines() if BLOCKED in line]


def run_through_addon(folder: Path, cases: Sequence[Case], *, kill: bool) -> AddonRun:
    """Run `cases` in one Chromium through mitmdump with the addon; stop it with SIGINT or SIGKILL."""
    reports = folder / "reports"
    log = folder / "mitmdump.log"
    truths: dict[str, Truth] = {}
    with CaseServer(routes_for(cases)) as server:
        proxy = Mitmdump(
            extra_args=["-s", str(SCRIPT)], options={"cors_audit_dir": str(reports)}, log=log, cwd=folder
        )
        with proxy, ChromiumDriver(proxy.url) as driver:
            driver.open(server.page + "/")
            for case in cases:
                url = server.url(case.request.target, case.base)
                truths[case.id] = driver.run(case.id, case.request, url, server.page)
            if kill:
                assert proxy.kill() == -9
        hits = [(hit.method, server.url(hit.role, hit.path)) for hit in server.hits]
    write_json(folder / "truth.json", {cid: t.to_json() for cid, t in truths.items()})  # for post-mortems
    return AddonRun(list(cases), truths, reports, log.read_text(errors="replace"), hits)


@pytest.fixture(scope="module")
def stopped_run(e2e_tools: None, tmp_path_factory: pytest.TempPathFactory) -> AddonRun:
    """Every case, then SIGINT: mitmproxy runs `done`, so the report is written."""
    return run_through_addon(tmp_path_factory.mktemp("addon-sigint"), CASES, kill=False)


@pytest.fixture(scope="module")
def killed_run(e2e_tools: None, tmp_path_factory: pytest.TempPathFactory) -> AddonRun:
    return run_through_addon(tmp_path_factory.mktemp("addon-sigkill"), select()[:KILL_AFTER], kill=True)


@pytest.fixture(scope="module")
def report(stopped_run: AddonRun) -> dict[str, Any]:
    return json.loads(stopped_run.capture.with_suffix(".json").read_text())


def exchanges_by_case(run: AddonRun, report: dict[str, Any]) -> dict[str, dict[str, Any] | None]:
    """Each case's exchange in the report. Cases sharing a URL (the preflight-cache cases) ran in
    table order, so the n-th case on a URL is the n-th exchange for it."""
    by_url: dict[str, list[dict[str, Any]]] = {}
    for exchange in report["exchanges"]:
        by_url.setdefault(exchange["url"], []).append(exchange)
    out: dict[str, dict[str, Any] | None] = {}
    for case in run.cases:
        truth = run.truths[case.id]
        if truth.outcome == "absent":  # never reached the network: the proxy cannot see it
            out[case.id] = None
            continue
        queue = by_url.get(truth.url, [])
        out[case.id] = queue.pop(0) if queue else None
    return out


def chromium_says(truth: Truth) -> tuple[str, str | None]:
    return (truth.outcome, truth.error if truth.outcome == "blocked" else None)


def verdict_of(exchange: dict[str, Any] | None) -> tuple[str, str | None]:
    if exchange is None:
        return ("absent", None)
    return (exchange["verdict"], exchange["error"] if exchange["verdict"] == "blocked" else None)


def needs_truth(truth: Truth) -> None:
    if truth.outcome == "error":
        pytest.skip(f"Chromium gave no verdict: {truth.error_text}")


CASE_IDS = [case.id for case in CASES]


@pytest.mark.parametrize("case_id", CASE_IDS)
def test_report_verdict_matches_chromium(stopped_run: AddonRun, report: dict[str, Any], case_id: str) -> None:
    truth = stopped_run.truths[case_id]
    needs_truth(truth)
    exchange = exchanges_by_case(stopped_run, report)[case_id]
    assert verdict_of(exchange) == chromium_says(truth), f"{truth.method} {truth.url}"


@pytest.mark.parametrize("case_id", CASE_IDS)
def test_report_message_matches_chromium_console(
    stopped_run: AddonRun, report: dict[str, Any], case_id: str
) -> None:
    truth = stopped_run.truths[case_id]
    if truth.outcome != "blocked":
        pytest.skip("Chromium printed no CORS message")
    exchange = exchanges_by_case(stopped_run, report)[case_id]
    assert exchange is not None and exchange["message"] == truth.message


def test_live_alerts_are_chromiums_messages_once_each(stopped_run: AddonRun) -> None:
    """Every blocked request: one ALERT with Chromium's text; the alerts are exactly those."""
    expected = Counter(
        t.message or f"<no console message for {t.case}>"
        for t in stopped_run.truths.values()
        if t.outcome == "blocked"
    )
    alerted = Counter(stopped_run.alerts())
    assert (sorted((alerted - expected).elements()), sorted((expected - alerted).elements())) == ([], [])


def test_live_alerts_equal_the_reports_blocked_messages(
    stopped_run: AddonRun, report: dict[str, Any]
) -> None:
    """The live pairing (running clock) and the batch re-read of the capture decide alike."""
    blocked = Counter(x["message"] for x in report["exchanges"] if x["verdict"] == "blocked")
    alerted = Counter(stopped_run.alerts())
    assert (sorted((alerted - blocked).elements()), sorted((blocked - alerted).elements())) == ([], [])


def alerted_url(alert: str) -> str:
    """The URL an alert names: `Access to fetch at '<url>' ...`."""
    match = re.match(r"Access to .+? at '([^']*)'", alert)
    return match.group(1) if match else ""


@pytest.mark.parametrize("case_id", CASE_IDS)
def test_live_alert_only_for_blocked_requests(stopped_run: AddonRun, case_id: str) -> None:
    truth = stopped_run.truths[case_id]
    needs_truth(truth)
    if truth.outcome == "blocked":
        assert truth.message in stopped_run.alerts()
        return
    if any(t.url == truth.url and t.outcome == "blocked" for t in stopped_run.truths.values()):
        pytest.skip("another case on the same URL was blocked")
    alerted = {alerted_url(a) for a in stopped_run.alerts()}
    assert not alerted & ({truth.url} | set(truth.hops))


def test_sigint_writes_the_report_atomically(stopped_run: AddonRun) -> None:
    capture = stopped_run.capture
    produced = sorted(p.name for p in stopped_run.folder.iterdir())
    assert produced == sorted(capture.with_suffix(s).name for s in (".html", ".json", ".jsonl"))
    assert f"cors-audit: wrote {capture.with_suffix('.json')}" in stopped_run.log
    html = capture.with_suffix(".html").read_text()
    assert html.rstrip().endswith("</html>")


def test_sigkill_capture_holds_every_completed_flow(killed_run: AddonRun) -> None:
    from cors_audit.sources import open_capture

    assert not list(killed_run.folder.glob("*.json")), "done() cannot have run after SIGKILL"
    warnings: list[str] = []
    captured = [(m.method, m.url) for m in open_capture(str(killed_run.capture), warnings)]
    assert warnings == []
    missing = [hit for hit in killed_run.server_hits if hit not in captured]
    assert missing == []
    assert len(captured) >= len(killed_run.server_hits)


def test_sigkill_capture_reanalyzes_to_chromiums_verdicts(killed_run: AddonRun, tmp_path: Path) -> None:
    from cors_audit.cli import main

    out = tmp_path / "after-kill.json"
    assert main(["report", str(killed_run.capture), "--json", str(out), "--quiet"]) == 0
    report = json.loads(out.read_text())
    assert report["warnings"] == []
    got = exchanges_by_case(killed_run, report)
    disagree = {
        case.id: (verdict_of(got[case.id]), chromium_says(killed_run.truths[case.id]))
        for case in killed_run.cases
        if killed_run.truths[case.id].outcome != "error"
        and verdict_of(got[case.id]) != chromium_says(killed_run.truths[case.id])
    }
    assert disagree == {}
