"""HAR reader: one fixture per producer, then every kind of bad input.

Fixtures live in tests/fixtures/har/ (see README.md there for where each one comes from).
"""

from __future__ import annotations

import gzip
import json
import os
import re
import shutil
import zlib
from dataclasses import dataclass
from pathlib import Path

import pytest

from cors_audit.errors import InputError
from cors_audit.model import Message
from cors_audit.sources import har as har_reader
from cors_audit.sources import line_column, open_capture, tolerant

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "har"
APP = "https://app.example.test"
API = "https://api.example.test"


@pytest.fixture(autouse=True, params=["entry by entry", "runs of one entry", "runs of a few entries"])
def reading(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Every test here runs three ways, so both reading paths meet every input, good and bad.

    Big files are read in runs of entries (`har._Runs`); the fixtures are small, so runs as
    short as one entry make the fast path read them, truncations and broken bytes included.
    """
    run = {"entry by entry": 1 << 40, "runs of one entry": 1, "runs of a few entries": 700}[request.param]
    monkeypatch.setattr(har_reader, "_RUN", run)
    return str(request.param)


def read(path: Path | str) -> tuple[list[Message], list[str]]:
    """Messages and problem lines; a damaged file's first damage (the CLI's error line) leads them."""
    warnings: list[str] = []
    return list(tolerant(open_capture(str(path), warnings), warnings)), warnings


# --- one fixture per producer ---------------------------------------------------------------------

Row = tuple[
    str, str, "int | None", "str | None", "str | None", bool
]  # method, url, status, error, initiator, from_cache


@dataclass(frozen=True)
class Producer:
    fixture: str
    rows: list[Row]
    page_urls: list[str | None]
    warnings: list[str]


PRODUCERS = [
    Producer(
        "chrome.har",
        [
            ("GET", f"{APP}/", 200, None, "document", False),
            ("GET", f"{API}/allowed", 200, None, "fetch", False),
            ("PUT", f"{API}/put", 200, None, "fetch", False),  # DevTools lists the actual request first
            ("OPTIONS", f"{API}/put", 204, None, "preflight", False),
            (
                "GET",
                f"{API}/blocked",
                200,
                "net::ERR_FAILED",
                "fetch",
                False,
            ),  # current DevTools: real status + _error
            (
                "GET",
                f"{API}/old-blocked",
                None,
                "net::ERR_FAILED",
                "fetch",
                False,
            ),  # older DevTools: status 0
            ("GET", f"{API}/xhr", 200, None, "xmlhttprequest", True),  # _fromCache: "disk"
            ("GET", "https://cdn.example.test/logo.png", 200, None, "image", False),
        ],
        [f"{APP}/"] * 8,  # pageref title, or the parser initiator's document for the image
        [],
    ),
    Producer(
        "firefox.har",
        [
            ("GET", f"{APP}/", 200, None, None, False),
            ("GET", f"{API}/allowed", 200, None, None, False),
            ("OPTIONS", f"{API}/put", 204, None, None, False),
            ("PUT", f"{API}/put", 200, None, None, False),
            ("GET", f"{API}/blocked", 200, None, None, False),
            ("GET", "https://down.example.test/nothing", None, None, None, False),
            ("GET", f"{API}/cached", 200, None, None, True),  # cache.afterRequest present
        ],
        [f"{APP}/"] * 7,
        [],
    ),
    Producer(
        "safari.har",
        [
            ("GET", f"{APP}/", 200, None, None, False),
            ("GET", f"{API}/allowed", 200, None, None, False),
            (
                "GET",
                f"{API}/blocked",
                None,
                f"Origin {APP} is not allowed by Access-Control-Allow-Origin. Status code: 200",
                None,
                False,
            ),
            ("GET", f"{API}/cached", 200, None, None, True),  # _fetchType: "Memory Cache"
            ("GET", f"{API}/no-date", 200, None, None, False),
        ],
        [f"{APP}/"] * 5,
        ["safari.har: entry 4: missing startedDateTime; using the previous entry's time"],
    ),
    Producer(
        "charles.har",
        [
            ("GET", f"{API}/allowed", 200, None, None, False),
            ("OPTIONS", f"{API}/put", 200, None, None, False),
            ("GET", "https://down.example.test/nothing", None, "FAILED", None, False),
        ],
        [None] * 3,
        [],
    ),
    Producer(
        "fiddler.har",
        [
            ("GET", f"{API}/allowed", 200, None, None, False),
            (
                "GET",
                "https://down.example.test/nothing",
                502,
                None,
                None,
                False,
            ),  # Fiddler answers failures itself
        ],
        [None] * 2,
        [],
    ),
    Producer(
        "playwright.har",
        [
            ("GET", "http://127.0.0.1:45243/", 200, None, "document", False),
            ("GET", "http://127.0.0.1:32777/allowed", 200, None, "fetch", False),
            ("GET", "http://127.0.0.1:32777/blocked", None, "net::ERR_FAILED", "fetch", False),  # status -1
            ("PUT", "http://127.0.0.1:32777/put", 200, None, "fetch", False),  # no preflight entries at all
            ("GET", "http://127.0.0.1:32777/latin1", 200, None, "fetch", False),
            ("GET", "http://127.0.0.1:32777/xhr", 200, None, "xmlhttprequest", False),
            ("GET", "http://127.0.0.1:52709/nothing", None, "net::ERR_FAILED", "fetch", False),
        ],
        [None] * 7,  # the page title is the document's <title>, not a URL
        [],
    ),
    Producer(
        "mitmproxy.har",
        [
            (
                "POST",
                "http://update.googleapis.com/service/update2/json?cup2key=ML-DSA-44-16:"
                "tcvl7MWikm8nInbpCHeSrNj62sLrFQgyLKFiHBK3ZbQ&cup2hreq="
                "dbae9367be47e64796645acc195cf37935114569274ecad0ab71ecbae222eeb3",
                None,
                "[Errno -2] Name or service not known",
                None,
                False,
            ),  # Chromium's own update check
            ("GET", "http://127.0.0.1:45243/", 200, None, None, False),
            ("GET", "http://127.0.0.1:32777/allowed", 200, None, None, False),
            ("GET", "http://127.0.0.1:45243/favicon.ico", 200, None, None, False),
            ("GET", "http://127.0.0.1:32777/blocked", 200, None, None, False),
            ("OPTIONS", "http://127.0.0.1:32777/put", 204, None, None, False),  # only recognisable by shape
            ("PUT", "http://127.0.0.1:32777/put", 200, None, None, False),
            ("GET", "http://127.0.0.1:32777/latin1", 200, None, None, False),
            ("GET", "http://127.0.0.1:32777/xhr", 200, None, None, False),
            (
                "GET",
                "http://127.0.0.1:52709/nothing",
                None,
                "[Errno 111] Connect call failed ('127.0.0.1', 52709)",
                None,
                False,
            ),
        ],
        [None] * 10,
        ["mitmproxy.har: entry 7: non-UTF-8 bytes in the URL or a header; replaced with U+FFFD"],
    ),
]


@pytest.fixture
def fixtures(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Run from a copy so warnings name files relative to the working directory, like a user would."""
    shutil.copytree(FIXTURES, tmp_path / "har")
    monkeypatch.chdir(tmp_path / "har")
    return tmp_path / "har"


