"""Active confirmation end to end: `cors-audit probe` and `report --probe` against real local servers with
known-broken origin checks, and the addon's `cors_audit_probe` through a real mitmdump.

Given a hand-written Python server (one broken check per path, an https port, and a canary port that must
never be contacted), an Express app with the `cors` package configured with RegExp origins and a Starlette
app with `allow_origin_regex`; when cors-audit probes them; then every flaw is found with the right rule
id, the correct allowlists get nothing, and the servers' own request logs show that only the URLs given
were contacted, only with OPTIONS and GET, labelled, and never faster than the rate limit.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import shutil
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from cors_audit.cli import ExitStatus, main
from cors_audit.probe import USER_AGENT_TOKEN
from tests.e2e.harness import SERVERS, Mitmdump, free_port, serve

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "addons" / "cors_audit.py"
SARIF_SCHEMA = Path(__file__).parents[1] / "fixtures" / "sarif-schema-2.1.0.json"
TRUSTED = "https://app.example.com"
RATE = 60.0
"""Requests per second per host for the big run (every lab server is on 127.0.0.1: one bucket)."""
WINDOW = 5.0
JITTER = 0.5
"""Seconds of scheduling delay between the client sending and a server logging, tolerated in the rate check."""

# (server, path, the rule ids the flaw must be reported as; empty: a correct configuration)
FLAWS: list[tuple[str, str, set[str]]] = [
    ("lab", "/prefix/data", {"prefix-match"}),
    ("lab", "/startswith/data", {"prefix-match"}),
    ("lab", "/suffix/data", {"suffix-match"}),
    ("lab", "/dot/data", {"unescaped-dot"}),
    ("lab", "/contains/data", {"substring-match"}),
    ("lab", "/reverse/data", {"substring-match"}),
    ("lab", "/special/data", {"special-char-bypass"}),
    ("lab", "/subdomain/data", {"arbitrary-subdomain"}),
    ("lab", "/null/data", {"null-origin-trusted"}),
    ("lab", "/reflect/data", {"reflected-origin-credentials", "null-origin-trusted"}),
    ("lab", "/control/data", set()),
    ("lab", "/redirect/data", set()),
    ("lab-tls", "/insecure/data", {"insecure-origin-trusted"}),
    ("express", "/prefix/data", {"prefix-match"}),
    ("express", "/suffix/data", {"suffix-match"}),
    ("express", "/dot/data", {"unescaped-dot"}),
    ("express", "/control/data", set()),
    ("starlette", "/subdomain/data", {"arbitrary-subdomain"}),
    ("starlette", "/dot/data", {"unescaped-dot"}),
    ("starlette", "/suffix/data", {"suffix-match"}),
    ("starlette", "/control/data", set()),
]
MATCHING = {"prefix-match", "suffix-match", "unescaped-dot", "substring-match", "special-char-bypass",
            "arbitrary-subdomain"}  # fmt: skip


@dataclass
class Lab:
    """The running servers: their origins and the request logs they write (one JSON line per request)."""

    origins: dict[str, str]
    logs: list[Path]
    express: bool
    marks: dict[Path, int] = field(default_factory=dict)

    def url(self, server: str, path: str) -> str:
        return self.origins[server] + path

    def mark(self) -> None:
        """Remember how far each log is: `requests()` then returns only what came after."""
        self.marks = {log: len(_lines(log)) for log in self.logs}

    def requests(self) -> list[dict[str, Any]]:
        out = []
        for log in self.logs:
            out += [json.loads(line) for line in _lines(log)[self.marks.get(log, 0) :]]
        return sorted(out, key=lambda r: r["time"])


def _lines(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8").splitlines() if path.exists() else []


def _node_ready() -> bool:
    return shutil.which("node") is not None and (SERVERS / "node_modules" / "cors").is_dir()


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    tmp = tmp_path_factory.mktemp("probe-lab")
    ports = {name: free_port() for name in ("lab", "lab-tls", "canary", "express", "starlette")}
    origins = {name: f"http://127.0.0.1:{port}" for name, port in ports.items()}
    origins["lab-tls"] = f"https://127.0.0.1:{ports['lab-tls']}"
    logs = {name: tmp / f"{name}.jsonl" for name in ("lab", "express", "starlette")}
    python = sys.executable
    express = _node_ready()
    with contextlib.ExitStack() as stack:
        stack.enter_context(
            serve(
                [python, "probe_lab.py", str(logs["lab"]), str(ports["lab"]), str(ports["lab-tls"]),
                 str(ports["canary"]), str(tmp / "cert")],
                [ports["lab"], ports["lab-tls"], ports["canary"]],
                tmp / "lab.out",
            )
        )  # fmt: skip
        stack.enter_context(
            serve([python, "probe_starlette.py", str(ports["starlette"]), str(logs["starlette"])],
                   [ports["starlette"]], tmp / "starlette.out")
        )  # fmt: skip
        if express:
            stack.enter_context(
                serve(["node", "probe_express.js", str(ports["express"]), str(logs["express"])],
                       [ports["express"]], tmp / "express.out")
            )  # fmt: skip
        yield Lab(origins, list(logs.values()), express)


@dataclass
class Probed:
    """One `cors-audit probe` run over every lab URL: its exit status, JSON report and what the servers saw."""

    status: int
    report: dict[str, Any]
    urls: list[str]
    seen: list[dict[str, Any]]
    sarif: dict[str, Any]

    def rules(self, url: str) -> dict[str, str]:
        target = urlsplit(url)
        endpoint = f"{target.scheme}://{target.netloc}{target.path}"
        return {f["rule"]: f["severity"] for f in self.report["findings"] if f["target"] == endpoint}


@pytest.fixture(scope="module")
def probed(lab: Lab, tmp_path_factory: pytest.TempPathFactory) -> Probed:
    tmp = tmp_path_factory.mktemp("probe-run")
    urls = [lab.url(server, path) for server, path, _ in FLAWS if server != "express" or lab.express]
    lab.mark()
    argv = ["probe", *urls, "--trusted-origin", TRUSTED, "--rate", f"{RATE:g}/s", "--insecure",
            "--json", str(tmp / "probe.json"), "--sarif", str(tmp / "probe.sarif"), "--fail-on", "high", "-q"]  # fmt: skip
    status = main(argv)
    report = json.loads((tmp / "probe.json").read_text())
    sarif = json.loads((tmp / "probe.sarif").read_text())
    return Probed(status, report, urls, lab.requests(), sarif)


@pytest.mark.parametrize(("server", "path", "expected"), FLAWS, ids=[f"{s}{p}" for s, p, _ in FLAWS])
def test_each_flaw_is_confirmed_with_its_rule_and_the_controls_get_nothing(
    lab: Lab, probed: Probed, server: str, path: str, expected: set[str]
) -> None:
    if server == "express" and not lab.express:
        pytest.skip("node or tests/e2e/servers/node_modules missing (make node)")
    url = lab.url(server, path)
    found = probed.rules(url)
    assert set(found) == expected, f"{url}: {found}"
    # every lab server sends credentials with what it grants: the matching flaws rank high
    assert all(severity == "high" for rule, severity in found.items() if rule in MATCHING)


def test_the_run_reports_like_any_audit(probed: Probed) -> None:
    import jsonschema

    assert probed.status == ExitStatus.FINDINGS  # --fail-on high, and high findings exist
    assert probed.report["probe"] is True and probed.report["warnings"] == []
    assert {f["confidence"] for f in probed.report["findings"]} == {"confirmed"}
    jsonschema.Draft4Validator(json.loads(SARIF_SCHEMA.read_text("utf-8"))).validate(probed.sarif)
    results = probed.sarif["runs"][0]["results"]
    assert {r["ruleId"] for r in results} >= {"prefix-match", "special-char-bypass", "substring-match"}


def test_nothing_outside_the_given_urls_was_contacted(lab: Lab, probed: Probed) -> None:
    allowed = {(urlsplit(u).netloc, urlsplit(u).path) for u in probed.urls}
    seen = {(r["host"], r["path"]) for r in probed.seen}
    assert seen <= allowed, seen - allowed
    assert seen == allowed  # and every URL given was probed
    assert not [r for r in probed.seen if r["server"] == "canary"]  # the redirect target: never followed
    assert {r["method"] for r in probed.seen} == {"OPTIONS", "GET"}
    assert all(USER_AGENT_TOKEN in (r["user_agent"] or "") for r in probed.seen)


def test_the_rate_limit_held_per_host(probed: Probed) -> None:
    """All lab servers listen on 127.0.0.1, one host: their logs together never show more than the rate."""
    times = [r["time"] for r in probed.seen]
    assert len(times) > RATE * WINDOW  # enough traffic for the check to mean something
    worst = max(_in_window(times, start) for start in range(len(times)))
    assert worst <= RATE * (WINDOW + JITTER) + 1, f"{worst} requests within {WINDOW} s"


def _in_window(times: list[float], start: int) -> int:
    end = start
    while end < len(times) and times[end] < times[start] + WINDOW:
        end += 1
    return end - start


def _real_exchange(url: str, origin: str) -> dict[str, Any]:
    """One real cross-origin GET to the lab, as the addon's capture would record it."""
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=10)
    request_headers = [("Origin", origin), ("Sec-Fetch-Mode", "cors"), ("Sec-Fetch-Site", "cross-site"),
                       ("User-Agent", "Mozilla/5.0 Chrome/156")]  # fmt: skip
    try:
        connection.request(
            "GET", parts.path + (f"?{parts.query}" if parts.query else ""), headers=dict(request_headers)
        )
        response = connection.getresponse()
        response.read()
    finally:
        connection.close()
    return {
        "started": time.time(),
        "method": "GET",
        "url": url,
        "request_headers": [[n, v] for n, v in request_headers],
        "status": response.status,
        "response_headers": [[n, v] for n, v in response.getheaders()],
        "initiator": "fetch",
    }


