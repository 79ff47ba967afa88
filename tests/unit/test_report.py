"""The report stage: JSON contract, frames, HTML safety and content, terminal summary, atomic writes."""

from __future__ import annotations

import base64
import csv
import hashlib
import io
import json
import os
import re
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import jsonschema
import pytest

import cors_audit
from cors_audit.model import Audit, Exchange, Finding, Headers, Message, Severity, Source, Verdict
from cors_audit.report import atomic_writer, write_reports
from cors_audit.report.console import print_summary, shorten
from cors_audit.report.frames import build_frames
from cors_audit.report.html import json_blob, render_html
from cors_audit.report.json_out import JSON_SCHEMA, audit_to_dict, severity_of
from cors_audit.rules.observe import path_pattern

PAGE = "https://app.example"
API = "https://api.example"
# The published contract, committed as a file: changing it takes a deliberate edit here too.
PUBLISHED_SCHEMA = json.loads((Path(__file__).parents[1] / "fixtures" / "report-schema-1.json").read_text())
SCRIPT_TAG = "<script>alert(1)</script>"
IMG_ATTACK = '"><img src=x onerror=alert(2)>'

EXCHANGE_FIELDS = {
    "id",
    "url",
    "final_url",
    "method",
    "origin",
    "credentials",
    "initiator",
    "preflight",
    "verdict",
    "blocked_at",
    "error",
    "message",
    "failed_parameter",
    "assumptions",
    "alternative",
    "findings",
    "source",
}
FINDING_FIELDS = {
    "rule",
    "severity",
    "title",
    "target",
    "count",
    "exchanges",
    "evidence",
    "impact",
    "fix",
    "fix_snippets",
    "confidence",
    "proof",
}


def message(
    url: str,
    method: str = "GET",
    *,
    index: int = 0,
    status: int | None = 200,
    request: list[tuple[str, str]] | None = None,
    response: list[tuple[str, str]] | None = None,
) -> Message:
    return Message(
        id=f"m{index}",
        started=float(index),
        method=method,
        url=url,
        request_headers=Headers(request if request is not None else [("Origin", PAGE)]),
        status=status,
        response_headers=Headers(response or []),
        source=Source("capture.har", index),
    )


def exchange(
    xid: str,
    url: str,
    verdict: Verdict | None,
    *,
    method: str = "GET",
    origin: str | None = PAGE,
    index: int = 0,
    preflight: Message | None = None,
    findings: tuple[str, ...] = (),
    **fields: object,
) -> Exchange:
    actual = message(url, method, index=index)
    return Exchange(
        id=xid,
        origin=origin,
        method=method,
        url=url,
        actual=actual,
        preflight=preflight,
        hops=[actual],
        verdict=verdict,
        findings=list(findings),
        **fields,  # type: ignore[arg-type]
    )


def blocked(url: str, error: str = "PreflightMissingAllowOriginHeader") -> Verdict:
    return Verdict(
        "blocked",
        "preflight",
        error,
        f"Access to fetch at '{url}' from origin '{PAGE}' has been blocked by CORS policy: "
        "Response to preflight request doesn't pass access control check: "
        "No 'Access-Control-Allow-Origin' header is present on the requested resource.",
        None,
        ("credentials mode inferred from the Cookie header",),
        "allowed if the page sent no credentials",
    )


def finding(severity: Severity, rule: str = "missing-vary-origin", **fields: object) -> Finding:
    base: dict[str, object] = {
        "title": "Dynamic Access-Control-Allow-Origin without Vary: Origin",
        "target": f"{API}/users/{{id}}",
        "evidence": {"response": ["Access-Control-Allow-Origin: https://app.example"]},
        "exchanges": ["x2"],
        "count": 1,
        "impact": "A shared cache can serve one origin's answer to another.",
        "fix": "Send Vary: Origin.",
        "fix_snippets": {"nginx": "add_header Vary Origin always;"},
    }
    base.update(fields)
    return Finding(rule, severity, **base)  # type: ignore[arg-type]


