"""Active confirmation (`cors_audit.probe`): the catalogue, the judge, the rate limiter, scope, dry run,
the merge into an Audit, the sender against real loopback sockets, the CLI and the addon's worker.

The judge is tested against servers written as plain origin checks (the broken ones real code has:
`startswith`, `endswith`, unescaped regex dots, `in`, lax host parsers); each row says, by hand, which
flaw the check has. The fake transport answers every probe request the way such a server would.
"""

from __future__ import annotations

import contextlib
import http.server
import json
import re
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import jsonschema
import pytest

from cors_audit import cli, probe
from cors_audit.cli import ExitStatus, main
from cors_audit.model import Audit, Exchange, Finding, Headers, Message, Severity, Verdict
from cors_audit.probe import (
    SPECIAL_CHARACTERS,
    USER_AGENT_TOKEN,
    Prober,
    ProbeRequest,
    ProbeResult,
    RateLimiter,
    Runner,
    Settings,
    Target,
    TokenBucket,
)
from cors_audit.report.json_out import audit_to_dict

SCHEMA = json.loads((Path(__file__).parents[1] / "fixtures" / "report-schema-1.json").read_text())
TRUSTED = "https://app.example.com"
HTTP_API = "http://api.example.com/v1/items/42"
HTTPS_API = "https://api.example.com/v1/items/42"

Check = Callable[[str], bool]


# ---- fakes ----


def fake_server(
    check: Check, *, credentials: bool = True, preflight_status: int = 204, status: int = 200,
    preflight_only: bool = False, extra: tuple[tuple[str, str], ...] = (),
) -> Callable[[ProbeRequest, Settings], ProbeResult]:  # fmt: skip
    """A transport that answers like a server whose origin check is `check`."""

    def transport(request: ProbeRequest, settings: Settings) -> ProbeResult:
        origin = dict(request.headers)["Origin"]
        headers = [("Vary", "Origin"), *extra]
        if check(origin) and (request.is_preflight or not preflight_only):
            headers.append(("Access-Control-Allow-Origin", origin))
            if credentials:
                headers.append(("Access-Control-Allow-Credentials", "true"))
        code = preflight_status if request.is_preflight else status
        return ProbeResult(request, status=code, reason="", headers=Headers(headers))

    return transport


class NoLimit:
    def acquire(self, host: str) -> None:
        return None


def run_against(check: Check, url: str = HTTP_API, **server: Any) -> probe.TargetRun:
    target = probe.target_from_url(url, trusted=[TRUSTED])
    runner = Runner(Settings(), transport=fake_server(check, **server), limiter=NoLimit())  # type: ignore[arg-type]
    return runner.probe(target)


def rules_of(run: probe.TargetRun) -> dict[str, Severity]:
    return {f.rule: f.severity for f in run.findings}


def lax_host_parser(origin: str) -> bool:
    """The host is taken up to the first character outside [a-z0-9.-], then compared exactly."""
    match = re.match(r"https?://([a-z0-9.-]+)", origin)
    return match is not None and match.group(1) == "app.example.com"


# ---- the catalogue ----


def test_catalogue_covers_every_kind_once_per_origin() -> None:
    target = probe.target_from_url(HTTPS_API, trusted=[TRUSTED])
    probes = probe.catalogue(target)
    origins = [p.origin for p in probes]
    assert len(origins) == len(set(origins))
    assert {p.kind for p in probes} == set(probe.KINDS)
    assert [p.origin for p in probes if p.kind == "baseline"] == [TRUSTED]
    assert [p.stage for p in probes] == sorted(p.stage for p in probes)  # run order: stage by stage


def _host(origin: str) -> str:
    return urlsplit(origin).hostname or ""


def _glued(host: str, tail: str) -> bool:
    """`host` ends with `tail` with no dot before it: not a subdomain, a different registrable name."""
    return host.endswith(tail) and len(host) > len(tail) and host[-len(tail) - 1] != "."


@pytest.mark.parametrize(
    ("kind", "shape"),
    [
        ("arbitrary", lambda o: _host(o).endswith(".com") and "example" not in o),
        ("null", lambda o: o == "null"),
        ("http", lambda o: o == "http://app.example.com"),
        ("prefix", lambda o: o.startswith(TRUSTED + ".") and _host(o).count(".") >= 3),
        ("suffix", lambda o: any(_glued(_host(o), tail) for tail in ("example.com", "app.example.com"))),
        ("unescaped-dot", lambda o: o == "https://appxexample.com"),
        ("substring", lambda o: o in ("https://xample.com", "https://app.example.co")),
        ("subdomain", lambda o: _host(o).endswith((".example.com", ".app.example.com"))),
        ("third-party", lambda o: _host(o).endswith(("github.io", "codepen.io", "jsfiddle.net", "jsbin.com",
                                                     "repl.it", "webdevout.net"))),
        ("localhost", lambda o: _host(o) in ("localhost", "127.0.0.1")),
        ("special-char", lambda o: o.startswith(TRUSTED) and o[len(TRUSTED)] not in ".:/"),
    ],
)  # fmt: skip
def test_each_probe_has_the_shape_its_kind_names(kind: str, shape: Callable[[str], bool]) -> None:
    target = probe.target_from_url(HTTPS_API, trusted=[TRUSTED])
    origins = [p.origin for p in probe.catalogue(target) if p.kind == kind]
    assert origins and all(shape(o) for o in origins), origins


