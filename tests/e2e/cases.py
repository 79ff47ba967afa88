"""The oracle's case table: one request per case, with what the servers answer.

Every case sends one request from the runner page (`RequestSpec`) to `/c/<path>` on the page
origin or one of the API origins, and the servers answer from the case's `routes`. Paths are
unique per case, so the preflight cache cannot leak between cases, except in the §4 cache
cases, which share a path on purpose and must run in table order.

`capture_limits` names what a capture cannot show for this case, so the oracle test knows
which part of Chromium's answer no analyser of the HAR can reproduce:
- "header-order": with several unsafe headers missing from ACAH, Chromium names the first in
  its internal header order, which the capture does not record (the actual request is never
  sent, and ACRH is sorted).
- "redirect-mode": fetch's `redirect` option is not on the wire. A redirect the browser did not
  follow looks the same whether the mode was "manual" (the page gets an opaque-redirect
  response: allowed) or "error" (a plain `net::ERR_FAILED`).

`expect` (with `expect_preflight` and `expect_param`, the failed parameter) is what
`/work/shared/fetch-rules.md` predicts ("allowed", "not-cors", "absent" for a
request that never reaches the network, "blocked:<CorsError>", or "error:<net::ERR_...>" for a
plain network error with no CorsError). It is NOT what the oracle
test compares against (that is Chromium's recorded truth); `record.py` reports every case where
Chromium disagrees with it, which is how surprises in the rulebook get found.

Section names refer to fetch-rules.md. Placeholders in header values are listed in
`harness.Reply`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from tests.e2e.harness import Reply, RequestSpec, Route

ACAO = "Access-Control-Allow-Origin"
ACAC = "Access-Control-Allow-Credentials"
ACAM = "Access-Control-Allow-Methods"
ACAH = "Access-Control-Allow-Headers"
MAX_AGE = "Access-Control-Max-Age"
TEXT = ("Content-Type", "text/plain")

Headers = tuple[tuple[str, str], ...]


@dataclass(frozen=True, slots=True)
class Case:
    """One oracle case: the page's request, the servers' answers, and the rulebook's prediction."""

    id: str
    section: str
    title: str
    request: RequestSpec
    routes: Mapping[str, Route]
    expect: str
    path: str = ""
    twin: str | None = None
    expect_preflight: bool | None = None
    expect_param: str | None = None
    notes: str = ""
    capture_limits: tuple[str, ...] = field(default=())

    @property
    def base(self) -> str:
        """The request path, `/c/<path>` (the case id unless the case shares a path)."""
        return f"/c/{self.path or self.id}"

    def full_routes(self) -> dict[str, Route]:
        """Routes keyed by absolute path ("" is the base path, "b" is `<base>/b`)."""
        return {(self.base + "/" + sub if sub else self.base): route for sub, route in self.routes.items()}


# ---------------------------------------------------------------------------------------------
# small builders


def ok(*headers: tuple[str, str], status: int = 200, body: str = "ok") -> Reply:
    """An actual response: text body plus the given header lines."""
    return Reply(status, (TEXT, *headers), body)


def pf(*headers: tuple[str, str], status: int = 204) -> Reply:
    """A preflight response with exactly these header lines."""
    return Reply(status, tuple(headers))


NO_CORS_404 = Reply(404, (TEXT,), "not found")
STAR = (ACAO, "*")
ECHO = (ACAO, "{origin}")
PAGE = (ACAO, "{page}")
CRED = (ACAC, "true")


OK_STAR = ok(STAR)


def route(options: Reply | Sequence[Reply] = NO_CORS_404, actual: Reply | Sequence[Reply] = OK_STAR) -> Route:
    opts = (options,) if isinstance(options, Reply) else tuple(options)
    acts = (actual,) if isinstance(actual, Reply) else tuple(actual)
    return Route(options=opts, actual=acts)


def simple(*actual_headers: tuple[str, str], status: int = 200) -> dict[str, Route]:
    """Routes for a request that needs no preflight: the actual response carries these headers."""
    return {"": route(actual=ok(*actual_headers, status=status))}


# A probe for §2: the preflight answer is a 404 without CORS headers, the actual answer allows
# everyone. So "allowed" means Chromium sent no preflight, and
# "blocked:PreflightMissingAllowOriginHeader" means it did.
PROBE = {"": route(NO_CORS_404, ok(STAR))}
PREFLIGHTED = "blocked:PreflightMissingAllowOriginHeader"


def fetch(**kw: object) -> RequestSpec:
    return RequestSpec(api="fetch", **kw)  # type: ignore[arg-type]


def xhr(**kw: object) -> RequestSpec:
    return RequestSpec(api="xhr", **kw)  # type: ignore[arg-type]


def good_preflight(*extra: tuple[str, str], origin: str = "{origin}") -> Reply:
    """A preflight answer that lets PUT/DELETE/PATCH and x-a/x-b/content-type through."""
    return pf((ACAO, origin), (ACAM, "PUT, DELETE, PATCH"), (ACAH, "x-a, x-b, content-type"), *extra)


def probe(cid: str, title: str, expect_preflight: bool, **request: object) -> Case:
    """A §2 case: does this request need a preflight? (PROBE routes make the answer visible.)"""
    return Case(
        cid,
        "§2",
        title,
        fetch(**request),
        PROBE,
        PREFLIGHTED if expect_preflight else "allowed",
        expect_preflight=expect_preflight,
    )


def access(
    cid: str,
    title: str,
    expect: str,
    *headers: tuple[str, str],
    param: str | None = None,
    **request: object,
) -> Case:
    """A §7 case: a simple GET (unless `request` says otherwise) whose response carries `headers`."""
    return Case(
        cid,
        "§7",
        title,
        fetch(**request),
        simple(*headers),
        expect,
        expect_preflight=False,
        expect_param=param,
    )


# ---------------------------------------------------------------------------------------------
# §1 request classification: not-cors

S1 = [
    Case(
        "s1-same-origin-get",
        "§1",
        "same-origin fetch, no CORS headers",
        fetch(target="page"),
        simple(),
        "not-cors",
    ),
    Case(
        "s1-same-origin-put-custom",
        "§1",
        "same-origin PUT with a custom header: no CORS flag, no preflight",
        fetch(target="page", method="PUT", headers=(("X-Custom", "1"),)),
        {"": route(NO_CORS_404, ok())},
        "not-cors",
        expect_preflight=False,
    ),
    Case(
        "s1-no-cors-get",
        "§1",
        "fetch mode no-cors to another origin",
        fetch(mode="no-cors"),
        simple(),
        "not-cors",
    ),
    Case(
        "s1-no-cors-post",
        "§1",
        "fetch mode no-cors POST with a text body",
        fetch(mode="no-cors", method="POST", body="a=1"),
        simple(),
        "not-cors",
    ),
    Case("s1-img", "§1", "<img> from another origin (no-cors)", RequestSpec(api="img"), simple(), "not-cors"),
    Case(
        "s1-script",
        "§1",
        "<script> from another origin (no-cors)",
        RequestSpec(api="script"),
        {"": route(actual=Reply(200, (("Content-Type", "text/javascript"),), "window.__s1 = 1;"))},
        "not-cors",
    ),
    Case(
        "s1-script-from-sandbox",
        "§1",
        "<script> from a sandboxed frame: no-cors, yet Chromium sends Origin: null",
        RequestSpec(api="script", frame="sandbox"),
        {"": route(actual=Reply(200, (("Content-Type", "text/javascript"),), "window.__s1 = 2;"))},
        "not-cors",
    ),
    Case(
        "s1-iframe-navigation",
        "§1",
        "iframe navigation to another origin",
        RequestSpec(api="iframe"),
        simple(),
        "not-cors",
    ),
    Case(
        "s1-form-post-navigation",
        "§1",
        "form POST navigation: carries Origin but is a navigation",
        RequestSpec(api="form", method="POST", body="x"),
        simple(),
        "not-cors",
    ),
    Case(
        "s1-mode-same-origin",
        "§1",
        "fetch mode same-origin to another origin: fails before the network (DisallowedByMode in the rulebook)",
        fetch(mode="same-origin"),
        simple(STAR),
        "absent",
        notes="Chromium rejects it in the renderer; nothing reaches the proxy.",
    ),
    Case(
        "s1-same-origin-credentials-include",
        "§1",
        "same-origin fetch with credentials include and wildcard ACAO: no CORS check",
        fetch(target="page", credentials="include"),
        simple(STAR),
        "not-cors",
    ),
]

# ---------------------------------------------------------------------------------------------
# §2 preflight triggers