@pytest.mark.parametrize("producer", PRODUCERS, ids=[p.fixture for p in PRODUCERS])
def test_each_producer_yields_one_message_per_entry(fixtures: Path, producer: Producer) -> None:
    messages, warnings = read(producer.fixture)

    got = [(m.method, m.url, m.status, m.error, m.initiator, m.from_cache) for m in messages]
    assert got == producer.rows
    assert [m.page_url for m in messages] == producer.page_urls
    assert warnings == producer.warnings
    assert [m.id for m in messages] == [f"{producer.fixture}#{i}" for i in range(len(messages))]
    assert [(m.source.file, m.source.index) for m in messages] == [
        (producer.fixture, i) for i in range(len(messages))
    ]


# Lines no CORS check reads: the network stack adds them, or they describe the body.
BROWSER_ONLY_REQUEST = {"accept-encoding", "connection", "host", "content-length", "sec-ch-ua", "priority", "te"}
UNREAD_RESPONSE = {"date", "server", "content-length", "etag", "x-latin", "connection", "keep-alive"}


@pytest.mark.parametrize("producer", PRODUCERS, ids=[p.fixture for p in PRODUCERS])

def test_headers_the_analysis_reads_are_kept_in_order_the_rest_never_materialized(
    fixtures: Path, producer: Producer
) -> None:
    raw = json.loads((fixtures / producer.fixture).read_bytes().decode("utf-8-sig"))
    messages, _ = read(producer.fixture)

    for entry, message in zip(raw["log"]["entries"], messages, strict=True):
        for side, headers, unread in (
            ("request", message.request_headers, BROWSER_ONLY_REQUEST),
            ("response", message.response_headers, UNREAD_RESPONSE),
        ):
            lines = [(h["name"], h["value"]) for h in (entry.get(side) or {}).get("headers", [])]
            got = headers.items()
            kept = iter(lines)  # what is kept is the original lines, in their order
            assert all(any(g[0] == n and (g[1] == v or "\ufffd" in g[1]) for n, v in kept) for g in got)
            names = {n.lower() for n, _ in got}
            for name, _ in lines:
                lowered = name.lower()
                if lowered.startswith(("access-control-", "sec-fetch-")) or lowered in {
                    "origin", "cookie", "content-type", "vary", "authorization", "x-custom", "location",
                }:
                    assert lowered in names, (producer.fixture, side, name)
                if lowered in unread or lowered.startswith(":"):
                    assert lowered not in names, (producer.fixture, side, name)


