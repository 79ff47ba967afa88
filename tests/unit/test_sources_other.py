"""The addon's JSONL capture, mitmproxy flow files, and format sniffing by content."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import msgspec
import pytest
from mitmproxy import io as mitmproxy_io
from mitmproxy.test import tflow

from cors_audit.errors import InputError
from cors_audit.model import Headers, Message, Source
from cors_audit.redact import redact_url
from cors_audit.sources import open_capture, tolerant
from cors_audit.sources.capture import CAPTURE_VERSION, header_line, message_to_record, record_to_message
from cors_audit.sources.mitm import flow_to_message

APP = "https://app.example.test"
API = "https://api.example.test"
HAR_FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "har"


def read(path: Path | str) -> tuple[list[Message], list[str]]:
    """Messages and problem lines; a damaged file's first damage (the CLI's error line) leads them."""
    warnings: list[str] = []
    return list(tolerant(open_capture(str(path), warnings), warnings)), warnings


def message(**fields: object) -> Message:
    base: dict[str, object] = {
        "id": "live#1",
        "started": 1714550401.25,
        "method": "PUT",
        "url": f"{API}/items/7?token=s3cret&page=2",
        "request_headers": Headers(
            [
                ("Origin", APP),
                ("Cookie", "sid=abc; theme=dark"),
                ("Authorization", "Bearer xyz"),
                ("X-Custom", "1"),
            ]
        ),
        "status": 200,
        "response_headers": Headers(
            [
                ("Access-Control-Allow-Origin", APP),
                ("Set-Cookie", "sid=new; Path=/"),
                ("Vary", "Origin"),
                ("Vary", "Accept"),
            ]
        ),
        "error": None,
        "initiator": "fetch",
        "page_url": f"{APP}/?session=abc",
        "from_cache": False,
        "source": Source(file="live", flow_id="f-1"),
    }
    base.update(fields)
    return Message(**base)  # type: ignore[arg-type]


def capture_file(tmp_path: Path, *lines: bytes, name: str = "capture.jsonl") -> Path:
    path = tmp_path / name
    path.write_bytes(header_line(redact=True, created=1714550400.0) + b"".join(lines))
    return path


# --- the JSONL capture ----------------------------------------------------------------------------


def test_header_line_names_the_format() -> None:
    line = header_line(redact=False, created=1.5)
    assert line.endswith(b"\n") and line.count(b"\n") == 1
    header = json.loads(line)
    assert header["cors_audit_capture"] == CAPTURE_VERSION == 1
    assert header["tool"] == "cors-audit" and header["created"] == 1.5 and header["redacted"] is False


def test_record_is_one_line_and_round_trips_without_redaction(tmp_path: Path) -> None:
    original = message()
    record = message_to_record(original, redact=False)
    assert record.endswith(b"\n") and record.count(b"\n") == 1

    (back,), warnings = read(capture_file(tmp_path, record))

    assert warnings == []
    assert back.id == f"{tmp_path}/capture.jsonl#2"
    assert back.source == Source(file=str(tmp_path / "capture.jsonl"), index=2, flow_id="f-1")
    for field in (
        "started",
        "method",
        "url",
        "request_headers",
        "status",
        "response_headers",
        "error",
        "initiator",
        "page_url",
        "from_cache",
    ):
        assert getattr(back, field) == getattr(original, field), field


def test_redaction_keeps_header_names_and_cookie_presence() -> None:
    record = json.loads(message_to_record(message(), redact=True))
    request = dict(record["request_headers"])
    assert request["Cookie"] == "sid=[redacted]; theme=[redacted]"  # present: credentials are still inferable
    assert request["Authorization"] == "Bearer [redacted]"
    assert request["Origin"] == APP and request["X-Custom"] == "1"
    assert dict(record["response_headers"])["Set-Cookie"] == "sid=[redacted]; Path=/"
    assert "s3cret" not in record["url"] and "page=2" in record["url"]
    assert "abc" not in record["page_url"]


def test_redacted_location_still_matches_the_redacted_next_hop() -> None:
    hop1 = message(status=302, response_headers=Headers([("Location", f"{API}/next?code=abc")]))
    hop2 = message(url=f"{API}/next?code=abc")
    location = dict(json.loads(message_to_record(hop1, redact=True))["response_headers"])["Location"]
    assert location == json.loads(message_to_record(hop2, redact=True))["url"]
    assert "abc" not in location


@pytest.mark.parametrize(
    ("fields", "kept"),
    [
        ({"status": None, "error": "Connection refused", "response_headers": Headers()}, ("status", "error")),
        ({"from_cache": True, "initiator": None, "page_url": None}, ("from_cache", "initiator", "page_url")),
        ({"status": 0}, ()),
    ],
)
def test_absent_and_false_fields_survive_the_round_trip(
    tmp_path: Path, fields: dict[str, object], kept: tuple[str, ...]
) -> None:
    original = message(**fields)
    (back,), _ = read(capture_file(tmp_path, message_to_record(original, redact=False)))
    for field in kept:
        assert getattr(back, field) == getattr(original, field)
    assert back.status == (original.status or None)


def test_lone_surrogates_from_mitmproxy_headers_are_written_as_replacement_characters(tmp_path: Path) -> None:
    original = message(response_headers=Headers([("X-Latin", "caf\udce9")]))
    record = message_to_record(original, redact=False)
    (back,), _ = read(capture_file(tmp_path, record))
    assert back.response_headers.get("x-latin") == "caf\ufffd"


def test_line_cut_by_a_crash_is_skipped_and_the_rest_kept(tmp_path: Path) -> None:
    good = message_to_record(message(), redact=True)
    path = capture_file(tmp_path, good, good, good[:40])
    messages, warnings = read(path)
    assert [m.id for m in messages] == [f"{path}#2", f"{path}#3"]
    assert warnings == [f"{path}: line 4: last line is incomplete (capture cut off mid-write?); line skipped"]


def test_last_line_without_newline_but_complete_is_kept(tmp_path: Path) -> None:
    good = message_to_record(message(), redact=True)
    messages, warnings = read(capture_file(tmp_path, good, good[:-1]))
    assert len(messages) == 2 and warnings == []


def test_bad_lines_in_the_middle_are_skipped_one_warning_per_kind(tmp_path: Path) -> None:
    good = message_to_record(message(), redact=True)
    path = capture_file(tmp_path, good, b"{oops\n", b'{"started": 1}\n', b'{"started": 2}\n', b"\n", good)
    messages, warnings = read(path)
    assert [m.source.index for m in messages] == [2, 7]
    assert (
        warnings[0] == f"{path}: line 3: invalid JSON (object keys must be strings at column 2); line skipped"
    )
    assert warnings[1].startswith(
        f"{path}: line 4: not a capture record (Object missing required field `method`)"
    )
    assert warnings[1].endswith("; line skipped (and 1 more like it)")
    assert len(warnings) == 2


def test_capture_with_only_its_header_is_empty_not_an_error(tmp_path: Path) -> None:
    path = capture_file(tmp_path)
    assert read(path) == ([], [f"{path}: no messages: the capture is empty"])


def test_capture_where_no_line_is_usable_is_an_input_error(tmp_path: Path) -> None:
    path = capture_file(tmp_path, b'{"started": 1}\n')
    with pytest.raises(InputError) as err:
        read(path)
    assert str(err.value) == (
        f"{path}: line 2: no usable record: not a capture record (Object missing required field `method`); line skipped"
    )


def test_capture_from_a_newer_version_is_refused_at_open(tmp_path: Path) -> None:
    path = tmp_path / "capture.jsonl"
    path.write_bytes(b'{"cors_audit_capture": 2}\n')
    with pytest.raises(InputError) as err:
        open_capture(str(path), [])
    assert str(err.value) == (
        f"{path}: line 1: capture format 2 is newer than this cors-audit understands (1); upgrade cors-audit"
    )


def test_record_to_message_accepts_a_decoded_object_and_names_the_line_when_wrong() -> None:
    obj = json.loads(message_to_record(message(), redact=False))
    got = record_to_message(obj, "c.jsonl", 9)
    assert (got.method, got.status, got.source.index) == ("PUT", 200, 9)
    with pytest.raises(InputError, match=r"^c\.jsonl: line 9: not a capture record \("):
        record_to_message({"method": "GET"}, "c.jsonl", 9)


# --- mitmproxy flow files -------------------------------------------------------------------------


def flows_file(tmp_path: Path, flows: list[object], name: str = "dump.flows") -> Path:
    path = tmp_path / name
    with path.open("wb") as f:
        writer = mitmproxy_io.FlowWriter(f)
        for flow in flows:
            writer.add(flow)  # type: ignore[arg-type]
    return path


def cors_flow() -> object:
    flow = tflow.tflow(resp=True)
    flow.request.headers["Origin"] = APP
    flow.response.headers["Access-Control-Allow-Origin"] = APP
    return flow


def test_flow_file_http_flows_only_with_errors_and_missing_responses(tmp_path: Path) -> None:
    ok = cors_flow()
    failed = tflow.tflow(err=True)
    unanswered = tflow.tflow()
    path = flows_file(tmp_path, [ok, tflow.ttcpflow(), failed, unanswered])

    messages, warnings = read(path)

    assert [(m.source.index, m.status, m.error) for m in messages] == [
        (0, 200, None),
        (2, None, "error"),
        (3, None, None),
    ]
    assert [m.source.flow_id for m in messages] == [ok.id, failed.id, unanswered.id]
    assert messages[0].request_headers.get("origin") == APP
    assert messages[0].response_headers.get("access-control-allow-origin") == APP
    assert messages[0].url == ok.request.pretty_url and messages[0].started == ok.request.timestamp_start
    assert warnings == []


def test_flow_with_non_utf8_header_bytes_warns(tmp_path: Path) -> None:
    flow = cors_flow()
    flow.response.headers[b"X-Latin"] = b"caf\xe9"
    messages, warnings = read(flows_file(tmp_path, [flow]))
    assert messages[0].response_headers.get("x-latin") == "caf\ufffd"
    assert warnings == [
        f"{tmp_path}/dump.flows: flow 0: header X-Latin: bytes that are not UTF-8; replaced with U+FFFD"
    ]


def test_truncated_flow_file_keeps_the_complete_flows(tmp_path: Path) -> None:
    path = flows_file(tmp_path, [cors_flow(), cors_flow(), cors_flow()])
    data = path.read_bytes()
    path.write_bytes(data[: len(data) - 50])
    messages, warnings = read(path)
    assert len(messages) == 2
    assert warnings == [
        f"{path}: flow 2: cannot read (Invalid data format.); stopped reading, the 2 flows before it were read (file truncated?)"
    ]


def test_flow_file_with_only_tcp_flows_says_so(tmp_path: Path) -> None:
    path = flows_file(tmp_path, [tflow.ttcpflow(), tflow.ttcpflow()])
    assert read(path) == ([], [f"{path}: no HTTP flows among the 2 flows (TCP, UDP or DNS only)"])


def test_flow_file_cut_inside_the_first_flow_is_an_input_error(tmp_path: Path) -> None:
    path = flows_file(tmp_path, [cors_flow()])
    path.write_bytes(path.read_bytes()[:-30])
    with pytest.raises(InputError) as err:
        open_capture(str(path), [])
    assert str(err.value) == f"{path}: flow 0: not a mitmproxy flow file (Invalid data format.)"


def test_garbage_that_looks_like_a_flow_file_is_an_input_error(tmp_path: Path) -> None:
    path = tmp_path / "dump.flows"
    path.write_bytes(b"12:not a tnetstring at all")
    with pytest.raises(InputError) as err:
        open_capture(str(path), [])
    assert str(err.value) == f"{path}: flow 0: not a mitmproxy flow file (Invalid data format.)"


def test_connect_flow_becomes_an_https_url() -> None:
    flow = tflow.tflow(resp=True)
    flow.request.method = "CONNECT"
    flow.request.authority = "api.example.test:443"
    flow.request.host, flow.request.port = "api.example.test", 443
    got = flow_to_message(flow, "live", 4)
    assert (got.method, got.url, got.id) == ("CONNECT", "https://api.example.test:443/", "live#4")


# --- sniffing by content, not by name -------------------------------------------------------------


def test_formats_are_recognised_by_content_whatever_the_name(tmp_path: Path) -> None:
    shutil.copy(HAR_FIXTURES / "chrome.har", tmp_path / "really-a-har.jsonl")
    capture = capture_file(tmp_path, message_to_record(message(), redact=True), name="really-a-capture.har")
    flows = flows_file(tmp_path, [cors_flow()], name="really-flows.har")

    assert len(read(tmp_path / "really-a-har.jsonl")[0]) == 8
    assert read(capture)[0][0].method == "PUT"
    assert read(flows)[0][0].status == 200


def test_capture_with_a_bom_is_still_a_capture(tmp_path: Path) -> None:
    path = tmp_path / "bom.jsonl"
    path.write_bytes(b"\xef\xbb\xbf" + header_line(redact=True) + message_to_record(message(), redact=True))
    assert len(read(path)[0]) == 1


def test_record_struct_is_what_the_decoder_produces() -> None:
    from cors_audit.sources.capture import Record

    record = msgspec.json.decode(message_to_record(message(), redact=False), type=Record)
    assert record.flow_id == "f-1" and record.request_headers[0] == ("Origin", APP)


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://a.example/p?page=2", "https://a.example/p?page=2"),
        ("https://a.example/p?access_token=abc&page=2", "https://a.example/p?access_token=[redacted]&page=2"),
        ("https://a.example/p?SID=1", "https://a.example/p?SID=[redacted]"),
        ("https://u:pw@a.example/p", "https://u:redacted@a.example/p"),
        ("https://u@a.example/p", "https://u@a.example/p"),
        # urlsplit deletes tabs and newlines first: the name it sees is "token"
        ("https://a.example/p?tok\ten=1", "https://a.example/p?token=[redacted]"),
        ("https://a.example/p#x?token=1", "https://a.example/p#x?token=1"),  # in the fragment: not a query
        ("https://a.example/p?q=1#token", "https://a.example/p?q=1#token"),
        ("https://a.example/p", "https://a.example/p"),
    ],
)
def test_redact_url(url: str, expected: str) -> None:
    assert redact_url(url) == expected


@pytest.mark.parametrize(
    ("lines", "name", "expected"),
    [
        ([("Origin", " https://a.example\t")], "origin", "https://a.example"),
        ([("Vary", "Origin"), ("X", "1"), ("vary", "Accept")], "vary", "Origin, Accept"),
        ([("X", "1")], "origin", None),
        ([], "origin", None),
    ],
)
def test_peek_reads_like_get_without_building_the_lookup_table(
    lines: list[tuple[str, str]], name: str, expected: str | None
) -> None:
    headers = Headers(lines)
    assert headers.peek(name) == expected
    assert headers._index is None  # nothing built: the message stays as small as slim left it
    assert headers.get(name) == expected and headers.peek(name) == expected  # and with the table