S2 = [
    probe("s2-get", "GET without headers", False),
    probe("s2-head", "HEAD", False, method="HEAD"),
    probe(
        "s2-post-string-body",
        "POST with a string body (text/plain;charset=UTF-8)",
        False,
        method="POST",
        body="x",
    ),
    probe("s2-put", "PUT", True, method="PUT"),
    probe("s2-delete", "DELETE", True, method="DELETE"),
    probe("s2-patch-lower", "method 'patch' is sent as written and is not safelisted", True, method="patch"),
    probe("s2-custom-method", "custom method FOO", True, method="FOO"),
    probe(
        "s2-ct-json",
        "Content-Type application/json",
        True,
        method="POST",
        body="{}",
        headers=(("Content-Type", "application/json"),),
    ),
    probe(
        "s2-ct-text-html",
        "Content-Type text/html",
        True,
        method="POST",
        body="x",
        headers=(("Content-Type", "text/html"),),
    ),
    probe(
        "s2-ct-charset",
        "Content-Type text/plain;charset=utf-8",
        False,
        method="POST",
        body="x",
        headers=(("Content-Type", "text/plain;charset=utf-8"),),
    ),
    probe(
        "s2-ct-mixed-case",
        "Content-Type Text/Plain;charset=utf-8",
        False,
        method="POST",
        body="x",
        headers=(("Content-Type", "Text/Plain;charset=utf-8"),),
    ),
    probe(
        "s2-ct-trailing-semicolon",
        "Content-Type text/plain;",
        False,
        method="POST",
        body="x",
        headers=(("Content-Type", "text/plain;"),),
    ),
    probe(
        "s2-ct-garbage-param",
        "Content-Type text/plain;garbage",
        False,
        method="POST",
        body="x",
        headers=(("Content-Type", "text/plain;garbage"),),
    ),
    probe(
        "s2-ct-trailing-comma",
        "Content-Type text/plain,",
        True,
        method="POST",
        body="x",
        headers=(("Content-Type", "text/plain,"),),
    ),
    probe(
        "s2-ct-comma-list",
        "Content-Type text/plain,x/x",
        True,
        method="POST",
        body="x",
        headers=(("Content-Type", "text/plain,x/x"),),
    ),
    probe(
        "s2-ct-quoted-param",
        'Content-Type text/plain; charset="utf-8" (a quote is an unsafe byte)',
        True,
        method="POST",
        body="x",
        headers=(("Content-Type", 'text/plain; charset="utf-8"'),),
    ),
    probe(
        "s2-ct-space-in-type",
        "Content-Type 'text /plain'",
        True,
        method="POST",
        body="x",
        headers=(("Content-Type", "text /plain"),),
    ),
    probe(
        "s2-ct-multipart",
        "Content-Type multipart/form-data; boundary=xyz",
        False,
        method="POST",
        body="x",
        headers=(("Content-Type", "multipart/form-data; boundary=xyz"),),
    ),
    probe(
        "s2-ct-urlencoded",
        "Content-Type application/x-www-form-urlencoded",
        False,
        method="POST",
        body="a=1",
        headers=(("Content-Type", "application/x-www-form-urlencoded"),),
    ),
    probe("s2-accept-json", "Accept application/json", False, headers=(("Accept", "application/json"),)),
    probe("s2-accept-unsafe-byte", "Accept with a quote", True, headers=(("Accept", 'text/html; q="1"'),)),
    probe("s2-accept-128", "Accept of exactly 128 bytes", False, headers=(("Accept", "a" * 128),)),
    probe("s2-accept-129", "Accept of 129 bytes", True, headers=(("Accept", "a" * 129),)),
    probe(
        "s2-accept-language",
        "Accept-Language en-US,en;q=0.9",
        False,
        headers=(("Accept-Language", "en-US,en;q=0.9"),),
    ),
    probe(
        "s2-accept-language-underscore",
        "Accept-Language en_US",
        True,
        headers=(("Accept-Language", "en_US"),),
    ),
    probe("s2-content-language", "Content-Language de-DE", False, headers=(("Content-Language", "de-DE"),)),
    probe(
        "s2-content-language-slash", "Content-Language de/DE", True, headers=(("Content-Language", "de/DE"),)
    ),
    probe("s2-range-closed", "Range bytes=100-200", False, headers=(("Range", "bytes=100-200"),)),
    probe("s2-range-open", "Range bytes=200-", False, headers=(("Range", "bytes=200-"),)),
    probe("s2-range-suffix", "Range bytes=-500", True, headers=(("Range", "bytes=-500"),)),
    probe("s2-range-multi", "Range bytes=0-1,5-6", True, headers=(("Range", "bytes=0-1,5-6"),)),
    probe("s2-range-reversed", "Range bytes=200-100", True, headers=(("Range", "bytes=200-100"),)),
    probe("s2-range-inner-space", "Range bytes=0 -1", True, headers=(("Range", "bytes=0 -1"),)),
    probe("s2-x-custom", "custom header X-Custom", True, headers=(("X-Custom", "1"),)),
    probe("s2-authorization", "Authorization", True, headers=(("Authorization", "Bearer t0ken"),)),
    probe("s2-last-event-id", "Last-Event-ID (not safelisted yet)", True, headers=(("Last-Event-ID", "1"),)),
    probe("s2-cache-control", "Cache-Control", True, headers=(("Cache-Control", "no-cache"),)),
    probe("s2-dpr", "Chromium safelist: DPR 2", False, headers=(("DPR", "2"),)),
    probe("s2-dpr-decimal", "Chromium safelist: DPR 1.5", False, headers=(("DPR", "1.5"),)),
    probe("s2-dpr-word", "DPR abc is not a number", True, headers=(("DPR", "abc"),)),
    probe("s2-dpr-empty", "DPR empty", True, headers=(("DPR", ""),)),
    probe("s2-width", "Chromium safelist: Width 100", False, headers=(("Width", "100"),)),
    probe("s2-width-decimal", "Width 1.5 (integer only)", True, headers=(("Width", "1.5"),)),
    probe("s2-save-data-on", "Chromium safelist: Save-Data on", False, headers=(("Save-Data", "on"),)),
    probe("s2-save-data-off", "Save-Data off", True, headers=(("Save-Data", "off"),)),
    probe("s2-ect-4g", "Chromium safelist: ECT 4g", False, headers=(("ECT", "4g"),)),
    probe("s2-device-memory", "Chromium safelist: Device-Memory 8", False, headers=(("Device-Memory", "8"),)),
    probe(
        "s2-total-1024",
        "eight safelisted headers of 128 bytes: exactly 1024 bytes in total",
        False,
        headers=(
            ("Accept", "a" * 128),
            ("Accept-Language", "b" * 128),
            ("Content-Language", "c" * 128),
            ("Intervention", "d" * 128),
            ("DPR", "1" * 128),
            ("Width", "2" * 128),
            ("Viewport-Width", "3" * 128),
            ("Device-Memory", "4" * 128),
        ),
    ),
    probe(
        "s2-total-1025",
        "the same plus RTT 5: 1025 bytes, so every safelisted name becomes unsafe",
        True,
        headers=(
            ("Accept", "a" * 128),
            ("Accept-Language", "b" * 128),
            ("Content-Language", "c" * 128),
            ("Intervention", "d" * 128),
            ("DPR", "1" * 128),
            ("Width", "2" * 128),
            ("Viewport-Width", "3" * 128),
            ("Device-Memory", "4" * 128),
            ("RTT", "5"),
        ),
    ),
    Case(
        "s2-xhr-upload-listener",
        "§2",
        "XHR POST text/plain with an upload listener: cors-with-forced-preflight",
        xhr(method="POST", body="x", upload_listener=True),
        PROBE,
        PREFLIGHTED,
        expect_preflight=True,
        twin="s2-put",
    ),
]

# ---------------------------------------------------------------------------------------------
# §4 preflight cache (shared paths, consecutive, order matters)

CACHE_OK = good_preflight((MAX_AGE, "60"))

S4 = [
    Case(
        "c4-warm",
        "§4",
        "PUT, preflight allowed with max-age 60",
        fetch(method="PUT"),
        {"": route([CACHE_OK, NO_CORS_404], ok(ECHO))},
        "allowed",
        path="cache-hit",
        expect_preflight=True,
    ),
    Case(
        "c4-hit",
        "§4",
        "the same PUT again: served from the preflight cache (a second preflight would fail)",
        fetch(method="PUT"),
        {},
        "allowed",
        path="cache-hit",
        expect_preflight=False,
    ),
    Case(
        "c4-maxage0-warm",
        "§4",
        "PUT, preflight allowed with max-age 0",
        fetch(method="PUT"),
        {"": route([good_preflight((MAX_AGE, "0")), NO_CORS_404], ok(ECHO))},
        "allowed",
        path="cache-maxage0",
        expect_preflight=True,
    ),
    Case(
        "c4-maxage0-again",
        "§4",
        "max-age 0 is not cached: the repeat is preflighted again and that preflight fails",
        fetch(method="PUT"),
        {},
        PREFLIGHTED,
        path="cache-maxage0",
        expect_preflight=True,
    ),
    Case(
        "c4-negative-warm",
        "§4",
        "PUT, preflight allowed with max-age -5",
        fetch(method="PUT"),
        {"": route([good_preflight((MAX_AGE, "-5")), NO_CORS_404], ok(ECHO))},
        "allowed",
        path="cache-negative",
        expect_preflight=True,
    ),
    Case(
        "c4-negative-again",
        "§4",
        "negative max-age is not cached in Chromium: preflighted again",
        fetch(method="PUT"),
        {},
        PREFLIGHTED,
        path="cache-negative",
        expect_preflight=True,
    ),
    Case(
        "c4-default-warm",
        "§4",
        "PUT, preflight allowed without max-age (5 s default)",
        fetch(method="PUT"),
        {"": route([good_preflight(), NO_CORS_404], ok(ECHO))},
        "allowed",
        path="cache-default",
        expect_preflight=True,
    ),
    Case(
        "c4-default-hit",
        "§4",
        "repeat within 5 s: served from the cache",
        fetch(method="PUT"),
        {},
        "allowed",
        path="cache-default",
        expect_preflight=False,
    ),
    Case(
        "c4-omit-warm",
        "§4",
        "PUT without credentials, preflight allows credentials too, max-age 60",
        fetch(method="PUT"),
        {"": route([good_preflight(CRED, (MAX_AGE, "60")), NO_CORS_404], ok(ECHO, CRED))},
        "allowed",
        path="cache-cred",
        expect_preflight=True,
    ),
    Case(
        "c4-include-miss",
        "§4",
        "credentialed PUT cannot use the non-credentialed entry: new preflight, which fails",
        fetch(method="PUT", credentials="include"),
        {},
        PREFLIGHTED,
        path="cache-cred",
        expect_preflight=True,
    ),
    Case(
        "c4-include-warm",
        "§4",
        "credentialed PUT, preflight allowed with credentials, max-age 60",
        fetch(method="PUT", credentials="include"),
        {"": route([good_preflight(CRED, (MAX_AGE, "60")), NO_CORS_404], ok(ECHO, CRED))},
        "allowed",
        path="cache-cred2",
        expect_preflight=True,
    ),
    Case(
        "c4-omit-hit",
        "§4",
        "non-credentialed PUT may use the credentialed entry",
        fetch(method="PUT"),
        {},
        "allowed",
        path="cache-cred2",
        expect_preflight=False,
    ),
    Case(
        "c4-header-warm",
        "§4",
        "PUT with X-A, preflight allows x-a only, max-age 60",
        fetch(method="PUT", headers=(("X-A", "1"),)),
        {
            "": route(
                [
                    pf(ECHO, (ACAM, "PUT, DELETE"), (ACAH, "x-a"), (MAX_AGE, "60")),
                    pf(ECHO, (ACAM, "PUT, DELETE"), (ACAH, "x-a")),
                ],
                ok(ECHO),
            )
        },
        "allowed",
        path="cache-hdr",
        expect_preflight=True,
    ),
    Case(
        "c4-header-hit",
        "§4",
        "PUT with X-A again: cached",
        fetch(method="PUT", headers=(("X-A", "2"),)),
        {},
        "allowed",
        path="cache-hdr",
        expect_preflight=False,
    ),
    Case(
        "c4-header-miss",
        "§4",
        "PUT with X-B: not in the entry, new preflight, which does not list x-b",
        fetch(method="PUT", headers=(("X-B", "1"),)),
        {},
        "blocked:HeaderDisallowedByPreflightResponse",
        path="cache-hdr",
        expect_preflight=True,
    ),
    Case(
        "c4-method-warm",
        "§4",
        "PUT, preflight lists PUT only, max-age 60",
        fetch(method="PUT"),
        {"": route([pf(ECHO, (ACAM, "PUT"), (MAX_AGE, "60")), pf(ECHO, (ACAM, "PUT"))], ok(ECHO))},
        "allowed",
        path="cache-method",
        expect_preflight=True,
    ),
    Case(
        "c4-method-miss",
        "§4",
        "DELETE after a cached entry that lists only PUT: new preflight, which lacks DELETE",
        fetch(method="DELETE"),
        {},
        "blocked:MethodDisallowedByPreflightResponse",
        path="cache-method",
        expect_preflight=True,
    ),
]

# ---------------------------------------------------------------------------------------------
# §5 preflight response checks

