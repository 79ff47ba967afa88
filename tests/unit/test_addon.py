"""The mitmproxy addon: options, live verdicts, marking, expiry, capture, the report at exit, and the
promise never to touch a flow when analysis fails. Flows are mitmproxy's own test flows (conftest)."""

from __future__ import annotations

import json
import logging
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from mitmproxy import exceptions
from mitmproxy.log import ALERT

from cors_audit import addon as addon_module
from cors_audit.addon import BLOCKED_MARKER, RISKY_MARKER, CorsAudit, is_cors_relevant
from cors_audit.model import Message
from cors_audit.sources.mitm import flow_to_message

REPO = Path(__file__).resolve().parents[2]
APP = "http://app.test"
API = "http://api.test"
CORS_GET = [("Origin", APP), ("Sec-Fetch-Mode", "cors"), ("Sec-Fetch-Site", "cross-site")]
PREFLIGHT_PUT = [*CORS_GET, ("Access-Control-Request-Method", "PUT")]
BLOCKED_BY = "has been blocked by CORS policy: "


def alerts(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno == ALERT]


# ---- options ----


@pytest.mark.parametrize(
    ("option", "value", "problem"),
    [
        ("scope", "~d", "invalid filter expression"),
        ("scope", "~zz api", "invalid filter expression"),
        ("scope", "api[", "invalid host pattern"),
        ("trusted_origins", ["https://app.example/path"], "is not an origin"),
        ("trusted_origins", ["app.example"], "is not an origin"),
        ("trusted_origins", ["https://ok.example, ftp:/nope"], "is not an origin"),
        ("formats", ["pdf"], "unknown format 'pdf'"),
        ("formats", [], "name at least one of"),
    ],
)
def test_bad_option_values_are_refused(addon_factory: Any, option: str, value: Any, problem: str) -> None:
    from mitmproxy import ctx

    addon = addon_factory()
    with pytest.raises(exceptions.OptionsError, match=problem):
        ctx.master.options.update(**{f"cors_audit_{option}": value})
    assert addon.formats == ("json", "html")  # the rejected change was rolled back


def test_an_output_folder_that_cannot_be_created_is_refused(addon_factory: Any, tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    with pytest.raises(exceptions.OptionsError, match="cors_audit_dir"):
        addon_factory(dir=str(blocker / "reports"))


def test_no_formats_is_fine_when_no_report_is_wanted(addon_factory: Any) -> None:
    addon = addon_factory(report=False, formats=[])
    assert addon.formats == ()


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        (["https://App.Example:443"], ("https://app.example",)),
        (["http://a.example:8080,https://b.example"], ("http://a.example:8080", "https://b.example")),
        (["https://a.example", "https://a.example/"], ("https://a.example",)),
        (["null"], ("null",)),
    ],
)
def test_trusted_origins_are_normalized(
    addon_factory: Any, values: list[str], expected: tuple[str, ...]
) -> None:
    assert addon_factory(trusted_origins=values).trusted_origins == expected


def test_formats_accept_comma_lists(addon_factory: Any) -> None:
    assert addon_factory(formats=["JSON,sarif", "csv"]).formats == ("json", "sarif", "csv")


# ---- which flows are analyzed ----


