"""The HTML report in a real browser: headless Chromium opens generated reports from disk.

- The bundled demo capture: the key numbers are visible, filters, sort and search work, the
  filter state lives in the URL (a reload keeps it), the empty-state row shows, and a full-page
  screenshot is kept in reports/test-artifacts/ for a person to look at (screen and print).
- A hostile capture (tests/fixtures/hostile.har: script tags, event-handler attributes, attribute
  and `</script>` breakouts, `javascript:` URLs, template syntax, bidi and control characters in
  every captured field): nothing runs, nothing is fetched, template syntax is shown literally —
  with the page's Content-Security-Policy, and again without it (escaping alone must hold).

Every page is opened with all requests routed: anything that is not the report file itself is
aborted and fails the test, as do console errors, page errors, dialogs and CSP violations.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from cors_audit.audit import analyze
from cors_audit.model import Audit
from cors_audit.report import write_reports
from cors_audit.sources import open_capture, tolerant
from tests.e2e.harness import CHROMIUM, CHROMIUM_FLAGS

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "examples" / "demo.har"
HOSTILE = ROOT / "tests" / "fixtures" / "hostile.har"
ARTIFACTS = ROOT / "reports" / "test-artifacts"
# Set before any of the page's own code runs: a payload that executes flips the trap.
TRAP = """
window.__pwned = 0;
window.__csp = [];
document.addEventListener("securitypolicyviolation", function (e) {
  window.__csp.push(e.violatedDirective + " " + e.blockedURI);
});
"""


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} not installed")
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=list(CHROMIUM_FLAGS))
        yield chromium
        chromium.close()


@dataclass
class Opened:
    """A report open in a guarded page, and everything the page tried that it should not have."""

    page: Any
    url: str
    requests: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    def assert_clean(self) -> None:
        """No request left the file, nothing logged an error, no dialog, no CSP violation."""
        foreign = [u for u in self.requests if u.split("#")[0] != self.url]
        assert foreign == [], f"the report fetched {foreign}"
        assert self.problems == []
        assert self.page.evaluate("window.__csp") == []

    def rows(self) -> list[str]:
        """Ids of the rows the requests table shows."""
        return self.page.eval_on_selector_all(
            "#x-body tr.row", "rows => rows.map(r => r.cells[0].textContent)"
        )

    def visible_findings(self) -> int:
        return self.page.eval_on_selector_all(".finding", "cards => cards.filter(c => !c.hidden).length")

    def state(self) -> dict[str, str]:
        fragment = urlsplit(self.page.url).fragment
        return dict(pair.split("=", 1) for pair in fragment.split("&") if "=" in pair)


def open_report(browser: Any, path: Path, *, viewport_width: int = 1280) -> Opened:
    context = browser.new_context(viewport={"width": viewport_width, "height": 900})
    page = context.new_page()
    opened = Opened(page, path.resolve().as_uri())

    def guard(route: Any) -> None:
        if route.request.url.split("#")[0] == opened.url:
            route.continue_()
        else:
            route.abort()

    context.route("**/*", guard)
    page.on("request", lambda request: opened.requests.append(request.url))
    page.on(
        "console",
        lambda m: opened.problems.append(f"console {m.type}: {m.text}") if m.type == "error" else None,
    )
    page.on("pageerror", lambda error: opened.problems.append(f"page error: {error}"))
    page.on("dialog", lambda dialog: (opened.problems.append(f"dialog: {dialog.message}"), dialog.dismiss()))
    page.add_init_script(TRAP)
    page.goto(opened.url)
    return opened


def make_report(capture: Path, folder: Path, *, redact: bool = True) -> tuple[Path, dict[str, Any]]:
    """The HTML and JSON reports of `capture`, written the way the CLI and the addon write them."""
    warnings: list[str] = []
    audit = analyze(
        tolerant(open_capture(str(capture), warnings), warnings),
        inputs=[str(capture.relative_to(ROOT))],
        redact=redact,
        warnings=warnings,
    )
    return write(audit, folder / capture.stem, redact=redact)


def write(audit: Audit, stem: Path, *, redact: bool = True) -> tuple[Path, dict[str, Any]]:
    html, data = stem.with_suffix(".html"), stem.with_suffix(".json")
    write_reports(audit, json_path=str(data), html_path=str(html), redact=redact)
    return html, json.loads(data.read_text(encoding="utf-8"))


def number(text: str) -> int:
    return int(text.replace(",", ""))


# ---- the demo report ----


def test_demo_report_shows_the_key_numbers(browser: Any, tmp_path: Path) -> None:
    html, report = make_report(DEMO, tmp_path)
    summary = report["summary"]
    blocked = [x for x in report["exchanges"] if x["verdict"] == "blocked"]
    cross_origin = summary["exchanges"] - summary["not_cors"]

    opened = open_report(browser, html)
    page = opened.page

    assert number(page.inner_text("#card-exchanges b")) == summary["exchanges"]
    assert number(page.inner_text("#card-blocked b")) == summary["blocked"]
    assert number(page.inner_text("#card-allowed b")) == summary["allowed"]
    for severity, count in summary["findings"].items():
        assert number(page.inner_text(f"#card-{severity} b")) == count
    assert f"blocked {summary['blocked']} of {cross_origin} cross-origin" in page.inner_text("#headline")
    # one card per (CorsError, endpoint); the demo's blocked URLs carry no record ids or queries
    assert page.locator("article.block").count() == len({(x["error"], x["url"]) for x in blocked})
    cards = " ".join(page.locator("article.block").all_inner_texts())
    assert all(x["message"] in cards for x in blocked)  # Chromium's console text, per group
    assert page.locator(".finding").count() == len(report["findings"])
    assert page.locator("svg.seq").count() >= 1 and page.locator("svg.chart").count() == 2
    assert opened.rows() == [x["id"] for x in report["exchanges"]]
    opened.assert_clean()

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "demo-report.png"), full_page=True)
    page.emulate_media(media="print")
    assert page.eval_on_selector_all(
        ".controls, nav, #x-more", "els => els.every(e => getComputedStyle(e).display === 'none')"
    )
    closed = page.locator("details:not([open]) > :not(summary)")
    assert closed.count() > 0 and all(part.is_visible() for part in closed.all())  # printed open
    page.screenshot(path=str(ARTIFACTS / "demo-report-print.png"), full_page=True)
    page.pdf(path=str(ARTIFACTS / "demo-report.pdf"))
    page.context.close()


def test_demo_report_filters_sort_and_search_live_in_the_url(browser: Any, tmp_path: Path) -> None:
    html, report = make_report(DEMO, tmp_path)
    exchanges = report["exchanges"]
    blocked_ids = [x["id"] for x in exchanges if x["verdict"] == "blocked"]
    opened = open_report(browser, html)
    page = opened.page

    page.select_option("#f-verdict", "blocked")
    assert opened.rows() == blocked_ids
    assert opened.state()["verdict"] == "blocked"
    page.reload()
    assert page.input_value("#f-verdict") == "blocked"
    assert opened.rows() == blocked_ids

    page.click("#x-table th[data-key=id] button")
    page.click("#x-table th[data-key=id] button")
    assert opened.rows() == sorted(blocked_ids, key=lambda xid: -int(xid[1:]))
    assert opened.state()["sort"] == "-id"

    page.fill("#f-text", "no request has this text")
    assert opened.rows() == []
    assert page.is_visible("#x-empty")
    assert "No request matches these filters." in page.inner_text("#x-empty")

    page.click("#x-controls button.reset")
    assert sorted(opened.rows()) == sorted(x["id"] for x in exchanges)
    page.fill("#f-text", exchanges[2]["id"])
    assert opened.rows() == [exchanges[2]["id"]]

    # a request-id button on a blocked card shows that request in the table
    button = page.locator("article.block button.xref").first
    xid = button.get_attribute("data-x")
    button.click()
    assert opened.rows() == [xid]
    assert opened.state()["q"] == xid

    # findings: severity checkboxes and the rule filter, also kept in the URL
    severities = Counter(f["severity"] for f in report["findings"])
    worst = next(s for s in ("critical", "high", "medium", "low", "info") if severities[s])
    for box in page.locator("input.f-sev").all():
        if box.get_attribute("value") != worst:
            box.uncheck()
    assert opened.visible_findings() == severities[worst]
    assert opened.state()["sev"] == worst
    page.reload()
    assert opened.visible_findings() == severities[worst]
    page.click("#f-controls button.reset")
    rule = report["findings"][-1]["rule"]
    page.locator("#f-controls select.f-rule").select_option(rule)
    assert opened.visible_findings() == sum(1 for f in report["findings"] if f["rule"] == rule)
    # the table's finding filter follows the same rule
    assert set(opened.rows()) == {x["id"] for x in exchanges if rule in x["findings"]}

    # the navigation scrolls without dropping the filters from the URL
    page.click("nav a[href='#exchanges']")
    assert opened.state()["rule"] == rule
    opened.assert_clean()
    page.context.close()


def test_report_of_an_empty_capture_shows_its_empty_states(browser: Any, tmp_path: Path) -> None:
    html, _ = write(Audit(["empty.har"], 0, []), tmp_path / "empty")

    opened = open_report(browser, html)

    assert "No requests in this capture" in opened.page.inner_text("body")
    assert opened.page.inner_text("#x-empty") == "No requests in the input."
    opened.assert_clean()
    opened.page.context.close()


# ---- the hostile capture ----


@pytest.mark.parametrize("csp", [True, False], ids=["with-csp", "without-csp"])
def test_hostile_capture_runs_nothing_and_fetches_nothing(browser: Any, tmp_path: Path, csp: bool) -> None:
    html, report = make_report(HOSTILE, tmp_path, redact=False)  # every captured value on the page
    if not csp:  # escaping alone must hold: take the policy away
        text = html.read_text(encoding="utf-8")
        text, removed = re.subn(r'<meta http-equiv="Content-Security-Policy"[^>]*>', "", text)
        assert removed == 1
        html.write_text(text, encoding="utf-8")

    opened = open_report(browser, html)
    page = opened.page
    # touch everything: open every details, expand every table row, follow every request button
    page.eval_on_selector_all("details", "all => all.forEach(d => { d.open = true; })")
    for row in page.locator("#x-body tr.row").all():
        row.click()
    for button in page.locator("button.xref").all():
        button.click()
    page.click("#x-controls button.reset")
    page.fill("#f-text", "{{7*7}}")
    page.wait_for_timeout(200)

    assert page.evaluate("window.__pwned") == 0
    opened.assert_clean()
    structure = page.evaluate(
        """() => ({
        scripts: document.scripts.length,
        embeds: document.querySelectorAll("img, iframe, object, embed, base, link, frame, audio, video, source,"
          + " meta[http-equiv=refresh], foreignObject, image, use, a[href]:not([href^='#'])").length,
        handlers: Array.from(document.querySelectorAll("*")).flatMap(
          el => Array.from(el.attributes).filter(a => a.name.startsWith("on")).map(a => el.tagName + " " + a.name)),
        styles: document.querySelectorAll("style").length,
        hidden: getComputedStyle(document.querySelector("main")).display,
      })"""
    )
    assert structure == {"scripts": 2, "embeds": 0, "handlers": [], "styles": 1, "hidden": "block"}

    text = page.inner_text("body")
    assert "x-{{7*7}}" in text and "${7*7}" in text  # template syntax shown literally
    assert "x-49" not in text and "theme=49" not in text
    assert "<script>window.__pwned=1</script>" in text  # payloads are text
    assert "\u202e" not in text and "\\u202e" in text  # bidi overrides shown, not obeyed
    assert "\x00" not in text
    # the page carried every exchange; the table found the one whose URL holds the template
    assert len(report["exchanges"]) == page.evaluate(
        "JSON.parse(document.getElementById('cors-audit-data').textContent).rows.length"
    )
    assert opened.rows() != []
    page.context.close()
