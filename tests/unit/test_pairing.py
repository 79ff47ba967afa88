"""Online pairing: preflight <-> request, the preflight cache, orphans, redirect chains, expiry."""

from __future__ import annotations

from cors_audit.model import Headers, Message
from cors_audit.pairing import Pairer, pair, url_key

PAGE = "http://127.0.0.1:8000"
API = "http://127.0.0.1:9000/api/item"
GOOD_PREFLIGHT = [
    ("Access-Control-Allow-Origin", PAGE),
    ("Access-Control-Allow-Methods", "PUT"),
    ("Access-Control-Allow-Headers", "x-token"),
    ("Access-Control-Max-Age", "60"),
]


def message(mid, started, method="PUT", url=API, req=None, status=200, resp=None, initiator=None):
    req = req if req is not None else [("Origin", PAGE), ("Sec-Fetch-Mode", "cors"), ("X-Token", "1")]
    return Message(
        id=mid,
        started=started,
        method=method,
        url=url,
        request_headers=Headers(req),
        status=status,
        response_headers=Headers(resp or [("Access-Control-Allow-Origin", PAGE)]),
        initiator=initiator,
    )


def options(
    mid,
    started,
    resp=GOOD_PREFLIGHT,
    status=204,
    url=API,
    origin=PAGE,
    method="PUT",
    headers="x-token",
    initiator=None,
):
    req = [("Origin", origin), ("Access-Control-Request-Method", method), ("Sec-Fetch-Mode", "cors")]
    if headers:
        req.append(("Access-Control-Request-Headers", headers))
    return Message(
        id=mid,
        started=started,
        method="OPTIONS",
        url=url,
        request_headers=Headers(req),
        status=status,
        response_headers=Headers(resp),
        initiator=initiator,
    )


def test_preflight_pairs_with_its_request() -> None:
    [exchange] = pair([options("p", 0.0), message("a", 0.1)])
    assert exchange.preflight.id == "p" and exchange.actual.id == "a"
    assert exchange.verdict.outcome == "allowed"


def test_chrome_order_request_listed_before_its_preflight() -> None:
    [exchange] = pair(
        [
            message("a", 0.0, status=None, resp=[], initiator="fetch"),
            options("p", 0.01, resp=[], initiator="preflight"),
        ]
    )
    assert exchange.preflight.id == "p"
    assert (exchange.verdict.outcome, exchange.verdict.error) == (
        "blocked",
        "PreflightMissingAllowOriginHeader",
    )


def test_repeat_within_max_age_is_a_cache_hit() -> None:
    first, second = pair([options("p", 0.0), message("a", 0.1), message("b", 30.0)])
    assert second.preflight is None and second.preflight_cached and second.cached_from == "p"
    assert second.verdict.outcome == "allowed"


def test_repeat_after_max_age_is_preflight_not_observed() -> None:
    _, second = pair([options("p", 0.0), message("a", 0.1), message("b", 100.0)])
    assert not second.preflight_cached and not second.preflight_observed
    assert any("not observed" in a for a in second.verdict.assumptions)


def test_credentialed_request_cannot_use_uncredentialed_entry() -> None:
    cookie = [("Origin", PAGE), ("Sec-Fetch-Mode", "cors"), ("X-Token", "1"), ("Cookie", "s=1")]
    _, second = pair([options("p", 0.0), message("a", 0.1), message("b", 1.0, req=cookie)])
    assert not second.preflight_cached


def test_failed_preflight_is_the_blocked_exchange_reconstructed() -> None:
    resp = [("Access-Control-Allow-Origin", PAGE), ("Access-Control-Allow-Methods", "PUT")]
    [exchange] = pair([options("p", 0.0, resp=resp)])
    assert exchange.actual is None and exchange.method == "PUT" and exchange.url == API
    assert (exchange.verdict.outcome, exchange.verdict.blocked_at, exchange.verdict.error) == (
        "blocked",
        "preflight",
        "HeaderDisallowedByPreflightResponse",
    )
    assert exchange.verdict.failed_parameter == "x-token"