PUT = {"method": "PUT"}
P5 = [
    Case(
        "p5-ok-204",
        "§5",
        "preflight 204 with ACAO echo and ACAM PUT",
        fetch(**PUT),
        {"": route(good_preflight(), ok(ECHO))},
        "allowed",
        expect_preflight=True,
    ),
    Case(
        "p5-ok-200-body",
        "§5",
        "preflight 200 with a body",
        fetch(**PUT),
        {"": route(Reply(200, (TEXT, ECHO, (ACAM, "PUT")), "preflight ok"), ok(ECHO))},
        "allowed",
    ),
    Case(
        "p5-redirect-301",
        "§5",
        "P2: preflight 301 with Location and good CORS headers",
        fetch(**PUT),
        {
            "": route(pf(ECHO, (ACAM, "PUT"), ("Location", "{self}{path}/b"), status=301), ok(ECHO)),
            "b": route(good_preflight(), ok(ECHO)),
        },
        "blocked:PreflightDisallowedRedirect",
    ),
    Case(
        "p5-redirect-307",
        "§5",
        "P2: preflight 307 with Location",
        fetch(**PUT),
        {
            "": route(pf(ECHO, (ACAM, "PUT"), ("Location", "{api2}{path}/b"), status=307), ok(ECHO)),
            "b": route(good_preflight(), ok(ECHO)),
        },
        "blocked:PreflightDisallowedRedirect",
    ),
    Case(
        "p5-redirect-302-no-acao",
        "§5",
        "P2 before P3: preflight 302 with Location and no ACAO",
        fetch(**PUT),
        {
            "": route(pf(("Location", "{self}{path}/b"), status=302), ok(ECHO)),
            "b": route(good_preflight(), ok(ECHO)),
        },
        "blocked:PreflightDisallowedRedirect",
    ),
    Case(
        "p5-redirect-302-no-location",
        "§5",
        "preflight 302 without Location is a plain non-ok status",
        fetch(**PUT),
        {"": route(pf(ECHO, (ACAM, "PUT"), status=302), ok(ECHO))},
        "blocked:PreflightInvalidStatus",
    ),
    Case(
        "p5-status-300-location",
        "§5",
        "preflight 300 with Location is not a redirect for P2",
        fetch(**PUT),
        {"": route(pf(ECHO, (ACAM, "PUT"), ("Location", "{self}{path}/b"), status=300), ok(ECHO))},
        "blocked:PreflightInvalidStatus",
    ),
    Case(
        "p5-404-no-acao",
        "§5",
        "preflight 404 without ACAO: Chromium reports ACAO first",
        fetch(**PUT),
        {"": route(NO_CORS_404, ok(ECHO))},
        "blocked:PreflightMissingAllowOriginHeader",
    ),
    Case(
        "p5-404-with-acao",
        "§5",
        "preflight 404 with ACAO and ACAM",
        fetch(**PUT),
        {"": route(pf(ECHO, (ACAM, "PUT"), status=404), ok(ECHO))},
        "blocked:PreflightInvalidStatus",
    ),
    Case(
        "p5-500-with-acao",
        "§5",
        "preflight 500 with ACAO",
        fetch(**PUT),
        {"": route(pf(ECHO, (ACAM, "PUT"), status=500), ok(ECHO))},
        "blocked:PreflightInvalidStatus",
    ),
    Case(
        "p5-acao-star",
        "§5",
        "P3: preflight ACAO * without credentials",
        fetch(**PUT),
        {"": route(pf(STAR, (ACAM, "PUT")), ok(STAR))},
        "allowed",
    ),
    Case(
        "p5-acao-star-credentials",
        "§5",
        "P3: preflight ACAO * with credentials (invisible in the capture: no actual request)",
        fetch(method="PUT", credentials="include"),
        {"": route(pf(STAR, (ACAM, "PUT"), CRED), ok(ECHO, CRED))},
        "blocked:PreflightWildcardOriginNotAllowed",
    ),
    Case(
        "p5-acac-missing-credentials",
        "§5",
        "P3: credentialed preflight without ACAC",
        fetch(method="PUT", credentials="include"),
        {"": route(pf(ECHO, (ACAM, "PUT")), ok(ECHO, CRED))},
        "blocked:PreflightInvalidAllowCredentials",
    ),
    Case(
        "p5-acao-mismatch",
        "§5",
        "P3: preflight ACAO names another origin",
        fetch(**PUT),
        {"": route(pf((ACAO, "http://other.example"), (ACAM, "PUT")), ok(ECHO))},
        "blocked:PreflightAllowOriginMismatch",
    ),
    Case(
        "p5-acao-multiple",
        "§5",
        "P3: preflight with two ACAO lines",
        fetch(**PUT),
        {"": route(pf(ECHO, ECHO, (ACAM, "PUT")), ok(ECHO))},
        "blocked:PreflightMultipleAllowOriginValues",
    ),
    Case(
        "p5-acao-invalid",
        "§5",
        "P3: preflight ACAO 'example.com' (not a URL)",
        fetch(**PUT),
        {"": route(pf((ACAO, "example.com"), (ACAM, "PUT")), ok(ECHO))},
        "blocked:PreflightInvalidAllowOriginValue",
    ),
    Case(
        "p5-acam-bad-token",
        "§5",
        "P6: ACAM 'PUT DELETE' does not parse",
        fetch(**PUT),
        {"": route(pf(ECHO, (ACAM, "PUT DELETE")), ok(ECHO))},
        "blocked:InvalidAllowMethodsPreflightResponse",
    ),
    Case(
        "p5-acam-bad-token-unneeded",
        "§5",
        "P6 applies even when no method needs listing (POST with a custom header)",
        fetch(method="POST", body="x", headers=(("X-A", "1"),)),
        {"": route(pf(ECHO, (ACAM, "GET POST"), (ACAH, "x-a")), ok(ECHO))},
        "blocked:InvalidAllowMethodsPreflightResponse",
    ),
    Case(
        "p5-acah-bad-token",
        "§5",
        "P6: ACAH 'x a' does not parse",
        fetch(method="PUT", headers=(("X-A", "1"),)),
        {"": route(pf(ECHO, (ACAM, "PUT"), (ACAH, "x a")), ok(ECHO))},
        "blocked:InvalidAllowHeadersPreflightResponse",
    ),
    Case(
        "p5-acam-empty-items",
        "§5",
        "P6: empty list items are dropped ('PUT,,')",
        fetch(**PUT),
        {"": route(pf(ECHO, (ACAM, " ,PUT,, ")), ok(ECHO))},
        "allowed",
    ),
    Case(
        "p5-method-missing",
        "§5",
        "P7: ACAM 'GET, POST' for a PUT",
        fetch(**PUT),
        {"": route(pf(ECHO, (ACAM, "GET, POST")), ok(ECHO))},
        "blocked:MethodDisallowedByPreflightResponse",
    ),
    Case(
        "p5-method-case-patch",
        "§5",
        "P7: method 'patch' against ACAM PATCH (byte-for-byte since M109)",
        fetch(method="patch"),
        {"": route(pf(ECHO, (ACAM, "PATCH")), ok(ECHO))},
        "blocked:MethodDisallowedByPreflightResponse",
        expect_param="patch",
    ),
    Case(
        "p5-method-case-patch-listed",
        "§5",
        "P7: method 'patch' against ACAM patch",
        fetch(method="patch"),
        {"": route(pf(ECHO, (ACAM, "patch")), ok(ECHO))},
        "allowed",
    ),
    Case(
        "p5-method-upper-normalised",
        "§5",
        "P7: method 'put' is uppercased by fetch() and matches ACAM PUT",
        fetch(method="put"),
        {"": route(pf(ECHO, (ACAM, "PUT")), ok(ECHO))},
        "allowed",
    ),
    Case(
        "p5-methods-star",
        "§5",
        "P7: ACAM * without credentials",
        fetch(method="DELETE"),
        {"": route(pf(ECHO, (ACAM, "*")), ok(ECHO))},
        "allowed",
    ),
    Case(
        "p5-methods-star-credentials",
        "§5",
        "P7: ACAM * with credentials only matches a method literally named '*'",
        fetch(method="DELETE", credentials="include"),
        {"": route(pf(ECHO, CRED, (ACAM, "*")), ok(ECHO, CRED))},
        "blocked:MethodDisallowedByPreflightResponse",
        expect_param="DELETE",
    ),
    Case(
        "p5-header-missing",
        "§5",
        "P8: X-A not in ACAH",
        fetch(headers=(("X-A", "1"),)),
        {"": route(pf(ECHO), ok(ECHO))},
        "blocked:HeaderDisallowedByPreflightResponse",
    ),
    Case(
        "p5-header-case",
        "§5",
        "P8: ACAH compared case-insensitively",
        fetch(headers=(("X-Custom", "1"),)),
        {"": route(pf(ECHO, (ACAH, "X-CUSTOM")), ok(ECHO))},
        "allowed",
    ),
    Case(
        "p5-header-first-missing",
        "§5",
        "P8: the failed parameter is the first missing lower-cased name",
        fetch(headers=(("X-B", "1"), ("X-A", "1"), ("X-C", "1"))),
        {"": route(pf(ECHO, (ACAH, "x-b")), ok(ECHO))},
        "blocked:HeaderDisallowedByPreflightResponse",
        expect_param="x-a",
        capture_limits=("header-order",),
    ),
    Case(
        "p5-headers-star",
        "§5",
        "P8: ACAH * without credentials",
        fetch(headers=(("X-A", "1"), ("X-B", "2"))),
        {"": route(pf(ECHO, (ACAH, "*")), ok(ECHO))},
        "allowed",
    ),
    Case(
        "p5-headers-star-credentials",
        "§5",
        "P8: ACAH * with credentials does not cover x-a",
        fetch(headers=(("X-A", "1"),), credentials="include"),
        {"": route(pf(ECHO, CRED, (ACAH, "*")), ok(ECHO, CRED))},
        "blocked:HeaderDisallowedByPreflightResponse",
        expect_param="x-a",
    ),
    Case(
        "p5-authorization-star",
        "§5",
        "P8 (Chromium deviation): ACAH * covers Authorization",
        fetch(headers=(("Authorization", "Bearer t0ken"),)),
        {"": route(pf(ECHO, (ACAH, "*")), ok(ECHO))},
        "allowed",
    ),
    Case(
        "p5-authorization-listed",
        "§5",
        "P8: Authorization listed explicitly",
        fetch(headers=(("Authorization", "Bearer t0ken"),)),
        {"": route(pf(ECHO, (ACAH, "authorization")), ok(ECHO))},
        "allowed",
    ),
    Case(
        "p5-ct-json-not-listed",
        "§5",
        "P8: Content-Type application/json needs content-type in ACAH",
        fetch(method="POST", body="{}", headers=(("Content-Type", "application/json"),)),
        {"": route(pf(ECHO, (ACAH, "x-other")), ok(ECHO))},
        "blocked:HeaderDisallowedByPreflightResponse",
    ),
    Case(
        "p5-ct-json-listed",
        "§5",
        "P8: Content-Type application/json with content-type in ACAH",
        fetch(method="POST", body="{}", headers=(("Content-Type", "application/json"),)),
        {"": route(pf(ECHO, (ACAH, "Content-Type")), ok(ECHO))},
        "allowed",
    ),
    Case(
        "p5-actual-no-acao",
        "§5",
        "preflight passes, the actual response has no ACAO",
        fetch(**PUT),
        {"": route(good_preflight(), ok())},
        "blocked:MissingAllowOriginHeader",
    ),
    Case(
        "p5-credentials-ok",
        "§5",
        "credentialed PUT: echo + ACAC true on preflight and actual",
        fetch(method="PUT", credentials="include"),
        {"": route(good_preflight(CRED), ok(ECHO, CRED))},
        "allowed",
    ),
    Case(
        "p5-credentials-actual-acac-missing",
        "§5",
        "credentialed PUT: preflight fine, actual response lacks ACAC",
        fetch(method="PUT", credentials="include"),
        {"": route(good_preflight(CRED), ok(ECHO))},
        "blocked:InvalidAllowCredentials",
    ),
    Case(
        "p5-expose-headers-irrelevant",
        "§5",
        "preflight's ACEH is ignored; actual's ACEH never blocks",
        fetch(**PUT),
        {
            "": route(
                good_preflight(("Access-Control-Expose-Headers", "(bad)")),
                ok(ECHO, ("Access-Control-Expose-Headers", "*")),
            )
        },
        "allowed",
    ),
]

# ---------------------------------------------------------------------------------------------
# §6 redirects

USERINFO_API2 = "http://u:p@{host}:{api2_port}{path}/b"