def sample_audit() -> Audit:
    """Given a capture with one blocked PUT, one allowed GET with a finding, and one same-origin load."""
    put_url = f"{API}/users/7?token=s3cret"
    preflight = message(
        put_url,
        "OPTIONS",
        index=1,
        status=204,
        request=[("Origin", PAGE), ("Access-Control-Request-Method", "PUT")],
    )
    return Audit(
        inputs=["capture.har"],
        messages=4,
        exchanges=[
            exchange(
                "x1",
                put_url,
                blocked(put_url),
                method="PUT",
                index=2,
                preflight=preflight,
                credentials="include",
            ),
            exchange("x2", f"{API}/users/8", Verdict("allowed"), index=3, findings=("missing-vary-origin",)),
            exchange("x3", f"{PAGE}/app.js", Verdict("not-cors"), origin=None, index=4),
        ],
        findings=[finding(Severity.MEDIUM)],
        warnings=["capture.har: entry 9: missing request.url; entry skipped"],
    )


def hostile_audit() -> Audit:
    """Given a capture whose URLs, headers, origins and file names try to become markup."""
    url = f"https://api.example/{SCRIPT_TAG}?q={IMG_ATTACK}"
    verdict = Verdict(
        "blocked",
        "actual",
        "AllowOriginMismatch",
        f"Access to fetch at '{url}' from origin '{IMG_ATTACK}' </script><script>alert(3)</script>",
        IMG_ATTACK,
        (SCRIPT_TAG,),
        IMG_ATTACK,
    )
    return Audit(
        inputs=[f"{SCRIPT_TAG}.har"],
        messages=1,
        exchanges=[exchange("x1", url, verdict, origin=IMG_ATTACK, initiator=SCRIPT_TAG)],
        findings=[
            finding(
                Severity.HIGH,
                title=SCRIPT_TAG,
                target=IMG_ATTACK,
                impact=SCRIPT_TAG,
                fix=IMG_ATTACK,
                proof=SCRIPT_TAG,
                evidence={
                    SCRIPT_TAG: [f"Access-Control-Allow-Origin: {IMG_ATTACK}"],
                    "nested": {"a": SCRIPT_TAG},
                },
                fix_snippets={SCRIPT_TAG: "</code></pre><script>alert(4)</script>"},
            )
        ],
        warnings=[f"{SCRIPT_TAG}.har: entry 1: {IMG_ATTACK}"],
    )


# ---- JSON contract ----


def test_json_report_matches_the_published_schema() -> None:
    report = json.loads(json.dumps(audit_to_dict(sample_audit())))

    jsonschema.validate(report, PUBLISHED_SCHEMA)
    assert report["schema"] == 1
    assert report["tool"] == {"name": "cors-audit", "version": cors_audit.__version__}
    assert [set(x) for x in report["exchanges"]] == [EXCHANGE_FIELDS] * 3
    assert set(report["findings"][0]) == FINDING_FIELDS


def test_json_summary_counts_every_verdict_and_severity() -> None:
    audit = sample_audit()
    audit.exchanges.append(exchange("x4", f"{API}/x", None, index=5))  # not judged yet -> unknown
    audit.findings.append(finding(Severity.CRITICAL, "reflected-origin-credentials"))

    summary = audit_to_dict(audit)["summary"]

    assert summary == {
        "messages": 4,
        "exchanges": 4,
        "allowed": 1,
        "blocked": 1,
        "not_cors": 1,
        "unknown": 1,
        "findings": {"critical": 1, "high": 0, "medium": 1, "low": 0, "info": 0},
    }


def test_json_exchange_carries_verdict_preflight_and_source() -> None:
    x1 = audit_to_dict(sample_audit())["exchanges"][0]

    assert x1["verdict"] == "blocked"
    assert x1["blocked_at"] == "preflight"
    assert x1["error"] == "PreflightMissingAllowOriginHeader"
    assert x1["preflight"] == {"status": 204, "cached": False, "observed": True}
    assert x1["credentials"] == "include"
    assert x1["assumptions"] == ["credentials mode inferred from the Cookie header"]
    assert x1["alternative"] == "allowed if the page sent no credentials"
    assert x1["source"] == {"file": "capture.har", "entries": [1, 2]}


