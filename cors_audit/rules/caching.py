"""missing-vary-origin: Access-Control-Allow-Origin depends on Origin but caches are not told.

"Dynamic" must be shown by the traffic: one endpoint answered with two or more different
Access-Control-Allow-Origin values, or its reflection is proven. A fixed value (one configured
origin, `*`) needs no Vary. An endpoint that sends its one allowed origin to that origin and
nothing to others (Flask-CORS with one origin) also varies, but serving either cached answer to
the other origin only breaks CORS for legitimate users, so that case is info.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from cors_audit.model import Severity
from cors_audit.rules.observe import Hit, Observation, RuleContext, Traffic, header_tokens, status_aware
from cors_audit.rules.reflection import proven_reflections

# RFC 9111 §4.2.2: statuses that are heuristically cacheable
_HEURISTIC_STATUSES = frozenset({200, 203, 204, 206, 300, 301, 308, 404, 405, 410, 414, 501})
_AGE = re.compile(r"(?:s-maxage|max-age)\s*=\s*\"?(\d+)", re.IGNORECASE)


def varies_on_origin(o: Observation) -> bool:
    tokens = {t.lower() for t in header_tokens(o.header("vary"))}
    return "origin" in tokens or "*" in tokens


def cacheable(o: Observation) -> bool:
    """Whether a shared or browser cache may store and reuse this response (RFC 9111, simplified)."""
    m = o.message
    if m.method not in ("GET", "HEAD") or m.status is None:
        return False
    directives = (o.header("cache-control") or "").lower()
    if any(d in directives for d in ("no-store", "private", "no-cache")):
        return False
    if any(int(age) > 0 for age in _AGE.findall(directives)):
        return True
    if "public" in directives or o.header("expires"):
        return m.status in _HEURISTIC_STATUSES or m.status < 300
    heuristic = "last-modified" in m.response_headers
    return heuristic and m.status in _HEURISTIC_STATUSES


def check(traffic: Traffic, context: RuleContext) -> Iterator[Hit]:
    proven = proven_reflections(traffic, context)
    for endpoint, group in traffic.by_endpoint.items():
        actual = [o for o in group if o.kind == "actual" and o.origin is not None and o.acao_lines <= 1]
        specific = [o for o in actual if o.acao not in (None, "*")]
        if not specific:
            continue
        stale = [
            o for o in specific if o.message.from_cache and o.acao != o.origin and not varies_on_origin(o)
        ]
        if stale:
            # a browser-cache hit (Chrome HAR `_fromCache`): the copy made for one origin reached another
            yield Hit(
                "missing-vary-origin",
                Severity.MEDIUM,
                stale,
                f"The browser served a cached response whose Access-Control-Allow-Origin is {stale[0].acao} "
                "to "
                f"a request from {stale[0].origin}: without Vary: Origin the cache cannot tell them apart.",
                {"allow_origin_values": sorted({o.acao or "" for o in stale}), "cacheable": True},
            )
            continue
        values = {o.acao for o in specific}
        if len(values) >= 2 or endpoint in proven:
            lacking = [o for o in specific if not varies_on_origin(o)]
            if not lacking:
                continue
            cached = [o for o in lacking if cacheable(o)]
            severity = Severity.MEDIUM if cached else Severity.LOW
            yield Hit(
                "missing-vary-origin",
                status_aware(severity, cached or lacking),
                lacking,
                f"Access-Control-Allow-Origin took {len(values)} different values "
                f"({', '.join(sorted(v or '' for v in values))}) without Vary: Origin"
                + (f"; {len(cached)} of these responses are cacheable." if cached else "."),
                {"allow_origin_values": sorted(v or "" for v in values), "cacheable": bool(cached)},
            )
            continue
        # one value, the request's own Origin, on a cacheable response: origin-dependent or fixed?
        allowed = next(iter(values))
        refused = [o for o in actual if o.acao is None and o.origin != allowed]
        if not refused:
            if any(o.origin != allowed for o in specific):
                continue  # the same value went to other origins too: a fixed ACAO needs no Vary
            echoed_cacheable = [o for o in specific if o.echoes and cacheable(o) and not varies_on_origin(o)]
            if echoed_cacheable:
                yield Hit(
                    "missing-vary-origin",
                    Severity.INFO,
                    echoed_cacheable,
                    f"A cacheable response echoed {allowed} in Access-Control-Allow-Origin without Vary: "
                    "Origin. "
                    "One origin cannot show whether the value depends on Origin; if it does, a cached copy "
                    "reaches other origins (a second origin's request may never leave the browser).",
                    {"allow_origin_values": [allowed or ""], "cacheable": True},
                )
            continue
        if any(not varies_on_origin(o) for o in specific + refused):
            shown = [o for o in specific + refused if not varies_on_origin(o)]
            yield Hit(
                "missing-vary-origin",
                Severity.INFO,
                shown,
                f"Access-Control-Allow-Origin was sent to {allowed} and omitted for other origins, "
                "without Vary: Origin (a cached copy can break CORS for the allowed origin).",
                {"allow_origin_values": [allowed or ""], "cacheable": any(cacheable(o) for o in shown)},
                impact="A cache may serve the copy made for one origin to the other; the allowed origin's "
                "requests then fail. No data is exposed.",
            )