R6 = [
    Case(
        "r6-hop-no-acao",
        "§6",
        "redirect hop (same origin) without ACAO",
        fetch(),
        {"": route(actual=Reply(302, (("Location", "{self}{path}/b"),))), "b": route(actual=ok(STAR))},
        "blocked:MissingAllowOriginHeader",
    ),
    Case(
        "r6-hop-same-origin-ok",
        "§6",
        "redirect within the API origin, both hops echo the origin",
        fetch(),
        {"": route(actual=Reply(302, (ECHO, ("Location", "{self}{path}/b")))), "b": route(actual=ok(ECHO))},
        "allowed",
    ),
    Case(
        "r6-taint-page-origin",
        "§6",
        "api1 -> api2: the request is tainted; ACAO = page origin fails",
        fetch(),
        {"": route(actual=Reply(302, (STAR, ("Location", "{api2}{path}/b")))), "b": route(actual=ok(PAGE))},
        "blocked:AllowOriginMismatch",
    ),
    Case(
        "r6-taint-null",
        "§6",
        "api1 -> api2: ACAO null passes the tainted request",
        fetch(),
        {
            "": route(actual=Reply(302, (STAR, ("Location", "{api2}{path}/b")))),
            "b": route(actual=ok((ACAO, "null"))),
        },
        "allowed",
    ),
    Case(
        "r6-taint-echo",
        "§6",
        "api1 -> api2: the server echoes Origin: null",
        fetch(),
        {"": route(actual=Reply(302, (STAR, ("Location", "{api2}{path}/b")))), "b": route(actual=ok(ECHO))},
        "allowed",
    ),
    Case(
        "r6-taint-star",
        "§6",
        "api1 -> api2: ACAO * passes a tainted non-credentialed request",
        fetch(),
        {"": route(actual=Reply(302, (STAR, ("Location", "{api2}{path}/b")))), "b": route(actual=ok(STAR))},
        "allowed",
    ),
    Case(
        "r6-taint-credentials-null",
        "§6",
        "credentialed api1 -> api2 with ACAO null + ACAC true",
        fetch(credentials="include"),
        {
            "": route(actual=Reply(302, (ECHO, CRED, ("Location", "{api2}{path}/b")))),
            "b": route(actual=ok((ACAO, "null"), CRED)),
        },
        "allowed",
    ),
    Case(
        "r6-back-to-page-page-origin",
        "§6",
        "api1 -> page origin: still checked against null, ACAO = page origin fails",
        fetch(),
        {"": route(actual=Reply(302, (STAR, ("Location", "{page}{path}/b")))), "b": route(actual=ok(PAGE))},
        "blocked:AllowOriginMismatch",
    ),
    Case(
        "r6-back-to-page-null",
        "§6",
        "api1 -> page origin with ACAO null",
        fetch(),
        {
            "": route(actual=Reply(302, (STAR, ("Location", "{page}{path}/b")))),
            "b": route(actual=ok((ACAO, "null"))),
        },
        "allowed",
    ),
    Case(
        "r6-same-to-cross",
        "§6",
        "page origin -> api1 without ACAO: the CORS flag is set after the redirect",
        fetch(target="page"),
        {"": route(actual=Reply(302, (("Location", "{api1}{path}/b"),))), "b": route(actual=ok())},
        "blocked:MissingAllowOriginHeader",
    ),
    Case(
        "r6-same-to-cross-ok",
        "§6",
        "page origin -> api1 with ACAO = page origin (not tainted: the first hop was same-origin)",
        fetch(target="page"),
        {"": route(actual=Reply(302, (("Location", "{api1}{path}/b"),))), "b": route(actual=ok(PAGE))},
        "allowed",
    ),
    Case(
        "r6-userinfo-cross",
        "§6",
        "Location with user:pass to another origin",
        fetch(),
        {"": route(actual=Reply(302, (STAR, ("Location", USERINFO_API2)))), "b": route(actual=ok(STAR))},
        "blocked:RedirectContainsCredentials",
        expect_param="",
    ),
    Case(
        "r6-userinfo-same",
        "§6",
        "Location with user:pass to the same API origin (CORS flag set)",
        fetch(),
        {
            "": route(actual=Reply(302, (STAR, ("Location", "http://u:p@{host}:{api1_port}{path}/b")))),
            "b": route(actual=ok(STAR)),
        },
        "blocked:RedirectContainsCredentials",
    ),
    Case(
        "r6-404-good-cors",
        "§6",
        "a 404 with correct CORS headers is allowed",
        fetch(),
        simple(STAR, status=404),
        "allowed",
    ),
    Case(
        "r6-500-good-cors",
        "§6",
        "a 500 with correct CORS headers is allowed",
        fetch(),
        simple(ECHO, status=500),
        "allowed",
    ),
    Case(
        "r6-303-post-to-get",
        "§6",
        "POST -> 303 -> GET on another origin",
        fetch(method="POST", body="x"),
        {"": route(actual=Reply(303, (STAR, ("Location", "{api2}{path}/b")))), "b": route(actual=ok(STAR))},
        "allowed",
    ),
    Case(
        "r6-preflight-then-307",
        "§6",
        "preflighted PUT, 307 to api2, a new preflight from the tainted origin passes",
        fetch(method="PUT"),
        {
            "": route(good_preflight(), Reply(307, (ECHO, ("Location", "{api2}{path}/b")))),
            "b": route(pf(STAR, (ACAM, "PUT")), ok(STAR)),
        },
        "allowed",
    ),
    Case(
        "r6-preflight-then-307-fails",
        "§6",
        "preflighted PUT, 307 to api2, whose preflight has no ACAO",
        fetch(method="PUT"),
        {
            "": route(good_preflight(), Reply(307, (ECHO, ("Location", "{api2}{path}/b")))),
            "b": route(NO_CORS_404, ok(STAR)),
        },
        "blocked:PreflightMissingAllowOriginHeader",
    ),
    Case(
        "r6-redirect-hop-mismatch",
        "§6",
        "redirect hop with a mismatched ACAO",
        fetch(),
        {
            "": route(actual=Reply(301, ((ACAO, "http://other.example"), ("Location", "{self}{path}/b")))),
            "b": route(actual=ok(STAR)),
        },
        "blocked:AllowOriginMismatch",
    ),
]

# ---------------------------------------------------------------------------------------------
# §7 access check (simple GETs)

A7 = [
    access("a7-star", "ACAO * without credentials", "allowed", STAR),
    access(
        "a7-star-credentials",
        "ACAO * with credentials",
        "blocked:WildcardOriginNotAllowed",
        STAR,
        credentials="include",
    ),
    access(
        "a7-star-credentials-acac",
        "ACAO * with credentials, even with ACAC true",
        "blocked:WildcardOriginNotAllowed",
        STAR,
        CRED,
        credentials="include",
    ),
    access("a7-absent", "ACAO absent", "blocked:MissingAllowOriginHeader"),
    access("a7-empty", "ACAO present but empty", "blocked:InvalidAllowOriginValue", (ACAO, "")),
    access("a7-echo", "ACAO echoes the origin", "allowed", ECHO),
    access(
        "a7-comma-list",
        "ACAO lists two origins",
        "blocked:MultipleAllowOriginValues",
        (ACAO, "{page}, http://other.example"),
    ),
    access("a7-two-lines", "two identical ACAO lines", "blocked:MultipleAllowOriginValues", PAGE, PAGE),
    access(
        "a7-space",
        "ACAO with an inner space",
        "blocked:MultipleAllowOriginValues",
        (ACAO, "{page} http://other.example"),
    ),
    access(
        "a7-null", "ACAO null from a real origin", "blocked:AllowOriginMismatch", (ACAO, "null"), param="null"
    ),
    access(
        "a7-trailing-slash", "ACAO with a trailing slash", "blocked:AllowOriginMismatch", (ACAO, "{page}/")
    ),
    access(
        "a7-port-80", "ACAO with an explicit :80", "blocked:AllowOriginMismatch", (ACAO, "http://{host}:80")
    ),
    access(
        "a7-port-leading-zero",
        "ACAO port with a leading zero",
        "blocked:AllowOriginMismatch",
        (ACAO, "http://{host}:0{page_port}"),
    ),
    access(
        "a7-uppercase",
        "ACAO with an uppercase scheme and host",
        "blocked:AllowOriginMismatch",
        (ACAO, "HTTP://{host}:{page_port}"),
    ),
    access(
        "a7-other-host",
        "ACAO localhost instead of 127.0.0.1",
        "blocked:AllowOriginMismatch",
        (ACAO, "http://localhost:{page_port}"),
    ),
    access("a7-with-path", "ACAO with a path", "blocked:AllowOriginMismatch", (ACAO, "{page}/app")),
    access("a7-no-scheme", "ACAO 'example.com'", "blocked:InvalidAllowOriginValue", (ACAO, "example.com")),
    access(
        "a7-protocol-relative",
        "ACAO '//host'",
        "blocked:InvalidAllowOriginValue",
        (ACAO, "//{host}:{page_port}"),
    ),
    access("a7-double-star", "ACAO '**'", "blocked:InvalidAllowOriginValue", (ACAO, "**")),
    access("a7-quoted-star", "ACAO '\"*\"'", "blocked:InvalidAllowOriginValue", (ACAO, '"*"')),
    access("a7-dash", "ACAO '-'", "blocked:InvalidAllowOriginValue", (ACAO, "-")),
    access("a7-padded", "ACAO padded with spaces is trimmed", "allowed", (ACAO, "  {page}  ")),
    access(
        "a7-lowercase-name", "header name in lower case", "allowed", ("access-control-allow-origin", "{page}")
    ),
    access(
        "a7-credentials-ok", "echo + ACAC true with credentials", "allowed", ECHO, CRED, credentials="include"
    ),
    access(
        "a7-acac-capital",
        "ACAC 'True'",
        "blocked:InvalidAllowCredentials",
        ECHO,
        (ACAC, "True"),
        credentials="include",
    ),
    access(
        "a7-acac-absent",
        "ACAC absent with credentials",
        "blocked:InvalidAllowCredentials",
        ECHO,
        credentials="include",
        param="",
    ),
    access(
        "a7-acac-twice",
        "ACAC true on two lines",
        "blocked:InvalidAllowCredentials",
        ECHO,
        CRED,
        CRED,
        credentials="include",
        param="true, true",
    ),
    access("a7-acac-ignored", "ACAC 'yes' without credentials is ignored", "allowed", ECHO, (ACAC, "yes")),
    access(
        "a7-credentials-same-origin-mode",
        "credentials same-origin behaves like omit cross-origin",
        "allowed",
        STAR,
        credentials="same-origin",
    ),
    access("a7-credentials-omit", "credentials omit with ACAO *", "allowed", STAR, credentials="omit"),
    access(
        "a7-sandbox-null",
        "sandboxed (opaque) origin with ACAO null",
        "allowed",
        (ACAO, "null"),
        frame="sandbox",
    ),
    access("a7-sandbox-star", "sandboxed origin with ACAO *", "allowed", STAR, frame="sandbox"),
    access(
        "a7-sandbox-page",
        "sandboxed origin with ACAO = page origin",
        "blocked:AllowOriginMismatch",
        PAGE,
        frame="sandbox",
    ),
    access(
        "a7-sandbox-echo", "sandboxed origin, server echoes Origin: null", "allowed", ECHO, frame="sandbox"
    ),
]

# ---------------------------------------------------------------------------------------------
# §8 XMLHttpRequest: same server behaviour as a fetch twin, different console text


def xhr_twin(twin: Case, **request: object) -> Case:
    """The XHR version of a fetch case (same routes, same expectation)."""
    spec = twin.request
    req = xhr(
        method=spec.method,
        headers=spec.headers,
        credentials=spec.credentials,
        body=spec.body,
        target=spec.target,
        frame=spec.frame,
        **request,
    )
    return Case(
        "x8-" + twin.id,
        "§8",
        "XHR: " + twin.title,
        req,
        twin.routes,
        twin.expect,
        twin=twin.id,
        expect_preflight=twin.expect_preflight,
        expect_param=twin.expect_param,
    )


def _by_id(cases: Iterable[Case]) -> dict[str, Case]:
    return {c.id: c for c in cases}


_TWINNED = _by_id(A7 + P5 + R6)
X8 = [
    xhr_twin(_TWINNED[cid])
    for cid in (
        "a7-star",
        "a7-absent",
        "a7-null",
        "a7-comma-list",
        "a7-no-scheme",
        "a7-star-credentials",
        "a7-acac-capital",
        "p5-acao-mismatch",
        "p5-acao-star-credentials",
        "p5-method-missing",
        "p5-header-missing",
        "p5-404-with-acao",
        "r6-taint-page-origin",
    )
]


# ---------------------------------------------------------------------------------------------
# Second batch: behaviours the first table did not reach. Appended after the first batch so its
# table order (and anything that runs "the first N cases") stays as it was.

# Bodies an element initiator accepts (the verdict never depends on them; the load type does).
JS_BODY = "window.__oracle = (window.__oracle || 0) + 1;"
JS_TYPE = ("Content-Type", "text/javascript")
CSS_TYPE = ("Content-Type", "text/css")
FONT_TYPE = ("Content-Type", "font/woff2")
VIDEO_TYPE = ("Content-Type", "video/mp4")
SSE_TYPE = ("Content-Type", "text/event-stream")
ELEMENT_BODIES = {
    "img": (TEXT, "not an image"),
    "script": (JS_TYPE, JS_BODY),
    "link": (CSS_TYPE, "body { margin: 0; }"),
    "font": (FONT_TYPE, "not a font"),
    "video": (VIDEO_TYPE, "not a video"),
    "audio": (("Content-Type", "audio/mpeg"), "not audio"),
    # `retry` keeps EventSource from reconnecting before the runner closes it.
    "eventsource": (SSE_TYPE, "retry: 60000\ndata: hello\n\n"),
}


def element_reply(api: str, *headers: tuple[str, str], status: int = 200) -> Reply:
    content_type, body = ELEMENT_BODIES["script" if api == "module" else api]
    return Reply(status, (content_type, *headers), body)


def element(
    cid: str,
    title: str,
    expect: str,
    api: str,
    *headers: tuple[str, str],
    section: str = "§8",
    param: str | None = None,
    **request: object,
) -> Case:
    """An element (or EventSource) load whose response carries `headers`. `crossorigin` in
    `request` sets the attribute (img/script/link/video); fonts and EventSource are always cors."""
    return Case(
        cid,
        section,
        title,
        RequestSpec(api=api, **request),  # type: ignore[arg-type]
        {"": route(actual=element_reply(api, *headers))},
        expect,
        expect_preflight=False,
        expect_param=param,
    )