@pytest.mark.parametrize(
    ("preflight", "cached", "observed_flag", "expected"),
    [
        pytest.param(None, False, True, None, id="simple-request-no-preflight"),
        pytest.param(204, False, True, {"status": 204, "cached": False, "observed": True}, id="observed"),
        pytest.param(
            None, True, True, {"status": None, "cached": True, "observed": False}, id="preflight-cache"
        ),
        pytest.param(
            None, False, False, {"status": None, "cached": False, "observed": False}, id="not-captured"
        ),
    ],
)
def test_json_preflight_field(
    preflight: int | None, cached: bool, observed_flag: bool, expected: object
) -> None:
    pf = message(f"{API}/p", "OPTIONS", status=preflight) if preflight is not None else None
    x = exchange(
        "x1",
        f"{API}/p",
        Verdict("allowed"),
        preflight=pf,
        preflight_cached=cached,
        preflight_observed=observed_flag,
    )

    assert audit_to_dict(Audit(["c.har"], 1, [x]))["exchanges"][0]["preflight"] == expected


@pytest.mark.parametrize(
    ("redact", "shown"),
    [
        pytest.param(True, "token=[redacted]", id="redacted"),
        pytest.param(False, "token=s3cret", id="no-redact"),
    ],
)
def test_json_redacts_tokens_in_urls_and_console_messages(redact: bool, shown: str) -> None:
    x1 = audit_to_dict(sample_audit(), redact=redact)["exchanges"][0]

    assert shown in x1["url"] and shown in x1["final_url"] and shown in x1["message"]
    if redact:
        assert "s3cret" not in json.dumps(x1)


def test_write_reports_writes_every_format_requested(tmp_path: Path) -> None:
    json_path, html_path, csv_path = tmp_path / "r.json", tmp_path / "r.html", tmp_path / "csv"

    written = write_reports(
        sample_audit(), json_path=str(json_path), html_path=str(html_path), csv_path=str(csv_path)
    )

    assert written == [str(json_path), str(html_path), str(csv_path)]
    assert json.loads(json_path.read_text())["summary"]["exchanges"] == 3
    assert html_path.read_text().startswith("<!DOCTYPE html>")
    exchanges_csv = (csv_path / "exchanges.csv").read_text().strip().splitlines()
    assert len(exchanges_csv) == 1 + 3  # header + one row per exchange


def test_json_finding_severity_is_its_lower_case_name() -> None:
    audit = Audit(["c.har"], 0, [], findings=[finding(Severity.HIGH)])

    assert audit_to_dict(audit)["findings"][0]["severity"] == "high"


@pytest.mark.parametrize("severity", [Severity.HIGH, 3, "high", "HIGH", " High "])
def test_a_severity_given_as_number_or_name_reads_as_the_enum(severity: Severity | int | str) -> None:
    assert severity_of(severity) is Severity.HIGH


def test_json_evidence_of_any_type_is_written(tmp_path: Path) -> None:
    evidence = {"statuses": (200, 404), "origins": {"https://a.example"}, "other": object(), "n": None}
    path = tmp_path / "r.json"

    write_reports(
        Audit(["c.har"], 0, [], findings=[finding(Severity.LOW, evidence=evidence)]), json_path=str(path)
    )

    written = json.loads(path.read_text())["findings"][0]["evidence"]
    assert written["statuses"] == [200, 404] and written["origins"] == ["https://a.example"]
    assert written["other"].startswith("<object") and written["n"] is None


# ---- frames ----


@pytest.mark.parametrize(
    ("url", "pattern"),
    [
        ("https://api.example/users/42/avatar", "/users/{id}/avatar"),
        ("https://api.example/o/3f2a9c1e-1b2c-4d5e-8f90-123456789abc", "/o/{id}"),
        ("https://api.example/blob/0123456789abcdef0123", "/blob/{id}"),
        ("https://api.example/v2/items?page=3", "/v2/items"),
        ("https://api.example", "/"),
        ("https://api.example/cafe", "/cafe"),  # short hex-looking words stay
        # the rules' targets say /blob/{id} here: the report's endpoints must group the same way
        ("https://api.example/blob/deadbeef12", "/blob/{id}"),
    ],
)
def test_path_pattern_collapses_record_ids(url: str, pattern: str) -> None:
    assert path_pattern(url) == pattern


