"""Table-driven tests of the browser model against fetch-rules.md (each row names the rule it proves)."""

from __future__ import annotations

import pytest

from cors_audit import browser
from cors_audit.messages import DETAILS, console_message
from cors_audit.model import Exchange, Headers, Message

PAGE = "https://app.example"
API = "https://api.example/data"


def msg(method="GET", url=API, req=(), status=200, resp=(), started=0.0, mid="m"):
    return Message(
        id=mid,
        started=started,
        method=method,
        url=url,
        request_headers=Headers(req),
        status=status,
        response_headers=Headers(resp),
    )


def preflight(method="PUT", headers="", status=204, resp=(), origin=PAGE, url=API):
    req = [("Origin", origin), ("Access-Control-Request-Method", method), ("Sec-Fetch-Mode", "cors")]
    if headers:
        req.append(("Access-Control-Request-Headers", headers))
    return msg("OPTIONS", url, req, status, resp, mid="p")


# ---- §2.1 safelisted request headers ----
SAFELIST = [
    ("accept", "*/*", True),
    ("accept", "text/html, application/json;q=0.9", True),
    ("accept", 'a"b', False),
    ("accept", "a" * 128, True),
    ("accept", "a" * 129, False),
    ("accept-language", "en-US,en;q=0.9", True),
    ("accept-language", "en_US", False),
    ("content-language", "de-DE", True),
    ("content-language", "de(DE)", False),
    ("content-type", "text/plain", True),
    ("content-type", "text/plain;", True),
    ("content-type", "text/plain;garbage", True),
    ("content-type", "Text/Plain;charset=utf-8", True),
    ("content-type", "multipart/form-data; boundary=x", True),
    ("content-type", "application/x-www-form-urlencoded", True),
    ("content-type", "text /plain", False),
    ("content-type", "text/plain,", False),
    ("content-type", "text/plain,x/x", False),
    ("content-type", "application/json", False),
    ("content-type", "text/html", False),
    ("content-type", 'text/plain;charset="utf-8"', False),
    ("content-type", "text/plain\x01", False),
    ("content-type", "text/plain\t", True),
    ("range", "bytes=100-200", True),
    ("range", "bytes=200-", True),
    ("range", "bytes=200-100", False),
    ("range", "bytes=-500", False),
    ("range", "bytes=0-1,5-6", False),
    ("range", "bytes= 1-2", False),
    ("range", "Bytes=1-2", False),
    ("dpr", "2.0", True),
    ("dpr", "", False),
    ("dpr", "x", False),
    ("device-memory", "8", True),
    ("width", "1200", True),
    ("width", "12.5", False),
    ("viewport-width", "800", True),
    ("rtt", "50", True),
    ("downlink", "1.5", True),
    ("ect", "4g", True),
    ("ect", "5g", False),
    ("save-data", "ON", True),
    ("save-data", "off", False),
    ("intervention", "anything", True),
    ("authorization", "Bearer x", False),
    ("last-event-id", "1", False),
    ("x-requested-with", "XMLHttpRequest", False),
    ("cache-control", "no-cache", False),
]


@pytest.mark.parametrize(("name", "value", "safe"), SAFELIST, ids=[f"{n}={v[:20]!r}" for n, v, _ in SAFELIST])
def test_safelisted_request_header(name: str, value: str, safe: bool) -> None:
    assert browser.is_safelisted_header(name, value) is safe


UNSAFE = [
    (
        "forbidden names are the browser's own",
        [
            ("Cookie", "a=b"),
            ("User-Agent", "x"),
            ("Sec-Fetch-Mode", "cors"),
            ("Origin", PAGE),
            ("Proxy-Connection", "keep-alive"),
        ],
        [],
    ),
    (
        "names are lower-cased, de-duplicated, sorted",
        [("X-B", "1"), ("x-a", "1"), ("X-A", "2")],
        ["x-a", "x-b"],
    ),
    (
        "1024-byte total makes every safelisted name unsafe (Chromium names count)",
        [
            ("Accept", "a" * 128),
            ("Accept-Language", "b" * 128),
            ("Content-Language", "c" * 128),
            ("Content-Type", "text/plain;" + "d" * 117),
            ("Intervention", "e" * 128),
            ("Range", "bytes=1-2"),
            ("Dpr", "1" * 128),
            ("Width", "2" * 128),
            ("Rtt", "3" * 128),
        ],
        [
            "accept",
            "accept-language",
            "content-language",
            "content-type",
            "dpr",
            "intervention",
            "range",
            "rtt",
            "width",
        ],
    ),
    (
        "1024 exactly is fine",
        [("Accept", "a" * 128)] * 1
        + [
            ("Intervention", "e" * 128),
            ("Accept-Language", "b" * 128),
            ("Content-Language", "c" * 128),
            ("Dpr", "1" * 128),
            ("Width", "2" * 128),
            ("Rtt", "3" * 128),
            ("Device-Memory", "4" * 128),
        ],
        [],
    ),
]


