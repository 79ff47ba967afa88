"""`cors-audit report` run in-process: exit statuses, stderr lines, outputs and their locations."""

from __future__ import annotations

import io
import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import jsonschema
import pytest

import cors_audit
from cors_audit import audit as audit_module
from cors_audit import cli
from cors_audit.cli import ExitStatus, main
from cors_audit.model import Finding, Severity

PAGE = "https://app.example"
API = "https://api.example"
PUBLISHED_SCHEMA = json.loads((Path(__file__).parents[1] / "fixtures" / "report-schema-1.json").read_text())
ONE_ERROR_LINE = re.compile(r"\Acors-audit: error: [^\n]+\n\Z")


def har_entry(
    method: str,
    url: str,
    status: int = 200,
    request: list[tuple[str, str]] | None = None,
    response: list[tuple[str, str]] | None = None,
    second: int = 0,
) -> dict[str, Any]:
    return {
        "startedDateTime": f"2024-05-01T10:00:{second:02d}.000Z",
        "time": 1,
        "request": {
            "method": method,
            "url": url,
            "httpVersion": "HTTP/1.1",
            "cookies": [],
            "queryString": [],
            "headers": [{"name": n, "value": v} for n, v in (request or [])],
            "headersSize": -1,
            "bodySize": 0,
        },
        "response": {
            "status": status,
            "statusText": "",
            "httpVersion": "HTTP/1.1",
            "cookies": [],
            "headers": [{"name": n, "value": v} for n, v in (response or [])],
            "redirectURL": "",
            "content": {"size": 0, "mimeType": "application/json"},
            "headersSize": -1,
            "bodySize": 0,
        },
        "cache": {},
        "timings": {"send": 0, "wait": 1, "receive": 0},
    }


def write_har(path: Path, entries: list[dict[str, Any]]) -> Path:
    path.write_text(
        json.dumps(
            {"log": {"version": "1.2", "creator": {"name": "test", "version": "1"}, "entries": entries}}
        )
    )
    return path


def cors_get(path: str, second: int, **extra: str) -> dict[str, Any]:
    """A simple cross-origin GET the server allows (no preflight needed)."""
    return har_entry(
        "GET",
        f"{API}{path}",
        200,
        [("Origin", PAGE), ("Sec-Fetch-Mode", "cors"), *extra.items()],
        [("Access-Control-Allow-Origin", PAGE), ("Content-Type", "application/json")],
        second,
    )


@pytest.fixture
def capture(tmp_path: Path) -> Path:
    """Given a HAR with two allowed cross-origin GETs (one with a token in its URL)."""
    return write_har(
        tmp_path / "capture.har", [cors_get("/users/1?token=s3cret", 0), cors_get("/users/2", 1)]
    )


@pytest.fixture
def not_a_har(tmp_path: Path) -> Path:
    path = tmp_path / "image.har"
    path.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
    return path


@pytest.fixture(autouse=True)
def _in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Run every command in a fresh folder, so default outputs land there."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("COLUMNS", "120")


def run(*argv: str | Path) -> int:
    return main([str(a) for a in argv])


def with_findings(monkeypatch: pytest.MonkeyPatch, severities: list[Severity]) -> None:
    """Make the analysis report one finding per severity, whatever the rules decide."""
    real = audit_module.analyze

    def analyze(*args: Any, **kwargs: Any) -> Any:
        result = real(*args, **kwargs)
        result.findings = [
            Finding(f"rule-{i}", s, f"title {i}", f"{API}/*", count=1) for i, s in enumerate(severities)
        ]
        return result

    monkeypatch.setattr(audit_module, "analyze", analyze)


# ---- 0: success, outputs ----


def test_report_writes_json_that_matches_the_schema(capture: Path, tmp_path: Path, capsys) -> None:
    status = run("report", capture, "--json", tmp_path / "out.json", "--quiet")

    report = json.loads((tmp_path / "out.json").read_text())
    assert status == ExitStatus.SUCCESS
    jsonschema.validate(report, PUBLISHED_SCHEMA)
    assert report["inputs"] == [str(capture)]
    assert report["tool"]["version"] == cors_audit.__version__
    assert report["summary"]["messages"] == 2
    assert [(x["method"], x["origin"], x["source"]) for x in report["exchanges"]] == [
        ("GET", PAGE, {"file": str(capture), "entries": [0]}),
        ("GET", PAGE, {"file": str(capture), "entries": [1]}),
    ]
    assert capsys.readouterr().err == ""  # quiet: nothing but problems on stderr