def test_chrome_pseudo_headers_are_dropped_and_sanitized_export_has_no_cookie(fixtures: Path) -> None:
    messages, _ = read("chrome.har")
    put = messages[2]
    assert put.request_headers.names()[:3] == ["accept", "content-type", "x-custom"]
    assert not any(name.startswith(":") for m in messages for name in m.request_headers.names())
    assert all("cookie" not in m.request_headers for m in messages)


@pytest.mark.parametrize(
    ("fixture", "index", "iso_utc"),
    [
        ("chrome.har", 1, "2024-05-01T08:00:01.100+00:00"),
        ("firefox.har", 1, "2024-05-01T08:00:01.100+00:00"),  # written as 10:00:01.100+02:00
        ("charles.har", 0, "2024-05-01T08:00:01.100+00:00"),  # written as 01:00:01.100-07:00
        ("fiddler.har", 0, "2024-05-01T08:00:01.100456+00:00"),  # seven fractional digits, +03:00
        ("mitmproxy.har", 1, "2026-11-22T22:03:24.201847+00:00"),
        ("playwright.har", 0, "2026-11-22T22:03:24.149000+00:00"),
    ],
)
def test_timestamps_become_utc_epoch_seconds(fixtures: Path, fixture: str, index: int, iso_utc: str) -> None:
    from datetime import datetime

    messages, _ = read(fixture)
    assert messages[index].started == pytest.approx(datetime.fromisoformat(iso_utc).timestamp(), abs=1e-6)


def test_non_utf8_header_bytes_from_mitmproxy_warn_even_in_a_line_never_kept(fixtures: Path) -> None:
    messages, warnings = read("mitmproxy.har")
    assert "x-latin" not in messages[7].response_headers  # no check reads it, so it is never kept
    assert warnings == ["mitmproxy.har: entry 7: non-UTF-8 bytes in the URL or a header; replaced with U+FFFD"]


# --- what a producer may leave out ---------------------------------------------------------------


def har(*entries: object, pages: object = None, **log: object) -> dict[str, object]:
    body: dict[str, object] = {"version": "1.2", "creator": {"name": "test", "version": "1"}}
    if pages is not None:
        body["pages"] = pages
    body.update(log)
    body["entries"] = list(entries)
    return {"log": body}


def entry(url: str = f"{API}/x", method: str = "GET", **fields: object) -> dict[str, object]:
    out: dict[str, object] = {
        "startedDateTime": "2024-05-01T08:00:00.000Z",
        "request": {"method": method, "url": url, "headers": []},
    }
    out.update(fields)
    return out


def write(tmp_path: Path, doc: object, name: str = "capture.har") -> str:
    path = tmp_path / name
    path.write_text(json.dumps(doc), encoding="utf-8")
    return str(path)


MINIMAL = [
    ("no response at all", entry(), None, None),
    ("status -1 (Playwright)", entry(response={"status": -1, "headers": []}), None, None),
    (
        "status 0 with _error (Chrome)",
        entry(response={"status": 0, "_error": "net::ERR_FAILED"}),
        None,
        "net::ERR_FAILED",
    ),
    ("_error null (mitmproxy)", entry(response={"status": 0, "_error": None, "headers": []}), None, None),
    ("float status", entry(response={"status": 204.0}), 204, None),
    ("status as text", entry(response={"status": "404"}), 404, None),
    (
        "_failureText (Playwright)",
        entry(response={"status": -1, "_failureText": "net::ERR_FAILED"}),
        None,
        "net::ERR_FAILED",
    ),
    ("only request fields", {"request": {"method": "GET", "url": f"{API}/x"}}, None, None),
]


@pytest.mark.parametrize(("case", "item", "status", "error"), MINIMAL, ids=[c[0] for c in MINIMAL])
def test_every_optional_field_may_be_absent(
    tmp_path: Path, case: str, item: object, status: int | None, error: str | None
) -> None:
    messages, warnings = read(write(tmp_path, har(item)))
    assert [(m.status, m.error) for m in messages] == [(status, error)]
    assert all("missing startedDateTime" in w for w in warnings)


def test_headers_keep_order_and_duplicates_and_huge_values(tmp_path: Path) -> None:
    huge = "a" * 200_000
    lines = [
        {"name": "Vary", "value": "Origin"},
        {"name": "Access-Control-Expose-Headers", "value": huge},
        {"name": "vary", "value": "Accept"},
    ]
    messages, warnings = read(write(tmp_path, har(entry(response={"status": 200, "headers": lines}))))
    assert messages[0].response_headers.items() == [
        ("Vary", "Origin"), ("Access-Control-Expose-Headers", huge), ("vary", "Accept")
    ]
    assert warnings == []


