"""The HTML report's parts: frames (counts, grouping), CSV folder, caps, stories, advice, SVG, escaping."""

from __future__ import annotations

import csv
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

from cors_audit.messages import DETAILS
from cors_audit.model import Audit, Exchange, Finding, Headers, Message, Severity, Source, Verdict
from cors_audit.report import html as html_module
from cors_audit.report import write_reports
from cors_audit.report.advice import advice_for, header_pairs
from cors_audit.report.frames import build_frames
from cors_audit.report.html import headline, render_html, visible
from cors_audit.report.json_out import audit_to_dict
from cors_audit.report.story import build_story
from cors_audit.report.svg import MAX_BINS, timeline_chart
from cors_audit.rules import observe
from cors_audit.rules.observe import endpoint_of, endpoints_of

PAGE = "https://app.example"
API = "https://api.example"
T0 = 1_767_348_000.0  # 2026-01-02 10:00:00 UTC


def message(
    url: str,
    method: str = "GET",
    *,
    at: float = T0,
    status: int | None = 200,
    request: list[tuple[str, str]] | None = None,
    response: list[tuple[str, str]] | None = None,
) -> Message:
    return Message(
        id=f"m{at}",
        started=at,
        method=method,
        url=url,
        request_headers=Headers(request if request is not None else [("Origin", PAGE)]),
        status=status,
        response_headers=Headers(response or []),
        source=Source("c.har", 0),
    )


def exchange(
    xid: str,
    url: str,
    outcome: str = "allowed",
    *,
    error: str | None = None,
    blocked_at: str | None = None,
    origin: str | None = PAGE,
    method: str = "GET",
    at: float = T0,
    message_text: str | None = None,
    actual: Message | None = None,
    **fields: object,
) -> Exchange:
    sent = actual if actual is not None else message(url, method, at=at)
    return Exchange(
        id=xid,
        origin=origin,
        method=method,
        url=url,
        actual=sent,
        hops=[sent],
        verdict=Verdict(outcome, blocked_at, error, message_text or (f"blocked: {error}" if error else None)),  # type: ignore[arg-type]
        **fields,  # type: ignore[arg-type]
    )


def blocked(xid: str, url: str, error: str = "MissingAllowOriginHeader", **fields: object) -> Exchange:
    return exchange(xid, url, "blocked", error=error, blocked_at="actual", **fields)


def finding(rule: str, severity: Severity, target: str, exchanges: list[str]) -> Finding:
    return Finding(rule, severity, f"title of {rule}", target, exchanges=exchanges, count=len(exchanges))


def frames_of(*exchanges: Exchange, findings: list[Finding] | None = None):  # type: ignore[no-untyped-def]
    audit = Audit(["c.har"], len(exchanges), list(exchanges), findings=findings or [])
    return build_frames(audit_to_dict(audit), audit)


# ---- frames ----


@pytest.mark.parametrize(
    "url",
    [
        "https://api.example/users/42/avatar",
        "https://API.Example:443/o/3f2a9c1e-1b2c-4d5e-8f90-123456789abc?x=1#f",
        "https://api.example",
        "https://api.example?q=1",
        "http://[::1]:8080/a/0123456789abcdef0123/",
        "https://u:p@h.example:8443/1/2/3",
        "https://a.example/%3Cscript%3E/99?<script>",
        "https://a.example/1 ",
        " https://a.example/1",
        " http://a.example:80 ",  # surrounding spaces: the slow path, and a port to drop
        "HTTPS://a.example: \n",
        "https://a.example/x\x00/7",
        "data:text/plain,hi",
        "javascript:alert(1)",
        "weird",
        "",
    ],
)
def test_endpoints_of_many_urls_agrees_with_urlsplit(url: str) -> None:
    many = [url, "https://other.example/5", url]

    targets, paths = endpoints_of(many)

    assert (targets[0], paths[0]) == endpoint_of(url) == (targets[2], paths[2])
    assert (targets[1], paths[1]) == ("https://other.example", "/{id}")
    # the risk rules name the same endpoint for it: a finding's target is a row of the tables
    target, _, pattern = observe._locate(url)
    assert (target, pattern) == endpoint_of(url)


def test_endpoints_of_urls_with_tabs_or_line_breaks_takes_the_slow_path() -> None:
    urls = ["https://a.example/1\t2", "https://a.example/b\nc/3", "https://a.example/d"]

    assert list(zip(*endpoints_of(urls), strict=True)) == [endpoint_of(u) for u in urls]