def test_endpoint_summary_counts_verdicts_and_errors_per_endpoint() -> None:
    audit = sample_audit()
    audit.exchanges.append(
        exchange(
            "x4",
            f"{API}/users/9?token=a",
            blocked(f"{API}/users/9"),
            method="PUT",
            index=6,
            origin="https://other.example",
        )
    )

    frames = build_frames(audit_to_dict(audit))
    row = frames.endpoints.iloc[0].to_dict()

    assert len(frames.exchanges) == 4
    assert len(frames.endpoints) == 1  # the same-origin app.js is not a CORS endpoint
    assert (row["target_origin"], row["path"]) == (API, "/users/{id}")
    assert (row["requests"], row["allowed"], row["blocked"], row["unknown"], row["origins"]) == (
        3,
        1,
        2,
        0,
        2,
    )
    assert row["errors"] == "PreflightMissingAllowOriginHeader ×2"
    assert set(frames.origins["origin"]) == {PAGE, "https://other.example"}


@pytest.mark.parametrize(
    "origin", ['=HYPERLINK("https://evil.example","x")', "+1+1", "-2+3", "@SUM(A1)", "\t=1"]
)
def test_csv_cells_never_start_a_spreadsheet_formula(tmp_path: Path, origin: str) -> None:
    audit = Audit(["c.har"], 1, [exchange("x1", f"{API}/a", blocked(f"{API}/a"), origin=origin)])
    folder = tmp_path / "csv"

    write_reports(audit, csv_path=str(folder))

    with (folder / "exchanges.csv").open(newline="") as handle:
        row = next(csv.DictReader(handle))
    assert row["origin"] == "'" + origin
    assert row["url"] == f"{API}/a"  # ordinary text is left alone


def test_frames_of_an_empty_audit_keep_their_columns() -> None:
    frames = build_frames(audit_to_dict(Audit([], 0, [])))

    assert frames.exchanges.empty and "verdict" in frames.exchanges.columns
    assert frames.endpoints.empty and "blocked" in frames.endpoints.columns


# ---- HTML ----


class TagCollector(HTMLParser):
    """Every start tag the browser would build, with its attributes."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.scripts: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        self._in_script = tag == "script"

    def handle_endtag(self, tag: str) -> None:
        self._in_script = False

    def handle_data(self, data: str) -> None:
        if self._in_script:
            self.scripts.append(data)


def test_html_hostile_capture_renders_no_live_markup() -> None:
    html = render_html(audit_to_dict(hostile_audit()))
    parser = TagCollector()
    parser.feed(html)

    tags = [t for t, _ in parser.tags]
    assert "img" not in tags
    scripts = [a for t, a in parser.tags if t == "script"]
    assert scripts == [
        {"type": "application/json", "id": "cors-audit-data"},
        {},
    ]  # the data blob and our code
    assert not [(t, k) for t, a in parser.tags for k in a if k.startswith("on")]
    assert not re.search(r"""(src|href)\s*=\s*["']?\s*(https?:)?//""", html, re.IGNORECASE)
    assert SCRIPT_TAG not in html and "<img" not in html
    # the text is still there, as text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_html_data_blob_round_trips_hostile_text() -> None:
    html = render_html(audit_to_dict(hostile_audit()))
    blob = re.search(r'<script type="application/json" id="cors-audit-data">(.*?)</script>', html, re.S)

    assert blob is not None
    assert not set(blob.group(1)) & set("<>&")
    data = json.loads(blob.group(1))
    row = dict(zip(data["columns"], data["rows"][0], strict=True))
    assert row["url"] == f"https://api.example/{SCRIPT_TAG}?q={IMG_ATTACK}"
    assert row["origin"] == IMG_ATTACK


@pytest.mark.parametrize("text", ["</script><script>alert(1)</script>", "<!--", "a & b > c", "\u2028", ""])
def test_json_blob_escapes_markup_characters(text: str) -> None:
    blob = json_blob({"t": text})

    assert not set(blob) & set("<>&")
    assert json.loads(blob) == {"t": text}