@pytest.mark.parametrize(("case", "headers", "expected"), UNSAFE, ids=[c for c, _, _ in UNSAFE])
def test_unsafe_header_names(case: str, headers: list[tuple[str, str]], expected: list[str]) -> None:
    assert browser.unsafe_header_names(headers) == expected


@pytest.mark.parametrize(
    ("method", "unsafe", "needed"),
    [
        ("GET", [], False),
        ("HEAD", [], False),
        ("POST", [], False),
        ("PUT", [], True),
        ("get", [], True),
        ("patch", [], True),
        ("GET", ["x-a"], True),
    ],
)
def test_needs_preflight_method_is_byte_exact(method: str, unsafe: list[str], needed: bool) -> None:
    assert browser.needs_preflight(method, unsafe) is needed


# ---- §7 access check, every row ----
ACCESS = [
    ("1 wildcard, no credentials", [("ACAO", "*")], False, None, None),
    (
        "1 wildcard with credentials",
        [("ACAO", "*"), ("ACAC", "true")],
        True,
        "WildcardOriginNotAllowed",
        None,
    ),
    ("2 absent", [], False, "MissingAllowOriginHeader", None),
    ("2 empty is present, not absent", [("ACAO", "")], False, "InvalidAllowOriginValue", ""),
    (
        "3a comma list",
        [("ACAO", f"{PAGE}, https://b.example")],
        False,
        "MultipleAllowOriginValues",
        f"{PAGE}, https://b.example",
    ),
    (
        "3a space",
        [("ACAO", f"{PAGE} https://b.example")],
        False,
        "MultipleAllowOriginValues",
        f"{PAGE} https://b.example",
    ),
    (
        "3a duplicate identical lines join with a comma",
        [("ACAO", PAGE), ("ACAO", PAGE)],
        False,
        "MultipleAllowOriginValues",
        f"{PAGE}, {PAGE}",
    ),
    ("3b null", [("ACAO", "null")], False, "AllowOriginMismatch", "null"),
    ("3c bare host", [("ACAO", "app.example")], False, "InvalidAllowOriginValue", "app.example"),
    ("3c scheme-relative", [("ACAO", "//app.example")], False, "InvalidAllowOriginValue", "//app.example"),
    ("3c dash", [("ACAO", "-")], False, "InvalidAllowOriginValue", "-"),
    ("3c double star", [("ACAO", "**")], False, "InvalidAllowOriginValue", "**"),
    ("3c quoted star", [("ACAO", "'*'")], False, "InvalidAllowOriginValue", "'*'"),
    ("3c double-quoted star", [("ACAO", '"*"')], False, "InvalidAllowOriginValue", '"*"'),
    ("3d trailing slash", [("ACAO", PAGE + "/")], False, "AllowOriginMismatch", PAGE + "/"),
    ("3d default port", [("ACAO", PAGE + ":443")], False, "AllowOriginMismatch", PAGE + ":443"),
    ("3d other port", [("ACAO", PAGE + ":8443")], False, "AllowOriginMismatch", PAGE + ":8443"),
    ("3d uppercase", [("ACAO", "https://APP.example")], False, "AllowOriginMismatch", "https://APP.example"),
    ("3d scheme", [("ACAO", "http://app.example")], False, "AllowOriginMismatch", "http://app.example"),
    ("3d path", [("ACAO", PAGE + "/x")], False, "AllowOriginMismatch", PAGE + "/x"),
    (
        "3d other host",
        [("ACAO", "https://evil.example")],
        False,
        "AllowOriginMismatch",
        "https://evil.example",
    ),
    ("4 credentials without ACAC", [("ACAO", PAGE)], True, "InvalidAllowCredentials", ""),
    ("4 ACAC True", [("ACAO", PAGE), ("ACAC", "True")], True, "InvalidAllowCredentials", "True"),
    ("4 ACAC quoted", [("ACAO", PAGE), ("ACAC", '"true"')], True, "InvalidAllowCredentials", '"true"'),
    ("4 ACAC 1", [("ACAO", PAGE), ("ACAC", "1")], True, "InvalidAllowCredentials", "1"),
    (
        "4 ACAC twice",
        [("ACAO", PAGE), ("ACAC", "true"), ("ACAC", "true")],
        True,
        "InvalidAllowCredentials",
        "true, true",
    ),
    ("5 exact origin with credentials", [("ACAO", PAGE), ("ACAC", "true")], True, None, None),
    (
        "5 exact origin, ACAC ignored without credentials",
        [("ACAO", PAGE), ("ACAC", "nope")],
        False,
        None,
        None,
    ),
    ("value is trimmed", [("ACAO", f" {PAGE}\t")], False, None, None),
]
_NAMES = {"ACAO": "Access-Control-Allow-Origin", "ACAC": "Access-Control-Allow-Credentials"}