def test_blocked_frame_groups_by_error_and_target_and_names_network_failures() -> None:
    frames = frames_of(
        blocked("x1", f"{API}/users/1"),
        blocked("x2", f"{API}/users/2", origin="https://other.example", method="PUT"),
        blocked("x3", f"{API}/users/3", error="AllowOriginMismatch"),
        blocked("x4", f"{API}/down", error=None, message_text=f"net::ERR_CONNECTION_REFUSED at {API}/down"),
        exchange("x5", f"{API}/users/4"),
    )

    rows = frames.blocked.to_dict("records")

    assert [
        (r["error"], r["path"], r["requests"], r["origins"], r["methods"], r["example"]) for r in rows
    ] == [
        ("MissingAllowOriginHeader", "/users/{id}", 2, 2, "GET, PUT", "x1"),
        ("AllowOriginMismatch", "/users/{id}", 1, 1, "GET", "x3"),
        ("net::ERR_CONNECTION_REFUSED", "/down", 1, 1, "GET", "x4"),
    ]


def test_matrix_counts_every_origin_target_pair_by_verdict() -> None:
    frames = frames_of(
        exchange("x1", f"{API}/a"),
        blocked("x2", f"{API}/a"),
        blocked("x3", f"{API}/b"),
        exchange("x4", "https://cdn.example/c", origin="https://other.example"),
        exchange("x5", f"{PAGE}/app.js", "not-cors", origin=None),
    )

    cells = {
        (r["origin"], r["target_origin"]): (
            r["requests"],
            r["allowed"],
            r["blocked"],
            r["not_cors"],
            r["unknown"],
        )
        for r in frames.matrix.to_dict("records")
    }

    assert cells == {
        (PAGE, API): (3, 1, 2, 0, 0),
        ("https://other.example", "https://cdn.example"): (1, 1, 0, 0, 0),
        ("(no Origin header)", PAGE): (1, 0, 0, 1, 0),
    }


def test_timeline_counts_requests_per_minute_by_verdict() -> None:
    frames = frames_of(
        exchange("x1", f"{API}/a", at=T0 + 1),
        blocked("x2", f"{API}/a", at=T0 + 59),
        exchange("x3", f"{API}/a", at=T0 + 61),
        exchange("x4", f"{API}/a", "not-cors", at=T0 + 185),
    )

    rows = [
        (r["minute"].strftime("%H:%M"), r["requests"], r["allowed"], r["blocked"], r["not_cors"])
        for r in frames.timeline.to_dict("records")
    ]

    assert rows == [("10:00", 2, 1, 1, 0), ("10:01", 1, 1, 0, 0), ("10:03", 1, 0, 0, 1)]


def test_timeline_is_empty_without_the_audit_times() -> None:
    audit = Audit(["c.har"], 1, [exchange("x1", f"{API}/a")])

    assert build_frames(audit_to_dict(audit)).timeline.empty


def test_hosts_frame_summarises_each_target_with_its_worst_finding() -> None:
    frames = frames_of(
        exchange("x1", f"{API}/users/1"),
        blocked("x2", f"{API}/orders"),
        exchange("x3", "https://cdn.example/lib.js", "not-cors", origin=None),
        findings=[
            finding("missing-vary-origin", Severity.LOW, f"{API}/users/{{id}}", ["x1"]),
            finding("reflected-origin", Severity.MEDIUM, f"{API}/users/{{id}}", ["x1"]),
        ],
    )

    hosts = {r["target_origin"]: r for r in frames.hosts.to_dict("records")}

    api = hosts[API]
    assert (api["requests"], api["allowed"], api["blocked"], api["paths"], api["origins"]) == (2, 1, 1, 2, 1)
    assert (api["errors"], api["findings"], api["worst_severity"]) == (
        "MissingAllowOriginHeader",
        2,
        "medium",
    )
    cdn = hosts["https://cdn.example"]
    assert (cdn["not_cors"], cdn["findings"], cdn["worst_severity"]) == (1, 0, "")


def test_csv_folder_holds_one_file_per_frame(tmp_path: Path) -> None:
    audit = Audit(
        ["c.har"],
        2,
        [exchange("x1", f"{API}/a"), blocked("x2", f"{API}/b", origin='=HYPERLINK("https://evil.example")')],
        findings=[finding("missing-vary-origin", Severity.LOW, f"{API}/a", ["x1"])],
    )
    folder = tmp_path / "csv"

    written = write_reports(audit, csv_path=str(folder))
    frames = build_frames(audit_to_dict(audit), audit)

    assert written == [str(folder)]
    expected = {f"{name}.csv": frame for name, frame in frames.tables()}
    assert sorted(p.name for p in folder.iterdir()) == sorted(expected)
    for name, frame in expected.items():
        with (folder / name).open(newline="", encoding="utf-8") as handle:
            rows = list(csv.reader(handle))
        assert rows[0] == list(frame.columns)
        assert len(rows) == 1 + len(frame)
        assert not any(cell.startswith("=") for row in rows for cell in row)  # formulas defused everywhere
    with (folder / "blocked.csv").open(newline="", encoding="utf-8") as handle:
        blocked_row = next(csv.DictReader(handle))
    assert blocked_row["example"] == "x2"


