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

`expect` (with `expect_preflight` and `expect_param`, the failed parameter) is what
`/work/shared/fetch-rules.md` predicts ("allowed", "not-cors", "absent" for a
request that never reaches the network, or "blocked:<CorsError>"). It is NOT what the oracle
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


CASES: list[Case] = _fix_shared_routes(S1 + S2 + S4 + P5 + R6 + A7 + X8)
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
