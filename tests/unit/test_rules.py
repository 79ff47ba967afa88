"""Rules: one row per case, named after the rule (or the false positive) it proves.

Given captured exchanges (built here, no files), when the rules run, then exactly the expected
rule fires at the expected severity, and the safe configurations get nothing above info.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import pytest

from cors_audit.fixes import fix_for
from cors_audit.model import Exchange, Finding, Headers, Message, Severity, Verdict
from cors_audit.rules import PASSIVE_RULES, REGISTRY, RuleContext, evaluate, live_evaluate, live_findings
from cors_audit.rules.observe import collapse_ids_many, path_pattern

API = "https://api.example.com"
A = "https://app.example.com"
B = "https://partner.example.org"
EVIL = "https://evil.example.net"
OTHER = "https://other.example.io"
_ids = itertools.count(1)

C, H, M, L, I = Severity.CRITICAL, Severity.HIGH, Severity.MEDIUM, Severity.LOW, Severity.INFO


def _message(
    method: str, url: str, request: list[tuple[str, str]], status: int | None, response: list[tuple[str, str]]
) -> Message:
    n = next(_ids)
    return Message(
        id=f"m{n}",
        started=float(n),
        method=method,
        url=url,
        request_headers=Headers(request),
        status=status,
        response_headers=Headers(response),
    )


def get(
    origin: str | None,
    response: list[tuple[str, str]],
    *,
    url: str = API + "/me",
    status: int = 200,
    method: str = "GET",
    cookie: bool = True,
    from_cache: bool = False,
) -> Exchange:
    """A simple (unpreflighted) cross-origin request and its response."""
    request = [("Origin", origin)] if origin is not None else []
    if cookie:
        request.append(("Cookie", "session=s3cr3t-value"))
    actual = _message(method, url, request, status, response)
    actual.from_cache = from_cache
    return Exchange(
        id=f"x{next(_ids)}",
        origin=origin,
        method=method,
        url=url,
        actual=actual,
        hops=[actual],
        preflights=[None],
        credentials="include" if cookie else "unknown",
    )


def preflighted(
    origin: str,
    method: str,
    preflight_response: list[tuple[str, str]],
    *,
    request_headers: str | None = None,
    url: str = API + "/items",
    status: int = 204,
    actual_response: list[tuple[str, str]] | None = None,
) -> Exchange:
    """A preflight and (when `actual_response` is given) the actual request it let through."""
    request = [("Origin", origin), ("Access-Control-Request-Method", method)]
    if request_headers:
        request.append(("Access-Control-Request-Headers", request_headers))
    pre = _message("OPTIONS", url, request, status, preflight_response)
    actual = None
    if actual_response is not None:
        actual = _message(method, url, [("Origin", origin)], 200, actual_response)
    return Exchange(
        id=f"x{next(_ids)}",
        origin=origin,
        method=method,
        url=url,
        actual=actual,
        preflight=pre,
        hops=[actual] if actual else [],
        preflights=[pre],
    )


def echo(
    origin: str, *, acac: str | None = "true", extra: tuple[tuple[str, str], ...] = ()
) -> list[tuple[str, str]]:
    headers = [("Access-Control-Allow-Origin", origin)]
    if acac is not None:
        headers.append(("Access-Control-Allow-Credentials", acac))
    return headers + list(extra)


VARY = (("Vary", "Origin"),)


def no_cors_load(page: str, response: list[tuple[str, str]]) -> Exchange:
    """An <img>/<script> load from `page`: no Origin sent, so no CORS question asked of the server."""
    exchange = get(None, response)
    exchange.origin = page  # the page is known (Sec-Fetch-Site, Referer), but the server was not told
    exchange.verdict = Verdict("not-cors")
    return exchange


@dataclass
class Case:
    name: str
    exchanges: list[Exchange]
    expected: dict[str, Severity | None]  # rule -> severity; None: the rule must not fire
    trusted: tuple[str, ...] = ()
    nothing_above_info: bool = False


def run(case: Case) -> list[Finding]:
    return evaluate(case.exchanges, RuleContext(trusted_origins=case.trusted))


CASES = [
    # --- reflection -------------------------------------------------------------------------------
    Case(
        "reflected-origin-credentials: two cross-site origins echoed with ACAC true",
        [get(B, echo(B, extra=VARY)), get(EVIL, echo(EVIL, extra=VARY))],
        {"reflected-origin-credentials": C, "reflected-origin": None},
    ),
    Case(
        "FP: reflection without credentials grants what * grants: info on a public host",
        [get(B, echo(B, acac=None, extra=VARY)), get(EVIL, echo(EVIL, acac=None, extra=VARY))],
        {"reflected-origin": I, "reflected-origin-credentials": None},
        nothing_above_info=True,
    ),
    Case(
        "reflected-origin on a private-network host is medium",
        [get(o, echo(o, acac=None, extra=VARY), url="http://10.0.0.7/status") for o in (B, EVIL)],
        {"reflected-origin": M, "reflected-origin-credentials": None},
    ),
    Case(
        "FP: ACAC present but 'True' is not exactly true: no credential escalation",
        [get(B, echo(B, acac="True", extra=VARY)), get(EVIL, echo(EVIL, acac="True", extra=VARY))],
        {"reflected-origin": I, "reflected-origin-credentials": None},
    ),
    Case(
        "FP: ACAC on two lines ('true, true') is not exactly true",
        [
            get(B, echo(B, acac="true", extra=(("Access-Control-Allow-Credentials", "true"),) + VARY)),
            get(EVIL, echo(EVIL, acac="true", extra=(("Access-Control-Allow-Credentials", "true"),) + VARY)),
        ],
        {"reflected-origin": I, "reflected-origin-credentials": None},
    ),
    Case(
        "FP: an endpoint echoing its one legitimate origin is an allowlist, not reflection",
        [get(A, echo(A, extra=VARY)) for _ in range(5)],
        {"reflected-origin-credentials": None, "reflected-origin": None},
        nothing_above_info=True,
    ),
    Case(
        "FP: two allowed origins echoed while a third is refused is an allowlist, not reflection",
        [
            get(B, echo(B, extra=VARY)),
            get(OTHER, echo(OTHER, extra=VARY)),
            get(EVIL, [("Vary", "Origin")]),
        ],
        {"reflected-origin-credentials": None, "reflected-origin": None},
        nothing_above_info=True,
    ),
    Case(
        "a no-cors load from a third page (no Origin sent) does not disprove reflection",
        [get(B, echo(B, extra=VARY)), get(OTHER, echo(OTHER, extra=VARY)), no_cors_load(EVIL, [])],
        {"reflected-origin-credentials": C},
    ),
    Case(
        "a refusal on an error page does not disprove reflection",
        [get(B, echo(B, extra=VARY)), get(OTHER, echo(OTHER, extra=VARY)), get(EVIL, [], status=404)],
        {"reflected-origin-credentials": C},
    ),
    Case(
        "FP: a 404 page with reflected origin ranks lower (critical -> high)",
        [get(B, echo(B, extra=VARY), status=404), get(EVIL, echo(EVIL, extra=VARY), status=404)],
        {"reflected-origin-credentials": H},
    ),
    Case(
        "FP: a 404 page with reflected origin on a private host ranks lower (medium -> low)",
        [
            get(o, echo(o, acac=None, extra=VARY), status=404, url="http://10.0.0.7/missing")
            for o in (B, EVIL)
        ],
        {"reflected-origin": L},
    ),
    Case(
        "one successful echo keeps full severity even when others are errors",
        [get(B, echo(B, extra=VARY), status=200), get(EVIL, echo(EVIL, extra=VARY), status=500)],
        {"reflected-origin-credentials": C},
    ),
    Case(
        "echoing the target's own origin is not evidence (same-origin POST carries Origin)",
        [get(API, echo(API, extra=VARY)), get(B, echo(B, extra=VARY))],
        {"reflected-origin-credentials": None},
        nothing_above_info=True,
    ),
    Case(
        "the API's own site does not count: app.example.com + one foreign origin is not proof",
        [get(A, echo(A, extra=VARY)), get(EVIL, echo(EVIL, extra=VARY))],
        {"reflected-origin-credentials": None, "reflected-origin": None},
        nothing_above_info=True,
    ),
    Case(
        "two sibling subdomains are one site: no reflection, subdomains info",
        [
            get("https://a.example.org", echo("https://a.example.org", extra=VARY)),
            get("https://b.example.org", echo("https://b.example.org", extra=VARY)),
        ],
        {"reflected-origin-credentials": None, "subdomains-trusted": I},
        nothing_above_info=True,
    ),
    Case(
        "subdomains-trusted: three subdomains echoed with credentials",
        [
            get(f"https://{s}.example.org", echo(f"https://{s}.example.org", extra=VARY))
            for s in ("a", "b", "c")
        ],
        {"subdomains-trusted": L, "reflected-origin-credentials": None},
    ),
    Case(
        "loopback: two ports are two applications, reflection proven",
        [
            get(
                "http://127.0.0.1:8001",
                echo("http://127.0.0.1:8001", extra=VARY),
                url="http://127.0.0.1:9000/me",
            ),
            get(
                "http://127.0.0.1:8002",
                echo("http://127.0.0.1:8002", extra=VARY),
                url="http://127.0.0.1:9000/me",
            ),
        ],
        {"reflected-origin-credentials": C},
    ),
    Case(
        "trusted origins declared: one echo outside them proves reflection",
        [get(EVIL, echo(EVIL, extra=VARY))],
        {"reflected-origin-credentials": C},
        trusted=(A,),
    ),
    Case(
        "trusted origins declared: echoes of trusted origins only are fine",
        [get(A, echo(A, extra=VARY)), get(B, echo(B, extra=VARY))],
        {"reflected-origin-credentials": None, "reflected-origin": None},
        trusted=(A, B + "/"),
        nothing_above_info=True,
    ),
    Case(
        "reflection proven by preflights alone",
        [
            preflighted(B, "PUT", echo(B) + [("Access-Control-Allow-Methods", "GET, PUT")]),
            preflighted(EVIL, "PUT", echo(EVIL) + [("Access-Control-Allow-Methods", "GET, PUT")]),
        ],
        {"reflected-origin-credentials": C},
    ),
    # --- null -------------------------------------------------------------------------------------
    Case(
        "null-origin-trusted: Origin null echoed with credentials",
        [get("null", echo("null"))],
        {"null-origin-trusted": H, "reflected-origin-credentials": None},
    ),
    Case(
        "null-origin-trusted: literal null without credentials",
        [get(A, echo("null", acac=None))],
        {"null-origin-trusted": M},
    ),
    Case(
        "null-origin-trusted on a 500 ranks lower",
        [get("null", echo("null"), status=500)],
        {"null-origin-trusted": M},
    ),
    # --- wildcard ---------------------------------------------------------------------------------
    Case(
        "FP: * without credentials on public data is info",
        [get(A, [("Access-Control-Allow-Origin", "*")], cookie=False)],
        {"wildcard-origin": I, "wildcard-with-credentials": None},
        nothing_above_info=True,
    ),
    Case(
        "wildcard-origin on a private-network host is medium",
        [get(A, [("Access-Control-Allow-Origin", "*")], url="http://10.1.2.3/status")],
        {"wildcard-origin": M},
    ),
    Case(
        "wildcard-origin on loopback stays info",
        [get(A, [("Access-Control-Allow-Origin", "*")], url="http://127.0.0.1:9000/status")],
        {"wildcard-origin": I},
        nothing_above_info=True,
    ),
    Case(
        "wildcard-with-credentials: * with ACAC true",
        [get(A, [("Access-Control-Allow-Origin", "*"), ("Access-Control-Allow-Credentials", "true")])],
        {"wildcard-with-credentials": L, "wildcard-origin": None},
    ),
    # --- trusted origins --------------------------------------------------------------------------
    Case(
        "insecure-origin-trusted: http origin on an https API with credentials",
        [get("http://app.example.com", echo("http://app.example.com"))],
        {"insecure-origin-trusted": M},
    ),
    Case(
        "insecure-origin-trusted without credentials is low",
        [get("http://app.example.com", echo("http://app.example.com", acac=None))],
        {"insecure-origin-trusted": L},
    ),
    Case(
        "insecure-origin-trusted mitigated by HSTS on the same host",
        [
            get(
                "http://api.example.com",
                echo("http://api.example.com", extra=(("Strict-Transport-Security", "max-age=63072000"),)),
            )
        ],
        {"insecure-origin-trusted": L},
    ),
    Case(
        "http API trusting an http origin is not insecure-origin-trusted",
        [get("http://app.example.com", echo("http://app.example.com"), url="http://api.example.com/me")],
        {"insecure-origin-trusted": None},
    ),
    Case(
        "localhost-origin-trusted on a production host (not insecure-origin-trusted)",
        [get("http://localhost:3000", echo("http://localhost:3000"))],
        {"localhost-origin-trusted": L, "insecure-origin-trusted": None},
    ),
    Case(
        "localhost origin trusted by a loopback server is a dev setup",
        [get("http://localhost:3000", echo("http://localhost:3000"), url="http://127.0.0.1:9000/me")],
        {"localhost-origin-trusted": None},
        nothing_above_info=True,
    ),
    Case(
        "third-party-origin-trusted: github.io page with credentials",
        [get("https://someone.github.io", echo("https://someone.github.io"))],
        {"third-party-origin-trusted": M},
    ),
    Case(
        "third-party-origin-trusted without credentials is low",
        [get("https://codepen.io", echo("https://codepen.io", acac=None))],
        {"third-party-origin-trusted": L},
    ),
    Case(
        "a github.io API trusting its own page is not third-party",
        [get("https://me.github.io", echo("https://me.github.io"), url="https://me.github.io/api")],
        {"third-party-origin-trusted": None},
    ),
    # --- Vary -------------------------------------------------------------------------------------
    Case(
        "missing-vary-origin: dynamic ACAO on a cacheable response",
        [get(o, echo(o, acac=None, extra=(("Cache-Control", "public, max-age=600"),))) for o in (B, EVIL)],
        {"missing-vary-origin": M, "reflected-origin": I},
    ),
    Case(
        "missing-vary-origin: dynamic ACAO, not cacheable",
        [get(o, echo(o, acac=None, extra=(("Cache-Control", "no-store"),))) for o in (A, B)],
        {"missing-vary-origin": L},
    ),
    Case(
        "Vary listing Origin among others is enough",
        [get(o, echo(o, acac=None, extra=(("Vary", "Accept-Encoding, origin"),))) for o in (A, B)],
        {"missing-vary-origin": None},
    ),
    Case(
        "FP: a fixed ACAO (Express string origin) needs no Vary",
        [get(o, echo(A, extra=(("Cache-Control", "max-age=600"),))) for o in (A, EVIL)],
        {"missing-vary-origin": None, "reflected-origin-credentials": None},
        nothing_above_info=True,
    ),
    Case(
        "one echoed origin on a cacheable response without Vary: cannot tell, info",
        [get(A, echo(A, extra=(("Cache-Control", "public, max-age=600"),)))],
        {"missing-vary-origin": I},
        nothing_above_info=True,
    ),
    Case(
        "a Chrome cache hit that carried another origin's ACAO proves the missing Vary",
        [
            get(A, echo(A, acac=None, extra=(("Cache-Control", "max-age=600"),))),
            get(B, echo(A, acac=None, extra=(("Cache-Control", "max-age=600"),)), from_cache=True),
        ],
        {"missing-vary-origin": M},
    ),
    Case(
        "the same ACAO sent fresh to another origin is a fixed value, not a cache hit",
        [
            get(A, echo(A, acac=None, extra=(("Cache-Control", "max-age=600"),))),
            get(B, echo(A, acac=None, extra=(("Cache-Control", "max-age=600"),))),
        ],
        {"missing-vary-origin": None},
    ),
    Case(
        "FP: one allowed origin, omitted for others, no Vary (Flask-CORS single origin) is info",
        [get(A, echo(A)), get(EVIL, [("Access-Control-Allow-Credentials", "true")])],
        {"missing-vary-origin": I},
        nothing_above_info=True,
    ),
    # --- invalid ACAO -----------------------------------------------------------------------------
    Case(
        "invalid-allow-origin: two header lines",
        [get(A, [("Access-Control-Allow-Origin", A), ("Access-Control-Allow-Origin", B)])],
        {"invalid-allow-origin": I, "reflected-origin-credentials": None},
    ),
    Case(
        "invalid-allow-origin: a list",
        [get(A, [("Access-Control-Allow-Origin", f"{A}, {B}")])],
        {"invalid-allow-origin": I},
    ),
    Case(
        "invalid-allow-origin: a *.domain pattern",
        [get(A, [("Access-Control-Allow-Origin", "*.example.com")])],
        {"invalid-allow-origin": I},
    ),
    Case(
        "invalid-allow-origin: trailing slash",
        [get(A, [("Access-Control-Allow-Origin", A + "/")])],
        {"invalid-allow-origin": I},
    ),
    Case(
        "invalid-allow-origin: upper-case host",
        [get(A, [("Access-Control-Allow-Origin", "https://App.example.com")])],
        {"invalid-allow-origin": I},
    ),
    Case(
        "no Origin in the request: a listed ACAO breaks no browser",
        [get(None, [("Access-Control-Allow-Origin", A), ("Access-Control-Allow-Origin", B)])],
        {"invalid-allow-origin": None},
    ),
    # --- preflight --------------------------------------------------------------------------------
    Case(
        "permissive-preflight: two requested methods each echoed alone",
        [
            preflighted(A, m, echo(A) + [("Access-Control-Allow-Methods", m)] + list(VARY))
            for m in ("PUT", "DELETE")
        ],
        {"permissive-preflight": L},
    ),
    Case(
        "permissive-preflight: ACAM *",
        [preflighted(A, "PUT", echo(A) + [("Access-Control-Allow-Methods", "*")])],
        {"permissive-preflight": L},
    ),
    Case(
        "permissive-preflight: a method no fixed list would contain is echoed",
        [preflighted(A, "PROPFIND", echo(A) + [("Access-Control-Allow-Methods", "PROPFIND")])],
        {"permissive-preflight": L},
    ),
    Case(
        "one PUT allowed exactly as asked looks like an echo but proves nothing: info",
        [
            preflighted(
                A,
                "PUT",
                echo(A)
                + [("Access-Control-Allow-Methods", "PUT"), ("Access-Control-Allow-Headers", "x-one")],
                request_headers="x-one",
            )
        ],
        {"permissive-preflight": I},
        nothing_above_info=True,
    ),
    Case(
        "a fixed method list is not an echo",
        [preflighted(A, "PUT", echo(A) + [("Access-Control-Allow-Methods", "GET, PUT")])],
        {"permissive-preflight": None},
    ),
    Case(
        "FP: header echo with a fixed method list (framework default) is info",
        [
            preflighted(
                A,
                "PUT",
                echo(A)
                + [("Access-Control-Allow-Methods", "GET, PUT, DELETE"), ("Access-Control-Allow-Headers", h)],
                request_headers=h,
            )
            for h in ("x-one", "content-type,x-two")
        ],
        {"permissive-preflight": I},
        nothing_above_info=True,
    ),
    Case(
        "permissive-preflight on a refused (403) preflight ranks lower",
        [
            preflighted(A, m, echo(A) + [("Access-Control-Allow-Methods", m)], status=403)
            for m in ("PUT", "DELETE")
        ],
        {"permissive-preflight": I},
    ),
    Case(
        "long-preflight-max-age: 86400",
        [
            preflighted(
                A,
                "PUT",
                echo(A) + [("Access-Control-Allow-Methods", "PUT"), ("Access-Control-Max-Age", "86400")],
            )
        ],
        {"long-preflight-max-age": I},
        nothing_above_info=True,
    ),
    Case(
        "max-age 7200 is what Chromium honours",
        [
            preflighted(
                A,
                "PUT",
                echo(A) + [("Access-Control-Allow-Methods", "PUT"), ("Access-Control-Max-Age", "7200")],
            )
        ],
        {"long-preflight-max-age": None},
    ),
    Case(
        "private-network-any-origin: ACAPN true with *",
        [
            preflighted(
                A,
                "GET",
                [("Access-Control-Allow-Origin", "*"), ("Access-Control-Allow-Private-Network", "true")],
                url="http://192.168.1.1/api",
            )
        ],
        {"private-network-any-origin": M},
    ),
    Case(
        "private-network granted to a trusted origin is fine",
        [
            preflighted(
                A,
                "GET",
                echo(A) + [("Access-Control-Allow-Private-Network", "true")],
                url="http://192.168.1.1/api",
            )
        ],
        {"private-network-any-origin": None},
        trusted=(A,),
        nothing_above_info=True,
    ),
    Case(
        "private-network-any-origin: ACAPN with a proven reflection",
        [
            preflighted(
                o,
                "GET",
                echo(o) + [("Access-Control-Allow-Private-Network", "true")],
                url="http://192.168.1.1/api",
            )
            for o in (B, EVIL)
        ],
        {"private-network-any-origin": M, "reflected-origin-credentials": C},
    ),
    # --- the safe framework configurations ----------------------------------------------------------
    Case(
        "FP: Starlette explicit list refusing an origin",
        [
            preflighted(
                A,
                "PUT",
                echo(A)
                + [
                    ("Access-Control-Allow-Methods", "DELETE, GET, HEAD, OPTIONS, PATCH, POST, PUT"),
                    ("Access-Control-Max-Age", "600"),
                    ("Vary", "Origin"),
                ],
                status=200,
                actual_response=echo(A, extra=VARY),
            ),
            preflighted(
                EVIL,
                "PUT",
                [
                    ("Access-Control-Allow-Methods", "DELETE, GET"),
                    ("Vary", "Origin"),
                    ("Access-Control-Allow-Credentials", "true"),
                ],
                status=400,
            ),
        ],
        {},
        nothing_above_info=True,
    ),
]


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_rule(case: Case) -> None:
    findings = run(case)
    got = {f.rule: f.severity for f in findings}
    for rule, severity in case.expected.items():
        assert rule in REGISTRY
        if severity is None:
            assert rule not in got, f"{rule} fired: {[(f.rule, str(f.severity), f.proof) for f in findings]}"
        else:
            assert got.get(rule) == severity, (
                f"{rule}: got {got.get(rule)}; all: {[(f.rule, str(f.severity)) for f in findings]}"
            )
    if case.nothing_above_info:
        above = [(f.rule, str(f.severity)) for f in findings if f.severity > Severity.INFO]
        assert not above, above


@pytest.mark.parametrize(
    ("url", "pattern"),
    [
        ("https://a/users/123/orders", "/users/{id}/orders"),
        ("https://a/u/550e8400-e29b-41d4-a716-446655440000", "/u/{id}"),
        ("https://a/blob/9f86d081884c7d65", "/blob/{id}"),
        ("https://a/blob/deadbeefcafe", "/blob/deadbeefcafe"),
        ("https://a/v2/items?id=7", "/v2/items"),
        ("https://a", "/"),
        ("https://a/a//b/007/", "/a//b/{id}/"),
        ("https://a/h/abcdefabcdefabcdefabcdefab", "/h/{id}"),  # 26 hex letters, no digit: still an id
        ("https://a/h/abcdefabcdefabcdefabcd", "/h/abcdefabcdefabcdefabcd"),  # 22: a word
        ("https://a/k/12ab-34", "/k/12ab-34"),
        ("https://a/x/%C3%A9/12", "/x/%C3%A9/{id}"),
        ("https://a/café/12", "/café/{id}"),
        ("https://a/n/²", "/n/²"),  # a number in a URL path is ASCII digits
    ],
)
def test_path_pattern(url: str, pattern: str) -> None:
    assert path_pattern(url) == pattern


@pytest.mark.parametrize(
    ("paths", "patterns"),
    [
        (["/a/1", "", "/b/deadbeef12/c"], ["/a/{id}", "/", "/b/{id}/c"]),
        (["/café/7", "/x/99"], ["/café/{id}", "/x/{id}"]),
        (["/a/1\n2", "/b/3"], ["/a/{id}\n{id}", "/b/{id}"]),  # a line break in a path: each on its own
        ([], []),
    ],
)
def test_collapse_ids_many(paths: list[str], patterns: list[str]) -> None:
    assert collapse_ids_many(paths) == patterns


def test_findings_aggregate_per_rule_target_and_path_pattern() -> None:
    exchanges = [
        get(o, echo(o, extra=VARY), url=f"{API}/users/{n}") for n, o in enumerate((B, EVIL, OTHER, B), 1)
    ]
    exchanges.append(get(A, echo(A, extra=VARY), url=f"{API}/other"))
    findings = [f for f in evaluate(exchanges, RuleContext()) if f.rule == "reflected-origin-credentials"]
    assert [(f.target, f.count) for f in findings] == [(API + "/users/{id}", 4)]
    assert findings[0].exchanges == [e.id for e in exchanges[:4]]
    assert findings[0].confidence == "observed"
    assert "3 distinct cross-site origins" in findings[0].proof


def test_findings_sorted_worst_first_and_recorded_on_exchanges() -> None:
    wildcard = get(A, [("Access-Control-Allow-Origin", "*")], url=API + "/public", cookie=False)
    null = get("null", echo("null"), url=API + "/null")
    reflected = [get(o, echo(o, extra=VARY), url=API + "/me") for o in (B, EVIL)]
    findings = evaluate([wildcard, null, *reflected], RuleContext())
    assert [f.rule for f in findings] == [
        "reflected-origin-credentials",
        "null-origin-trusted",
        "wildcard-origin",
    ]
    assert wildcard.findings == ["wildcard-origin"]
    assert null.findings == ["null-origin-trusted"]
    assert all(e.findings == ["reflected-origin-credentials"] for e in reflected)


@pytest.mark.parametrize("redact", [True, False])
def test_evidence_carries_header_lines_redacted_by_default(redact: bool) -> None:
    exchanges = [get(o, echo(o, extra=VARY), url=API + "/me?access_token=tok123") for o in (B, EVIL)]
    exchanges[0].actual.request_headers = Headers(
        [
            ("Origin", B),
            ("Cookie", "session=s3cr3t-value"),  # type: ignore[union-attr]
            ("Authorization", "Bearer abc.def"),
        ]
    )
    finding = evaluate(exchanges, RuleContext(redact=redact))[0]
    text = repr(finding.evidence)
    for secret in ("s3cr3t-value", "abc.def", "tok123"):
        assert (secret in text) is not redact
    sample = finding.evidence["samples"][0]  # type: ignore[index]
    assert f"Origin: {B}" in sample["request"]
    assert f"Access-Control-Allow-Origin: {B}" in sample["response"]
    assert "Access-Control-Allow-Credentials: true" in sample["response"]
    assert "Cookie: session=" + ("[redacted]" if redact else "s3cr3t-value") in sample["request"]
    assert finding.evidence["origins_echoed"] == sorted([B, EVIL])


def test_every_finding_has_impact_fix_and_snippets_for_each_framework() -> None:
    exchanges = [case_exchange for case in CASES for case_exchange in case.exchanges]
    findings = evaluate(exchanges, RuleContext())
    assert {f.rule for f in findings} >= {
        "reflected-origin-credentials",
        "null-origin-trusted",
        "wildcard-origin",
        "permissive-preflight",
        "missing-vary-origin",
        "invalid-allow-origin",
    }
    for f in findings:
        assert f.impact and f.fix and f.proof, f.rule
        assert set(f.fix_snippets) == {"express", "fastapi", "flask", "nginx"}, f.rule
        assert f.title == REGISTRY[f.rule].title


def test_registry_lists_every_issue_rule_with_cwe_942() -> None:
    issue_rules = {
        "reflected-origin-credentials",
        "reflected-origin",
        "null-origin-trusted",
        "wildcard-with-credentials",
        "wildcard-origin",
        "insecure-origin-trusted",
        "subdomains-trusted",
        "third-party-origin-trusted",
        "localhost-origin-trusted",
        "missing-vary-origin",
        "invalid-allow-origin",
        "permissive-preflight",
        "long-preflight-max-age",
        "private-network-any-origin",
    }
    assert set(PASSIVE_RULES) == issue_rules
    for rule in REGISTRY.values():
        assert rule.cwe == "CWE-942"
        assert rule.title and rule.description and rule.help and rule.impact
        assert set(fix_for(rule.id).snippets) == {"express", "fastapi", "flask", "nginx"}


def test_fix_snippets_use_declared_trusted_origins() -> None:
    snippets = fix_for("reflected-origin-credentials", ["https://shop.example"]).snippets
    assert all("https://shop.example" in s for s in snippets.values())
    assert "credentials: true" in snippets["express"]
    assert "allow_credentials=True" in snippets["fastapi"]


@pytest.mark.parametrize(
    ("name", "exchange", "trusted", "expected"),
    [
        ("null trusted", get("null", echo("null")), (), ["null-origin-trusted"]),
        (
            "wildcard with credentials",
            get(A, [("Access-Control-Allow-Origin", "*"), ("Access-Control-Allow-Credentials", "true")]),
            (),
            ["wildcard-with-credentials"],
        ),
        ("invalid ACAO", get(A, [("Access-Control-Allow-Origin", f"{A} {B}")]), (), ["invalid-allow-origin"]),
        (
            "insecure origin",
            get("http://app.example.com", echo("http://app.example.com")),
            (),
            ["insecure-origin-trusted"],
        ),
        (
            "long max-age",
            preflighted(
                A,
                "PUT",
                echo(A) + [("Access-Control-Allow-Methods", "GET, PUT"), ("Access-Control-Max-Age", "86400")],
            ),
            (),
            ["long-preflight-max-age"],
        ),
        ("one echo without trusted origins is undecidable", get(EVIL, echo(EVIL, extra=VARY)), (), []),
        (
            "one echo outside trusted origins",
            get(EVIL, echo(EVIL, extra=VARY)),
            (A,),
            ["reflected-origin-credentials"],
        ),
    ],
)
def test_live_findings_decide_from_one_exchange(
    name: str, exchange: Exchange, trusted: tuple[str, ...], expected: list[str]
) -> None:
    assert live_findings(exchange, RuleContext(trusted_origins=trusted)) == expected
    assert exchange.findings == []  # live evaluation leaves the exchange alone


def test_live_evaluate_orders_by_severity() -> None:
    exchange = get("null", echo("null") + [("Access-Control-Max-Age", "99999")])
    exchange.actual.request_headers = Headers([("Origin", "null"), ("Access-Control-Request-Method", "PUT")])  # type: ignore[union-attr]
    exchange.actual.method = "OPTIONS"  # type: ignore[union-attr]
    severities = [f.severity for f in live_evaluate(exchange, RuleContext())]
    assert severities == sorted(severities, reverse=True)
    assert len(severities) >= 2


def test_shared_preflight_counts_once_and_names_every_exchange() -> None:
    first = preflighted(
        A, "PUT", echo("null") + [("Access-Control-Allow-Methods", "PUT")], actual_response=echo("null")
    )
    second = Exchange(
        id="x-cached",
        origin=A,
        method="PUT",
        url=first.url,
        actual=None,
        preflight=first.preflight,
        preflight_cached=True,
    )
    findings = evaluate([first, second], RuleContext())
    null = next(f for f in findings if f.rule == "null-origin-trusted")
    assert null.exchanges == [first.id, "x-cached"]
    assert null.count == 2


def test_trusted_origins_may_come_as_a_list_or_as_urls() -> None:
    exchanges = [get(EVIL, echo(EVIL, extra=VARY))]
    context = RuleContext(trusted_origins=[A + "/", "HTTPS://EVIL.example.net:443"])  # type: ignore[arg-type]
    assert evaluate(exchanges, context) == []
    assert [f.rule for f in evaluate(exchanges, RuleContext(trusted_origins=(A,)))] == [
        "reflected-origin-credentials"
    ]