def test_every_special_character_is_sent_right_after_the_trusted_host() -> None:
    target = probe.target_from_url(HTTPS_API, trusted=[TRUSTED])
    special = [p.origin for p in probe.catalogue(target) if p.kind == "special-char"]
    assert sorted(o[len(TRUSTED) :].split(".", 1)[0] for o in special) == sorted(SPECIAL_CHARACTERS)


@pytest.mark.parametrize(
    ("trusted", "look_alikes"),
    [
        ("https://www.example.co.uk", ["https://wwwxexample.co.uk"]),  # the dots of co.uk are not ours
        ("https://a.b.example.com", ["https://axb.example.com", "https://a.bxexample.com"]),
        ("https://example.com", []),  # examplexcom is no registrable name
        ("http://127.0.0.1:8080", []),  # an IP address has no look-alike
    ],
)
def test_unescaped_dot_look_alikes_are_names_an_attacker_can_register(
    trusted: str, look_alikes: list[str]
) -> None:
    target = probe.target_from_url(HTTP_API, trusted=[trusted])
    assert [p.origin for p in probe.catalogue(target) if p.kind == "unescaped-dot"] == look_alikes


@pytest.mark.parametrize(
    ("url", "trusted", "downgrade"),
    [
        (HTTPS_API, TRUSTED, True),
        (HTTP_API, TRUSTED, False),  # an http resource trusting an http origin gains the attacker nothing
        (HTTPS_API, "http://app.example.com", False),  # already http: nothing to downgrade
    ],
)
def test_the_http_downgrade_is_sent_only_to_https_resources(url: str, trusted: str, downgrade: bool) -> None:
    kinds = {p.kind for p in probe.catalogue(probe.target_from_url(url, trusted=[trusted]))}
    assert ("http" in kinds) is downgrade


@pytest.mark.parametrize(("url", "sent"), [(HTTP_API, True), ("http://127.0.0.1:8000/x", False)])
def test_localhost_origins_are_probed_only_on_non_local_servers(url: str, sent: bool) -> None:
    kinds = {p.kind for p in probe.catalogue(probe.target_from_url(url, trusted=[TRUSTED]))}
    assert ("localhost" in kinds) is sent


def test_random_labels_are_stable_per_seed_and_target() -> None:
    target = probe.target_from_url(HTTPS_API, trusted=[TRUSTED])
    other = probe.target_from_url("https://other.example.net/", trusted=[TRUSTED])
    assert probe.catalogue(target, "7") == probe.catalogue(target, "7")
    random_kinds = ("arbitrary", "prefix")
    for kind in random_kinds:
        first = {p.origin for p in probe.catalogue(target, "7") if p.kind == kind}
        assert first.isdisjoint(p.origin for p in probe.catalogue(target, "8") if p.kind == kind)
        assert first.isdisjoint(p.origin for p in probe.catalogue(other, "7") if p.kind == kind)


def test_without_a_trusted_origin_the_variants_derive_from_the_target_itself() -> None:
    target = probe.target_from_url("https://shop.example.org/api")
    prefix = [p.origin for p in probe.catalogue(target) if p.kind == "prefix"]
    assert prefix and all(o.startswith("https://shop.example.org.") for o in prefix)
    assert target.trusted == ()  # fix snippets never allow the target's own origin as a stand-in


# ---- requests ----


@pytest.mark.parametrize(
    ("method", "unsafe", "preflight_asks", "then_sent"),
    [
        ("GET", False, "GET", "GET"),
        ("HEAD", False, "HEAD", "HEAD"),
        ("PUT", False, "PUT", "GET"),  # the preflight may ask; only a GET is sent
        ("PUT", True, "PUT", "PUT"),
        ("DELETE", False, "DELETE", "GET"),
    ],
)
def test_only_options_get_and_head_are_sent_unless_unsafe_methods_are_allowed(
    method: str, unsafe: bool, preflight_asks: str, then_sent: str
) -> None:
    target = probe.target_from_url(HTTP_API, method=method)
    settings = Settings(allow_unsafe_methods=unsafe)
    preflight, actual = probe.requests_for(target, probe.catalogue(target)[0], settings)
    assert (preflight.method, dict(preflight.headers)["Access-Control-Request-Method"]) == (
        "OPTIONS",
        preflight_asks,
    )
    assert actual.method == then_sent and "Access-Control-Request-Method" not in dict(actual.headers)


def test_probe_requests_are_labeled_and_carry_the_users_headers() -> None:
    target = Target(HTTP_API, user_agent="Mozilla/5.0 Chrome/156")
    settings = Settings(headers=(("Authorization", "Bearer t0ken"), ("Cookie", "sid=1")))
    for request in probe.requests_for(target, probe.catalogue(target)[1], settings):
        headers = dict(request.headers)
        assert headers["User-Agent"] == f"Mozilla/5.0 Chrome/156 {USER_AGENT_TOKEN}"
        assert headers["Host"] == "api.example.com"
        assert headers["Origin"] == probe.catalogue(target)[1].origin
        assert (headers["Authorization"], headers["Cookie"]) == ("Bearer t0ken", "sid=1")
    own = Settings(headers=(("User-Agent", "my-scanner"),))
    request = probe.requests_for(target, probe.catalogue(target)[0], own)[0]
    assert dict(request.headers)["User-Agent"] == f"my-scanner {USER_AGENT_TOKEN}"


@pytest.mark.parametrize(
    "url", ["ftp://example.com/x", "example.com/x", "http://", "https://u:p@example.com/"]
)
def test_only_http_urls_without_credentials_are_targets(url: str) -> None:
    with pytest.raises(ValueError):
        probe.target_from_url(url)


