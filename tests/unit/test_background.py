"""Forked readers (sources.background) must be invisible: the same messages, warnings and errors
as reading in-process, for every format and every way a file can be bad."""

from __future__ import annotations

import gzip
import json
import shutil
from pathlib import Path

import pytest

from cors_audit import cli
from cors_audit.errors import InputError
from cors_audit.model import Message
from cors_audit.sources import background, open_capture

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "har"

pytestmark = pytest.mark.skipif(not background.available(), reason="no fork() on this platform")


def in_process(path: Path) -> tuple[list[Message], list[str], BaseException | None]:
    warnings: list[str] = []
    messages: list[Message] = []
    try:
        messages.extend(open_capture(str(path), warnings))
    except (InputError, OSError) as error:
        return messages, warnings, error
    return messages, warnings, None


def forked(paths: list[Path], index: int) -> tuple[list[Message], list[str], BaseException | None]:
    warnings: list[str] = []
    messages: list[Message] = []
    prefetcher = background.Prefetcher([str(p) for p in paths], workers=2)
    try:
        for i in range(index):  # earlier inputs are consumed first, as the CLI does
            try:
                list(background.stream(prefetcher, i, []))
            except (InputError, OSError):
                pass
        messages.extend(background.stream(prefetcher, index, warnings))
    except (InputError, OSError) as error:
        return messages, warnings, error
    finally:
        prefetcher.close()
    return messages, warnings, None


def same_error(a: BaseException | None, b: BaseException | None) -> bool:
    if a is None or b is None:
        return a is b
    return (type(a), str(a), getattr(a, "partial", None)) == (type(b), str(b), getattr(b, "partial", None))


def entry(url: str, origin: str | None = None) -> dict[str, object]:
    headers = [{"name": "Origin", "value": origin}] if origin else []
    return {
        "startedDateTime": "2024-05-01T08:00:00.000Z",
        "request": {"method": "GET", "url": url, "headers": headers},
        "response": {"status": 200, "headers": [{"name": "Access-Control-Allow-Origin", "value": "*"}]},
    }


def bad_inputs(tmp: Path) -> list[Path]:
    good = {"log": {"version": "1.2", "entries": [entry("https://api.test/a", "https://app.test")] * 3}}
    text = json.dumps(good)
    files = {
        "truncated.har": text[: len(text) - 40],
        "not-json.har": "{ this is not json",
        "image.har": None,
        "missing-url.har": json.dumps({"log": {"entries": [{"request": {"method": "GET"}}, entry("https://a.test/")]}}),
        "latin1.har": None,
    }
    out = []
    for name, content in files.items():
        path = tmp / name
        if name == "image.har":
            path.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * 64)
        elif name == "latin1.har":
            path.write_bytes(text.replace("api.test/a", "api.test/caf\xe9").encode("latin-1"))
        else:
            path.write_text(content or "")
        out.append(path)
    compressed = tmp / "capture.har.gz"
    compressed.write_bytes(gzip.compress(text.encode()))
    out.append(compressed)
    out.append(tmp / "does-not-exist.har")
    return out


@pytest.mark.parametrize("fixture", sorted(p.name for p in FIXTURES.glob("*.har")))
def test_a_forked_reader_yields_exactly_what_reading_in_process_does(fixture: str) -> None:
    path = FIXTURES / fixture
    want = in_process(path)
    got = forked([path], 0)
    assert got[0] == want[0] and len(got[0]) > 0
    assert [m.request_headers.is_slim for m in got[0]] == [m.request_headers.is_slim for m in want[0]]
    assert got[1] == want[1]
    assert same_error(got[2], want[2])


def test_bad_inputs_fail_the_same_way_and_keep_what_was_read(tmp_path: Path) -> None:
    paths = bad_inputs(tmp_path)
    for index, path in enumerate(paths):
        want = in_process(path)
        got = forked(paths, index)
        assert got[0] == want[0], path.name
        assert got[1] == want[1], path.name
        assert same_error(got[2], want[2]), (path.name, got[2], want[2])
    assert sum(1 for p in paths if in_process(p)[2] is not None) >= 4  # the table really has failures


def test_many_batches_arrive_complete_and_in_order(tmp_path: Path) -> None:
    count = background.BATCH * 2 + 7
    doc = {"log": {"entries": [entry(f"https://api.test/{i}", "https://app.test") for i in range(count)]}}
    path = tmp_path / "big.har"
    path.write_text(json.dumps(doc))
    messages, warnings, error = forked([path], 0)
    assert error is None and warnings == []
    assert [m.url for m in messages] == [f"https://api.test/{i}" for i in range(count)]


def test_header_lines_survive_the_line_table_starting_over(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # A tiny table starts over after almost every batch; lines travel as numbers into it, so a stale
    # numbering would hand messages another entry's headers.
    monkeypatch.setattr(background, "LINE_TABLE_SIZE", 3)
    monkeypatch.setattr(background, "BATCH", 2)
    doc = {
        "log": {
            "entries": [
                entry(f"https://api.test/{i}", f"https://app{i % 5}.test") for i in range(23)
            ]
        }
    }
    path = tmp_path / "lines.har"
    path.write_text(json.dumps(doc))
    messages, _, error = forked([path], 0)
    assert error is None
    assert [m.request_headers.get("origin") for m in messages] == [f"https://app{i % 5}.test" for i in range(23)]
    assert all(m.response_headers.items() == [("Access-Control-Allow-Origin", "*")] for m in messages)


def test_repeated_lines_arrive_as_one_shared_line(tmp_path: Path) -> None:
    doc = {"log": {"entries": [entry(f"https://api.test/{i}", "https://app.test") for i in range(5)]}}
    path = tmp_path / "shared.har"
    path.write_text(json.dumps(doc))
    messages, _, _ = forked([path], 0)
    first, *rest = (m.request_headers.items()[0] for m in messages)
    assert first == ("Origin", "https://app.test") and all(line is first for line in rest)


def test_cli_reports_are_identical_with_and_without_forked_readers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(cli, "BACKGROUND_MIN_BYTES", 0)
    inputs = [str(FIXTURES / "chrome.har"), str(FIXTURES / "firefox.har"), str(FIXTURES / "mitmproxy.har")]
    bad = tmp_path / "truncated.har"
    shutil.copy(FIXTURES / "chrome.har", bad)
    bad.write_bytes(bad.read_bytes()[:-300])
    reports = []
    for jobs in ("1", "3"):
        out = tmp_path / f"j{jobs}.json"
        status = cli.main(["report", *inputs, str(bad), "--json", str(out), "-q", "--jobs", jobs])
        report = json.loads(out.read_text())
        report.pop("tool")
        reports.append((status, report))
    assert reports[0] == reports[1]
    assert reports[0][0] == cli.ExitStatus.ERROR  # the truncated input is reported, the rest analyzed
    assert reports[0][1]["summary"]["exchanges"] > 10