@pytest.mark.parametrize(
    ("flags", "shown", "hidden"),
    [
        pytest.param([], "token=[redacted]", "s3cret", id="redacted-by-default"),
        pytest.param(["--no-redact"], "token=s3cret", "[redacted]", id="no-redact"),
    ],
)
def test_report_redacts_secrets_unless_told(capture: Path, flags: list[str], shown: str, hidden: str) -> None:
    run("report", capture, "--json", "out.json", "--quiet", *flags)

    first = json.loads(Path("out.json").read_text())["exchanges"][0]
    assert shown in first["url"] and hidden not in first["url"]


def test_report_without_output_options_writes_html_and_json_under_reports(capture: Path, capsys) -> None:
    status = run("report", capture)

    err = capsys.readouterr().err
    html, data = Path("reports/capture.html"), Path("reports/capture.json")
    assert status == ExitStatus.SUCCESS
    assert html.read_text().startswith("<!DOCTYPE html>")
    assert json.loads(data.read_text())["schema"] == 1
    assert f"cors-audit: wrote {html}" in err.splitlines()
    assert f"cors-audit: wrote {data}" in err.splitlines()


def test_report_writes_only_the_formats_asked_for(capture: Path) -> None:
    status = run("report", capture, "-o", "page.html", "--csv", "rows", "--quiet")

    assert status == ExitStatus.SUCCESS
    assert sorted(p.name for p in Path().iterdir()) == ["capture.har", "page.html", "rows"]
    assert "exchanges.csv" in {p.name for p in Path("rows").iterdir()}
    rows = Path("rows/exchanges.csv").read_text().strip().splitlines()
    assert rows[0].startswith("id,method,url,") and len(rows) == 3


def test_report_sarif(capture: Path) -> None:
    status = run("report", capture, "--sarif", "out.sarif", "--quiet")

    assert status == ExitStatus.SUCCESS
    assert json.loads(Path("out.sarif").read_text())["version"] == "2.1.0"


def test_report_analyzes_several_inputs_as_one_audit(capture: Path, tmp_path: Path) -> None:
    second = write_har(tmp_path / "second.har", [cors_get("/orders/5", 5)])

    status = run("report", capture, second, "--json", "out.json", "--quiet")

    report = json.loads(Path("out.json").read_text())
    assert status == ExitStatus.SUCCESS
    assert report["inputs"] == [str(capture), str(second)]
    assert report["summary"]["messages"] == 3
    assert {x["source"]["file"] for x in report["exchanges"]} == {str(capture), str(second)}


def test_report_replaces_an_existing_report_atomically(capture: Path) -> None:
    Path("out.json").write_text("stale " * 10_000)

    run("report", capture, "--json", "out.json", "--quiet")

    assert json.loads(Path("out.json").read_text())["schema"] == 1
    assert not [p.name for p in Path().iterdir() if p.name.endswith(".tmp")]


def test_report_prints_the_summary_on_stdout_unless_quiet(capture: Path, capsys) -> None:
    run("report", capture, "--json", "out.json")
    loud = capsys.readouterr().out
    run("report", capture, "--json", "out.json", "--quiet")
    quiet = capsys.readouterr().out

    assert "2 messages, 2 requests" in loud and "\x1b[" not in loud
    assert quiet == ""


class ClosedPipe(io.StringIO):
    """stdout after the reader went away (`cors-audit report ... | head -1`)."""

    def write(self, text: str) -> int:
        raise BrokenPipeError(32, "Broken pipe")


def test_a_closed_stdout_pipe_does_not_change_the_exit_status(
    monkeypatch: pytest.MonkeyPatch, capture: Path
) -> None:
    monkeypatch.setattr(sys, "stdout", ClosedPipe())

    assert run("report", capture, "--json", "out.json") == ExitStatus.SUCCESS