# ---- the judge, against servers with known-broken checks ----


JUDGE_ROWS: list[tuple[str, Check, str, set[str]]] = [
    ("reflects-every-origin", lambda o: True, HTTP_API, {"reflected-origin-credentials", "null-origin-trusted"}),
    ("exact-allowlist", lambda o: o == TRUSTED, HTTPS_API, set()),
    ("startswith", lambda o: o.startswith(TRUSTED), HTTPS_API, {"prefix-match"}),
    ("prefix-regex-escaped", lambda o: bool(re.match(r"https://app\.example\.com", o)), HTTP_API, {"prefix-match"}),
    ("prefix-regex-bare-dots", lambda o: bool(re.match(r"https://app.example.com", o)), HTTP_API,
     {"prefix-match", "unescaped-dot"}),
    ("endswith-domain", lambda o: o.endswith("example.com"), HTTP_API, {"suffix-match"}),
    ("endswith-domain-on-https", lambda o: o.endswith("example.com"), HTTPS_API,
     {"suffix-match", "insecure-origin-trusted"}),  # the scheme is not checked either
    ("endswith-host", lambda o: o.endswith("app.example.com"), HTTP_API, {"suffix-match"}),
    ("regex-bare-dots", lambda o: bool(re.fullmatch(r"https://app.example.com", o)), HTTP_API, {"unescaped-dot"}),
    ("contains-host", lambda o: "app.example.com" in o, HTTP_API, {"substring-match"}),
    ("unanchored-regex", lambda o: bool(re.search(r"app\.example\.com", o)), HTTP_API, {"substring-match"}),
    ("allowlist-as-one-string", lambda o: o in "https://app.example.com https://admin.example.com", HTTP_API,
     {"substring-match"}),
    ("any-subdomain", lambda o: bool(re.fullmatch(r"https://[a-z0-9-]+\.example\.com", o)), HTTP_API,
     {"arbitrary-subdomain"}),
    ("any-subdomain-or-apex", lambda o: bool(re.fullmatch(r"https://(.+\.)?example\.com", o)), HTTP_API,
     {"arbitrary-subdomain"}),
    ("any-subdomain-of-host", lambda o: bool(re.fullmatch(r"https://([a-z0-9-]+\.)?app\.example\.com", o)),
     HTTP_API, {"arbitrary-subdomain"}),
    ("lax-host-parser", lax_host_parser, HTTP_API, {"special-char-bypass"}),
    ("null-trusted", lambda o: o in (TRUSTED, "null"), HTTP_API, {"null-origin-trusted"}),
    ("http-trusted", lambda o: o in (TRUSTED, "http://app.example.com"), HTTPS_API, {"insecure-origin-trusted"}),
    ("github-pages-trusted", lambda o: o == TRUSTED or o.endswith(".github.io"), HTTP_API,
     {"third-party-origin-trusted"}),
    ("dev-origin-trusted", lambda o: o == TRUSTED or o.startswith("http://localhost"), HTTP_API,
     {"localhost-origin-trusted"}),
]  # fmt: skip


@pytest.mark.parametrize(("name", "check", "url", "expected"), JUDGE_ROWS, ids=[row[0] for row in JUDGE_ROWS])
def test_each_broken_check_is_named_by_its_flaw(
    name: str, check: Check, url: str, expected: set[str]
) -> None:
    run = run_against(check, url)
    assert set(rules_of(run)) == expected, [(f.rule, f.evidence["origins"]) for f in run.findings]
    assert all(f.confidence == "confirmed" for f in run.findings)


def test_findings_name_the_endpoint_like_the_passive_rules() -> None:
    run = run_against(lambda o: o.startswith(TRUSTED), "https://api.example.com/v1/items/42?page=2")
    [finding] = run.findings
    assert finding.target == "https://api.example.com/v1/items/{id}"
    assert finding.confidence == "confirmed" and finding.exchanges == []


@pytest.mark.parametrize(
    ("check", "url", "server", "rule", "severity"),
    [
        (lambda o: True, HTTP_API, {}, "reflected-origin-credentials", Severity.CRITICAL),
        (lambda o: True, HTTP_API, {"credentials": False}, "reflected-origin", Severity.INFO),
        (lambda o: o.startswith(TRUSTED), HTTP_API, {}, "prefix-match", Severity.HIGH),
        (lambda o: o.startswith(TRUSTED), HTTP_API, {"credentials": False}, "prefix-match", Severity.LOW),
        (lambda o: o.startswith(TRUSTED), "http://10.1.2.3/x", {"credentials": False}, "prefix-match", Severity.MEDIUM),
        # granted only on a preflight that fails anyway (400): one step lower
        (lambda o: o.startswith(TRUSTED), HTTP_API, {"preflight_status": 400, "preflight_only": True},
         "prefix-match", Severity.MEDIUM),
        (lambda o: o in (TRUSTED, "null"), HTTP_API, {}, "null-origin-trusted", Severity.HIGH),
        (lambda o: o in (TRUSTED, "null"), HTTP_API, {"credentials": False}, "null-origin-trusted", Severity.MEDIUM),
        (lambda o: o.startswith("http://app."), HTTPS_API, {}, "insecure-origin-trusted", Severity.MEDIUM),
        # HSTS on the very host: the browser never loads http://app.example.com
        (lambda o: o.startswith("http://app."), "https://app.example.com/api", {"extra": (
            ("Strict-Transport-Security", "max-age=31536000"),)}, "insecure-origin-trusted", Severity.LOW),
    ],
)  # fmt: skip
def test_severity_is_credential_and_status_aware(
    check: Check, url: str, server: dict[str, Any], rule: str, severity: Severity
) -> None:
    assert rules_of(run_against(check, url, **server)).get(rule) == severity