ANON = {"crossorigin": "anonymous"}
USE_CREDS = {"crossorigin": "use-credentials"}
E8 = [
    element(
        "e8-img-cors-blocked",
        "<img crossorigin> without ACAO",
        "blocked:MissingAllowOriginHeader",
        "img",
        **ANON,
    ),
    element("e8-img-cors-allowed", "<img crossorigin> with ACAO *", "allowed", "img", STAR, **ANON),
    element(
        "e8-img-cors-mismatch",
        "<img crossorigin> with another origin in ACAO (elements get no fetch tail)",
        "blocked:AllowOriginMismatch",
        "img",
        (ACAO, "http://other.example"),
        **ANON,
    ),
    element(
        "e8-img-cors-empty-attr",
        "<img crossorigin=''> is anonymous: ACAO echo passes",
        "allowed",
        "img",
        ECHO,
        crossorigin="",
    ),
    element(
        "e8-img-credentials-star",
        "<img crossorigin=use-credentials> with ACAO *",
        "blocked:WildcardOriginNotAllowed",
        "img",
        STAR,
        **USE_CREDS,
    ),
    element(
        "e8-img-credentials-ok",
        "<img crossorigin=use-credentials> with echo + ACAC true",
        "allowed",
        "img",
        ECHO,
        CRED,
        **USE_CREDS,
    ),
    element(
        "e8-img-credentials-no-acac",
        "<img crossorigin=use-credentials> with echo, no ACAC",
        "blocked:InvalidAllowCredentials",
        "img",
        ECHO,
        param="",
        **USE_CREDS,
    ),
    element(
        "e8-img-cors-same-origin",
        "<img crossorigin> from the page's own origin: no CORS check",
        "not-cors",
        "img",
        target="page",
        **ANON,
    ),
    element(
        "e8-img-cors-sandbox-star",
        "<img crossorigin> from a sandboxed frame (Origin: null) with ACAO *",
        "allowed",
        "img",
        STAR,
        frame="sandbox",
        **ANON,
    ),
    element(
        "e8-img-cors-sandbox-page",
        "<img crossorigin> from a sandboxed frame with ACAO = page origin",
        "blocked:AllowOriginMismatch",
        "img",
        PAGE,
        frame="sandbox",
        **ANON,
    ),
    element("e8-img-no-cors", "<img> without crossorigin: no-cors", "not-cors", "img", section="§1"),
    element(
        "e8-script-cors-blocked",
        "<script crossorigin> without ACAO",
        "blocked:MissingAllowOriginHeader",
        "script",
        **ANON,
    ),
    element(
        "e8-script-cors-allowed", "<script crossorigin> with ACAO echo", "allowed", "script", ECHO, **ANON
    ),
    element(
        "e8-script-cors-invalid",
        "<script crossorigin> with ACAO 'example.com'",
        "blocked:InvalidAllowOriginValue",
        "script",
        (ACAO, "example.com"),
        **ANON,
    ),
    element(
        "e8-script-credentials-acac-capital",
        "<script crossorigin=use-credentials> with ACAC True",
        "blocked:InvalidAllowCredentials",
        "script",
        ECHO,
        (ACAC, "True"),
        **USE_CREDS,
    ),
    element(
        "e8-link-cors-blocked",
        "<link rel=stylesheet crossorigin> without ACAO",
        "blocked:MissingAllowOriginHeader",
        "link",
        **ANON,
    ),
    element(
        "e8-link-cors-allowed",
        "<link rel=stylesheet crossorigin> with ACAO *",
        "allowed",
        "link",
        STAR,
        **ANON,
    ),
    element(
        "e8-link-cors-multiple",
        "<link rel=stylesheet crossorigin> with two ACAO lines",
        "blocked:MultipleAllowOriginValues",
        "link",
        ECHO,
        ECHO,
        **ANON,
    ),
    element(
        "e8-link-no-cors",
        "<link rel=stylesheet> without crossorigin: no-cors",
        "not-cors",
        "link",
        section="§1",
    ),
    element(
        "e8-font-blocked",
        "@font-face without ACAO (fonts are always cors)",
        "blocked:MissingAllowOriginHeader",
        "font",
    ),
    element("e8-font-allowed", "@font-face with ACAO *", "allowed", "font", STAR),
    element(
        "e8-font-mismatch",
        "@font-face with ACAO ending in a slash",
        "blocked:AllowOriginMismatch",
        "font",
        (ACAO, "{page}/"),
    ),
    element(
        "e8-font-acac-ignored",
        "@font-face (credentials same-origin, so omit cross-origin) with ACAO * and ACAC true",
        "allowed",
        "font",
        STAR,
        CRED,
    ),
    element(
        "e8-video-cors-blocked",
        "<video crossorigin> without ACAO",
        "blocked:MissingAllowOriginHeader",
        "video",
        **ANON,
    ),
    element("e8-video-cors-allowed", "<video crossorigin> with ACAO *", "allowed", "video", STAR, **ANON),
    element("e8-video-no-cors", "<video> without crossorigin: no-cors", "not-cors", "video", section="§1"),
    element(
        "e8-audio-cors-blocked",
        "<audio crossorigin> without ACAO",
        "blocked:MissingAllowOriginHeader",
        "audio",
        **ANON,
    ),
    element(
        "e8-module-blocked",
        "<script type=module> (always cors) without ACAO",
        "blocked:MissingAllowOriginHeader",
        "module",
    ),
    element("e8-module-allowed", "<script type=module> with ACAO *", "allowed", "module", STAR),
    element(
        "e8-module-mismatch",
        "<script type=module> with ACAO 'null'",
        "blocked:AllowOriginMismatch",
        "module",
        (ACAO, "null"),
    ),
    element(
        "e8-eventsource-blocked",
        "EventSource to another origin without ACAO",
        "blocked:MissingAllowOriginHeader",
        "eventsource",
    ),
    element("e8-eventsource-allowed", "EventSource with ACAO echo", "allowed", "eventsource", ECHO),
    element(
        "e8-eventsource-credentials-star",
        "EventSource withCredentials with ACAO *",
        "blocked:WildcardOriginNotAllowed",
        "eventsource",
        STAR,
        credentials="include",
    ),
    Case(
        "e8-beacon-text",
        "§1",
        "sendBeacon with a text body: no-cors",
        RequestSpec(api="beacon", method="POST", body="x"),
        PROBE,
        "not-cors",
        expect_preflight=False,
    ),
    Case(
        "e8-beacon-json-preflight",
        "§2",
        "sendBeacon with a Blob of type application/json: cors mode, preflighted",
        RequestSpec(api="beacon", method="POST", body="{}", body_kind="blob", body_type="application/json"),
        PROBE,
        PREFLIGHTED,
        twin="s2-body-blob-json",
        expect_preflight=True,
    ),
    Case(
        "e8-beacon-json-no-acac-fetch",
        "§8",
        "fetch twin of the next case: credentialed POST of a JSON Blob, no ACAC on the response",
        fetch(
            method="POST", body="{}", body_kind="blob", body_type="application/json", credentials="include"
        ),
        {"": route(pf(ECHO, CRED, (ACAH, "content-type")), ok(ECHO))},
        "blocked:InvalidAllowCredentials",
        expect_preflight=True,
        expect_param="",
    ),
    Case(
        "e8-beacon-json-no-acac",
        "§8",
        "sendBeacon JSON is credentialed: preflight and response echo the origin without ACAC",
        RequestSpec(api="beacon", method="POST", body="{}", body_kind="blob", body_type="application/json"),
        {"": route(pf(ECHO, CRED, (ACAH, "content-type")), ok(ECHO))},
        "blocked:InvalidAllowCredentials",
        twin="e8-beacon-json-no-acac-fetch",
        expect_preflight=True,
        expect_param="",
    ),
    Case(
        "e8-beacon-json-ok",
        "§8",
        "sendBeacon JSON with echo + ACAC true on preflight and response",
        RequestSpec(api="beacon", method="POST", body="{}", body_kind="blob", body_type="application/json"),
        {"": route(pf(ECHO, CRED, (ACAH, "content-type")), ok(ECHO, CRED))},
        "allowed",
        expect_preflight=True,
    ),
    Case(
        "e8-no-cors-put",
        "§1",
        "fetch mode no-cors with PUT: fetch() throws, nothing is sent",
        fetch(mode="no-cors", method="PUT"),
        simple(STAR),
        "absent",
    ),
    Case(
        "e8-no-cors-custom-header",
        "§1",
        "fetch mode no-cors with X-A: the header is dropped, no preflight, no CORS check",
        fetch(mode="no-cors", headers=(("X-A", "1"),)),
        PROBE,
        "not-cors",
        expect_preflight=False,
    ),
    Case(
        "e8-img-redirect-taint",
        "§8",
        "<img crossorigin> api1 -> api2 (tainted) with ACAO = page origin",
        RequestSpec(api="img", crossorigin="anonymous"),
        {
            "": route(actual=Reply(302, (STAR, ("Location", "{api2}{path}/b")))),
            "b": route(actual=element_reply("img", PAGE)),
        },
        "blocked:AllowOriginMismatch",
        expect_preflight=False,
    ),
    Case(
        "e8-script-redirect-hop-no-acao",
        "§8",
        "<script crossorigin> whose redirect hop lacks ACAO",
        RequestSpec(api="script", crossorigin="anonymous"),
        {
            "": route(actual=Reply(302, (("Location", "{self}{path}/b"),))),
            "b": route(actual=element_reply("script", STAR)),
        },
        "blocked:MissingAllowOriginHeader",
        expect_preflight=False,
    ),
]

# §2 again: bodies, keepalive, empty values, lengths, the 1024 total via Chromium's names

AL_CHARS = "en-US;q=0.9, de,*"  # every byte is an accept-language byte
AL_128 = (AL_CHARS * 10)[:128]
S2B = [
    probe(
        "s2-body-blob-json",
        "Blob body of type application/json (Content-Type from the Blob)",
        True,
        method="POST",
        body="{}",
        body_kind="blob",
        body_type="application/json",
    ),
    probe(
        "s2-body-blob-text",
        "Blob body of type text/plain",
        False,
        method="POST",
        body="x",
        body_kind="blob",
        body_type="text/plain",
    ),
    probe(
        "s2-body-blob-untyped",
        "Blob body without a type: no Content-Type",
        False,
        method="POST",
        body="x",
        body_kind="blob",
    ),
    probe(
        "s2-body-formdata",
        "FormData body (multipart/form-data; boundary=...)",
        False,
        method="POST",
        body="x",
        body_kind="formdata",
    ),
    probe(
        "s2-body-urlsearchparams",
        "URLSearchParams body (application/x-www-form-urlencoded;charset=UTF-8)",
        False,
        method="POST",
        body="x",
        body_kind="urlsearchparams",
    ),
    probe(
        "s2-body-arraybuffer",
        "ArrayBuffer body: no Content-Type",
        False,
        method="POST",
        body="x",
        body_kind="arraybuffer",
    ),
    probe(
        "s2-body-formdata-json-type",
        "FormData body with Content-Type application/json set by hand",
        True,
        method="POST",
        body="x",
        body_kind="formdata",
        headers=(("Content-Type", "application/json"),),
    ),
    probe(
        "s2-keepalive-post", "keepalive POST with a text body", False, method="POST", body="x", keepalive=True
    ),
    probe(
        "s2-keepalive-put",
        "keepalive PUT: preflighted all the same",
        True,
        method="PUT",
        body="x",
        keepalive=True,
    ),
    probe(
        "s2-empty-custom",
        "X-Empty with an empty value: still an unsafe name",
        True,
        headers=(("X-Empty", ""),),
    ),
    probe("s2-empty-accept", "Accept with an empty value", False, headers=(("Accept", ""),)),
    probe(
        "s2-empty-accept-language",
        "Accept-Language with an empty value",
        False,
        headers=(("Accept-Language", ""),),
    ),
    probe(
        "s2-empty-content-type",
        "Content-Type with an empty value (no MIME type)",
        True,
        method="POST",
        body="x",
        headers=(("Content-Type", ""),),
    ),
    probe(
        "s2-ct-multipart-upper",
        "Content-Type MULTIPART/FORM-DATA; boundary=XyZ",
        False,
        method="POST",
        body="x",
        headers=(("Content-Type", "MULTIPART/FORM-DATA; boundary=XyZ"),),
    ),
    probe(
        "s2-ct-urlencoded-upper-charset",
        "Content-Type APPLICATION/X-WWW-FORM-URLENCODED;CHARSET=UTF-8",
        False,
        method="POST",
        body="a=1",
        headers=(("Content-Type", "APPLICATION/X-WWW-FORM-URLENCODED;CHARSET=UTF-8"),),
    ),
    probe(
        "s2-ct-space-before-semicolon",
        "Content-Type 'text/plain ;charset=utf-8' (whitespace before the parameters)",
        False,
        method="POST",
        body="x",
        headers=(("Content-Type", "text/plain ;charset=utf-8"),),
    ),
    probe(
        "s2-accept-language-128",
        "Accept-Language of exactly 128 bytes of accept-language characters",
        False,
        headers=(("Accept-Language", AL_128),),
    ),
    probe(
        "s2-accept-language-129",
        "Accept-Language of 129 bytes",
        True,
        headers=(("Accept-Language", AL_128 + "a"),),
    ),
    probe(
        "s2-content-language-128",
        "Content-Language of exactly 128 bytes",
        False,
        headers=(("Content-Language", "de-DE," * 21 + "de"),),
    ),
    probe(
        "s2-intervention-129",
        "Chromium safelist: Intervention over 128 bytes",
        True,
        headers=(("Intervention", "i" * 129),),
    ),
    probe("s2-downlink-decimal", "Chromium safelist: Downlink 1.5", False, headers=(("Downlink", "1.5"),)),
    probe("s2-ect-unknown", "ECT 6g is not an effective connection type", True, headers=(("ECT", "6g"),)),
    probe("s2-save-data-upper", "Save-Data ON (case-insensitive)", False, headers=(("Save-Data", "ON"),)),
    probe(
        "s2-total-1025-save-data",
        "1023 bytes of safelisted values, then Save-Data on pushes the total to 1025",
        True,
        headers=(
            ("Accept", "a" * 128),
            ("Accept-Language", "b" * 128),
            ("Content-Language", "c" * 128),
            ("Intervention", "d" * 128),
            ("DPR", "1" * 128),
            ("Width", "2" * 128),
            ("Viewport-Width", "3" * 128),
            ("Device-Memory", "4" * 127),
            ("Save-Data", "on"),
        ),
    ),
    probe(
        "s2-total-1024-downlink",
        "exactly 1024 bytes, the last three from Downlink 1.5",
        False,
        headers=(
            ("Accept", "a" * 128),
            ("Accept-Language", "b" * 128),
            ("Content-Language", "c" * 128),
            ("Intervention", "d" * 128),
            ("DPR", "1" * 128),
            ("Width", "2" * 128),
            ("Viewport-Width", "3" * 128),
            ("Device-Memory", "4" * 125),
            ("Downlink", "1.5"),
        ),
    ),
]