def test_headers_as_name_value_pairs_are_read(tmp_path: Path) -> None:
    item = entry(response={"status": 200, "headers": [["Access-Control-Allow-Origin", "*"]]})
    item["request"]["headers"] = [["Origin", APP]]  # type: ignore[index]
    messages, warnings = read(write(tmp_path, har(item)))
    assert messages[0].request_headers.items() == [("Origin", APP)]
    assert messages[0].response_headers.get("access-control-allow-origin") == "*"
    assert warnings == []


def test_pages_after_entries_still_give_page_urls(tmp_path: Path) -> None:
    doc = {"log": {"entries": [entry(pageref="p1")], "pages": [{"id": "p1", "title": f"{APP}/dashboard"}]}}
    messages, _ = read(write(tmp_path, doc))
    assert messages[0].page_url == f"{APP}/dashboard"


def test_initiator_url_beats_page_title_but_not_for_preflights(tmp_path: Path) -> None:
    pages = [{"id": "page_1", "title": f"{APP}/"}]
    items = [
        entry(pageref="page_1", _initiator={"type": "parser", "url": f"{APP}/frame.html"}),
        entry(pageref="page_1", method="OPTIONS", _initiator={"type": "preflight", "url": f"{API}/x"}),
        entry(pageref="page_1", _initiator=f"{APP}/legacy.js"),  # WebPageTest writes a bare string
    ]
    messages, _ = read(write(tmp_path, har(*items, pages=pages)))
    assert [m.page_url for m in messages] == [f"{APP}/frame.html", f"{APP}/", f"{APP}/"]
    assert messages[1].initiator == "preflight"


@pytest.mark.parametrize(
    ("written", "iso_utc"),
    [
        ("2024-05-01T08:00:00Z", "2024-05-01T08:00:00+00:00"),
        ("2024-05-01T10:00:00.5+02:00", "2024-05-01T08:00:00.500000+00:00"),
        ("2024-05-01T08:00:00", "2024-05-01T08:00:00+00:00"),  # no offset: read as UTC, never local time
    ],
)
def test_timestamp_forms(tmp_path: Path, written: str, iso_utc: str) -> None:
    from datetime import datetime

    messages, warnings = read(write(tmp_path, har(entry(startedDateTime=written))))
    assert messages[0].started == datetime.fromisoformat(iso_utc).timestamp()
    assert warnings == []


def test_bodies_are_never_decoded(tmp_path: Path) -> None:
    """A body with bytes that are not UTF-8 costs no warning: the decoder skips it without reading it."""
    doc = json.dumps(har(entry(response={"status": 200, "content": {"text": "BODY"}}))).encode()
    path = tmp_path / "capture.har"
    path.write_bytes(doc.replace(b"BODY", b"\xff\xfe binary \xc3"))
    messages, warnings = read(path)
    assert len(messages) == 1 and warnings == []


def test_compressed_and_utf16_hars_read_like_the_plain_file(fixtures: Path, tmp_path: Path) -> None:
    plain = (fixtures / "chrome.har").read_bytes()
    variants = {
        "chrome.har.gz": gzip.compress(plain),
        "chrome.zhar": zlib.compress(plain, 9),  # mitmproxy's `save.har` to a .zhar path
        "chrome-utf16.har": plain.decode().encode("utf-16"),
    }
    want = [(m.method, m.url, m.status) for m in read(fixtures / "chrome.har")[0]]
    for name, data in variants.items():
        (tmp_path / name).write_bytes(data)
        assert [(m.method, m.url, m.status) for m in read(tmp_path / name)[0]] == want, name