@pytest.mark.parametrize(
    ("case", "lines", "credentialed", "error", "param"), ACCESS, ids=[a[0] for a in ACCESS]
)
def test_access_check(case: str, lines, credentialed: bool, error: str | None, param: str | None) -> None:
    headers = Headers([(_NAMES[n], v) for n, v in lines])
    failure = browser.check_access(headers, PAGE, credentialed)
    assert (failure.error if failure else None) == error
    if failure is not None:
        assert failure.parameter == param


def test_access_check_tainted_origin_needs_null() -> None:
    assert browser.check_access(Headers([("Access-Control-Allow-Origin", "null")]), "null", False) is None
    failure = browser.check_access(Headers([("Access-Control-Allow-Origin", PAGE)]), "null", False)
    assert failure is not None and failure.error == "AllowOriginMismatch"


# ---- §5 preflight checks in Chromium's order ----
OK = [("Access-Control-Allow-Origin", PAGE)]
PREFLIGHT = [
    (
        "P2 redirect with Location",
        dict(status=302, resp=OK + [("Location", "/x")]),
        "PreflightDisallowedRedirect",
    ),
    ("P2 redirect without Location is a non-ok status", dict(status=302, resp=OK), "PreflightInvalidStatus"),
    (
        "P2 status 300 is not a redirect",
        dict(status=300, resp=OK + [("Location", "/x")]),
        "PreflightInvalidStatus",
    ),
    (
        "P2 before P3: redirect without ACAO",
        dict(status=307, resp=[("Location", "/x")]),
        "PreflightDisallowedRedirect",
    ),
    ("P3 before P4: 404 without ACAO", dict(status=404, resp=[]), "PreflightMissingAllowOriginHeader"),
    ("P4 404 with ACAO", dict(status=404, resp=OK), "PreflightInvalidStatus"),
    (
        "P3 mismatch",
        dict(resp=[("Access-Control-Allow-Origin", "https://x.example")]),
        "PreflightAllowOriginMismatch",
    ),
    ("P3 multiple", dict(resp=OK + OK), "PreflightMultipleAllowOriginValues"),
    ("P3 invalid", dict(resp=[("Access-Control-Allow-Origin", "nope")]), "PreflightInvalidAllowOriginValue"),
    (
        "P6 ACAM not tokens",
        dict(resp=OK + [("Access-Control-Allow-Methods", "PUT DELETE")]),
        "InvalidAllowMethodsPreflightResponse",
    ),
    (
        "P6 ACAH not tokens even if unneeded",
        dict(resp=OK + [("Access-Control-Allow-Methods", "PUT"), ("Access-Control-Allow-Headers", "x a")]),
        "InvalidAllowHeadersPreflightResponse",
    ),
    ("P6 empty items are dropped", dict(resp=OK + [("Access-Control-Allow-Methods", " ,PUT,, ")]), None),
    (
        "P7 method not listed",
        dict(resp=OK + [("Access-Control-Allow-Methods", "DELETE")]),
        "MethodDisallowedByPreflightResponse",
    ),
    ("P7 missing ACAM", dict(resp=OK), "MethodDisallowedByPreflightResponse"),
    ("P7 wildcard methods", dict(resp=OK + [("Access-Control-Allow-Methods", "*")]), None),
]