def test_html_content_security_policy_admits_exactly_its_own_code() -> None:
    html = render_html(audit_to_dict(sample_audit()))
    parser = TagCollector()
    parser.feed(html)
    policy = next(
        a["content"]
        for t, a in parser.tags
        if t == "meta" and a.get("http-equiv") == "Content-Security-Policy"
    )
    code = parser.scripts[-1]
    style = re.search(r"<style>(.*?)</style>", html, re.S)

    assert policy is not None and style is not None
    assert "default-src 'none'" in policy
    assert f"script-src {_sha256(code)};" in policy
    assert f"style-src {_sha256(style.group(1))};" in policy


def test_html_shows_findings_blocked_requests_and_warnings() -> None:
    html = render_html(audit_to_dict(sample_audit()))

    assert "Dynamic Access-Control-Allow-Origin without Vary: Origin" in html
    assert "add_header Vary Origin always;" in html
    assert "No &#39;Access-Control-Allow-Origin&#39; header is present" in html
    assert "credentials mode inferred from the Cookie header" in html
    assert "capture.har: entry 9: missing request.url; entry skipped" in html
    assert "No requests in this capture" not in html


@pytest.mark.parametrize(
    ("audit", "empty_text"),
    [
        pytest.param(Audit(["empty.har"], 0, []), "No requests in this capture", id="no-requests"),
        pytest.param(
            Audit(["same.har"], 1, [exchange("x1", f"{PAGE}/", Verdict("not-cors"), origin=None)]),
            "No cross-origin requests",
            id="same-origin-only",
        ),
    ],
)
def test_html_empty_states(audit: Audit, empty_text: str) -> None:
    html = render_html(audit_to_dict(audit))

    assert empty_text in html
    assert "No risky CORS configuration observed" in html
    assert "No request was blocked by CORS." in html


def test_blocked_frame_groups_identical_failures_by_error_and_target() -> None:
    urls = [f"{API}/users/{n}" for n in range(5)]
    exchanges = [exchange(f"x{i}", u, blocked(u), method="PUT", index=i) for i, u in enumerate(urls, 1)]
    exchanges.append(
        exchange("x9", f"{API}/users/1", blocked(f"{API}/users/1", "AllowOriginMismatch"), index=9)
    )

    groups = build_frames(audit_to_dict(Audit(["c.har"], 6, exchanges))).blocked

    assert [
        (g["target_origin"] + g["path"], g["requests"], g["error"], g["example"])
        for g in groups.to_dict("records")
    ] == [
        (f"{API}/users/{{id}}", 5, "PreflightMissingAllowOriginHeader", "x1"),
        (f"{API}/users/{{id}}", 1, "AllowOriginMismatch", "x9"),
    ]


# ---- terminal summary ----


def test_console_summary_is_plain_text_when_not_a_terminal() -> None:
    out = io.StringIO()
    print_summary(audit_to_dict(sample_audit()), out)
    text = out.getvalue()

    assert "\x1b[" not in text
    assert "1 allowed, 1 blocked, 1 not-cors, 0 unknown" in text
    assert "PreflightMissingAllowOriginHeader" in text
    assert "Findings: 0 critical, 0 high, 1 medium, 0 low, 0 info" in text
    assert "missing-vary-origin" in text


def test_console_summary_says_which_findings_a_probe_confirmed() -> None:
    audit = Audit(
        ["c.har"], 1, [],
        [finding(Severity.HIGH, "prefix-match", confidence="confirmed"), finding(Severity.MEDIUM)],
    )
    out = io.StringIO()
    print_summary(audit_to_dict(audit), out)
    text = out.getvalue()

    assert "Findings: 0 critical, 1 high, 1 medium, 0 low, 0 info (1 confirmed by forged-Origin probes)" in text
    assert "prefix-match (confirmed)" in text
    assert "missing-vary-origin (confirmed)" not in text and "missing-vary-origin" in text