def test_same_file_name_in_two_folders_gives_distinct_ids(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    first = read(write(tmp_path / "a", har(entry())))[0][0]
    second = read(write(tmp_path / "b", har(entry())))[0][0]
    assert first.id != second.id


# --- bad input: exact one-line messages, good entries survive -----------------------------------


def test_truncated_har_yields_every_complete_entry_and_one_warning(fixtures: Path) -> None:
    data = (fixtures / "chrome.har").read_bytes()
    cut = data.index(b'"url": "https://api.example.test/blocked"')  # inside entry 4
    Path("cut.har").write_bytes(data[:cut])

    messages, warnings = read("cut.har")

    assert [m.url for m in messages] == [f"{APP}/", f"{API}/allowed", f"{API}/put", f"{API}/put"]
    assert warnings == [
        (
            "cut.har: entry 4: the file ends inside this entry, at line 686 column 11 (truncated?); "
            "the 4 entries before it were read"
        )
    ]


def test_har_cut_right_after_an_entry(tmp_path: Path) -> None:
    text = json.dumps(har(entry(), entry(url=f"{API}/y")))
    path = tmp_path / "capture.har"
    path.write_text(text[: text.rindex("]")])  # lost the closing "]}}"
    messages, warnings = read(path)
    assert len(messages) == 2
    assert warnings == [
        f"{path}: after entry 1: the file ends at line 1 column {len(text) - 2}, before log.entries is closed (truncated?)"
    ]


def test_har_cut_inside_the_first_entry_is_an_input_error(tmp_path: Path) -> None:
    text = json.dumps(har(entry()))
    cut = text.index('"request"') + 5
    path = tmp_path / "capture.har"
    path.write_text(text[:cut])
    messages = open_capture(str(path), [])  # the outline is fine: the problem shows while reading
    with pytest.raises(InputError) as err:
        list(messages)
    assert str(err.value) == (
        f"{path}: entry 0: no usable entry: the file ends inside the first entry, at line 1 column {cut + 1} (truncated?)"
    )


def test_har_cut_before_the_entries_is_an_input_error(tmp_path: Path) -> None:
    path = tmp_path / "capture.har"
    path.write_text('{"log": {"version": "1.2", "pages": [{"id": "p')
    with pytest.raises(InputError) as err:
        open_capture(str(path), [])
    assert str(err.value) == f"{path}: line 1 column 47: the file ends before the first entry (truncated?)"


def test_har_cut_after_the_entries_says_so_and_keeps_them_all(tmp_path: Path) -> None:
    text = json.dumps({"log": {"entries": [entry(), entry()], "pages": [], "comment": "end"}})
    cut = text.index('"comment"') + 4
    path = write_text(tmp_path / "c.har", text[:cut])
    messages, warnings = read(path)
    assert len(messages) == 2
    assert warnings == [
        f"{path}: after log.entries: the file ends at line 1 column {cut + 1} (truncated?); all 2 entries were read"
    ]


def test_invalid_json_in_the_middle_stops_with_a_warning(tmp_path: Path) -> None:
    text = json.dumps(har(entry(), entry(url=f"{API}/bad"), entry(url=f"{API}/never")))
    path = tmp_path / "capture.har"
    broken = text.replace(f'"{API}/bad"', f'"{API}/bad" oops')
    path.write_text(broken)
    messages, warnings = read(path)
    assert [m.url for m in messages] == [f"{API}/x"]
    column = broken.index("oops") + 1
    assert warnings == [
        (
            f"{path}: entry 1: invalid JSON at line 1 column {column} (expected ',' or '}}'); "
            "stopped reading, the 1 entries before it were read"
        )
    ]


NOT_A_HAR = [
    (
        "png.har",
        b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR",
        "line 1 column 1: not a HAR file (expected a JSON object with log.entries; found PNG image data)",
    ),
    (
        "array.har",
        b'[{"log": {}}]',
        "line 1 column 1: not a HAR file (expected a JSON object with log.entries; found a JSON array)",
    ),
    (
        "nolog.har",
        b'{"version": "1.2", "entries": []}',
        "line 1 column 1: not a HAR file (expected a JSON object with log.entries)",
    ),
    (
        "noentries.har",
        b'{"log": {"version": "1.2", "pages": []}}',
        "line 1 column 9: not a HAR file (log has no entries)",
    ),
    (
        "entries-object.har",
        b'{"log": {"entries": {}}}',
        "line 1 column 21: not a HAR file (log.entries is not a JSON array)",
    ),
    ("keys.har", b"{log: 1}", "line 1 column 2: invalid JSON: invalid character"),
    (
        "text.txt",
        b"hello world",
        "line 1 column 1: not a capture file (expected a HAR file, a cors-audit JSONL capture or a mitmproxy flow dump; found text that is not JSON)",
    ),
    ("empty.har", b"", "empty file"),
    (
        "blank.har",
        b"  \n ",
        "not a HAR file (expected a JSON object with log.entries; found only whitespace)",
    ),
]


@pytest.mark.parametrize(("name", "data", "problem"), NOT_A_HAR, ids=[c[0] for c in NOT_A_HAR])
def test_not_a_har_is_one_input_error_line_raised_at_open(
    tmp_path: Path, name: str, data: bytes, problem: str
) -> None:
    path = tmp_path / name
    path.write_bytes(data)
    with pytest.raises(InputError) as err:
        open_capture(str(path), [])  # no iteration needed: the outline is checked at once
    assert str(err.value) == f"{path}: {problem}"
    assert "\n" not in str(err.value)


def test_invalid_json_in_the_first_entry_is_an_input_error_while_reading(tmp_path: Path) -> None:
    path = tmp_path / "capture.har"
    path.write_bytes(b'{"log": {"entries": [{"request": @}]}}')
    with pytest.raises(InputError) as err:
        list(open_capture(str(path), []))
    assert str(err.value) == (
        f"{path}: entry 0: no usable entry: invalid JSON at line 1 column 34 (invalid character); "
        "stopped reading, the 0 entries before it were read"
    )


def test_missing_file_and_directory(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=re.escape(f"{tmp_path}/nope.har: no such file")):
        open_capture(str(tmp_path / "nope.har"), [])
    with pytest.raises(InputError, match=re.escape(f"{tmp_path}: is a directory, not a capture file")):
        open_capture(str(tmp_path), [])


def test_unreadable_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "secret.har"
    path.write_text("{}")
    path.chmod(0)
    if os.geteuid() == 0:  # root reads every file: make the open fail as it would for anyone else

        def refuse(*args: object, **kwargs: object) -> None:
            raise PermissionError(13, "Permission denied", str(path))

        monkeypatch.setattr("cors_audit.sources.open", refuse, raising=False)
    with pytest.raises(InputError, match="permission denied"):
        open_capture(str(path), [])


def test_entries_missing_url_or_method_are_skipped_with_one_line_per_kind(tmp_path: Path) -> None:
    items = [
        entry(url=f"{API}/good-1"),
        {"startedDateTime": "2024-05-01T08:00:00Z", "request": {"method": "GET", "headers": []}},
        entry(url=f"{API}/good-2"),
        {"startedDateTime": "2024-05-01T08:00:00Z", "request": {"method": "GET"}},
        {"startedDateTime": "2024-05-01T08:00:00Z", "request": {"url": f"{API}/no-method"}},
        {"startedDateTime": "2024-05-01T08:00:00Z", "request": {"method": "GET", "url": 12}},
        "not an object",
        entry(url=f"{API}/good-3"),
    ]
    messages, warnings = read(write(tmp_path, har(*items)))
    path = tmp_path / "capture.har"
    assert [m.url for m in messages] == [f"{API}/good-1", f"{API}/good-2", f"{API}/good-3"]
    assert [m.source.index for m in messages] == [0, 2, 7]
    assert warnings == [
        f"{path}: entry 1: missing request.url; entry skipped (and 1 more like it)",
        f"{path}: entry 4: missing request.method; entry skipped",
        f"{path}: entry 5: request.url is not a string; entry skipped",
        f"{path}: entry 6: entry is not a JSON object; entry skipped",
    ]


def test_har_where_no_entry_is_usable_is_an_input_error(tmp_path: Path) -> None:
    path = write(tmp_path, har({"request": {"method": "GET"}}, {"request": {"method": "GET"}}))
    with pytest.raises(InputError) as err:
        read(path)
    assert (
        str(err.value)
        == f"{path}: entry 0: no usable entry: missing request.url; entry skipped (and 1 more like it)"
    )


def test_empty_entries_is_not_an_error_but_says_so(tmp_path: Path) -> None:
    path = write(tmp_path, har())
    assert read(path) == ([], [f"{path}: log.entries: no entries: the capture is empty"])


def test_raw_non_utf8_bytes_in_a_header_are_replaced_with_a_warning(tmp_path: Path) -> None:
    doc = json.dumps(
        har(entry(response={"status": 200, "headers": [{"name": "Access-Control-Allow-Origin", "value": "LATIN"}]}), entry())
    )
    path = tmp_path / "capture.har"
    path.write_bytes(doc.encode().replace(b"LATIN", b"caf\xe9"))
    messages, warnings = read(path)
    assert messages[0].response_headers.get("access-control-allow-origin") == "caf\ufffd"
    assert len(messages) == 2
    assert warnings == [f"{path}: entry 0: bytes that are not UTF-8; replaced with U+FFFD"]


def test_lone_surrogate_escapes_in_a_body_cost_nothing_but_in_a_header_warn(tmp_path: Path) -> None:
    body_only = json.dumps(har(entry(response={"status": 200, "content": {"text": "\udcff"}})))
    assert "\\udcff" in body_only
    messages, warnings = read(write_text(tmp_path / "body.har", body_only))
    assert len(messages) == 1 and warnings == []

    in_header = json.dumps(
        har(entry(response={"status": 200, "headers": [{"name": "Access-Control-Allow-Origin", "value": "a\udcffb"}]}))
    )
    messages, warnings = read(write_text(tmp_path / "header.har", in_header))
    assert messages[0].response_headers.get("access-control-allow-origin") == "a\ufffdb"
    assert warnings == [
        f"{tmp_path}/header.har: entry 0: non-UTF-8 bytes in the URL or a header; replaced with U+FFFD"
    ]


@pytest.mark.parametrize(
    ("value", "want"),
    [
        ("a\udcffb", "a\ufffdb"),  # lone low half
        ("x\ud83dy", "x\ufffdy"),  # lone high half
        ("\U0001f600 ok", "\U0001f600 ok"),  # a valid pair is an emoji, not a problem
        ("\udcff\U0001f600", "\ufffd\U0001f600"),
        ("\\udcff", "\\udcff"),  # an escaped backslash followed by text, not an escape
    ],
)
def test_surrogate_repair_touches_only_lone_halves(tmp_path: Path, value: str, want: str) -> None:
    # the body's lone surrogate puts the reader in repair mode for the whole file
    doc = har(
        entry(
            response={
                "status": 200,
                "headers": [{"name": "Access-Control-Allow-Origin", "value": value}],
                "content": {"text": "\udcff"},
            }
        )
    )
    messages, _ = read(write_text(tmp_path / "c.har", json.dumps(doc)))
    assert messages[0].response_headers.get("access-control-allow-origin") == want


def test_escaped_backslash_before_u_is_not_a_surrogate(tmp_path: Path) -> None:
    doc = har(
        entry(response={"status": 200, "headers": [{"name": "Access-Control-Allow-Origin", "value": "\\udcff"}]}),
        entry(response={"content": {"text": "\udcff"}}),
    )
    messages, _ = read(write_text(tmp_path / "c.har", json.dumps(doc)))
    assert messages[0].response_headers.get("access-control-allow-origin") == "\\udcff"


def test_trailing_comma_after_the_last_entry_is_tolerated(tmp_path: Path) -> None:
    text = json.dumps(har(entry()))
    path = write_text(tmp_path / "c.har", text.replace("}]}}", "},]}}"))
    messages, warnings = read(path)
    assert len(messages) == 1 and warnings == []


def write_text(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("text", "offset", "want"),
    [
        (b"abc", 0, "line 1 column 1"),
        (b"abc", 2, "line 1 column 3"),
        (b"a\nbc", 2, "line 2 column 1"),
        (b"a\nb\n\ncd", 6, "line 4 column 2"),
        (b"a\n", 2, "line 2 column 1"),
    ],
)
def test_line_column(text: bytes, offset: int, want: str) -> None:
    assert line_column(text, offset) == want


@pytest.mark.parametrize("fixture", ["chrome.har", "mitmproxy.har", "playwright.har", "fiddler.har"])
def test_cut_anywhere_yields_a_prefix_and_never_a_traceback(tmp_path: Path, fixture: str) -> None:
    data = (FIXTURES / fixture).read_bytes()
    full = [(m.method, m.url) for m in read(FIXTURES / fixture)[0]]
    path = tmp_path / fixture
    for cut in range(1, len(data), max(1, len(data) // 97)):
        path.write_bytes(data[:cut])
        try:
            messages, warnings = read(path)
        except InputError as err:
            assert "\n" not in str(err)
            continue
        got = [(m.method, m.url) for m in messages]
        assert got == full[: len(got)], cut
        cuts = [w for w in warnings if "the file ends" in w]
        others = [w for w in warnings if "non-UTF-8 bytes in the URL or a header" not in w]
        assert len(cuts) == 1 and others == cuts, (cut, warnings)


def test_corrupt_bytes_never_escape_as_anything_but_input_error(tmp_path: Path) -> None:
    import random

    data = (FIXTURES / "chrome.har").read_bytes()
    rng = random.Random(7)
    path = tmp_path / "corrupt.har"
    for _ in range(150):
        corrupt = bytearray(data)
        for _ in range(rng.randrange(1, 4)):
            corrupt[rng.randrange(len(corrupt))] = rng.choice(b'{}[],:"\\\x00\xff\xe9 ax')
        path.write_bytes(bytes(corrupt))
        try:
            read(path)
        except InputError as err:
            assert "\n" not in str(err)


@pytest.mark.parametrize(
    "text", ['{"log"', '{"log": ', '{"log": {"entries": ', '{"log": {"version": "1.2", ']
)
def test_cut_in_the_outline_is_reported_as_truncation(tmp_path: Path, text: str) -> None:
    path = write_text(tmp_path / "c.har", text)
    with pytest.raises(InputError) as err:
        open_capture(str(path), [])
    assert str(err.value).endswith(": the file ends before the first entry (truncated?)")


def test_lone_surrogate_repair_grows_its_window_for_large_entries(tmp_path: Path) -> None:
    big_body = "\udcff" + "x" * 3_000_000  # the entry is larger than the first 1 MB window
    doc = har(
        entry(url=f"{API}/one", response={"status": 200, "content": {"text": big_body}}),
        entry(url=f"{API}/two", response={"status": 200, "headers": [{"name": "Access-Control-Allow-Origin", "value": "\udcff"}]}),
    )
    messages, warnings = read(write_text(tmp_path / "big.har", json.dumps(doc)))
    assert [m.url for m in messages] == [f"{API}/one", f"{API}/two"]
    assert messages[1].response_headers.get("access-control-allow-origin") == "\ufffd"
    assert warnings == [
        f"{tmp_path}/big.har: entry 1: non-UTF-8 bytes in the URL or a header; replaced with U+FFFD"
    ]


def test_corrupt_gzip_and_text_that_looks_like_zlib(tmp_path: Path) -> None:
    gz = tmp_path / "capture.har.gz"
    gz.write_bytes(gzip.compress(b'{"log": {"entries": []}}')[:12])
    with pytest.raises(InputError, match=r"capture\.har\.gz: byte 0: gzip data is corrupt \("):
        open_capture(str(gz), [])
    text = tmp_path / "notes.txt"
    text.write_bytes(b"x^2 + y^2")  # 0x78 0x5e is also how a zlib stream starts
    with pytest.raises(InputError, match=r"found text that is not JSON\)$"):
        open_capture(str(text), [])


# --- runs: many entries per typed decode ----------------------------------------------------------


def _cursor_on_entry(data: bytes, index: int) -> tuple[har_reader._Walker, har_reader._Runs]:
    """A walker on entry `index` (>= 2) of `data`, and runs that learned the boundary after entry 0."""
    walker = har_reader._Walker(data, data.index(b"[", data.index(b'"entries"')) + 1)
    runs = har_reader._Runs(1, 1 << 20)
    for i in range(index):
        walker.skip_ws()
        walker.read_value()
        end = walker.pos
        assert walker.expect(b",")
        walker.skip_ws()
        if i == 0:
            runs.learn(data, end, walker.pos)
    return walker, runs


@pytest.mark.parametrize("indent", [None, 2, 4], ids=["compact", "indent 2", "indent 4"])
@pytest.mark.parametrize(("entries_long", "urls"), [(0, ["/2"]), (1.5, ["/2", "/3"]), (50, None)])
def test_a_run_is_whole_entries_and_ends_right_after_one(
    indent: int | None, entries_long: float, urls: list[str] | None
) -> None:
    """A run covers at least `run` bytes and stops after the entry that reaches that far."""
    entries = [entry(url=f"{API}/{i}", response={"status": 200, "content": {"text": "x" * 60}}) for i in range(6)]
    data = json.dumps(har(*entries), indent=indent).encode()
    walker, runs = _cursor_on_entry(data, 2)
    probe = har_reader._Walker(data, walker.pos)
    size = len(probe.read_value())  # every entry here is as long as this one
    runs.run = max(1, int(size * entries_long))
    got = runs.read(walker)
    if urls is None:  # no boundary that far: the last stretch is read entry by entry
        assert got is None
        return
    assert got is not None
    assert [e.request.url for e in got if e.request] == [f"{API}{u}" for u in urls]
    assert data[walker.pos - 1 : walker.pos] == b"}"
    assert walker.expect(b",")
    walker.skip_ws()
    following = har_reader.ENTRY.decode(walker.read_value())  # the cursor is on the next entry
    assert following.request is not None and following.request.url == f"{API}/{2 + len(urls)}"


def test_a_boundary_look_alike_inside_an_entry_fails_the_run_and_the_slow_path_reads_it(tmp_path: Path) -> None:
    """Inner objects that open with the entries' first key: the marker matches inside entry 3."""
    inner = [{"startedDateTime": "a"}, {"startedDateTime": "b"}]
    entries = [entry(url=f"{API}/{i}", _inner=inner if i == 3 else []) for i in range(6)]
    data = json.dumps(har(*entries)).encode()
    walker, runs = _cursor_on_entry(data, 3)
    start = walker.pos
    assert runs.read(walker) is None
    assert walker.pos == start  # nothing consumed
    assert start < runs.resume_at < data.index(f"{API}/4".encode())  # the stretch up to the cut
    messages, warnings = read(write(tmp_path, har(*entries)))
    assert [m.url for m in messages] == [f"{API}/{i}" for i in range(6)] and warnings == []


def test_entries_of_another_shape_get_no_run_until_past_the_search(tmp_path: Path) -> None:
    """Key order changes after entry 1: the marker is never found; runs stay off for that stretch."""
    entries: list[dict[str, object]] = [entry(url=f"{API}/0"), entry(url=f"{API}/1")]
    entries += [{"request": {"method": "GET", "url": f"{API}/{i}", "headers": []}} for i in range(2, 6)]
    data = json.dumps(har(*entries)).encode()
    walker, runs = _cursor_on_entry(data, 2)
    runs.search = 64
    assert runs.read(walker) is None
    assert runs.resume_at == walker.pos + 1 + 64
    assert runs.read(walker) is None  # no second search before the slow path got past it