def test_acac_must_be_exactly_true() -> None:
    def transport(request: ProbeRequest, settings: Settings) -> ProbeResult:
        origin = dict(request.headers)["Origin"]
        return ProbeResult(
            request,
            200,
            "",
            Headers([("Access-Control-Allow-Origin", origin), ("Access-Control-Allow-Credentials", "TRUE")]),
        )

    runner = Runner(Settings(), transport=transport, limiter=NoLimit())  # type: ignore[arg-type]
    found = rules_of(runner.probe(probe.target_from_url(HTTP_API)))
    assert found == {
        "reflected-origin": Severity.INFO,
        "null-origin-trusted": Severity.MEDIUM,
    }  # not escalated


@pytest.mark.parametrize(
    "acao",
    [
        "*",  # public, not a grant of the forged origin (the passive rules judge `*`)
        "{origin}, https://app.example.com",  # a list: the browser rejects it
        "{origin}/",  # not byte for byte
    ],
)
def test_only_an_exact_single_echo_grants(acao: str) -> None:
    def transport(request: ProbeRequest, settings: Settings) -> ProbeResult:
        value = acao.format(origin=dict(request.headers)["Origin"])
        return ProbeResult(request, 200, "", Headers([("Access-Control-Allow-Origin", value)]))

    runner = Runner(Settings(), transport=transport, limiter=NoLimit())  # type: ignore[arg-type]
    assert runner.probe(probe.target_from_url(HTTP_API, trusted=[TRUSTED])).findings == []


def test_evidence_holds_the_exact_probe_request_and_response_lines_redacted() -> None:
    target = probe.target_from_url(HTTP_API, trusted=[TRUSTED])
    settings = Settings(headers=(("Cookie", "sid=s3cret"),))
    runner = Runner(settings, transport=fake_server(lambda o: o.startswith(TRUSTED)), limiter=NoLimit())  # type: ignore[arg-type]
    [finding] = runner.probe(target).findings
    sample = finding.evidence["samples"][0]  # type: ignore[index]
    forged = finding.evidence["origins"][0]  # type: ignore[index]
    assert sample["request"][0] == f"{sample['method']} /v1/items/42 HTTP/1.1"
    assert f"Origin: {forged}" in sample["request"]
    assert f"Access-Control-Allow-Origin: {forged}" in sample["response"]
    assert "Access-Control-Allow-Credentials: true" in sample["response"]
    assert "s3cret" not in json.dumps(finding.evidence) and "Cookie: sid=[redacted]" in sample["request"]
    assert finding.evidence["legitimate_origin_granted"] is True
    assert TRUSTED in finding.fix_snippets["express"]  # the fix allows the trusted origin, exactly


# ---- stages: what a run sends ----


def _sent(check: Check) -> list[ProbeRequest]:
    sent: list[ProbeRequest] = []
    server = fake_server(check)

    def transport(request: ProbeRequest, settings: Settings) -> ProbeResult:
        sent.append(request)
        return server(request, settings)

    Runner(Settings(), transport=transport, limiter=NoLimit()).probe(  # type: ignore[arg-type]
        probe.target_from_url(HTTP_API, trusted=[TRUSTED])
    )
    return sent


def test_a_reflecting_server_gets_only_the_first_stage() -> None:
    kinds = {r.probe.kind for r in _sent(lambda o: True)}
    assert kinds == {"baseline", "arbitrary", "null"}


def test_special_characters_are_skipped_once_a_prefix_is_granted() -> None:
    assert "special-char" not in {r.probe.kind for r in _sent(lambda o: o.startswith(TRUSTED))}
    everything = _sent(lambda o: o == TRUSTED)
    target = probe.target_from_url(HTTP_API, trusted=[TRUSTED])
    assert len(everything) == 2 * len(probe.catalogue(target))  # a correct server gets the whole catalogue


def test_a_server_that_never_answers_is_given_up_and_warned_about() -> None:
    calls: list[str] = []

    def transport(request: ProbeRequest, settings: Settings) -> ProbeResult:
        calls.append(request.url)
        if ":9/" in request.url:
            return ProbeResult(request, error="connection refused")
        return fake_server(lambda o: o.startswith(TRUSTED))(request, settings)

    dead = probe.target_from_url("http://api.example.com:9/a", trusted=[TRUSTED])
    alive = probe.target_from_url("http://api.example.com:8080/a", trusted=[TRUSTED])
    run = probe.run_probes([dead, alive], Settings(rate=1e6), transport=transport)
    assert sum(":9/" in url for url in calls) == probe.run.GIVE_UP_AFTER
    assert [f.rule for f in run.findings] == ["prefix-match"]  # the other port of the same host still probed
    assert run.stats.skipped > 0 and run.stats.failed == probe.run.GIVE_UP_AFTER
    assert any("http://api.example.com:9" in w and "skipped" in w for w in run.warnings)


# ---- the rate limiter ----


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> bool:
        self.now += seconds
        return False


@pytest.mark.parametrize(("rate", "count"), [(5.0, 12), (0.5, 4), (40.0, 100)])
def test_requests_to_one_host_are_spaced_by_the_rate(rate: float, count: int) -> None:
    clock = FakeClock()
    limiter = RateLimiter(rate, clock=clock, wait=clock.sleep)
    times = []
    for _ in range(count):
        limiter.acquire("api.example.com")
        times.append(clock.now)
    gaps = [b - a for a, b in zip(times, times[1:], strict=False)]
    assert times[0] == 100.0 and min(gaps) >= 1 / rate - 1e-9
    assert times[-1] - times[0] == pytest.approx((count - 1) / rate)