def test_report_probe_confirms_what_the_capture_shows_and_adds_what_it_cannot(
    lab: Lab, tmp_path: Path
) -> None:
    if not lab.express:
        pytest.skip("node or tests/e2e/servers/node_modules missing (make node)")
    lab_base = lab.origins["lab"]
    outside = lab.origins["express"].replace("127.0.0.1", "localhost")  # another host name: out of --scope
    traffic = [
        (f"{lab_base}/null/data", "null"),  # a sandboxed iframe: the capture already shows ACAO null
        (f"{lab_base}/prefix/data?token=s3cret", TRUSTED),  # the capture shows only the legitimate origin
        (f"{lab_base}/control/data", TRUSTED),
        (f"{outside}/prefix/data", TRUSTED),
    ]
    capture = tmp_path / "capture.jsonl"
    records = [{"cors_audit_capture": 1, "redacted": True}] + [_real_exchange(u, o) for u, o in traffic]
    capture.write_text("".join(json.dumps(r) + "\n" for r in records))
    lab.mark()
    out = tmp_path / "report.json"
    status = main(["report", str(capture), "--probe", "--scope", r"^127\.0\.0\.1$", "--rate", "100",
                   "--json", str(out), "-q"])  # fmt: skip
    probes = [r for r in lab.requests() if USER_AGENT_TOKEN in (r["user_agent"] or "")]
    assert status == 0
    report = json.loads(out.read_text())
    assert report["probe"] is True
    by_target: dict[str, list[tuple[str, str]]] = {}
    for finding in report["findings"]:
        by_target.setdefault(finding["target"], []).append((finding["rule"], finding["confidence"]))
    assert by_target == {
        f"{lab_base}/null/data": [("null-origin-trusted", "confirmed")],  # upgraded, not duplicated
        f"{lab_base}/prefix/data": [("prefix-match", "confirmed")],  # derived from the captured Origin
    }
    assert {(r["server"], r["path"]) for r in probes} == {
        ("lab", "/null/data"),
        ("lab", "/prefix/data"),  # no query: the captured token is not replayed
        ("lab", "/control/data"),
    }
    assert all(r["host"] == lab_base.removeprefix("http://") for r in probes)