@pytest.mark.parametrize(
    ("request_headers", "status", "response_headers", "relevant"),
    [
        ([("Origin", APP)], 200, [], True),
        ([("ORIGIN", APP)], 200, [], True),
        ([("Sec-Fetch-Mode", "no-cors")], 200, [], True),
        ([("access-control-request-method", "PUT")], 200, [], True),
        ([("User-Agent", "curl/8")], 200, [("Access-Control-Allow-Origin", "*")], True),
        ([("User-Agent", "curl/8")], 200, [("ACCESS-CONTROL-EXPOSE-HEADERS", "x")], True),
        ([("User-Agent", "curl/8")], 302, [("Location", "/elsewhere")], True),
        ([("User-Agent", "curl/8")], 308, [("location", "https://b.test/")], True),
        ([("User-Agent", "curl/8")], 302, [], False),
        ([("User-Agent", "curl/8")], 302, [("Location", " \t")], False),
        ([("User-Agent", "curl/8")], 200, [("Location", "/elsewhere")], False),
        ([("Origin-Agent-Cluster", "?1")], 200, [("Access-Control", "x")], False),
        ([("User-Agent", "curl/8")], 200, [("Content-Type", "text/html")], False),
        ([("User-Agent", "curl/8")], None, [], False),
    ],
    ids=[
        "origin", "origin-upper", "sec-fetch", "preflight-header", "acao-response", "expose-upper",
        "redirect", "redirect-308", "3xx-without-location", "3xx-blank-location", "location-not-3xx",
        "look-alike-names", "plain", "no-response",
    ],
)
def test_cors_relevance_is_read_from_the_raw_flow(
    make_flow: Any,
    request_headers: list[tuple[str, str]],
    status: int | None,
    response_headers: list[tuple[str, str]],
    relevant: bool,
) -> None:
    flow = make_flow("GET", f"{API}/x", request_headers, status, response_headers)
    assert is_cors_relevant(flow) is relevant
    # the message the addon would build says the same of the redirect (pairing follows its Location)
    assert (flow_to_message(flow, "t", 1).redirect_url is not None) is (relevant and status in (302, 308))


@pytest.mark.parametrize(
    ("scope", "seen"),
    [
        ("", {"api.test", "cdn.test"}),
        (r"^api\.test$", {"api.test"}),
        ("~d cdn.test", {"cdn.test"}),
        ("~m OPTIONS", set()),
    ],
)
def test_scope_selects_flows(addon_factory: Any, make_flow: Any, scope: str, seen: set[str]) -> None:
    addon = addon_factory(scope=scope)
    for host in ("api.test", "cdn.test"):
        addon.response(
            make_flow("GET", f"http://{host}/x", CORS_GET, 200, [("Access-Control-Allow-Origin", APP)])
        )
    assert addon.stats["messages"] == len(seen)
    captured = _capture_lines(addon)[1:]
    assert {json.loads(line)["url"].split("/")[2] for line in captured} == seen


# ---- live verdicts and marks ----


def test_blocked_request_is_alerted_in_chromium_wording_and_marked(
    addon_factory: Any, make_flow: Any, caplog: pytest.LogCaptureFixture
) -> None:
    addon = addon_factory()
    flow = make_flow("GET", f"{API}/data", CORS_GET, 200, [("Content-Type", "application/json")])
    with caplog.at_level(logging.INFO):
        addon.response(flow)
    [line] = alerts(caplog)
    assert line.startswith(f"Access to fetch at '{API}/data' from origin '{APP}' {BLOCKED_BY}")
    assert line.endswith("No 'Access-Control-Allow-Origin' header is present on the requested resource.")
    assert flow.marked == BLOCKED_MARKER
    assert "MissingAllowOriginHeader" in flow.comment and line in flow.comment
    assert addon.errors["MissingAllowOriginHeader"] == 1
    assert (addon.stats["blocked"], addon.stats["allowed"]) == (1, 0)


def test_allowed_request_is_neither_alerted_nor_marked(
    addon_factory: Any, make_flow: Any, caplog: pytest.LogCaptureFixture
) -> None:
    addon = addon_factory()
    flow = make_flow("GET", f"{API}/data", CORS_GET, 200, [("Access-Control-Allow-Origin", APP)])
    with caplog.at_level(logging.INFO):
        addon.response(flow)
    assert alerts(caplog) == []
    assert (flow.marked, flow.comment) == ("", "")
    assert addon.stats["allowed"] == 1


def test_failed_preflight_marks_the_preflight_at_once(
    addon_factory: Any, make_flow: Any, caplog: pytest.LogCaptureFixture
) -> None:
    addon = addon_factory()
    preflight = make_flow("OPTIONS", f"{API}/item", PREFLIGHT_PUT, 204, [])
    with caplog.at_level(logging.INFO):
        addon.response(preflight)
    [line] = alerts(caplog)
    assert line.startswith(f"Access to fetch at '{API}/item' from origin '{APP}' {BLOCKED_BY}")
    assert (
        "Response to preflight request doesn't pass access control check: No 'Access-Control-Allow-Origin'"
        in line
    )
    assert preflight.marked == BLOCKED_MARKER
    assert addon.errors["PreflightMissingAllowOriginHeader"] == 1
    assert addon.judge.pending == 0