FIXTURES = sorted((Path(__file__).parent.parent / "fixtures" / "har").glob("*.har"))


@pytest.mark.parametrize("fixture", FIXTURES, ids=[f.stem for f in FIXTURES])
def test_every_producer_fixture_gives_a_consistent_report(fixture: Path) -> None:
    entries = len(json.loads(fixture.read_text(encoding="utf-8-sig"))["log"]["entries"])

    status = run("report", fixture, "--json", "out.json", "-o", "out.html", "--quiet")

    report = json.loads(Path("out.json").read_text())
    summary = report["summary"]
    assert status == ExitStatus.SUCCESS
    jsonschema.validate(report, PUBLISHED_SCHEMA)
    assert summary["exchanges"] == len(report["exchanges"]) > 0
    assert summary["allowed"] + summary["blocked"] + summary["not_cors"] + summary["unknown"] == len(
        report["exchanges"]
    )
    assert sum(summary["findings"].values()) == len(report["findings"])
    for exchange in report["exchanges"]:
        assert exchange["source"]["file"] == str(fixture)
        assert all(0 <= i < entries for i in exchange["source"]["entries"])
        if exchange["verdict"] in ("allowed", "not-cors"):
            assert exchange["error"] is None and exchange["blocked_at"] is None
    assert Path("out.html").stat().st_size > 0


# ---- 1: --fail-on ----


@pytest.mark.parametrize(
    ("severities", "fail_on", "expected"),
    [
        pytest.param([], "info", ExitStatus.SUCCESS, id="no-findings"),
        pytest.param([Severity.CRITICAL], "never", ExitStatus.SUCCESS, id="never-is-the-default-policy"),
        pytest.param([Severity.MEDIUM], "medium", ExitStatus.FINDINGS, id="at-threshold"),
        pytest.param([Severity.LOW, Severity.HIGH], "medium", ExitStatus.FINDINGS, id="above-threshold"),
        pytest.param([Severity.LOW, Severity.INFO], "medium", ExitStatus.SUCCESS, id="below-threshold"),
        pytest.param([Severity.INFO], "info", ExitStatus.FINDINGS, id="info-counts-at-info"),
        pytest.param([Severity.HIGH], "critical", ExitStatus.SUCCESS, id="critical-only"),
    ],
)
def test_fail_on(
    monkeypatch: pytest.MonkeyPatch,
    capture: Path,
    severities: list[Severity],
    fail_on: str,
    expected: ExitStatus,
) -> None:
    with_findings(monkeypatch, severities)

    assert run("report", capture, "--json", "out.json", "--quiet", "--fail-on", fail_on) == expected
    assert len(json.loads(Path("out.json").read_text())["findings"]) == len(severities)


def test_fail_on_defaults_to_never(monkeypatch: pytest.MonkeyPatch, capture: Path) -> None:
    with_findings(monkeypatch, [Severity.CRITICAL])

    assert run("report", capture, "--json", "out.json", "--quiet") == ExitStatus.SUCCESS


# ---- 2: bad input ----


def test_not_a_capture_is_one_error_line_naming_the_file(not_a_har: Path, capsys) -> None:
    status = run("report", not_a_har)

    captured = capsys.readouterr()
    assert status == ExitStatus.ERROR
    assert ONE_ERROR_LINE.match(captured.err), captured.err
    assert captured.err.startswith(f"cors-audit: error: {not_a_har}: ")
    assert not Path("reports").exists()
    assert captured.out == ""


def test_missing_input_is_one_error_line(capsys) -> None:
    status = run("report", "nowhere.har")

    err = capsys.readouterr().err
    assert status == ExitStatus.ERROR
    assert ONE_ERROR_LINE.match(err) and err.startswith("cors-audit: error: nowhere.har: "), err