# ---- caps ----


def test_requests_table_carries_at_most_its_cap_pointed_to_and_blocked_first(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(html_module, "MAX_TABLE_ROWS", 3)
    audit = Audit(
        ["c.har"],
        6,
        [
            exchange("x1", f"{PAGE}/", "not-cors", origin=None),
            exchange("x2", f"{API}/a"),
            blocked("x3", f"{API}/b"),
            exchange("x4", f"{API}/c", findings=["missing-vary-origin"]),
            exchange("x5", f"{PAGE}/app.js", "not-cors", origin=None),
            blocked("x6", f"{API}/d"),
        ],
    )

    page = render_html(audit_to_dict(audit), audit=audit)

    assert blob_ids(page) == ["x3", "x4", "x6"]
    assert "This table holds 3 of 6 requests" in page


def test_blocked_groups_and_diagrams_are_capped_with_a_count_of_the_rest(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(html_module, "MAX_BLOCKED_GROUPS", 2)
    monkeypatch.setattr(html_module, "MAX_DIAGRAMS", 1)
    errors = ["MissingAllowOriginHeader", "AllowOriginMismatch", "InvalidAllowCredentials"]
    exchanges = [
        blocked(f"x{n}", f"{API}/{error}/{n}", error)
        for n, error in enumerate([errors[0]] * 3 + errors[1:] + errors[1:], 1)
    ]
    audit = Audit(["c.har"], len(exchanges), exchanges)

    page = render_html(audit_to_dict(audit), audit=audit)

    assert page.count('<article class="block"') == 2
    assert page.count('<svg class="seq') == 1
    assert "2 more blocked requests in 1 smaller groups are not shown here" in page


def test_request_buttons_are_capped_per_card(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(html_module, "MAX_IDS", 4)
    exchanges = [blocked(f"x{n}", f"{API}/users/{n}") for n in range(1, 11)]
    audit = Audit(["c.har"], 10, exchanges)

    page = render_html(audit_to_dict(audit), audit=audit)

    assert re.findall(r'data-x="(x\d+)"', page) == ["x1", "x2", "x3", "x4"]
    assert "and 6 more" in page


def blob_ids(page: str) -> list[str]:
    import json

    blob = re.search(r'<script type="application/json" id="cors-audit-data">(.*?)</script>', page, re.S)
    assert blob is not None
    return [row[0] for row in json.loads(blob.group(1))["rows"]]


# ---- stories (what the sequence diagrams draw) ----


def kinds(story) -> list[str]:  # type: ignore[no-untyped-def]
    return [f"{e.kind}{'(dashed)' if e.dashed else ''}" for e in story.events]


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        pytest.param({}, ["call", "send", "receive", "check", "result"], id="simple-request"),
        pytest.param(
            {"preflight_cached": True, "cached_from": "x1", "preflight_observed": False},
            ["call", "cached", "send", "receive", "check", "result"],
            id="preflight-cache",
        ),
        pytest.param(
            {"preflight_observed": False},
            ["call", "send(dashed)", "note", "send", "receive", "check", "result"],
            id="preflight-not-captured",
        ),
        pytest.param(
            {"preflight": message(f"{API}/p", "OPTIONS", status=204)},
            ["call", "send", "receive", "check", "send", "receive", "check", "result"],
            id="preflight-observed",
        ),
    ],
)
def test_story_draws_the_preflight_as_the_capture_shows_it(
    fields: dict[str, object], expected: list[str]
) -> None:
    x = exchange("x2", f"{API}/p", method="PUT", **fields)
    report = audit_to_dict(Audit(["c.har"], 1, [x]))

    story = build_story(report["exchanges"][0], x)

    assert kinds(story) == expected


def test_story_of_a_failed_preflight_never_sends_the_request_and_marks_the_failing_header() -> None:
    preflight = message(
        f"{API}/p",
        "OPTIONS",
        status=204,
        request=[("Origin", PAGE), ("Access-Control-Request-Method", "PUT")],
        response=[("Access-Control-Allow-Origin", "https://elsewhere.example")],
    )
    x = Exchange(
        id="x1",
        origin=PAGE,
        method="PUT",
        url=f"{API}/p",
        actual=None,
        preflight=preflight,
        verdict=Verdict("blocked", "preflight", "PreflightAllowOriginMismatch", "blocked"),
    )
    report = audit_to_dict(Audit(["c.har"], 1, [x]))

    story = build_story(report["exchanges"][0], x)

    assert kinds(story) == ["call", "send", "receive", "check", "note", "result"]
    receive = story.events[2]
    assert [receive.lines[i] for i in receive.marked] == [
        "Access-Control-Allow-Origin: https://elsewhere.example"
    ]
    assert "never sent" in story.events[4].title
    failing = [p for p in story.pairs if p["failing"]]
    assert [(p["request"], p["response"]) for p in failing] == [(PAGE, "https://elsewhere.example")]


def test_story_names_a_missing_header_the_check_needed() -> None:
    x = blocked("x1", f"{API}/a")
    report = audit_to_dict(Audit(["c.har"], 1, [x]))

    receive = next(e for e in build_story(report["exchanges"][0], x).events if e.kind == "receive")

    assert [receive.lines[i] for i in receive.marked] == ["(no Access-Control-Allow-Origin)"]


@pytest.mark.parametrize(("redact", "shown"), [(True, "sid=[redacted]"), (False, "sid=s3cret")])
def test_story_redacts_secrets_like_the_json_does(redact: bool, shown: str) -> None:
    sent = message(f"{API}/a?token=abc", request=[("Origin", PAGE), ("Cookie", "sid=s3cret")])
    x = blocked("x1", f"{API}/a?token=abc", actual=sent, credentials="include")
    report = audit_to_dict(Audit(["c.har"], 1, [x]), redact=redact)

    story = build_story(report["exchanges"][0], x, redact=redact)
    lines = [line for e in story.events for line in [e.title, *e.lines]]

    assert f"Cookie: {shown}" in lines
    assert any(("token=abc" in line) != redact for line in lines if line.startswith("GET "))


# ---- advice ----


@pytest.mark.parametrize("error", sorted(DETAILS))
def test_every_cors_error_has_its_own_fix(error: str) -> None:
    advice = advice_for(error, PAGE)

    assert advice.fix != advice_for("NoSuchError").fix
    assert "{origin}" not in advice.fix


def test_header_pairs_put_the_failing_pair_side_by_side() -> None:
    rows = header_pairs(
        [("Origin", PAGE), ("Access-Control-Request-Method", "PUT")],
        [("Access-Control-Allow-Methods", "GET"), ("Access-Control-Allow-Methods", "POST")],
        credentials="omit",
        request_line="OPTIONS /p",
        status="204",
        failing="method",
    )

    assert [(r["key"], r["request"], r["response"], r["failing"]) for r in rows] == [
        ("status", "OPTIONS /p", "204", False),
        ("origin", PAGE, "(absent)", False),
        ("method", "PUT", "GET, POST", True),
    ]


# ---- pictures and escaping ----

SVG_TAGS = {"svg", "line", "rect", "text", "title", "polygon"}


class SvgTags(HTMLParser):
    """Every tag inside an <svg> element."""

    def __init__(self) -> None:
        super().__init__()
        self.depth = 0
        self.inside: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "svg" or self.depth:
            self.inside.append((tag, dict(attrs)))
        if tag == "svg":
            self.depth += 1

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if self.depth:
            self.inside.append((tag, dict(attrs)))

    def handle_endtag(self, tag: str) -> None:
        if tag == "svg":
            self.depth -= 1


def test_svg_pictures_hold_only_our_shapes_whatever_the_capture_says() -> None:
    evil = '"><script>alert(1)</script><foreignObject><img src=x onerror=alert(2)>'
    sent = message(f"{API}/{evil}", request=[("Origin", evil), (evil, evil)], response=[(evil, evil)])
    x = blocked("x1", f"{API}/{evil}", origin=evil, actual=sent, initiator=evil)
    audit = Audit([evil], 1, [x])

    parser = SvgTags()
    parser.feed(render_html(audit_to_dict(audit), audit=audit))

    assert {tag for tag, _ in parser.inside} <= SVG_TAGS
    assert any(tag == "svg" and "seq" in (attrs.get("class") or "") for tag, attrs in parser.inside)
    assert not [
        name for _, attrs in parser.inside for name in attrs if name.startswith("on") or "href" in name
    ]


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("a\u202eb", "a\\u202eb"),
        ("x\u0000y\u0007", "x\\u0000y\\u0007"),
        ("zero\u200bwidth\ufeff", "zero\\u200bwidth\\ufeff"),
        ("\u2066isolate\u2069", "\\u2066isolate\\u2069"),
        ("tab\tand\nnewline stay", "tab\tand\nnewline stay"),
        ("ünïcödé ✓", "ünïcödé ✓"),
    ],
)
def test_invisible_and_reordering_characters_are_shown(text: str, shown: str) -> None:
    assert visible(text) == shown