def test_preflight_and_request_become_one_allowed_exchange(addon_factory: Any, make_flow: Any) -> None:
    addon = addon_factory()
    allow = [("Access-Control-Allow-Origin", APP), ("Access-Control-Allow-Methods", "PUT")]
    addon.response(make_flow("OPTIONS", f"{API}/item", PREFLIGHT_PUT, 204, allow))
    assert addon.stats["exchanges"] == 0  # waiting for the request it guards
    actual = make_flow(
        "PUT", f"{API}/item", CORS_GET, 200, [("Access-Control-Allow-Origin", APP)], started=1_700_000_000.1
    )
    addon.response(actual)
    assert (addon.stats["exchanges"], addon.stats["allowed"], addon.judge.pending) == (1, 1, 0)


def test_risky_response_is_marked_with_its_rule(addon_factory: Any, make_flow: Any) -> None:
    addon = addon_factory()
    flow = make_flow(
        "GET",
        f"{API}/me",
        [*CORS_GET, ("Cookie", "sid=1")],
        200,
        [
            ("Access-Control-Allow-Origin", APP),
            ("Access-Control-Allow-Credentials", "true"),
            ("Access-Control-Max-Age", "86400"),
        ],
    )
    origin_null = make_flow(
        "GET",
        f"{API}/null",
        [("Origin", "null"), ("Sec-Fetch-Mode", "cors"), ("Cookie", "sid=1")],
        200,
        [("Access-Control-Allow-Origin", "null"), ("Access-Control-Allow-Credentials", "true")],
    )
    addon.response(flow)
    addon.response(origin_null)
    assert origin_null.marked == RISKY_MARKER
    assert "null-origin-trusted" in origin_null.comment
    assert addon.risks["null-origin-trusted"] == 1
    assert addon.stats["allowed"] == 2


def test_risk_memo_tells_different_responses_apart(addon_factory: Any, make_flow: Any) -> None:
    """Same endpoint, same shape: one rules run; a different ACAC: a different answer."""
    addon = addon_factory()
    null_request = [("Origin", "null"), ("Sec-Fetch-Mode", "cors"), ("Cookie", "sid=1")]
    plain = [("Access-Control-Allow-Origin", "null")]
    credentialed = [*plain, ("Access-Control-Allow-Credentials", "true")]
    flows = [
        make_flow("GET", f"{API}/n?page=1", null_request, 200, plain),
        make_flow("GET", f"{API}/n?page=2", null_request, 200, plain),
        make_flow("GET", f"{API}/n?page=3", null_request, 200, credentialed),
    ]
    for flow in flows:
        addon.response(flow)
    assert len(addon._risk_memo) == 2
    severities = [re.search(r"null-origin-trusted \((\w+)\)", f.comment).group(1) for f in flows]  # type: ignore[union-attr]
    assert severities[0] == severities[1] != severities[2]