def test_failed_preflight_is_emitted_at_once_for_live_use() -> None:
    pairer = Pairer()
    out = pairer.feed(options("p", 0.0, resp=[]))
    assert [x.verdict.error for x in out] == ["PreflightMissingAllowOriginHeader"]
    assert pairer.pending == 0


def test_pending_preflight_expires() -> None:
    pairer = Pairer(hold=10.0)
    passes_either_way = GOOD_PREFLIGHT + [("Access-Control-Allow-Credentials", "true")]
    assert pairer.feed(options("p", 0.0, resp=passes_either_way)) == []
    assert pairer.pending == 1
    out = pairer.expire(11.0)
    assert len(out) == 1 and out[0].verdict.outcome == "unknown"
    assert pairer.feed(options("q", 20.0)) == [], "passes without credentials only: waits for its request"
    [inferred] = pairer.expire(31.0)
    assert (inferred.verdict.outcome, inferred.verdict.error) == (
        "blocked",
        "PreflightInvalidAllowCredentials",
    )
    assert pairer.pending == 0


def test_redirect_chain_with_taint_and_second_preflight() -> None:
    simple = [("Origin", PAGE), ("Sec-Fetch-Mode", "cors")]
    hop1 = message(
        "a",
        0.0,
        method="GET",
        url="http://127.0.0.1:9000/r",
        req=simple,
        status=302,
        resp=[("Location", "http://127.0.0.1:9100/end"), ("Access-Control-Allow-Origin", PAGE)],
    )
    hop2 = message(
        "b",
        0.1,
        method="GET",
        url="http://127.0.0.1:9100/end",
        req=[("Origin", "null"), ("Sec-Fetch-Mode", "cors")],
        resp=[("Access-Control-Allow-Origin", "null")],
    )
    [exchange] = pair([hop1, hop2])
    assert [h.id for h in exchange.hops] == ["a", "b"]
    assert exchange.verdict.outcome == "allowed"


def test_same_origin_request_is_not_cors() -> None:
    req = [("Sec-Fetch-Mode", "cors"), ("Sec-Fetch-Site", "same-origin")]
    [exchange] = pair([message("a", 0.0, method="GET", url=PAGE + "/x", req=req)])
    assert exchange.verdict.outcome == "not-cors"


def test_url_key_normalizes_default_port_and_case() -> None:
    assert url_key("HTTP://Example.com:80/a?b#c") == url_key("http://example.com/a?b") == "http://example.com/a?b"
    assert url_key("https://[::1]:443") == "https://[::1]/"


def test_probe_requests_recorded_by_the_same_proxy_are_not_browser_traffic() -> None:
    from cors_audit.audit import analyze

    browser_preflight = options("p1", 1.0)
    browser_put = message("a1", 1.1)
    forged = [("Origin", "https://evil.example"), ("Access-Control-Request-Method", "PUT"),
              ("User-Agent", "Mozilla/5.0 (compatible) cors-audit-probe/0.1.0")]
    probe = Message(id="q1", started=1.2, method="OPTIONS", url=API, request_headers=Headers(forged), status=204,
                    response_headers=Headers([("Access-Control-Allow-Origin", "https://evil.example")]))
    audit = analyze([browser_preflight, browser_put, probe], inputs=["capture.har"])

    assert [x.actual.id if x.actual else None for x in audit.exchanges] == ["a1"]
    assert audit.messages == 3
    assert audit.warnings == [
        "1 requests sent by cors-audit probe (User-Agent cors-audit-probe/...) were left out: "
        "they are not browser traffic"
    ]


def test_a_paired_preflight_is_held_by_its_exchange_only() -> None:
    # A busy proxy pairs thousands of preflights inside the 30 s window; nothing but their exchanges may
    # keep them (and their headers) alive until the window ends.
    import gc
    import types

    pairer = Pairer()
    preflight = options("p1", 1.0)
    exchanges = pairer.feed(preflight) + pairer.feed(message("a1", 1.1))
    assert [x.preflight for x in exchanges] == [preflight]
    exchange = exchanges[0]
    holders = [
        r for r in gc.get_referrers(preflight)
        if r is not exchange and r is not exchange.preflights and not isinstance(r, types.FrameType)
    ]
    assert holders == []