@pytest.mark.parametrize(
    ("step", "count", "bar"),
    [
        pytest.param(0.5, 40, "One bar per 1 s", id="seconds"),
        pytest.param(3600, 72, "One bar per 1 h", id="three-days"),
        pytest.param(86400 * 5, 80, "One bar per 5 days", id="over-a-year"),
    ],
)
def test_timeline_chart_keeps_any_span_to_a_readable_number_of_bars(step: float, count: int, bar: str) -> None:
    frames = frames_of(*[exchange(f"x{n}", f"{API}/a", at=T0 + n * step) for n in range(1, count + 1)])

    drawing, caption = timeline_chart(frames.exchanges)

    assert drawing is not None
    bars = {s.x for s in drawing.shapes if s.kind == "rect" and "seg" in s.cls and s.title}
    assert 0 < len(bars) <= MAX_BINS
    assert caption.startswith(bar)


def test_exchanges_without_a_time_stay_off_the_timeline() -> None:
    frames = frames_of(exchange("x1", f"{API}/a", at=0.0), exchange("x2", f"{API}/a", at=T0))

    assert frames.timeline["requests"].tolist() == [1]


@pytest.mark.parametrize(
    ("summary", "sentence"),
    [
        (
            {"exchanges": 10, "not_cors": 2, "blocked": 3, "findings": {"critical": 1, "high": 0, "low": 2}},
            "The browser blocked 3 of 8 cross-origin requests (2 distinct problems); "
            "3 risky configurations found: 1 critical, 2 low.",
        ),
        (
            {"exchanges": 4, "not_cors": 4, "blocked": 0, "findings": {"critical": 0}},
            "None of the 4 requests was cross-origin; no risky CORS configuration observed.",
        ),
        ({"exchanges": 0, "not_cors": 0, "blocked": 0, "findings": {}}, "The input holds no requests."),
    ],
)
def test_headline_says_what_broke_and_what_is_risky(summary: dict[str, object], sentence: str) -> None:
    counts = {"critical": 0, "high": 0, "medium": 0, "low": 0, "info": 0}
    counts.update(summary["findings"])  # type: ignore[arg-type]

    assert headline({**summary, "findings": counts}, 2) == sentence