def test_only_earlier_flows_need_an_update_event(
    addon_factory: Any, make_flow: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The flow in its own hook is seen by the view afterwards; a flow marked later must be announced."""
    from mitmproxy import ctx, hooks

    addon = addon_factory()
    announced: list[list[str]] = []
    real_trigger = ctx.master.addons.trigger

    def trigger(event: Any) -> None:
        if isinstance(event, hooks.UpdateHook):
            announced.append([f.request.path for f in event.flows])
        real_trigger(event)

    monkeypatch.setattr(ctx.master.addons, "trigger", trigger)
    addon.response(make_flow("GET", f"{API}/now", CORS_GET, 200, []))
    assert announced == []
    allow_star = [("Access-Control-Allow-Origin", "*"), ("Access-Control-Allow-Methods", "PUT")]
    preflight = make_flow("OPTIONS", f"{API}/later", PREFLIGHT_PUT, 204, allow_star)  # kept, as a UI would
    addon.response(preflight)
    later = addon_module.time.monotonic() + 3600
    monkeypatch.setattr(addon_module.time, "monotonic", lambda: later)
    addon.expire_pending()
    assert announced == [["/later"]]


def test_marking_can_be_switched_off(
    addon_factory: Any, make_flow: Any, caplog: pytest.LogCaptureFixture
) -> None:
    addon = addon_factory(mark=False)
    flow = make_flow("GET", f"{API}/data", CORS_GET, 200, [])
    with caplog.at_level(logging.INFO):
        addon.response(flow)
    assert len(alerts(caplog)) == 1  # still told, but the flow is not touched
    assert (flow.marked, flow.comment) == ("", "")


def test_the_users_own_comment_is_kept(addon_factory: Any, make_flow: Any) -> None:
    addon = addon_factory()
    flow = make_flow("GET", f"{API}/data", CORS_GET, 200, [])
    flow.comment = "checked by QA"
    addon.response(flow)
    assert flow.comment.startswith("checked by QA\nCORS blocked (MissingAllowOriginHeader)")


def test_failed_request_without_response_is_judged(addon_factory: Any, make_flow: Any) -> None:
    addon = addon_factory()
    addon.error(make_flow("GET", f"{API}/down", CORS_GET, None, error="Connection refused"))
    assert addon.stats["messages"] == 1
    assert addon.stats["exchanges"] == 1
    # mitmproxy answered the browser with its own 502, which has no CORS headers (observed in Chromium)
    assert addon.stats["blocked"] == 1 and addon.errors["MissingAllowOriginHeader"] == 1


def test_error_after_a_response_is_not_counted_twice(addon_factory: Any, make_flow: Any) -> None:
    addon = addon_factory()
    flow = make_flow("GET", f"{API}/data", CORS_GET, 200, [("Access-Control-Allow-Origin", APP)])
    addon.response(flow)
    addon.error(flow)
    assert addon.stats["messages"] == 1


# ---- expiry: bounded memory and late verdicts ----


def test_pending_preflight_expires_on_the_running_clock(
    addon_factory: Any, make_flow: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    addon = addon_factory()
    # passes without credentials, fails with them: only the (absent) request could tell
    preflight = make_flow(
        "OPTIONS",
        f"{API}/item",
        PREFLIGHT_PUT,
        204,
        [("Access-Control-Allow-Origin", "*"), ("Access-Control-Allow-Methods", "PUT")],
    )
    addon.response(preflight)
    assert addon.judge.pending == 1
    addon.expire_pending()
    assert addon.judge.pending == 1  # no time has passed
    later = addon_module.time.monotonic() + 3600
    monkeypatch.setattr(addon_module.time, "monotonic", lambda: later)
    addon.expire_pending()
    assert addon.judge.pending == 0
    assert addon.stats["exchanges"] == 1
    assert preflight.marked == (BLOCKED_MARKER if addon.stats["blocked"] else "")
    # no request ever came after a preflight that only credentials fail: the browser blocked it
    assert addon.stats["blocked"] == 1 and addon.errors["PreflightWildcardOriginNotAllowed"] == 1
    assert preflight.marked == BLOCKED_MARKER


def test_later_flows_expire_old_pending_preflights(addon_factory: Any, make_flow: Any) -> None:
    addon = addon_factory()
    allow = [("Access-Control-Allow-Origin", "*"), ("Access-Control-Allow-Methods", "PUT")]
    for n in range(50):
        addon.response(
            make_flow("OPTIONS", f"{API}/item/{n}", PREFLIGHT_PUT, 204, allow, started=1_700_000_000.0 + n)
        )
    assert 0 < addon.judge.pending < 50  # the oldest have already expired
    assert addon.stats["exchanges"] + addon.judge.pending == 50
    assert len(addon._awaited) == addon.judge.pending  # nothing kept for concluded exchanges


# ---- never harm the traffic ----


class ExplodingJudge:
    def __init__(self) -> None:
        self.pending = 0

    def feed(self, message: Message) -> list[Any]:
        raise RuntimeError("judge bug")

    def expire(self, now: float) -> list[Any]:
        return []

    def flush(self) -> list[Any]:
        return []


def test_an_exception_in_analysis_leaves_the_flow_untouched(
    addon_factory: Any, make_flow: Any, caplog: pytest.LogCaptureFixture
) -> None:
    addon = addon_factory(judge_factory=ExplodingJudge)
    flows = [make_flow("GET", f"{API}/a", CORS_GET, 200, []), make_flow("GET", f"{API}/b", CORS_GET, 200, [])]
    before = [f.get_state() for f in flows]
    with caplog.at_level(logging.INFO):
        for flow in flows:
            addon.response(flow)
    assert [f.get_state() for f in flows] == before
    errors = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert [f"{API}/a" in r.getMessage() for r in errors] == [True, False]
    assert [f"{API}/b" in r.getMessage() for r in errors] == [False, True]
    assert [r.exc_info is not None for r in errors] == [True, False]  # one traceback per kind of failure
    assert addon.stats["analysis_errors"] == 2
    assert len(_capture_lines(addon)) == 3  # the capture still has both messages


def test_an_exception_in_the_risk_rules_leaves_the_flow_untouched(
    addon_factory: Any, make_flow: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    addon = addon_factory()

    def broken(*args: Any) -> list[str]:
        raise ValueError("rule bug")

    monkeypatch.setattr(addon_module.rules, "live_evaluate", broken)
    flow = make_flow("GET", f"{API}/data", CORS_GET, 200, [])
    before = flow.get_state()
    addon.response(flow)
    assert flow.get_state() == before
    assert addon.stats["analysis_errors"] == 1


class FullDisk:
    def write(self, data: bytes) -> int:
        raise OSError(28, "No space left on device")

    def flush(self) -> None: ...

    def close(self) -> None: ...


def test_an_unwritable_capture_is_reported_and_traffic_goes_on(
    addon_factory: Any, make_flow: Any, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    addon = addon_factory()
    addon.response(make_flow("GET", f"{API}/a", CORS_GET, 200, []))
    addon.capture._file = FullDisk()
    with caplog.at_level(logging.INFO):
        addon.response(make_flow("GET", f"{API}/b", CORS_GET, 200, []))
        addon.response(make_flow("GET", f"{API}/c", CORS_GET, 200, []))
    problems = [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR]
    assert len(problems) == 1 and "capture stopped" in problems[0]
    assert addon.stats["blocked"] == 3  # live verdicts continue


# ---- capture and report ----


def _capture_lines(addon: CorsAudit) -> list[bytes]:
    if addon.capture is None:
        return []
    return addon.capture.path.read_bytes().splitlines()


def test_capture_is_on_disk_as_each_flow_completes(addon_factory: Any, make_flow: Any) -> None:
    addon = addon_factory()
    for n in range(3):
        addon.response(make_flow("GET", f"{API}/{n}", [*CORS_GET, ("Cookie", "sid=secret-value")], 200, []))
        lines = _capture_lines(addon)  # read by another handle while the capture is open
        assert len(lines) == n + 2  # the header line, then one per message
    assert json.loads(lines[0])["cors_audit_capture"] == 1
    assert b"secret-value" not in b"".join(lines)


def test_capture_keeps_secrets_when_redaction_is_off(addon_factory: Any, make_flow: Any) -> None:
    addon = addon_factory(redact=False)
    addon.response(make_flow("GET", f"{API}/0", [*CORS_GET, ("Cookie", "sid=secret-value")], 200, []))
    assert b"secret-value" in b"".join(_capture_lines(addon))


def test_done_writes_the_report_from_the_capture(
    addon_factory: Any, make_flow: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    addon = addon_factory()
    addon.response(make_flow("GET", f"{API}/blocked", CORS_GET, 200, []))
    addon.response(make_flow("GET", f"{API}/ok", CORS_GET, 200, [("Access-Control-Allow-Origin", APP)]))
    capture = addon.capture.path
    addon.done()
    report = json.loads(capture.with_suffix(".json").read_text())
    verdicts = {x["url"]: (x["verdict"], x["error"]) for x in report["exchanges"]}
    assert verdicts == {
        f"{API}/blocked": ("blocked", "MissingAllowOriginHeader"),
        f"{API}/ok": ("allowed", None),
    }
    assert capture.with_suffix(".html").is_file()
    assert sorted(p.name for p in capture.parent.iterdir()) == sorted(
        capture.with_suffix(s).name for s in (".jsonl", ".json", ".html")
    )  # no temporary files left behind
    err = capsys.readouterr().err
    assert "1 allowed, 1 blocked" in err and str(capture.with_suffix(".json")) in err


def test_done_without_report(addon_factory: Any, make_flow: Any, capsys: pytest.CaptureFixture[str]) -> None:
    addon = addon_factory(report=False)
    addon.response(make_flow("GET", f"{API}/blocked", CORS_GET, 200, []))
    addon.done()
    assert [p.suffix for p in addon.captures[0].parent.iterdir()] == [".jsonl"]


def test_done_reports_pending_requests_on_stderr(
    addon_factory: Any, make_flow: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    addon = addon_factory(report=False)
    allow = [("Access-Control-Allow-Origin", "*"), ("Access-Control-Allow-Methods", "PUT")]
    addon.response(make_flow("OPTIONS", f"{API}/item", PREFLIGHT_PUT, 204, allow))
    addon.done()
    assert addon.judge.pending == 0
    assert addon.stats["exchanges"] == 1
    assert "1 exchanges" in capsys.readouterr().err


def test_changing_the_folder_starts_a_new_capture(addon_factory: Any, make_flow: Any, tmp_path: Path) -> None:
    from mitmproxy import ctx

    addon = addon_factory(report=False)
    addon.response(make_flow("GET", f"{API}/a", CORS_GET, 200, []))
    ctx.master.options.update(cors_audit_dir=str(tmp_path / "elsewhere"))
    addon.response(make_flow("GET", f"{API}/b", CORS_GET, 200, []))
    assert [p.parent.name for p in addon.captures] == ["reports", "elsewhere"]


# ---- loading the script exactly as `mitmdump -s` does ----


SCRIPT_LOAD = """
import sys
from mitmproxy.test import taddons
with taddons.context() as tctx:
    module = tctx.script(sys.argv[1])
    assert module is not None, "the script did not load"
    addon = module.addons[0]
    print(type(addon).__module__, type(addon).__name__)
    print(sys.modules["cors_audit"].__file__)
    print("pandas" in sys.modules)
"""


@pytest.mark.parametrize("cwd", [REPO, REPO / "addons"], ids=["from-repo", "from-addons-folder"])
def test_script_loads_as_mitmdump_loads_it(cwd: Path) -> None:
    """In a fresh interpreter (nothing imported yet), through mitmproxy's own script loader."""
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT_LOAD, str(REPO / "addons" / "cors_audit.py")],
        check=False,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "PYTHONPATH": ""},
    )
    assert result.returncode == 0, result.stderr
    module, package_file, pandas_loaded = result.stdout.splitlines()[-3:]
    assert module == "cors_audit.addon CorsAudit"
    assert Path(package_file) == REPO / "cors_audit" / "__init__.py"
    assert pandas_loaded == "False"  # the report stage is imported only at exit