# §4 again: max-age parsing, the 7200 s cap, `*` entries and Authorization, header sets


def cache_pair(name: str, title: str, max_age: tuple[tuple[str, str], ...], hit: bool) -> list[Case]:
    """Warm an entry with these Max-Age lines, then repeat the PUT at once: a hit sends no
    preflight; a miss sends one, which fails (the second preflight answer is a bare 404)."""
    warm = pf(ECHO, (ACAM, "PUT"), *max_age)
    return [
        Case(
            f"c4-{name}-warm",
            "§4",
            f"PUT, preflight allowed with {title}",
            fetch(method="PUT"),
            {"": route([warm, NO_CORS_404], ok(ECHO))},
            "allowed",
            path=f"cache-{name}",
            expect_preflight=True,
        ),
        Case(
            f"c4-{name}-again",
            "§4",
            f"the same PUT at once after {title}: "
            + ("a cache hit" if hit else "not cached, preflighted again"),
            fetch(method="PUT"),
            {},
            "allowed" if hit else PREFLIGHTED,
            path=f"cache-{name}",
            expect_preflight=not hit,
        ),
    ]


C4B = [
    *cache_pair("large", "max-age 86400 (capped at 7200 s)", ((MAX_AGE, "86400"),), True),
    *cache_pair("plus10", "max-age '+10'", ((MAX_AGE, "+10"),), True),
    *cache_pair("exponent", "max-age '1e3' (unparsable: 5 s default)", ((MAX_AGE, "1e3"),), True),
    *cache_pair("fraction", "max-age '10.5' (unparsable: 5 s default)", ((MAX_AGE, "10.5"),), True),
    *cache_pair("padded", "max-age ' 60 ' (trimmed)", ((MAX_AGE, " 60 "),), True),
    *cache_pair(
        "two-lines",
        "two max-age lines '60' and '60' (joined '60, 60': unparsable)",
        ((MAX_AGE, "60"), (MAX_AGE, "60")),
        True,
    ),
    *cache_pair(
        "plus0", "max-age '+0' (0 if '+' is accepted, else the 5 s default)", ((MAX_AGE, "+0"),), False
    ),
    *cache_pair("minus0", "max-age '-0' (zero)", ((MAX_AGE, "-0"),), False),
    *cache_pair("zeros", "max-age '00' (zero)", ((MAX_AGE, "00"),), False),
    *cache_pair("word", "max-age 'abc' (unparsable: 5 s default)", ((MAX_AGE, "abc"),), True),
    Case(
        "c4-star-warm",
        "§4",
        "PUT with X-A; preflight ACAM * and ACAH *, max-age 60",
        fetch(method="PUT", headers=(("X-A", "1"),)),
        {
            "": route(
                [
                    pf(ECHO, (ACAM, "*"), (ACAH, "*"), (MAX_AGE, "60")),
                    pf(ECHO, (ACAM, "*"), (ACAH, "x-a, x-z")),
                ],
                ok(ECHO),
            )
        },
        "allowed",
        path="cache-star",
        expect_preflight=True,
    ),
    Case(
        "c4-star-other-header",
        "§4",
        "DELETE with X-Z: the `*` entry covers any method and header name",
        fetch(method="DELETE", headers=(("X-Z", "1"),)),
        {},
        "allowed",
        path="cache-star",
        expect_preflight=False,
    ),
    Case(
        "c4-star-authorization",
        "§4",
        "PUT with Authorization: the cache never lets `*` cover it; the new preflight lists no authorization",
        fetch(method="PUT", headers=(("Authorization", "Bearer t0ken"),)),
        {},
        "blocked:HeaderDisallowedByPreflightResponse",
        path="cache-star",
        expect_preflight=True,
        expect_param="authorization",
    ),
    Case(
        "c4-star-credentials",
        "§4",
        "credentialed PUT with X-A after the `*` entry: credentialed requests need a credentialed entry",
        fetch(method="PUT", headers=(("X-A", "1"),), credentials="include"),
        {},
        "blocked:PreflightInvalidAllowCredentials",
        path="cache-star",
        expect_preflight=True,
        expect_param="",
    ),
    Case(
        "c4-hdrset-warm",
        "§4",
        "PUT with X-A; preflight lists PUT and x-a, x-b, max-age 60",
        fetch(method="PUT", headers=(("X-A", "1"),)),
        {
            "": route(
                [pf(ECHO, (ACAM, "PUT"), (ACAH, "x-a, x-b"), (MAX_AGE, "60")), NO_CORS_404],
                ok(ECHO),
            )
        },
        "allowed",
        path="cache-hdrset",
        expect_preflight=True,
    ),
    Case(
        "c4-hdrset-other",
        "§4",
        "PUT with X-B only: a different header set, still covered by the entry",
        fetch(method="PUT", headers=(("X-B", "1"),)),
        {},
        "allowed",
        path="cache-hdrset",
        expect_preflight=False,
    ),
    Case(
        "c4-hdrset-both",
        "§4",
        "PUT with X-A and X-B: covered",
        fetch(method="PUT", headers=(("X-A", "1"), ("X-B", "2"))),
        {},
        "allowed",
        path="cache-hdrset",
        expect_preflight=False,
    ),
    Case(
        "c4-hdrset-post-custom",
        "§4",
        "POST with X-A (method safelisted, header cached): covered",
        fetch(method="POST", body="x", headers=(("X-A", "1"),)),
        {},
        "allowed",
        path="cache-hdrset",
        expect_preflight=False,
    ),
    Case(
        "c4-origin-warm",
        "§4",
        "PUT from the sandboxed frame (Origin: null); preflight ACAO *, max-age 60",
        fetch(method="PUT", frame="sandbox"),
        {"": route([pf(STAR, (ACAM, "PUT"), (MAX_AGE, "60")), NO_CORS_404], ok(STAR))},
        "allowed",
        path="cache-origin",
        expect_preflight=True,
    ),
    Case(
        "c4-origin-other",
        "§4",
        "the same PUT from the page: the entry belongs to another origin, so a new preflight, which fails",
        fetch(method="PUT"),
        {},
        PREFLIGHTED,
        path="cache-origin",
        expect_preflight=True,
    ),
    Case(
        "c4-clear-warm",
        "§4",
        "PUT, preflight allowed with max-age 60, the actual response lacks ACAO (a network error)",
        fetch(method="PUT"),
        {"": route([CACHE_OK, NO_CORS_404], [ok(), ok(ECHO)])},
        "blocked:MissingAllowOriginHeader",
        path="cache-clear",
        expect_preflight=True,
    ),
    Case(
        "c4-clear-again",
        "§4",
        "the same PUT: the failed request cleared the entry (spec), so a new preflight, which fails",
        fetch(method="PUT"),
        {},
        PREFLIGHTED,
        path="cache-clear",
        expect_preflight=True,
    ),
]

# §5 again: P1 (no response), more statuses and list parsing

DROP = Reply(abort="close")
RESET = Reply(abort="reset")
P1 = [
    Case(
        "p1-preflight-close",
        "§5",
        "P1: the server closes the preflight's connection without a response",
        fetch(method="PUT"),
        {"": route(DROP, ok(ECHO))},
        "error:net::ERR_FAILED",
        expect_preflight=True,
        notes="mitmproxy answers the dropped upstream connection with its own 502 (no CORS headers)",
    ),
    Case(
        "p1-preflight-reset",
        "§5",
        "P1: the server resets the preflight's connection (RST)",
        fetch(method="PUT", headers=(("X-A", "1"),)),
        {"": route(RESET, ok(ECHO))},
        "error:net::ERR_FAILED",
        expect_preflight=True,
    ),
    Case(
        "p1-actual-close",
        "§5",
        "a simple GET whose connection is closed without a response",
        fetch(),
        {"": route(actual=DROP)},
        "error:net::ERR_FAILED",
        expect_preflight=False,
    ),
    Case(
        "p1-actual-reset",
        "§5",
        "a simple GET whose connection is reset",
        fetch(),
        {"": route(actual=RESET)},
        "error:net::ERR_FAILED",
        expect_preflight=False,
    ),
    Case(
        "p1-actual-close-after-preflight",
        "§5",
        "preflight passes, the actual PUT gets no response",
        fetch(method="PUT"),
        {"": route(good_preflight(), DROP)},
        "error:net::ERR_FAILED",
        expect_preflight=True,
    ),
    Case(
        "p1-redirect-target-close",
        "§5",
        "api1 302 -> api2, whose connection closes without a response",
        fetch(),
        {"": route(actual=Reply(302, (STAR, ("Location", "{api2}{path}/b")))), "b": route(actual=DROP)},
        "error:net::ERR_FAILED",
        expect_preflight=False,
    ),
    Case(
        "p1-preflight-close-credentials",
        "§5",
        "P1 for a credentialed PUT",
        fetch(method="PUT", credentials="include"),
        {"": route(DROP, ok(ECHO, CRED))},
        "error:net::ERR_FAILED",
        expect_preflight=True,
    ),
]