def test_console_summary_escapes_terminal_controls_and_markup(monkeypatch: pytest.MonkeyPatch) -> None:
    url = f"{API}/\x1b[2J\x1b]0;pwned\x07[bold]x[/bold]/\u202egnp.exe\nFAKE LINE"
    audit = Audit(["c.har"], 1, [exchange("x1", url, blocked(url))])
    out = io.StringIO()

    print_summary(audit_to_dict(audit), out)

    assert "\x1b" not in out.getvalue() and "\x07" not in out.getvalue()
    assert "\\u001b[2J" in out.getvalue()
    assert "[bold]x[/bold]" in out.getvalue()
    assert "\u202e" not in out.getvalue() and "\\u202egnp.exe" in out.getvalue()  # bidi shown, not obeyed
    assert "\nFAKE LINE" not in out.getvalue()


def test_console_summary_shortens_long_urls_in_the_table_only(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "100")
    url = f"{API}/" + "segment/" * 40 + "end"
    out = io.StringIO()

    print_summary(audit_to_dict(Audit(["c.har"], 1, [exchange("x1", url, blocked(url))])), out)
    lines = out.getvalue().splitlines()

    assert all(len(line.rstrip()) <= 100 for line in lines)
    table_row = next(line for line in lines if line.lstrip().startswith("1 | "))
    assert "https://api.example…" in table_row and "/end |" in table_row  # both ends of the URL
    assert table_row.rstrip().endswith("PreflightMissingAllowOriginHeader")  # the error name is never cut
    unwrapped = "".join(out.getvalue().split())
    assert f"Accesstofetchat'{url}'" in unwrapped  # the console message keeps it whole


def test_console_shows_every_distinct_error_before_repeats_of_one() -> None:
    urls = [f"{API}/a/{n}" for n in range(30)]
    exchanges = [exchange(f"x{n}", u, blocked(u)) for n, u in enumerate(urls)]
    exchanges.append(exchange("x99", f"{API}/b", blocked(f"{API}/b", "AllowOriginMismatch")))
    out = io.StringIO()

    print_summary(audit_to_dict(Audit(["c.har"], 31, exchanges)), out, max_rows=5)
    text = out.getvalue()
    rows = [line for line in text.splitlines() if re.match(r"\s*\d+ \| ", line)]

    assert "Blocked by: PreflightMissingAllowOriginHeader 30, AllowOriginMismatch 1" in text
    assert len(rows) == 5
    assert any(row.rstrip().endswith("AllowOriginMismatch") for row in rows)
    assert "… and 26 more distinct blocked requests" in text
    assert "(the same for 2–5, each with its own URL)" in text  # one reason, printed in full once


@pytest.mark.parametrize(
    ("text", "width", "expected"),
    [
        ("https://api.example/a", 40, "https://api.example/a"),
        ("abcdefghij", 7, "abcd…ij"),
        ("abcdefghij", 2, "a…"),
        ("abcdefghij", 1, "…"),
    ],
)
def test_shorten_keeps_both_ends(text: str, width: int, expected: str) -> None:
    assert shorten(text, width) == expected
    assert len(shorten(text, width)) <= max(width, 0)


# ---- atomic writes and import cost ----


def test_atomic_writer_replaces_the_file_and_leaves_no_temporary(tmp_path: Path) -> None:
    target = tmp_path / "r.json"
    target.write_text("old")

    with atomic_writer(str(target)) as out:
        out.write("new")
        assert target.read_text() == "old"  # readers see the old report until the rename

    assert target.read_text() == "new"
    assert os.listdir(tmp_path) == ["r.json"]


def test_atomic_writer_keeps_the_old_file_when_writing_fails(tmp_path: Path) -> None:
    target = tmp_path / "r.html"
    target.write_text("old")

    with pytest.raises(RuntimeError), atomic_writer(str(target)) as out:
        out.write("half a rep")
        raise RuntimeError("disk full")

    assert target.read_text() == "old"
    assert os.listdir(tmp_path) == ["r.html"]


def test_importing_the_report_package_does_not_import_pandas_or_jinja2() -> None:
    code = "import sys, cors_audit.report; print(sorted({'pandas', 'jinja2'} & set(sys.modules)))"

    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)

    assert result.stdout.strip() == "[]"


def _sha256(code: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(code.encode()).digest()).decode() + "'"


def test_the_code_publishes_the_committed_schema() -> None:
    assert JSON_SCHEMA == PUBLISHED_SCHEMA