def test_hosts_have_their_own_buckets_and_ports_share_one() -> None:
    clock = FakeClock()
    limiter = RateLimiter(2.0, clock=clock, wait=clock.sleep)
    limiter.acquire("a.example")
    limiter.acquire("b.example")  # another host: no wait
    assert clock.now == 100.0
    limiter.acquire("A.EXAMPLE")  # the same host (names are case-insensitive): half a second later
    assert clock.now == pytest.approx(100.5)


def test_a_bucket_refills_over_idle_time_but_never_above_its_burst() -> None:
    clock = FakeClock()
    bucket = TokenBucket(4.0, burst=1.0, clock=clock)
    assert bucket.take() and not bucket.take()
    assert bucket.wait_time() == pytest.approx(0.25)
    clock.now += 60
    assert bucket.take() and not bucket.take()  # a minute idle still buys one request, not 240


def test_a_stopped_limiter_raises_instead_of_waiting() -> None:
    stop = threading.Event()
    limiter = RateLimiter(0.001, stop=stop)
    limiter.acquire("h")
    stop.set()
    with pytest.raises(probe.Stopped):
        limiter.acquire("h")


# ---- scope: targets from a capture ----


def _exchange(url: str, origin: str | None, outcome: str = "allowed", method: str = "GET") -> Exchange:
    message = Message(
        id=url, started=0.0, method=method, url=url,
        request_headers=Headers([("Origin", origin)] if origin else []), status=200,
    )  # fmt: skip
    return Exchange(
        id=url, origin=origin, method=method, url=url, actual=message, hops=[message],
        verdict=Verdict(outcome),  # type: ignore[arg-type]
    )  # fmt: skip


def test_targets_are_the_distinct_endpoints_of_cross_origin_traffic_in_scope() -> None:
    audit = Audit(["c.har"], 0, [
        _exchange("https://api.example.com/users/1?token=abc", "https://app.example.com"),
        _exchange("https://api.example.com/users/2", "https://admin.example.com", method="PUT"),
        _exchange("https://api.example.com/users/3", "null"),
        _exchange("https://cdn.example.net/lib.js", "https://app.example.com"),
        _exchange("https://api.example.com/page", None, outcome="not-cors"),
        _exchange("https://app.example.com/same", "https://app.example.com"),  # same-origin: no variants
    ])  # fmt: skip
    targets = probe.targets_from_audit(audit, trusted=["https://partner.example.org"], scope=r"^API\.example")
    assert [(t.url, t.method) for t in targets] == [("https://api.example.com/users/1", "GET")]  # no query
    assert targets[0].origins == (
        "https://app.example.com",
        "https://admin.example.com",
        "https://partner.example.org",
    )
    assert {t.host for t in probe.targets_from_audit(audit)} == {
        "api.example.com",
        "cdn.example.net",
        "app.example.com",
    }


def test_a_target_with_only_opaque_origins_derives_from_its_own_origin() -> None:
    audit = Audit(["c.har"], 0, [_exchange("https://api.example.com/x", "null")])
    [target] = probe.targets_from_audit(audit)
    assert target.bases == ("https://api.example.com",)


# ---- the merge into an Audit ----


def _finding(rule: str, severity: Severity, target: str = "https://api.example.com/x", **kw: Any) -> Finding:
    return Finding(
        rule, severity, rule, target, evidence={"origins": ["o"]}, exchanges=kw.pop("exchanges", []), **kw
    )


def test_a_confirmed_passive_finding_is_upgraded_not_duplicated() -> None:
    passive = _finding("null-origin-trusted", Severity.MEDIUM, exchanges=["x1"], count=1, proof="ACAO null.")
    audit = Audit(["c.har"], 1, [], findings=[passive], warnings=["w1"])
    confirmed = _finding(
        "null-origin-trusted", Severity.HIGH, confidence="confirmed", proof="Probe: granted."
    )
    merged = probe.merge(audit, [confirmed], ["probe: w2"])
    assert [(f.rule, f.confidence, f.severity, f.exchanges) for f in merged.findings] == [
        ("null-origin-trusted", "confirmed", Severity.HIGH, ["x1"])
    ]
    assert "probe" in merged.findings[0].evidence and "Confirmed by probe" in merged.findings[0].proof
    assert merged.warnings is audit.warnings and merged.warnings == ["w1", "probe: w2"]


def test_a_probe_that_proves_more_replaces_the_weaker_passive_finding() -> None:
    exchange = _exchange("https://api.example.com/x", "https://a.example")
    exchange.id, exchange.findings = "x1", ["reflected-origin"]
    passive = _finding("reflected-origin", Severity.INFO, exchanges=["x1"], count=1)
    audit = Audit(["c.har"], 1, [exchange], findings=[passive])
    stronger = _finding("reflected-origin-credentials", Severity.CRITICAL, confidence="confirmed", count=2)
    merged = probe.merge(audit, [stronger])
    assert [(f.rule, f.exchanges, f.count) for f in merged.findings] == [
        ("reflected-origin-credentials", ["x1"], 3)
    ]
    assert exchange.findings == ["reflected-origin-credentials"]
    assert stronger.exchanges == []  # the caller's finding is not changed