P5B = [
    Case(
        "p5-status-206",
        "§5",
        "P4: preflight 206 is an ok status",
        fetch(**PUT),
        {"": route(pf(ECHO, (ACAM, "PUT"), status=206), ok(ECHO))},
        "allowed",
        expect_preflight=True,
    ),
    Case(
        "p5-status-304",
        "§5",
        "P4: preflight 304 with good CORS headers is not ok",
        fetch(**PUT),
        {"": route(pf(ECHO, (ACAM, "PUT"), status=304), ok(ECHO))},
        "blocked:PreflightInvalidStatus",
        expect_preflight=True,
    ),
    Case(
        "p5-redirect-308",
        "§5",
        "P2: preflight 308 with Location",
        fetch(**PUT),
        {
            "": route(pf(ECHO, (ACAM, "PUT"), ("Location", "{self}{path}/b"), status=308), ok(ECHO)),
            "b": route(good_preflight(), ok(ECHO)),
        },
        "blocked:PreflightDisallowedRedirect",
        expect_preflight=True,
    ),
    Case(
        "p5-redirect-303-no-location",
        "§5",
        "preflight 303 without Location: a non-ok status",
        fetch(**PUT),
        {"": route(pf(ECHO, (ACAM, "PUT"), status=303), ok(ECHO))},
        "blocked:PreflightInvalidStatus",
        expect_preflight=True,
    ),
    Case(
        "p5-307-empty-location",
        "§5",
        "preflight 307 with an empty Location: not a redirect for P2, and without ACAO P3 reports first",
        fetch(**PUT),
        {"": route(pf(("Location", ""), status=307), ok(ECHO))},
        "blocked:PreflightMissingAllowOriginHeader",
        expect_preflight=True,
    ),
    Case(
        "p5-acac-capital",
        "§5",
        "P3: credentialed preflight with ACAC True",
        fetch(method="PUT", credentials="include"),
        {"": route(pf(ECHO, (ACAM, "PUT"), (ACAC, "True")), ok(ECHO, CRED))},
        "blocked:PreflightInvalidAllowCredentials",
        expect_preflight=True,
        expect_param="True",
    ),
    Case(
        "p5-acao-null-tainted-no",
        "§5",
        "P3: preflight ACAO null for a real page origin",
        fetch(**PUT),
        {"": route(pf((ACAO, "null"), (ACAM, "PUT")), ok(ECHO))},
        "blocked:PreflightAllowOriginMismatch",
        expect_preflight=True,
    ),
    Case(
        "p5-acam-lower-put",
        "§5",
        "P7: ACAM 'put' for PUT (byte-for-byte)",
        fetch(**PUT),
        {"": route(pf(ECHO, (ACAM, "put")), ok(ECHO))},
        "blocked:MethodDisallowedByPreflightResponse",
        expect_preflight=True,
        expect_param="PUT",
    ),
    Case(
        "p5-method-delete-lower",
        "§5",
        "P7: fetch() uppercases 'delete'; ACAM DELETE matches",
        fetch(method="delete"),
        {"": route(pf(ECHO, (ACAM, "DELETE")), ok(ECHO))},
        "allowed",
        expect_preflight=True,
    ),
    Case(
        "p5-method-mixed-case-listed",
        "§5",
        "P7: method 'Foo' against ACAM Foo",
        fetch(method="Foo"),
        {"": route(pf(ECHO, (ACAM, "Foo")), ok(ECHO))},
        "allowed",
        expect_preflight=True,
    ),
    Case(
        "p5-method-mixed-case-upper",
        "§5",
        "P7: method 'Foo' against ACAM FOO",
        fetch(method="Foo"),
        {"": route(pf(ECHO, (ACAM, "FOO")), ok(ECHO))},
        "blocked:MethodDisallowedByPreflightResponse",
        expect_preflight=True,
        expect_param="Foo",
    ),
    Case(
        "p5-acam-slash",
        "§5",
        "P6: ACAM 'PUT/1' is not a token",
        fetch(**PUT),
        {"": route(pf(ECHO, (ACAM, "PUT/1")), ok(ECHO))},
        "blocked:InvalidAllowMethodsPreflightResponse",
        expect_preflight=True,
    ),
    Case(
        "p5-acah-semicolon",
        "§5",
        "P6: ACAH 'x-a;' is not a token",
        fetch(method="PUT", headers=(("X-A", "1"),)),
        {"": route(pf(ECHO, (ACAM, "PUT"), (ACAH, "x-a;")), ok(ECHO))},
        "blocked:InvalidAllowHeadersPreflightResponse",
        expect_preflight=True,
    ),
    Case(
        "p5-acah-empty-items",
        "§5",
        "P6: ACAH ', x-a ,,' parses (empty items dropped)",
        fetch(method="PUT", headers=(("X-A", "1"),)),
        {"": route(pf(ECHO, (ACAM, "PUT"), (ACAH, ", x-a ,,")), ok(ECHO))},
        "allowed",
        expect_preflight=True,
    ),
    Case(
        "p5-acah-two-lines",
        "§5",
        "P8: ACAH on two lines (x-a / x-b) is one joined list",
        fetch(method="PUT", headers=(("X-A", "1"), ("X-B", "1"))),
        {"": route(pf(ECHO, (ACAM, "PUT"), (ACAH, "x-a"), (ACAH, "x-b")), ok(ECHO))},
        "allowed",
        expect_preflight=True,
    ),
    Case(
        "p5-acam-bad-before-acao-ok",
        "§5",
        "P3 before P6: preflight without ACAO and with a bad ACAM reports ACAO",
        fetch(**PUT),
        {"": route(pf((ACAM, "PUT DELETE")), ok(ECHO))},
        "blocked:PreflightMissingAllowOriginHeader",
        expect_preflight=True,
    ),
    Case(
        "p5-status-before-acam",
        "§5",
        "P4 before P6: preflight 500 with ACAO and a bad ACAM reports the status",
        fetch(**PUT),
        {"": route(pf(ECHO, (ACAM, "PUT DELETE"), status=500), ok(ECHO))},
        "blocked:PreflightInvalidStatus",
        expect_preflight=True,
    ),
    Case(
        "p5-authorization-star-credentials",
        "§5",
        "P8: ACAH * with credentials does not cover Authorization",
        fetch(headers=(("Authorization", "Bearer t0ken"),), credentials="include"),
        {"": route(pf(ECHO, CRED, (ACAH, "*")), ok(ECHO, CRED))},
        "blocked:HeaderDisallowedByPreflightResponse",
        expect_preflight=True,
        expect_param="authorization",
    ),
]

# §6 again: second preflights after a redirect, method rewrites, loops, network errors

PUT_XA = {"method": "PUT", "headers": (("X-A", "1"),)}
NULL_PREFLIGHT = pf((ACAO, "null"), (ACAM, "PUT"), (ACAH, "x-a"))


def to_api2(*headers: tuple[str, str], status: int = 307) -> Reply:
    return Reply(status, (ECHO, *headers, ("Location", "{api2}{path}/b")))


R6B = [
    Case(
        "r6-put-307-cross-null-ok",
        "§6",
        "PUT + X-A, 307 to api2: a second preflight with Origin null; ACAO null on it and on the response",
        fetch(**PUT_XA),
        {
            "": route(good_preflight(), to_api2()),
            "b": route(NULL_PREFLIGHT, ok((ACAO, "null"))),
        },
        "allowed",
        expect_preflight=True,
    ),
    Case(
        "r6-put-307-cross-preflight-page",
        "§6",
        "PUT + X-A, 307 to api2, whose preflight answers ACAO = page origin (the request is tainted)",
        fetch(**PUT_XA),
        {
            "": route(good_preflight(), to_api2()),
            "b": route(pf(PAGE, (ACAM, "PUT"), (ACAH, "x-a")), ok(PAGE)),
        },
        "blocked:PreflightAllowOriginMismatch",
        expect_preflight=True,
    ),
    Case(
        "r6-put-307-cross-preflight-no-acah",
        "§6",
        "PUT + X-A, 307 to api2, whose preflight lacks ACAH",
        fetch(**PUT_XA),
        {
            "": route(good_preflight(), to_api2()),
            "b": route(pf((ACAO, "null"), (ACAM, "PUT")), ok((ACAO, "null"))),
        },
        "blocked:HeaderDisallowedByPreflightResponse",
        expect_preflight=True,
        expect_param="x-a",
    ),
    Case(
        "r6-put-307-cross-actual-page",
        "§6",
        "PUT + X-A, 307 to api2: its preflight passes (null), the response names the page origin",
        fetch(**PUT_XA),
        {
            "": route(good_preflight(), to_api2()),
            "b": route(NULL_PREFLIGHT, ok(PAGE)),
        },
        "blocked:AllowOriginMismatch",
        expect_preflight=True,
    ),
    Case(
        "r6-put-307-same-origin",
        "§6",
        "PUT + X-A, 307 within api1: a second preflight (new URL) from the page origin, which passes",
        fetch(**PUT_XA),
        {
            "": route(good_preflight(), Reply(307, (ECHO, ("Location", "{self}{path}/b")))),
            "b": route(good_preflight(), ok(ECHO)),
        },
        "allowed",
        expect_preflight=True,
    ),
    Case(
        "r6-put-307-same-origin-fails",
        "§6",
        "PUT + X-A, 307 within api1: the second preflight has no ACAO",
        fetch(**PUT_XA),
        {
            "": route(good_preflight(), Reply(307, (ECHO, ("Location", "{self}{path}/b")))),
            "b": route(NO_CORS_404, ok(ECHO)),
        },
        "blocked:PreflightMissingAllowOriginHeader",
        expect_preflight=True,
    ),
    Case(
        "r6-post-json-301-cross",
        "§6",
        "POST application/json, preflighted, 301 to api2: a GET without body headers, no second preflight",
        fetch(method="POST", body="{}", headers=(("Content-Type", "application/json"),)),
        {
            "": route(good_preflight(), to_api2(status=301)),
            "b": route(NO_CORS_404, ok(STAR)),
        },
        "allowed",
        expect_preflight=True,
    ),
    Case(
        "r6-post-custom-302-cross",
        "§6",
        "POST + X-A, 302 to api2: GET keeps X-A, so a second preflight, which has no ACAO",
        fetch(method="POST", body="x", headers=(("X-A", "1"),)),
        {
            "": route(good_preflight(), to_api2(status=302)),
            "b": route(NO_CORS_404, ok(STAR)),
        },
        "blocked:PreflightMissingAllowOriginHeader",
        expect_preflight=True,
    ),
    Case(
        "r6-put-303-cross",
        "§6",
        "PUT, 303 to api2: becomes a simple GET, no second preflight",
        fetch(method="PUT", body="x"),
        {
            "": route(good_preflight(), to_api2(status=303)),
            "b": route(NO_CORS_404, ok(STAR)),
        },
        "allowed",
        expect_preflight=True,
    ),
    Case(
        "r6-put-303-custom-cross",
        "§6",
        "PUT + X-A, 303 to api2: GET + X-A needs a second preflight (Origin null), ACAO * passes",
        fetch(method="PUT", body="x", headers=(("X-A", "1"),)),
        {
            "": route(good_preflight(), to_api2(status=303)),
            "b": route(pf(STAR, (ACAH, "x-a")), ok(STAR)),
        },
        "allowed",
        expect_preflight=True,
    ),
    Case(
        "r6-authorization-dropped-cross",
        "§6",
        "GET + Authorization, preflighted, 307 to api2: Authorization is removed, so no second preflight",
        fetch(headers=(("Authorization", "Bearer t0ken"),)),
        {
            "": route(pf(ECHO, (ACAH, "authorization")), to_api2()),
            "b": route(NO_CORS_404, ok(STAR)),
        },
        "allowed",
        expect_preflight=True,
    ),
    Case(
        "r6-302-no-location-final",
        "§6",
        "a 302 without Location is the final response; ACAO * allows it",
        fetch(),
        {"": route(actual=Reply(302, (TEXT, STAR), "no location"))},
        "allowed",
        expect_preflight=False,
    ),
    Case(
        "r6-302-no-location-no-acao",
        "§6",
        "a 302 without Location and without ACAO",
        fetch(),
        {"": route(actual=Reply(302, (TEXT,), "no location"))},
        "blocked:MissingAllowOriginHeader",
        expect_preflight=False,
    ),
    Case(
        "r6-hop-acao-final-missing",
        "§6",
        "the redirect hop has ACAO *, the final response (same API origin) has none",
        fetch(),
        {"": route(actual=Reply(302, (STAR, ("Location", "{self}{path}/b")))), "b": route(actual=ok())},
        "blocked:MissingAllowOriginHeader",
        expect_preflight=False,
    ),
    Case(
        "r6-taint-credentials-no-acac",
        "§6",
        "credentialed api1 -> api2 with ACAO null but no ACAC on the final response",
        fetch(credentials="include"),
        {
            "": route(actual=Reply(302, (ECHO, CRED, ("Location", "{api2}{path}/b")))),
            "b": route(actual=ok((ACAO, "null"))),
        },
        "blocked:InvalidAllowCredentials",
        expect_preflight=False,
    ),
    Case(
        "r6-taint-credentials-star",
        "§6",
        "credentialed api1 -> api2 with ACAO * + ACAC true",
        fetch(credentials="include"),
        {
            "": route(actual=Reply(302, (ECHO, CRED, ("Location", "{api2}{path}/b")))),
            "b": route(actual=ok(STAR, CRED)),
        },
        "blocked:WildcardOriginNotAllowed",
        expect_preflight=False,
    ),
    Case(
        "r6-taint-credentials-echo",
        "§6",
        "credentialed api1 -> api2, which echoes Origin: null with ACAC true",
        fetch(credentials="include"),
        {
            "": route(actual=Reply(302, (ECHO, CRED, ("Location", "{api2}{path}/b")))),
            "b": route(actual=ok(ECHO, CRED)),
        },
        "allowed",
        expect_preflight=False,
    ),
    Case(
        "r6-credentials-hop-star",
        "§6",
        "credentialed request whose redirect hop says ACAO *",
        fetch(credentials="include"),
        {
            "": route(actual=Reply(302, (STAR, CRED, ("Location", "{self}{path}/b")))),
            "b": route(actual=ok(ECHO, CRED)),
        },
        "blocked:WildcardOriginNotAllowed",
        expect_preflight=False,
    ),
    Case(
        "r6-redirect-20-hops",
        "§6",
        "20 redirects (the limit) and then a 200 with ACAO *",
        fetch(),
        {"": route(actual=[Reply(302, (STAR, ("Location", "{self}{path}")))] * 20 + [ok(STAR)])},
        "allowed",
        expect_preflight=False,
    ),
    Case(
        "r6-redirect-loop",
        "§6",
        "a redirect loop: the 21st redirect fails with net::ERR_TOO_MANY_REDIRECTS",
        fetch(),
        {"": route(actual=Reply(302, (STAR, ("Location", "{self}{path}"))))},
        "error:net::ERR_TOO_MANY_REDIRECTS",
        expect_preflight=False,
    ),
    Case(
        "r6-redirect-to-data",
        "§6",
        "a redirect to a data: URL",
        fetch(),
        {"": route(actual=Reply(302, (STAR, ("Location", "data:text/plain,hi"))))},
        "error:net::ERR_UNSAFE_REDIRECT",
        expect_preflight=False,
    ),
    Case(
        "r6-two-locations",
        "§6",
        "a redirect with two different Location lines",
        fetch(),
        {
            "": route(
                actual=Reply(302, (STAR, ("Location", "{self}{path}/b"), ("Location", "{self}{path}/c")))
            ),
            "b": route(actual=ok(STAR)),
            "c": route(actual=ok(STAR)),
        },
        "error:net::ERR_RESPONSE_HEADERS_MULTIPLE_LOCATION",
        expect_preflight=False,
    ),
    Case(
        "r6-mode-error",
        "§6",
        "fetch redirect: 'error' meets a 302 (with ACAO *)",
        fetch(redirect="error"),
        {"": route(actual=Reply(302, (STAR, ("Location", "{api2}{path}/b")))), "b": route(actual=ok(STAR))},
        "error:net::ERR_FAILED",
        expect_preflight=False,
        capture_limits=("redirect-mode",),
    ),
    Case(
        "r6-mode-manual-no-acao",
        "§6",
        "fetch redirect: 'manual': the redirect response still gets the CORS check",
        fetch(redirect="manual"),
        {"": route(actual=Reply(302, (("Location", "{api2}{path}/b"),))), "b": route(actual=ok(STAR))},
        "blocked:MissingAllowOriginHeader",
        expect_preflight=False,
    ),
    Case(
        "r6-mode-manual-ok",
        "§6",
        "fetch redirect: 'manual' with ACAO * on the redirect: an opaque-redirect response",
        fetch(redirect="manual"),
        {"": route(actual=Reply(302, (STAR, ("Location", "{api2}{path}/b")))), "b": route(actual=ok(STAR))},
        "allowed",
        expect_preflight=False,
        capture_limits=("redirect-mode",),
    ),
]