@pytest.mark.parametrize(("case", "kwargs", "error"), PREFLIGHT, ids=[p[0] for p in PREFLIGHT])
def test_preflight_check(case: str, kwargs: dict, error: str | None) -> None:
    failure = browser.check_preflight(
        preflight(**kwargs), method="PUT", unsafe_headers=[], origin=PAGE, credentialed=False
    )
    assert (failure.error if failure else None) == error


CRED_OK = OK + [("Access-Control-Allow-Credentials", "true")]
PREFLIGHT_METHOD_HEADERS = [
    (
        "P7 method case is byte-exact: patch vs PATCH",
        "patch",
        [],
        False,
        [("Access-Control-Allow-Methods", "PATCH")],
        "MethodDisallowedByPreflightResponse",
        "patch",
    ),
    (
        "P7 method case exact match passes",
        "patcH",
        [],
        False,
        [("Access-Control-Allow-Methods", "patcH")],
        None,
        None,
    ),
    (
        "P7 * methods with credentials is literal",
        "PUT",
        [],
        True,
        [("Access-Control-Allow-Methods", "*")],
        "MethodDisallowedByPreflightResponse",
        "PUT",
    ),
    (
        "P7 safelisted method needs no listing",
        "POST",
        ["x-a"],
        False,
        [("Access-Control-Allow-Headers", "x-a")],
        None,
        None,
    ),
    (
        "P8 missing header",
        "PUT",
        ["x-a", "x-b"],
        False,
        [("Access-Control-Allow-Methods", "PUT"), ("Access-Control-Allow-Headers", "X-A")],
        "HeaderDisallowedByPreflightResponse",
        "x-b",
    ),
    (
        "P8 first missing in sorted order",
        "PUT",
        ["x-a", "x-b"],
        False,
        [("Access-Control-Allow-Methods", "PUT")],
        "HeaderDisallowedByPreflightResponse",
        "x-a",
    ),
    (
        "P8 * covers Authorization in Chromium",
        "PUT",
        ["authorization", "x-a"],
        False,
        [("Access-Control-Allow-Methods", "PUT"), ("Access-Control-Allow-Headers", "*")],
        None,
        None,
    ),
    (
        "P8 * with credentials is literal",
        "PUT",
        ["x-a"],
        True,
        [("Access-Control-Allow-Methods", "PUT"), ("Access-Control-Allow-Headers", "*")],
        "HeaderDisallowedByPreflightResponse",
        "x-a",
    ),
    (
        "P3 uses the actual credentials mode",
        "PUT",
        [],
        True,
        [("Access-Control-Allow-Methods", "PUT")],
        "PreflightInvalidAllowCredentials",
        "",
    ),
]


@pytest.mark.parametrize(
    ("case", "method", "unsafe", "credentialed", "extra", "error", "param"),
    PREFLIGHT_METHOD_HEADERS,
    ids=[p[0] for p in PREFLIGHT_METHOD_HEADERS],
)
def test_preflight_method_and_headers(case, method, unsafe, credentialed, extra, error, param) -> None:
    base = CRED_OK if credentialed and error != "PreflightInvalidAllowCredentials" else OK
    failure = browser.check_preflight(
        preflight(method=method, resp=base + extra),
        method=method,
        unsafe_headers=unsafe,
        origin=PAGE,
        credentialed=credentialed,
    )
    assert (failure.error if failure else None) == error
    if failure is not None:
        assert failure.parameter == param


@pytest.mark.parametrize(
    ("value", "seconds"),
    [(None, 5.0), ("600", 600.0), ("86400", 7200.0), ("0", 0.0), ("-1", 0.0), ("abc", 5.0), (" 10 ", 10.0)],
)
def test_max_age(value: str | None, seconds: float) -> None:
    assert browser.parse_max_age(value) == seconds


def test_cache_entry_rules() -> None:
    entry = browser.PreflightResult.from_preflight(
        preflight(
            resp=OK
            + [
                ("Access-Control-Allow-Methods", "*"),
                ("Access-Control-Allow-Headers", "*"),
                ("Access-Control-Max-Age", "60"),
            ]
        ),
        PAGE,
        credentialed=False,
    )
    assert entry is not None
    assert entry.covers("PUT", ["x-a"], credentialed=False, at=30)
    assert not entry.covers("PUT", ["x-a"], credentialed=False, at=61), "expired"
    assert not entry.covers("PUT", [], credentialed=True, at=1), "credentialed request, uncredentialed entry"
    assert not entry.covers("PUT", ["authorization"], credentialed=False, at=1), (
        "* never covers authorization"
    )