def test_a_probe_that_proves_less_confirms_the_stronger_passive_finding() -> None:
    passive = _finding("reflected-origin-credentials", Severity.CRITICAL)
    merged = probe.merge(Audit([], 0, [], findings=[passive]), [_finding("reflected-origin", Severity.INFO)])
    assert [(f.rule, f.confidence, f.severity) for f in merged.findings] == [
        ("reflected-origin-credentials", "confirmed", Severity.CRITICAL)
    ]


def test_new_probe_findings_are_added_and_everything_is_ranked() -> None:
    audit = Audit([], 0, [], findings=[_finding("missing-vary-origin", Severity.MEDIUM)])
    merged = probe.merge(audit, [_finding("prefix-match", Severity.HIGH, confidence="confirmed")])
    assert [f.rule for f in merged.findings] == ["prefix-match", "missing-vary-origin"]


def test_the_json_report_says_probe_true_only_when_probes_ran() -> None:
    plain = Audit(["c.har"], 0, [])
    probed = probe.merge(Audit(["c.har"], 0, []), [_finding("prefix-match", Severity.HIGH)])
    assert "probe" not in audit_to_dict(plain)
    report = json.loads(json.dumps(audit_to_dict(probed)))
    assert report["probe"] is True
    for data in (report, audit_to_dict(plain)):
        jsonschema.validate(data, SCHEMA)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({**report, "probe": False}, SCHEMA)


# ---- the sender, against real loopback sockets ----


class Recorder(http.server.ThreadingHTTPServer):
    """A loopback server that records every request and answers with `reply(handler)`.

    Its handler threads are joined when it closes, so none outlives the test that made it:
    a slow handler whose client already timed out would otherwise write its traceback into
    whichever later test happens to be capturing stderr.
    """

    daemon_threads = False
    block_on_close = True

    def __init__(self, reply: Callable[[Any], tuple[int, list[tuple[str, str]]]]) -> None:
        self.hits: list[tuple[str, str, dict[str, str]]] = []
        self.reply = reply

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                return None

            def handle_one_request(self) -> None:
                super().handle_one_request()

            def _any(self) -> None:
                server: Recorder = self.server  # type: ignore[assignment]
                server.hits.append((self.command, self.path, {k.lower(): v for k, v in self.headers.items()}))
                status, headers = server.reply(self)
                self.send_response(status)
                for name, value in headers:
                    self.send_header(name, value)
                self.send_header("Content-Length", "2")
                self.end_headers()
                if self.command not in ("HEAD",):
                    self.wfile.write(b"ok")

            do_GET = do_OPTIONS = do_HEAD = do_PUT = _any

        super().__init__(("127.0.0.1", 0), Handler)

    def handle_error(self, request: Any, client_address: Any) -> None:
        if not isinstance(sys.exc_info()[1], ConnectionError):  # the client gave up: expected here
            super().handle_error(request, client_address)

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


@contextlib.contextmanager
def recorder(reply: Callable[[Any], tuple[int, list[tuple[str, str]]]]) -> Iterator[Recorder]:
    server = Recorder(reply)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


def echo(handler: Any) -> tuple[int, list[tuple[str, str]]]:
    origin = handler.headers.get("Origin")
    return (204 if handler.command == "OPTIONS" else 200), [("Access-Control-Allow-Origin", origin)]


def test_send_puts_exactly_the_described_request_on_the_wire() -> None:
    with recorder(echo) as server:
        target = probe.target_from_url(server.origin + "/api/x?q=1", trusted=[TRUSTED])
        request = probe.requests_for(target, probe.catalogue(target)[1], Settings())[0]
        result = probe.send(request, Settings(timeout=5))
    [(method, path, headers)] = server.hits
    assert (method, path) == ("OPTIONS", "/api/x?q=1")
    assert {k.lower(): v for k, v in request.headers} == headers  # nothing added, nothing lost
    assert result.status == 204 and result.echoes


def test_redirects_are_never_followed() -> None:
    with recorder(echo) as elsewhere:
        with recorder(lambda h: (302, [("Location", elsewhere.origin + "/stolen")])) as server:
            target = probe.target_from_url(server.origin + "/r")
            for request in probe.requests_for(target, probe.catalogue(target)[0], Settings()):
                assert probe.send(request, Settings(timeout=5)).status == 302
        assert elsewhere.hits == []
        assert len(server.hits) == 2


def test_network_errors_and_timeouts_become_results_not_exceptions() -> None:
    with recorder(echo) as server:
        port = server.server_address[1]
    target = probe.target_from_url(f"http://127.0.0.1:{port}/gone")  # nothing listens there any more
    request = probe.requests_for(target, probe.catalogue(target)[0], Settings())[0]
    refused = probe.send(request, Settings(timeout=5))
    assert refused.status is None and refused.error == "connection refused"

    def slow(handler: Any) -> tuple[int, list[tuple[str, str]]]:
        time.sleep(1.0)
        return 200, []

    with recorder(slow) as server:
        target = probe.target_from_url(server.origin + "/slow")
        request = probe.requests_for(target, probe.catalogue(target)[0], Settings())[0]
        late = probe.send(request, Settings(timeout=0.2))
    assert late.status is None and late.error is not None and "timed out" in late.error


def test_through_a_proxy_the_request_is_in_absolute_form() -> None:
    with recorder(echo) as proxy:
        target = probe.target_from_url("http://api.example.com/x")
        request = probe.requests_for(target, probe.catalogue(target)[0], Settings())[0]
        result = probe.send(request, Settings(proxy="http://user:pw@" + proxy.origin.removeprefix("http://")))
    [(method, path, headers)] = proxy.hits
    assert (method, path, headers["host"]) == ("OPTIONS", "http://api.example.com/x", "api.example.com")
    assert headers["proxy-authorization"] == "Basic dXNlcjpwdw=="
    assert result.status == 204


