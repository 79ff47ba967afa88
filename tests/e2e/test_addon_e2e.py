"""The live addon end to end: real headless Chromium through a real `mitmdump -s addons/cors_audit.py`
to real local servers, for every case of the oracle table.

- Live: each request Chromium blocked (or failed with a plain `net::` error) gets exactly one ALERT
  line in the proxy's log, worded as Chromium's console message (or naming the same `net::` error);
  nothing Chromium allowed is alerted.
- At SIGINT: the report the addon writes agrees with Chromium (verdict, CorsError name, message).

Report and alerts are compared with Chromium by the same rules as the HAR oracle
(`expectations.py`), including what no capture can show (an XHR's or beacon's wording, the
credentials of a request blocked before it was sent, Chromium's header order, the redirect mode).
- At SIGKILL mid-run: the capture holds every flow that completed before the kill, and
  `cors-audit report capture.jsonl` re-analyzes it cleanly to the same verdicts.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.cases import CASES, Case, routes_for, select
from tests.e2e.expectations import (
    Corpus,
    chromium_said,
    judge_alert,
    judge_message,
    judge_verdict,
    message_params,
)
from tests.e2e.harness import CaseServer, ChromiumDriver, Mitmdump, Truth, write_json
from tests.e2e.record import case_record

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "addons" / "cors_audit.py"
ALERT_LINE = re.compile(
    r"^(?:\[[0-9:.]+\] )?"
    r"(?P<text>Access to .+ has been blocked by CORS policy: .*|net::ERR_[A-Z0-9_]+ at .*)$"
)
"""An ALERT in mitmdump's log (optionally time-stamped): Chromium's console wording for a CORS block,
or `net::ERR_... at <url>` for a plain network error."""
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

    @cached_property
    def corpus(self) -> Corpus:
        """Chromium's truth in `truth.json` form, for the shared expectations."""
        return Corpus([case_record(case, self.truths[case.id]) for case in self.cases])

    def alerts(self) -> list[str]:
        """The addon's ALERT lines, in log order, without the log's time stamp."""
        return [m.group("text") for line in self.log.splitlines() if (m := ALERT_LINE.match(line))]


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


def by_url_key(truths: Mapping[str, Truth]) -> dict[str, str]:
    """Every URL a case requested or was redirected to -> the case's request URL, its key. Paths are
    unique per case, except the §4 cache cases, which share theirs (and so share a key)."""
    keys: dict[str, str] = {}
    for truth in truths.values():
        for url in (truth.url, *truth.hops):
            keys.setdefault(url, truth.url)
    return keys


def alerted_url(alert: str) -> str:
    """The URL an alert names first: `Access to fetch at '<url>' ...`, `net::ERR_... at <url>`."""
    match = re.search(r"https?://[^\s']+", alert)
    return match.group(0) if match else ""


def expects_alert(corpus: Corpus, report: dict[str, Any], case_id: str) -> bool:
    """Whether the addon must alert for the case: Chromium blocked it or failed it with a network
    error; where a capture limit excused a differing verdict, whatever the report decided."""
    truth = corpus.by_case[case_id]
    if judge_verdict(corpus, report, case_id).excused_by is not None:
        exchange = corpus.exchange(report, truth)
        return exchange is not None and exchange.get("verdict") == "blocked"
    return truth["outcome"] in ("blocked", "error")


@dataclass
class Alerts:
    """The live alerts, each given to the case it is about; `stray` are the ones no case expected."""

    by_case: dict[str, list[str]]
    stray: list[str]
    keys: dict[str, str]