# ---- §8 messages: every CorsError has a console text; spot-check exact strings ----
# Chromium's network::mojom::CorsError names (without `k`) as fetch-rules.md §8 lists them, current and removed.
CORS_ERROR_NAMES = """
DisallowedByMode InvalidResponse WildcardOriginNotAllowed PreflightWildcardOriginNotAllowed
MissingAllowOriginHeader PreflightMissingAllowOriginHeader MultipleAllowOriginValues
PreflightMultipleAllowOriginValues InvalidAllowOriginValue PreflightInvalidAllowOriginValue AllowOriginMismatch
PreflightAllowOriginMismatch InvalidAllowCredentials PreflightInvalidAllowCredentials CorsDisabledScheme
PreflightInvalidStatus PreflightDisallowedRedirect InvalidAllowMethodsPreflightResponse
InvalidAllowHeadersPreflightResponse MethodDisallowedByPreflightResponse HeaderDisallowedByPreflightResponse
RedirectContainsCredentials InsecurePrivateNetwork InvalidPrivateNetworkAccess LocalNetworkAccessPermissionDenied
PreflightMissingAllowPrivateNetwork PreflightInvalidAllowPrivateNetwork UnexpectedPrivateNetworkAccess
PreflightMissingPrivateNetworkAccessId PreflightMissingPrivateNetworkAccessName
PrivateNetworkAccessPermissionUnavailable PrivateNetworkAccessPermissionDenied
""".split()


def test_the_message_table_is_chromiums_catalogue() -> None:
    assert set(DETAILS) == set(CORS_ERROR_NAMES)


@pytest.mark.parametrize("error", CORS_ERROR_NAMES)
def test_every_error_has_a_message(error: str) -> None:
    text = console_message(error, url=API, origin=PAGE, parameter="v")
    assert text.startswith(
        f"Access to fetch at '{API}' from origin '{PAGE}' has been blocked by CORS policy: "
    )


@pytest.mark.parametrize(
    ("error", "initiator", "param", "first", "expected"),
    [
        (
            "MissingAllowOriginHeader",
            "fetch",
            None,
            None,
            f"Access to fetch at '{API}' from origin '{PAGE}' has been blocked by CORS policy: No "
            "'Access-Control-Allow-Origin' header is present on the requested resource.",
        ),
        (
            "PreflightAllowOriginMismatch",
            "fetch",
            "https://x.example",
            None,
            f"Access to fetch at '{API}' from origin '{PAGE}' has been blocked by CORS policy: Response to "
            "preflight request doesn't pass access control check: The 'Access-Control-Allow-Origin' header has a "
            "value 'https://x.example' that is not equal to the supplied origin. Have the server send the header "
            "with a valid value.",
        ),
        (
            "AllowOriginMismatch",
            "xhr",
            "https://x.example",
            None,
            f"Access to XMLHttpRequest at '{API}' from origin '{PAGE}' has been blocked by CORS policy: The "
            "'Access-Control-Allow-Origin' header has a value 'https://x.example' that is not equal to the supplied "
            "origin.",
        ),
        (
            "WildcardOriginNotAllowed",
            "xhr",
            None,
            None,
            f"Access to XMLHttpRequest at '{API}' from origin '{PAGE}' has been blocked by CORS policy: The value "
            "of the 'Access-Control-Allow-Origin' header in the response must not be the wildcard '*' when the "
            "request's credentials mode is 'include'. The credentials mode of requests initiated by the "
            "XMLHttpRequest is controlled by the withCredentials attribute.",
        ),
        (
            "MissingAllowOriginHeader",
            "fetch",
            None,
            "https://api.example/start",
            f"Access to fetch at '{API}' (redirected from 'https://api.example/start') from origin '{PAGE}' has "
            "been blocked by CORS policy: No 'Access-Control-Allow-Origin' header is present on the requested "
            "resource.",
        ),
        (
            "HeaderDisallowedByPreflightResponse",
            "fetch",
            "x-a",
            None,
            f"Access to fetch at '{API}' from origin '{PAGE}' has been blocked by CORS policy: Request header "
            "field x-a is not allowed by Access-Control-Allow-Headers in preflight response.",
        ),
    ],
)
def test_console_message_text(error, initiator, param, first, expected) -> None:
    assert (
        console_message(error, url=API, origin=PAGE, initiator=initiator, parameter=param, first_url=first)
        == expected
    )