def test_a_bad_input_among_good_ones_is_reported_and_the_good_ones_analyzed(
    capture: Path, not_a_har: Path, capsys
) -> None:
    status = run("report", not_a_har, capture, "--json", "out.json", "--quiet")

    err = capsys.readouterr().err
    report = json.loads(Path("out.json").read_text())
    assert status == ExitStatus.ERROR
    assert [line for line in err.splitlines() if line.startswith("cors-audit: error: ")] == [
        line for line in err.splitlines() if str(not_a_har) in line and "error" in line
    ]
    assert len([line for line in err.splitlines() if line.startswith("cors-audit: error: ")]) == 1
    assert report["inputs"] == [str(capture)]
    assert report["summary"]["messages"] == 2


def test_bad_input_wins_over_findings(
    monkeypatch: pytest.MonkeyPatch, capture: Path, not_a_har: Path
) -> None:
    with_findings(monkeypatch, [Severity.CRITICAL])

    assert run("report", capture, not_a_har, "--quiet", "--fail-on", "low") == ExitStatus.ERROR


def test_a_damaged_entry_is_bad_input_yet_every_good_entry_is_analyzed(tmp_path: Path, capsys) -> None:
    entry_without_url = cors_get("/x", 2)
    del entry_without_url["request"]["url"]
    capture = write_har(tmp_path / "partial.har", [cors_get("/a", 0), entry_without_url, cors_get("/b", 3)])

    status = run("report", capture, "--json", "out.json", "--quiet")

    err = capsys.readouterr().err.splitlines()
    report = json.loads(Path("out.json").read_text())
    assert status == ExitStatus.ERROR
    assert err == [f"cors-audit: error: {capture}: entry 1: missing request.url; entry skipped"]
    assert report["warnings"] == [err[0].removeprefix("cors-audit: error: ")]
    assert report["summary"]["messages"] == 2


def test_source_warnings_are_printed_and_kept_in_the_report(tmp_path: Path, capsys) -> None:
    entry_without_time = cors_get("/x", 2)
    del entry_without_time["startedDateTime"]
    capture = write_har(tmp_path / "partial.har", [cors_get("/a", 0), entry_without_time, cors_get("/b", 3)])

    status = run("report", capture, "--json", "out.json", "--quiet")

    warnings = [
        line for line in capsys.readouterr().err.splitlines() if line.startswith("cors-audit: warning: ")
    ]
    report = json.loads(Path("out.json").read_text())
    assert status == ExitStatus.SUCCESS
    assert warnings and all(str(capture) in line for line in warnings)
    assert warnings == [
        f"cors-audit: warning: {capture}: entry 1: missing startedDateTime; using the previous entry's time"
    ]
    assert report["warnings"] and report["warnings"] == [
        w.removeprefix("cors-audit: warning: ") for w in warnings
    ]
    assert report["summary"]["messages"] == 3


def test_unwritable_output_is_one_error_line(capture: Path, capsys) -> None:
    Path("file").write_text("not a folder")

    status = run("report", capture, "--json", "file/out.json", "--quiet")

    err = capsys.readouterr().err
    assert status == ExitStatus.ERROR
    assert ONE_ERROR_LINE.match(err) and "cannot write" in err, err


def test_refuses_to_overwrite_an_input_with_a_report(capture: Path, capsys) -> None:
    before = capture.read_bytes()

    status = run("report", capture, "--json", capture)

    assert status == ExitStatus.ERROR
    assert ONE_ERROR_LINE.match(capsys.readouterr().err)
    assert capture.read_bytes() == before


@pytest.mark.parametrize(
    "argv",
    [
        pytest.param([], id="no-command"),
        pytest.param(["report"], id="no-input"),
        pytest.param(["audit", "x.har"], id="unknown-command"),
        pytest.param(["report", "x.har", "--bogus"], id="unknown-option"),
        pytest.param(["report", "x.har", "--fail-on", "severe"], id="bad-fail-on"),
        pytest.param(["report", "x.har", "--trusted-origin", "app.example/path"], id="bad-trusted-origin"),
        pytest.param(["report", "x.har", "--json"], id="option-without-value"),
    ],
)
def test_usage_errors_exit_2_with_one_line(argv: list[str], capsys) -> None:
    status = run(*argv)

    captured = capsys.readouterr()
    assert status == ExitStatus.ERROR
    assert ONE_ERROR_LINE.match(captured.err), captured.err
    assert "Traceback" not in captured.err