def pair_alerts(run: AddonRun, report: dict[str, Any]) -> Alerts:
    """Give each alert to the case whose URL it names. Cases that share a URL (§4) are told apart by
    their messages: each case expecting an alert takes the first one the message rules accept for
    it, then, in table order, the first left over (so a wrong message still shows up as wrong)."""
    corpus = run.corpus
    keys = by_url_key(run.truths)
    on_key: dict[str, list[str]] = {}
    stray: list[str] = []
    for alert in run.alerts():
        key = keys.get(alerted_url(alert))
        if key is None:
            stray.append(alert)
        else:
            on_key.setdefault(key, []).append(alert)
    by_case: dict[str, list[str]] = {case.id: [] for case in run.cases}
    for key, alerts in on_key.items():
        waiting = [
            c.id for c in run.cases if run.truths[c.id].url == key and expects_alert(corpus, report, c.id)
        ]
        for cid in list(waiting):
            for alert in alerts:
                if judge_alert(corpus, report, cid, alert).problem is None:
                    by_case[cid].append(alert)
                    alerts.remove(alert)
                    waiting.remove(cid)
                    break
        for cid in waiting:
            if alerts:
                by_case[cid].append(alerts.pop(0))
        stray += alerts
    return Alerts(by_case, stray, keys)


@pytest.fixture(scope="module")
def alerts(stopped_run: AddonRun, report: dict[str, Any]) -> Alerts:
    return pair_alerts(stopped_run, report)


CASE_IDS = [case.id for case in CASES]


@pytest.mark.parametrize("case_id", CASE_IDS)
def test_report_verdict_matches_chromium(stopped_run: AddonRun, report: dict[str, Any], case_id: str) -> None:
    judge_verdict(stopped_run.corpus, report, case_id).enforce()


@pytest.mark.parametrize("case_id", message_params(CASE_IDS))
def test_report_message_matches_chromium_console(
    stopped_run: AddonRun, report: dict[str, Any], case_id: str
) -> None:
    judge_message(stopped_run.corpus, report, case_id).enforce()


@pytest.mark.parametrize("case_id", message_params(CASE_IDS))
def test_live_alert_matches_chromium_console(
    stopped_run: AddonRun, report: dict[str, Any], alerts: Alerts, case_id: str
) -> None:
    """A request Chromium blocked (or failed with a net:: error) gets exactly one ALERT, worded as
    Chromium's console message under the same rules as the report; any other request gets none."""
    mine = alerts.by_case[case_id]
    if expects_alert(stopped_run.corpus, report, case_id):
        assert len(mine) == 1, f"{case_id}: expected one alert, got {mine!r}"
        judge_alert(stopped_run.corpus, report, case_id, mine[0]).enforce()
        return
    truth = stopped_run.truths[case_id]
    sharing = [c.id for c in stopped_run.cases if stopped_run.truths[c.id].url == truth.url]
    on_key = [a for a in stopped_run.alerts() if alerts.keys.get(alerted_url(a)) == truth.url]
    if sharing == [case_id]:
        assert on_key == [], f"{case_id}: Chromium: {chromium_said(stopped_run.corpus.by_case[case_id])}"
    else:  # the §4 cases on this URL: as many alerts as cases that expect one
        expecting = [cid for cid in sharing if expects_alert(stopped_run.corpus, report, cid)]
        assert len(on_key) == len(expecting), f"alerts on {truth.url}: {on_key!r}; expected for {expecting}"


def test_every_live_alert_is_about_a_case(alerts: Alerts) -> None:
    """No alert names a URL no case requested, and none is left over once each case took its own."""
    assert alerts.stray == []


def test_live_alerts_equal_the_reports_blocked_messages(
    stopped_run: AddonRun, report: dict[str, Any]
) -> None:
    """The live pairing (running clock) and the batch re-read of the capture decide alike."""
    blocked = Counter(x["message"] for x in report["exchanges"] if x["verdict"] == "blocked")
    alerted = Counter(stopped_run.alerts())
    assert (sorted((alerted - blocked).elements()), sorted((blocked - alerted).elements())) == ([], [])


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
    judged = {case.id: judge_verdict(killed_run.corpus, report, case.id) for case in killed_run.cases}
    assert {cid: j.problem for cid, j in judged.items() if j.problem is not None} == {}