ETAG = ("ETag", '"v1"')
REVALIDATE = ("Cache-Control", "no-cache")


def revalidation_pair(name: str, title: str, not_modified: Reply, expect: str) -> list[Case]:
    """A cacheable 200 (ETag, no-cache, ACAO *), then the same GET, which Chromium revalidates
    (If-None-Match) and the server answers with `not_modified`."""
    return [
        Case(
            f"r6-{name}-first",
            "§6",
            "GET, 200 with ACAO *, ETag and Cache-Control no-cache",
            fetch(),
            {"": route(actual=[ok(STAR, ETAG, REVALIDATE), not_modified])},
            "allowed",
            path=f"reval-{name}",
            expect_preflight=False,
        ),
        Case(
            f"r6-{name}-again",
            "§6",
            title,
            fetch(),
            {},
            expect,
            path=f"reval-{name}",
            expect_preflight=False,
        ),
    ]


R6B += [
    *revalidation_pair(
        "revalidate-304-no-acao",
        "the revalidation's 304 has no ACAO: the stored ACAO * still applies",
        Reply(304, (ETAG, REVALIDATE)),
        "allowed",
    ),
    *revalidation_pair(
        "revalidate-304-mismatch",
        "the revalidation's 304 says ACAO other.example: it updates the stored headers, and is checked",
        Reply(304, (ETAG, REVALIDATE, (ACAO, "http://other.example"))),
        "allowed",
    ),
]

# §7 again: more ACAO and ACAC spellings

A7B = [
    access(
        "a7-subdomain-wildcard",
        "ACAO 'https://*.example'",
        "blocked:AllowOriginMismatch",
        (ACAO, "https://*.example"),
    ),
    access("a7-star-padded", "ACAO ' * ' (trimmed to *)", "allowed", (ACAO, " * ")),
    access("a7-star-list", "ACAO '*, *'", "blocked:MultipleAllowOriginValues", (ACAO, "*, *")),
    access("a7-star-two-lines", "ACAO * on two lines", "blocked:MultipleAllowOriginValues", STAR, STAR),
    access(
        "a7-echo-and-star", "ACAO echo and * on two lines", "blocked:MultipleAllowOriginValues", ECHO, STAR
    ),
    access("a7-trailing-comma", "ACAO '<page>,'", "blocked:MultipleAllowOriginValues", (ACAO, "{page},")),
    access(
        "a7-non-ascii-latin1",
        "ACAO with a Latin-1 byte (0xFC) in the host",
        "blocked:InvalidAllowOriginValue",
        (ACAO, "http://b\xfccher.example"),
    ),
    access(
        "a7-non-ascii-utf8",
        "ACAO = page origin followed by UTF-8 bytes",
        "blocked:InvalidAllowOriginValue",
        (ACAO, "{page}\xc3\xbc"),
    ),
    access(
        "a7-non-ascii-idn",
        "ACAO 'http://bücher.example' sent as UTF-8 bytes (a valid IDN host)",
        "blocked:AllowOriginMismatch",
        (ACAO, "http://b\xc3\xbccher.example"),
    ),
    access(
        "a7-tab-in-host",
        "ACAO with a tab inside (the URL parser drops it, the comparison does not)",
        "blocked:AllowOriginMismatch",
        (ACAO, "http://{host}\t:{page_port}"),
    ),
    access("a7-tab-trailing", "ACAO with a trailing tab (trimmed)", "allowed", (ACAO, "{page}\t")),
    access("a7-null-upper", "ACAO 'NULL'", "blocked:InvalidAllowOriginValue", (ACAO, "NULL")),
    access(
        "a7-https-scheme",
        "ACAO with https instead of http",
        "blocked:AllowOriginMismatch",
        (ACAO, "https://{host}:{page_port}"),
    ),
    access("a7-query", "ACAO with a '?'", "blocked:AllowOriginMismatch", (ACAO, "{page}?")),
    access(
        "a7-sandbox-null-credentials",
        "sandboxed origin, credentials include, ACAO null + ACAC true",
        "allowed",
        (ACAO, "null"),
        CRED,
        frame="sandbox",
        credentials="include",
    ),
    access(
        "a7-sandbox-null-credentials-no-acac",
        "sandboxed origin, credentials include, ACAO null without ACAC",
        "blocked:InvalidAllowCredentials",
        (ACAO, "null"),
        frame="sandbox",
        credentials="include",
        param="",
    ),
    access(
        "a7-sandbox-star-credentials",
        "sandboxed origin, credentials include, ACAO *",
        "blocked:WildcardOriginNotAllowed",
        STAR,
        CRED,
        frame="sandbox",
        credentials="include",
    ),
    access(
        "a7-acac-padded", "ACAC ' true ' (trimmed)", "allowed", ECHO, (ACAC, " true "), credentials="include"
    ),
    access(
        "a7-acac-two-lines-case",
        "ACAC 'true' and 'True' on two lines",
        "blocked:InvalidAllowCredentials",
        ECHO,
        CRED,
        (ACAC, "True"),
        credentials="include",
        param="true, True",
    ),
    access(
        "a7-acac-quoted",
        "ACAC '\"true\"'",
        "blocked:InvalidAllowCredentials",
        ECHO,
        (ACAC, '"true"'),
        credentials="include",
    ),
    access(
        "a7-acac-empty",
        "ACAC with an empty value",
        "blocked:InvalidAllowCredentials",
        ECHO,
        (ACAC, ""),
        credentials="include",
        param="",
    ),
    access(
        "a7-acac-one", "ACAC '1'", "blocked:InvalidAllowCredentials", ECHO, (ACAC, "1"), credentials="include"
    ),
    access(
        "a7-acao-checked-before-acac",
        "credentialed, ACAO another origin and ACAC absent: ACAO is reported",
        "blocked:AllowOriginMismatch",
        (ACAO, "http://other.example"),
        credentials="include",
    ),
]

_TWINNED_B = _by_id(A7B + P1 + P5B + R6B)
X8B = [
    xhr_twin(_TWINNED_B[cid])
    for cid in (
        "a7-star-list",
        "a7-null-upper",
        "a7-non-ascii-utf8",
        "a7-acac-two-lines-case",
        "a7-sandbox-star-credentials",
        "a7-acac-padded",
        "p1-preflight-close",
        "p5-acac-capital",
        "r6-put-307-cross-preflight-page",
        "r6-taint-credentials-star",
        "r6-redirect-loop",
    )
] + [
    xhr_twin(_TWINNED[cid])
    for cid in (
        "a7-credentials-ok",
        "a7-acac-absent",
        "a7-acac-twice",
        "p5-credentials-ok",
        "r6-taint-credentials-null",
    )
]


# ---------------------------------------------------------------------------------------------
# the table


def _fix_shared_routes(cases: list[Case]) -> list[Case]:
    """A shared path's routes are declared once; fail loudly if two cases declare different ones."""
    seen: dict[str, Mapping[str, Route]] = {}
    for case in cases:
        if case.routes:
            if case.base in seen and seen[case.base] != case.routes:
                raise ValueError(f"{case.id}: path {case.base} declared twice with different routes")
            seen[case.base] = case.routes
    for case in cases:
        if case.base not in seen:
            raise ValueError(f"{case.id}: no routes for {case.base}")
    return cases


CASES: list[Case] = _fix_shared_routes(
    S1 + S2 + S4 + P5 + R6 + A7 + X8 + E8 + S2B + C4B + P1 + P5B + R6B + A7B + X8B
)
BY_ID: dict[str, Case] = _by_id(CASES)
if len(BY_ID) != len(CASES):
    raise ValueError("duplicate case ids")


def select(ids: Sequence[str] | None = None) -> list[Case]:
    """Cases in table order; `ids` picks some (a cache case drags in its whole shared path,
    and an XHR case its fetch twin, so the selection still runs as the table means)."""
    if not ids:
        return list(CASES)
    unknown = [i for i in ids if i not in BY_ID]
    if unknown:
        raise KeyError(f"unknown case ids: {', '.join(unknown)}")
    wanted = set(ids)
    bases = {BY_ID[i].base for i in ids}
    wanted |= {BY_ID[i].twin for i in ids if BY_ID[i].twin}  # type: ignore[misc]
    return [c for c in CASES if c.id in wanted or c.base in bases]


def routes_for(cases: Iterable[Case]) -> dict[str, Route]:
    """Every absolute route the given cases need."""
    out: dict[str, Route] = {}
    for case in cases:
        out.update(case.full_routes())
    return out