# ---- 3: internal error ----


def explode(*args: Any, **kwargs: Any) -> Any:
    raise RuntimeError("pairing state corrupted\nsecond line")


def test_internal_error_is_one_line_with_a_hint(
    monkeypatch: pytest.MonkeyPatch, capture: Path, capsys
) -> None:
    monkeypatch.setattr(audit_module, "analyze", explode)

    status = run("report", capture)

    err = capsys.readouterr().err
    assert status == ExitStatus.INTERNAL_ERROR
    assert ONE_ERROR_LINE.match(err), err
    assert "RuntimeError: pairing state corrupted second line" in err and "--traceback" in err


def test_traceback_flag_shows_the_traceback(monkeypatch: pytest.MonkeyPatch, capture: Path, capsys) -> None:
    monkeypatch.setattr(audit_module, "analyze", explode)

    status = run("report", capture, "--traceback")

    err = capsys.readouterr().err
    assert status == ExitStatus.INTERNAL_ERROR
    assert "Traceback (most recent call last)" in err
    assert err.splitlines()[-1].startswith("cors-audit: error: internal error: RuntimeError")


# ---- hostile content through the whole command ----


def test_hostile_capture_gives_an_inert_html_report(tmp_path: Path) -> None:
    hostile = '<script>alert(1)</script>"><img src=x onerror=alert(2)>'
    capture = write_har(
        tmp_path / "evil.har",
        [
            har_entry(
                "GET",
                f"{API}/{hostile}",
                200,
                [("Origin", PAGE), ("Sec-Fetch-Mode", "cors"), ("X-Note", hostile)],
                [("Access-Control-Allow-Origin", hostile), ("Vary", hostile)],
            ),
        ],
    )

    assert run("report", capture, "-o", "out.html", "--quiet") == ExitStatus.SUCCESS

    html = Path("out.html").read_text()
    assert "<img" not in html and "<script>alert" not in html
    assert len(re.findall(r"<script\b", html)) == 2  # the JSON data blob and the report's own code
    assert not re.search(r"""(src|href)\s*=\s*["']?\s*(https?:)?//""", html, re.IGNORECASE)
    assert "alert(1)" in html  # present, as inert text


# ---- progress display ----


@pytest.mark.parametrize(
    ("terminal", "megabytes", "expected"),
    [
        pytest.param(True, 21, True, id="large-on-a-terminal"),
        pytest.param(True, 19, False, id="small-on-a-terminal"),
        pytest.param(False, 200, False, id="large-but-piped"),
    ],
)
def test_progress_only_for_large_inputs_on_a_terminal(
    tmp_path: Path, terminal: bool, megabytes: int, expected: bool
) -> None:
    big = tmp_path / "big.har"
    with open(big, "wb") as sparse:
        sparse.truncate(megabytes * 1024 * 1024)

    class Stream:
        def isatty(self) -> bool:
            return terminal

    assert cli._wants_progress([str(big), "missing.har"], Stream()) is expected


def test_the_live_progress_display_leaves_results_unchanged(
    monkeypatch: pytest.MonkeyPatch, capture: Path
) -> None:
    monkeypatch.setattr(cli, "_wants_progress", lambda paths, stream: True)

    assert run("report", capture, "--json", "out.json", "--quiet") == ExitStatus.SUCCESS
    assert json.loads(Path("out.json").read_text())["summary"]["messages"] == 2


# ---- entry points ----


def test_version_and_help_exit_0(capsys) -> None:
    assert run("--version") == ExitStatus.SUCCESS
    assert cors_audit.__version__ in capsys.readouterr().out
    assert run("report", "--help") == ExitStatus.SUCCESS
    assert "--fail-on" in capsys.readouterr().out


def test_python_dash_m_returns_the_exit_status(not_a_har: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "cors_audit", "report", str(not_a_har)],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
    )

    assert result.returncode == ExitStatus.ERROR
    assert ONE_ERROR_LINE.match(result.stderr), result.stderr