@pytest.fixture
def unbuffered(monkeypatch: pytest.MonkeyPatch) -> None:
    """mitmdump's log reaches its file as it is written (the test waits for a line)."""
    monkeypatch.setenv("PYTHONUNBUFFERED", "1")


def test_the_addon_probes_in_scope_endpoints_in_the_background(
    lab: Lab, tmp_path: Path, unbuffered: None
) -> None:
    reports = tmp_path / "reports"
    log = tmp_path / "mitmdump.log"
    lab_base = lab.origins["lab"]
    proxy = Mitmdump(
        extra_args=["-s", str(SCRIPT)],
        options={
            "cors_audit_dir": str(reports),
            "cors_audit_probe": "true",
            "cors_audit_scope": r"^127\.0\.0\.1$",
        },
        log=log,
        cwd=tmp_path,
    )
    lab.mark()
    with proxy:
        host, proxy_port = "127.0.0.1", proxy.port
        for path, headers in (
            ("/prefix/data?page=1", {"Origin": TRUSTED, "Sec-Fetch-Mode": "cors"}),  # probed once...
            ("/prefix/data?page=2", {"Origin": TRUSTED, "Sec-Fetch-Mode": "cors"}),  # ...same endpoint
            ("/control/data", {}),  # no Origin: not CORS, not probed
        ):
            connection = http.client.HTTPConnection(host, proxy_port, timeout=10)
            connection.request("GET", lab_base + path, headers=headers)
            assert connection.getresponse().status == 200
            connection.close()
        deadline = time.monotonic() + 120
        while "cors-audit: probed" not in log.read_text(errors="replace"):
            assert time.monotonic() < deadline, log.read_text(errors="replace")[-2000:]
            time.sleep(0.2)
    text = log.read_text(errors="replace")
    [capture] = reports.glob("cors-audit-*.jsonl")
    report = json.loads(capture.with_suffix(".json").read_text())
    assert report["probe"] is True
    assert [(f["rule"], f["target"], f["confidence"]) for f in report["findings"]] == [
        ("prefix-match", f"{lab_base}/prefix/data", "confirmed")
    ]
    seen = lab.requests()
    probes = [r for r in seen if USER_AGENT_TOKEN in (r["user_agent"] or "")]
    assert {r["path"] for r in probes} == {"/prefix/data"} and {r["method"] for r in probes} == {
        "OPTIONS",
        "GET",
    }
    captured = [json.loads(line) for line in capture.read_text().splitlines()[1:]]
    assert len(captured) == 2 and all(USER_AGENT_TOKEN not in json.dumps(c) for c in captured)
    assert "probed 1 of 1 endpoints" in text