# ---- the CLI ----


def test_probe_command_end_to_end_in_process(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    def startswith(handler: Any) -> tuple[int, list[tuple[str, str]]]:
        origin = handler.headers.get("Origin", "")
        headers = [("Vary", "Origin")]
        if origin.startswith(TRUSTED):
            headers += [("Access-Control-Allow-Origin", origin), ("Access-Control-Allow-Credentials", "true")]
        return (204 if handler.command == "OPTIONS" else 200), headers

    out, html = tmp_path / "probe.json", tmp_path / "probe.html"
    with recorder(startswith) as server:
        status = main(["probe", server.origin + "/api", "--trusted-origin", TRUSTED, "--rate", "1000/s",
                       "--json", str(out), "-o", str(html), "--fail-on", "high", "-q"])  # fmt: skip
    assert status == ExitStatus.FINDINGS
    # the page shows the probe's own request and response (its samples name no captured exchange)
    page = html.read_text()
    assert "prefix-match" in page and '<div class="head">probe · <span class="mono">GET ' in page
    report = json.loads(out.read_text())
    jsonschema.validate(report, SCHEMA)
    assert report["probe"] is True and report["inputs"] == [server.origin + "/api"]
    assert [(f["rule"], f["confidence"]) for f in report["findings"]] == [("prefix-match", "confirmed")]
    assert {m for m, _, _ in server.hits} == {"OPTIONS", "GET"}
    assert all(USER_AGENT_TOKEN in h["user-agent"] for _, _, h in server.hits)
    assert "probed 1 endpoints" in capsys.readouterr().err


def test_dry_run_lists_every_request_and_sends_nothing(capsys: pytest.CaptureFixture[str]) -> None:
    with recorder(echo) as server:
        url = server.origin + "/api"
        assert main(["probe", url, "--trusted-origin", TRUSTED, "--dry-run", "--seed", "3"]) == 0
        assert server.hits == []
    out = capsys.readouterr().out
    target = probe.target_from_url(url, trusted=[TRUSTED])
    planned = probe.plan([target], Settings(seed="3"))
    listed = [line for line in out.splitlines() if line.startswith(("  OPTIONS ", "  GET "))]
    assert len(listed) == len(planned)
    assert all(
        f"Origin: {r.probe.origin}  [{r.probe.kind}]" in line for r, line in zip(planned, listed, strict=True)
    )


def test_one_endpoint_given_twice_is_probed_once(capsys: pytest.CaptureFixture[str]) -> None:
    with recorder(echo) as server:
        first, second = server.origin + "/items/1", server.origin + "/items/2"
        assert main(["probe", first, second, "--rate", "1000", "-q"]) == 0
    assert {path for _, path, _ in server.hits} == {"/items/1"}
    assert f"{second}: the same endpoint as {first}; probed once" in capsys.readouterr().err


def test_dry_run_shows_the_users_secrets_redacted(capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["probe", "http://api.example.com/", "--cookie", "sid=s3cret", "--dry-run"]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "Cookie: sid=[redacted]" in out and "s3cret" not in out


@pytest.mark.parametrize("jobs", ["1", "2"])  # 2: the HTML comes from the renderer forked before the probes
def test_report_probe_probes_the_captured_endpoints_in_scope(
    tmp_path: Path, jobs: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(cli, "RENDER_MIN_EXCHANGES", 0)

    def null_trusted(handler: Any) -> tuple[int, list[tuple[str, str]]]:
        origin = handler.headers.get("Origin", "")
        if origin in (TRUSTED, "null"):
            return 200, [
                ("Access-Control-Allow-Origin", origin),
                ("Access-Control-Allow-Credentials", "true"),
            ]
        return 200, []

    with recorder(null_trusted) as api, recorder(echo) as other:
        capture = tmp_path / "c.jsonl"
        lines = [{"cors_audit_capture": 1}]
        for base in (api.origin, other.origin.replace("127.0.0.1", "localhost")):
            lines.append({
                "started": 1.0, "method": "GET", "url": base + "/v1/items/7?session=xyz",
                "request_headers": [["Origin", TRUSTED], ["Sec-Fetch-Mode", "cors"]], "status": 200,
                "response_headers": [["Access-Control-Allow-Origin", TRUSTED], ["Access-Control-Allow-Credentials", "true"]],
            })  # fmt: skip
        capture.write_text("".join(json.dumps(line) + "\n" for line in lines))
        out, html = tmp_path / "r.json", tmp_path / "r.html"
        status = main(["report", str(capture), "--probe", "--scope", r"^127\.0\.0\.1$", "--rate", "1000",
                       "--json", str(out), "-o", str(html), "-q", "--jobs", jobs])  # fmt: skip
    assert status == 0
    report = json.loads(out.read_text())
    page = html.read_text()
    assert "forged-Origin probes were sent" in page and "null-origin-trusted" in page
    assert page.count(">confirmed<") == 1
    assert report["probe"] is True
    assert [(f["rule"], f["confidence"]) for f in report["findings"]] == [
        ("null-origin-trusted", "confirmed")
    ]
    assert other.hits == []  # out of scope: never contacted
    assert {path for _, path, _ in api.hits} == {"/v1/items/7"}  # the query (a session token) is not replayed


@pytest.mark.parametrize(
    "argv",
    [
        ["probe", "ftp://example.com/"],
        ["probe", "http://example.com/", "--header", "Origin: https://evil.example"],
        ["probe", "http://example.com/", "--header", "no colon"],
        ["probe", "http://example.com/", "--rate", "0"],
        ["probe", "http://example.com/", "--rate", "fast"],
        ["probe", "http://example.com/", "--timeout", "-1"],
        ["probe", "http://example.com/", "--proxy", "socks5://127.0.0.1:1080"],
        ["probe", "http://example.com/", "--trusted-origin", "app.example.com"],
        ["report", "capture.har", "--scope", "api"],  # a probe option without --probe
        ["report", "capture.har", "--dry-run"],
        ["report", "capture.har", "--probe", "--scope", "("],
    ],
)
def test_probe_usage_errors_exit_2_before_anything_is_sent(
    argv: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(argv) == ExitStatus.ERROR
    err = capsys.readouterr().err
    assert err.startswith("cors-audit: error: ") and err.count("\n") == 1


def test_a_probe_that_reaches_nothing_is_an_error_not_a_pass(capsys: pytest.CaptureFixture[str]) -> None:
    with recorder(echo) as server:
        port = server.server_address[1]
    status = main(["probe", f"http://127.0.0.1:{port}/", "--rate", "1000", "--fail-on", "high", "-q"])
    assert status == ExitStatus.ERROR
    err = capsys.readouterr().err
    assert "connection refused" in err and "no probe got an answer" in err


# ---- the addon's background prober ----


def test_prober_probes_each_endpoint_once_off_the_callers_thread() -> None:
    threads: set[str] = set()
    server = fake_server(lambda o: o.startswith(TRUSTED))

    def transport(request: ProbeRequest, settings: Settings) -> ProbeResult:
        threads.add(threading.current_thread().name)
        return server(request, settings)

    logged: list[str] = []
    prober = Prober(Settings(rate=1e6), transport=transport, log=lambda level, text: logged.append(text))
    first = probe.target_from_url("http://api.example.com/items/1", trusted=[TRUSTED])
    same_endpoint = probe.target_from_url("http://api.example.com/items/2", trusted=[TRUSTED])
    assert prober.submit(first) and not prober.submit(same_endpoint)
    deadline = time.monotonic() + 30
    while not logged and time.monotonic() < deadline:
        time.sleep(0.01)
    run = prober.close()
    assert [f.rule for f in run.findings] == ["prefix-match"]
    assert threads == {"cors-audit probe"}
    assert logged and "prefix-match" in logged[0]


def test_prober_stop_lists_what_was_left_and_never_raises() -> None:
    prober: Prober | None = None
    entered = threading.Event()

    def stuck_until_stopped(request: ProbeRequest, settings: Settings) -> ProbeResult:
        entered.set()
        while prober is None or not prober.stopped:
            time.sleep(0.01)
        raise RuntimeError("transport bug")

    logged: list[str] = []
    prober = Prober(
        Settings(rate=1e6), transport=stuck_until_stopped, log=lambda level, text: logged.append(text)
    )
    for n in range(3):
        prober.submit(probe.target_from_url(f"http://api.example.com/p{n}/x"))
    assert entered.wait(30)
    run = prober.close(timeout=30)
    assert len(logged) == 1 and "transport bug" in logged[0]  # logged, not raised
    assert run.warnings == [
        "probe: stopped before probing 2 endpoints: http://api.example.com/p1/x, http://api.example.com/p2/x"
    ]
    assert not prober.submit(probe.target_from_url("http://api.example.com/late"))


def test_addon_skips_probe_flows_and_queues_cross_origin_endpoints(
    addon_factory: Any, make_flow: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    submitted: list[Target] = []

    class FakeProber:
        def __init__(self, settings: Settings, **kwargs: Any) -> None:
            self.settings = settings

        def submit(self, target: Target) -> bool:
            submitted.append(target)
            return True

        def close(self, timeout: float | None = None) -> probe.ProbeRun:
            return probe.ProbeRun()

    monkeypatch.setattr(probe, "Prober", FakeProber)
    addon = addon_factory(probe=True, trusted_origins=["https://app.test"])
    cors = [("Origin", "https://app.test"), ("Sec-Fetch-Mode", "cors")]
    addon.response(
        make_flow("GET", "http://api.test/items/1", cors, 200, [("Access-Control-Allow-Origin", "*")])
    )
    ours = [*cors, ("User-Agent", f"Mozilla/5.0 {USER_AGENT_TOKEN}")]
    addon.response(
        make_flow("GET", "http://api.test/other", ours, 200, [("Access-Control-Allow-Origin", "*")])
    )
    assert [(t.url, t.origins) for t in submitted] == [("http://api.test/items/1", ("https://app.test",))]
    assert addon.stats["messages"] == 1  # the probe's own flow was neither captured nor judged


def test_addon_probing_is_off_by_default(addon_factory: Any, make_flow: Any) -> None:
    addon = addon_factory()
    addon.response(make_flow("GET", "http://api.test/x", [("Origin", "https://app.test")], 200, []))
    assert addon.prober is None and addon.stats["probes_queued"] == 0


def test_probe_stats_of_several_runs_add_up_field_by_field() -> None:
    from cors_audit.probe.judge import ProbeStats

    total = ProbeStats(targets=2, sent=10, answered=9, failed=1, skipped=0, seconds=1.5)
    total.add(ProbeStats(targets=1, sent=4, answered=2, failed=2, skipped=3, seconds=0.25))
    assert total == ProbeStats(targets=3, sent=14, answered=11, failed=3, skipped=3, seconds=1.75)
