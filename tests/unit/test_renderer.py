"""The forked report renderer: byte for byte the files a run writes in one process, and when it
fails, those files written in the process after all."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from cors_audit import cli
from cors_audit.audit import judge_all
from cors_audit.model import Audit
from cors_audit.report import renderer
from cors_audit.sources import open_capture

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
# every producer's fixture, and one whose headers and URLs attack the page
INPUTS = [str(p) for p in sorted((FIXTURES / "har").glob("*.har"))] + [str(FIXTURES / "hostile.har")]


@pytest.fixture
def forced(monkeypatch: pytest.MonkeyPatch) -> None:
    """A renderer for any audit, not only for large ones."""
    monkeypatch.setattr(cli, "RENDER_MIN_EXCHANGES", 0)


@pytest.fixture
def outcomes(monkeypatch: pytest.MonkeyPatch) -> list[tuple[list[str] | None, str | None]]:
    """What each renderer answered: the paths it wrote (None: nothing) and its failure."""
    seen: list[tuple[list[str] | None, str | None]] = []
    finish = renderer.Renderer.finish

    def spy(self: renderer.Renderer) -> list[str] | None:
        written = finish(self)
        seen.append((written, self.failure))
        return written

    monkeypatch.setattr(renderer.Renderer, "finish", spy)
    return seen


def write_reports(folder: Path, jobs: str, capsys: pytest.CaptureFixture[str], *extra: str) -> dict[str, Any]:
    """Every report format of INPUTS, written into `folder`: each file's bytes, and the exit status."""
    out = {fmt: str(folder / name) for fmt, name in
           (("json", "r.json"), ("html", "r.html"), ("csv", "csv"), ("sarif", "r.sarif"))}  # fmt: skip
    argv = ["report", *INPUTS, "--json", out["json"], "-o", out["html"], "--csv", out["csv"]]
    status = cli.main([*argv, "--sarif", out["sarif"], "--jobs", jobs, *extra])
    files = {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}
    stderr = capsys.readouterr().err.replace(str(folder), "OUT")
    wrote = [line for line in stderr.splitlines() if line.startswith("cors-audit: wrote ")]
    return {"status": status, "files": files, "wrote": wrote, "stderr": stderr}


def test_the_renderer_writes_byte_for_byte_what_one_process_writes(
    tmp_path: Path, forced: None, outcomes: list[Any], capsys: pytest.CaptureFixture[str]
) -> None:
    here = write_reports(tmp_path / "here", "1", capsys)
    assert outcomes == []  # --jobs 1: no renderer
    forked = write_reports(tmp_path / "forked", "2", capsys)
    assert outcomes == [([str(tmp_path / "forked" / "r.html"), str(tmp_path / "forked" / "csv")], None)]

    assert forked["files"] == here["files"]
    assert forked["status"] == here["status"] == cli.ExitStatus.SUCCESS
    assert (
        forked["wrote"]
        == here["wrote"]
        == [f"cors-audit: wrote OUT/{name}" for name in ("r.json", "r.html", "csv", "r.sarif")]
    )
    assert len(here["files"]) == 3 + 8  # JSON, HTML, SARIF and a CSV per table
    # What only the rules know reached the renderer: the findings, and each exchange's rule ids.
    assert b"null-origin-trusted" in here["files"]["csv/findings.csv"]
    assert b"null-origin-trusted" in here["files"]["csv/exchanges.csv"]


def test_small_audits_are_written_in_this_process(
    tmp_path: Path, outcomes: list[Any], capsys: pytest.CaptureFixture[str]
) -> None:
    report = write_reports(tmp_path, "2", capsys)
    assert outcomes == []  # a few dozen exchanges: a fork would cost more than it saves
    assert report["status"] == cli.ExitStatus.SUCCESS and "r.html" in report["files"]


def test_without_memory_for_a_second_process_everything_is_written_here(
    tmp_path: Path,
    forced: None,
    outcomes: list[Any],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    held = renderer._status_kb("VmRSS")
    assert held is not None and held > 1024  # Linux: the guard reads real numbers
    monkeypatch.setattr(renderer, "_meminfo_kb", lambda field: 1024)  # a machine with 1 MB left
    report = write_reports(tmp_path, "2", capsys)
    assert outcomes == []
    assert report["status"] == cli.ExitStatus.SUCCESS and "r.html" in report["files"]


@pytest.mark.parametrize(
    ("meminfo", "status", "affordable"),
    [
        ("MemTotal: 8000 kB\nMemAvailable: 5000 kB\n", "VmRSS:\t  4000 kB\n", True),
        ("MemTotal: 8000 kB\nMemAvailable: 3000 kB\n", "VmRSS:\t  4000 kB\n", False),
        ("MemTotal: 8000 kB\n", "VmRSS:\t  4000 kB\n", True),  # an old kernel: unknown, so yes
        ("MemAvailable: lots\n", "VmRSS:\t  4000 kB\n", True),  # unreadable: unknown
    ],
)
def test_a_renderer_is_affordable_when_the_memory_this_process_holds_is_available_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, meminfo: str, status: str, affordable: bool
) -> None:
    (tmp_path / "meminfo").write_text(meminfo)
    (tmp_path / "status").write_text("Name:\tpython\n" + status)
    read = renderer._proc_kb
    monkeypatch.setattr(renderer, "_meminfo_kb", lambda field: read(str(tmp_path / "meminfo"), field))
    monkeypatch.setattr(renderer, "_status_kb", lambda field: read(str(tmp_path / "status"), field))
    assert renderer.affordable() is affordable


def _raises(*args: Any) -> list[str]:
    raise RuntimeError("the renderer broke")


def _dies(*args: Any) -> list[str]:
    os._exit(3)


@pytest.mark.parametrize(
    ("write", "failure"),
    [(_raises, "RuntimeError: the renderer broke"), (_dies, "the renderer exited with status 3")],
)
def test_a_failing_renderer_costs_time_never_the_report(
    tmp_path: Path,
    forced: None,
    outcomes: list[Any],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    write: Any,
    failure: str,
) -> None:
    here = write_reports(tmp_path / "here", "1", capsys)
    monkeypatch.setattr(renderer, "_write", write)  # the fork inherits it
    forked = write_reports(tmp_path / "forked", "2", capsys, "--traceback")
    [(written, why)] = outcomes
    assert written is None and failure in why
    assert forked["files"] == here["files"]
    assert forked["status"] == here["status"]
    assert forked["wrote"] == here["wrote"]
    assert "the report renderer failed; wrote its files here instead" in forked["stderr"]
    assert failure in forked["stderr"]  # --traceback shows why


def _judged(path: str) -> list[Any]:
    return judge_all(open_capture(path, []))[1]


def test_exchanges_that_changed_after_the_fork_are_refused(tmp_path: Path) -> None:
    exchanges = _judged(str(FIXTURES / "har" / "mitmproxy.har"))
    html = tmp_path / "r.html"
    job = renderer.Renderer(exchanges, redact=True, html_path=str(html))
    job.send(Audit(["mitmproxy.har"], len(exchanges), exchanges[:-1]))
    assert job.finish() is None
    assert job.failure is not None and "the exchanges changed after the renderer was forked" in job.failure
    assert not html.exists()


def test_an_abandoned_renderer_is_stopped_and_writes_nothing(tmp_path: Path) -> None:
    html = tmp_path / "r.html"
    job = renderer.Renderer(_judged(str(FIXTURES / "har" / "chrome.har")), redact=True, html_path=str(html))
    job.close()  # the caller failed before the rules finished
    assert job._process.exitcode is not None
    assert not html.exists() and list(tmp_path.iterdir()) == []