def test_exchange_columns_split_preflight_and_source_and_keep_record_order() -> None:
    from cors_audit.report.json_out import exchange_columns

    base = {
        "id": "x1", "url": "u1", "final_url": "u1", "method": "GET", "origin": None, "credentials": "omit",
        "initiator": None, "preflight": None, "verdict": "not-cors", "blocked_at": None, "error": None,
        "message": None, "failed_parameter": None, "assumptions": [], "alternative": None, "findings": [],
        "source": {"file": "a.har", "entries": [0]},
    }
    second = {
        **base, "id": "x2", "verdict": "blocked", "findings": ["wildcard-with-credentials"],
        "preflight": {"status": 204, "cached": False, "observed": True}, "source": {"file": "b.har", "entries": [3, 4]},
    }
    columns = exchange_columns([base, second])
    assert columns["id"] == ["x1", "x2"]
    assert columns["verdict"] == ["not-cors", "blocked"]
    assert columns["findings"] == [[], ["wildcard-with-credentials"]]
    assert (columns["preflight_status"], columns["preflight_cached"], columns["preflight_observed"]) == (
        [None, 204], [None, False], [None, True]
    )
    assert (columns["source_file"], columns["source_entries"]) == (["a.har", "b.har"], [[0], [3, 4]])
    assert "preflight" not in columns and "source" not in columns
    assert exchange_columns([]) == {key: [] for key in columns}


def test_no_usable_template_cache_folder_means_no_cache(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse() -> None:
        raise RuntimeError("Cannot determine safe temp directory.")

    assert html_module._bytecode_cache() is not None  # a temp folder of our own is usable here
    monkeypatch.setattr(html_module.jinja2, "FileSystemBytecodeCache", refuse)
    assert html_module._bytecode_cache() is None