# ---- classification ----
@pytest.mark.parametrize(
    ("req", "url", "cors"),
    [
        ([("Origin", PAGE), ("Sec-Fetch-Mode", "cors")], API, True),
        ([("Origin", PAGE), ("Sec-Fetch-Mode", "cors")], PAGE + "/same", False),
        ([("Sec-Fetch-Mode", "no-cors")], API, False),
        ([("Origin", PAGE), ("Sec-Fetch-Mode", "navigate")], API, False),
        ([("Origin", PAGE)], API, True),
        ([("Origin", PAGE), ("Accept", "text/html"), ("Upgrade-Insecure-Requests", "1")], API, False),
        ([], API, False),
        ([("Origin", "null"), ("Sec-Fetch-Mode", "cors")], API, True),
    ],
)
def test_is_cors_request(req, url, cors) -> None:
    assert browser.is_cors_request(msg(url=url, req=req)) is cors


def _exchange(hops, preflights=None, credentials="omit", origin=PAGE) -> Exchange:
    return Exchange(
        id="x",
        origin=origin,
        method=hops[0].method if hops else "PUT",
        url=hops[0].url if hops else API,
        actual=hops[-1] if hops else None,
        hops=hops,
        preflights=preflights or [None] * len(hops),
        credentials=credentials,
        initiator="fetch",
    )


CORS_REQ = [("Origin", PAGE), ("Sec-Fetch-Mode", "cors")]


def test_redirect_taint_checks_against_null() -> None:
    first = msg(
        url="https://b.example/r",
        req=CORS_REQ,
        status=302,
        resp=[("Location", "https://c.example/end"), ("Access-Control-Allow-Origin", PAGE)],
    )
    second_page = msg(
        url="https://c.example/end",
        req=[("Origin", "null"), ("Sec-Fetch-Mode", "cors")],
        resp=[("Access-Control-Allow-Origin", PAGE)],
    )
    verdict = browser.judge(_exchange([first, second_page]))
    assert (verdict.outcome, verdict.error, verdict.blocked_at) == (
        "blocked",
        "AllowOriginMismatch",
        "actual",
    )
    assert "(redirected from 'https://b.example/r')" in (verdict.message or "")
    second_null = msg(
        url="https://c.example/end", req=[("Origin", "null")], resp=[("Access-Control-Allow-Origin", "null")]
    )
    assert browser.judge(_exchange([first, second_null])).outcome == "allowed"


def test_redirect_hop_without_acao_blocks_at_redirect() -> None:
    first = msg(url="https://b.example/r", req=CORS_REQ, status=301, resp=[("Location", "/next")])
    verdict = browser.judge(_exchange([first]))
    assert (verdict.outcome, verdict.error, verdict.blocked_at) == (
        "blocked",
        "MissingAllowOriginHeader",
        "redirect",
    )


def test_redirect_location_with_credentials() -> None:
    first = msg(
        url="https://b.example/r",
        req=CORS_REQ,
        status=302,
        resp=[("Location", "https://u:p@b.example/x"), ("Access-Control-Allow-Origin", "*")],
    )
    verdict = browser.judge(_exchange([first]))
    assert (verdict.error, verdict.failed_parameter) == ("RedirectContainsCredentials", "")
    assert "Redirect location ''" in (verdict.message or "")


def test_status_of_actual_response_does_not_matter() -> None:
    hop = msg(req=CORS_REQ, status=500, resp=[("Access-Control-Allow-Origin", PAGE)])
    assert browser.judge(_exchange([hop])).outcome == "allowed"


def test_uncredentialed_allowed_says_what_credentials_would_do() -> None:
    hop = msg(req=CORS_REQ, resp=[("Access-Control-Allow-Origin", "*")])
    verdict = browser.judge(_exchange([hop]))
    assert verdict.outcome == "allowed"
    assert verdict.alternative and "WildcardOriginNotAllowed" in verdict.alternative


def test_orphan_preflight_failing_only_with_credentials_infers_include() -> None:
    pf = preflight(resp=[("Access-Control-Allow-Origin", "*"), ("Access-Control-Allow-Methods", "PUT")])
    exchange = _exchange([], preflights=[pf], credentials="unknown")
    exchange.preflight = pf
    verdict = browser.judge(exchange)
    assert (verdict.outcome, verdict.error) == ("blocked", "PreflightWildcardOriginNotAllowed")
    assert any("'include'" in a for a in verdict.assumptions)