def test_every_hook_name_is_answered_without_an_attribute_error(
    addon_factory: Any, make_flow: Any, mitm_context: Any
) -> None:
    """mitmproxy looks each hook up by name on every addon for every event; a name the addon lacks
    would cost an AttributeError every time. The hooks it implements must still be dispatched."""
    from mitmproxy import hooks
    from mitmproxy.proxy.layers.http import HttpRequestHeadersHook, HttpResponseHook

    addon = addon_factory()
    for name in hooks.all_hooks:
        try:
            value = getattr(addon, name)  # no default: a missing name raises
        except AttributeError:
            pytest.fail(f"hook {name!r} is looked up with an AttributeError")
        assert value is None or callable(value)
    assert addon.addons == ()
    flow = make_flow("GET", f"{API}/data", CORS_GET, 200, [])
    mitm_context.master.addons.trigger(HttpRequestHeadersHook(flow))
    mitm_context.master.addons.trigger(HttpResponseHook(flow))
    assert flow.marked == BLOCKED_MARKER
    assert addon.stats["exchanges"] == 1


def test_a_short_write_still_puts_the_whole_line_in_the_capture(tmp_path: Path) -> None:
    """The capture is unbuffered: a raw write may take only part of a line, and the rest must follow."""

    class Trickle:
        def __init__(self) -> None:
            self.data = bytearray()

        def write(self, chunk: bytes | memoryview) -> int:
            taken = bytes(chunk[:3])
            self.data += taken
            return len(taken)

    sink = Trickle()
    capture_file = addon_module.CaptureFile(tmp_path / "c.jsonl", sink)  # type: ignore[arg-type]
    capture_file.append(b'{"method":"GET"}\n')
    capture_file.append(b"{}\n")
    assert bytes(sink.data) == b'{"method":"GET"}\n{}\n'
