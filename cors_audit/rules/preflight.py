"""Preflight family: permissive-preflight, long-preflight-max-age, private-network-any-origin.

Echoing the requested headers is the default of Express `cors`, Flask-CORS and Starlette's
`allow_headers=["*"]`, so a header echo alone is info. Echoing the requested *method* is not what
any of them does (they send fixed lists), so a proven method echo, or `*` methods, is low.
An echo is proven when one target answered two or more different requests each with exactly what
was asked, or echoed a method no fixed list would contain.
"""

from __future__ import annotations

from collections.abc import Iterator

from cors_audit.model import Severity
from cors_audit.rules.observe import Hit, Observation, RuleContext, Traffic, header_tokens, status_aware
from cors_audit.rules.reflection import proven_reflections

CHROMIUM_MAX_AGE = 7200
FIREFOX_MAX_AGE = 86400
COMMON_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


def check(traffic: Traffic, context: RuleContext) -> Iterator[Hit]:
    yield from _permissive(traffic)
    yield from _max_age(traffic)
    yield from _private_network(traffic, context)


def _preflights(group: list[Observation]) -> list[Observation]:
    return [o for o in group if o.kind == "preflight" and o.request_header("access-control-request-method")]


def _method_echo(o: Observation) -> bool:
    requested = o.request_header("access-control-request-method")
    return header_tokens(o.header("access-control-allow-methods")) == [requested]


def _header_echo(o: Observation) -> bool:
    requested = {h.lower() for h in header_tokens(o.request_header("access-control-request-headers"))}
    allowed = {h.lower() for h in header_tokens(o.header("access-control-allow-headers"))}
    return bool(requested) and requested == allowed


def _whole_request_echoed(o: Observation) -> bool:
    """A non-simple method allowed alone and the requested headers (if any) allowed exactly: what an
    echo looks like, and what no framework default produces (they send fixed method lists)."""
    method = o.request_header("access-control-request-method")
    if method in ("GET", "HEAD", "POST"):
        return False
    return not o.request_header("access-control-request-headers") or _header_echo(o)


def _permissive(traffic: Traffic) -> Iterator[Hit]:
    for group in traffic.by_target.values():
        preflights = _preflights(group)
        with_methods = [o for o in preflights if o.header("access-control-allow-methods") is not None]
        method_echoes = {o for o in with_methods if _method_echo(o)}
        echoed_methods = {o.request_header("access-control-request-method") for o in method_echoes}
        methods_proven = (len(echoed_methods) >= 2 and len(method_echoes) == len(with_methods)) or any(
            m not in COMMON_METHODS for m in echoed_methods
        )
        with_headers = [o for o in preflights if o.request_header("access-control-request-headers")]
        header_echoes = {o for o in with_headers if _header_echo(o)}
        requested_sets = {
            frozenset(h.lower() for h in header_tokens(o.request_header("access-control-request-headers")))
            for o in header_echoes
        }
        headers_proven = len(requested_sets) >= 2 and len(header_echoes) == len(with_headers)
        star = {o for o in preflights if "*" in header_tokens(o.header("access-control-allow-methods"))}

        by_endpoint: dict[tuple[str, str], list[tuple[Observation, list[str]]]] = {}
        for o in preflights:
            what: list[str] = []
            if o in star:
                what.append("Access-Control-Allow-Methods: *")
            if methods_proven and o in method_echoes:
                what.append(f"method {o.request_header('access-control-request-method')} echoed")
            elif o in method_echoes and _whole_request_echoed(o):
                what.append(
                    f"exactly what was asked (method {o.request_header('access-control-request-method')}, "
                    f"headers '{o.request_header('access-control-request-headers') or ''}'); "
                    "one request cannot show whether that is an echo or a fixed list"
                )
            if headers_proven and o in header_echoes:
                what.append(f"headers '{o.request_header('access-control-request-headers')}' echoed")
            if what:
                by_endpoint.setdefault(o.endpoint, []).append((o, what))
        for shown in by_endpoint.values():
            observations = [o for o, _ in shown]
            reasons = sorted({r for _, what in shown for r in what})
            methods = any(o in star or (methods_proven and o in method_echoes) for o in observations)
            severity = Severity.LOW if methods else Severity.INFO
            proof = "The preflight answered " + "; ".join(reasons) + "."
            if methods_proven and not star:
                asked = ", ".join(sorted(m or "" for m in echoed_methods))
                proof += f" Requested methods {asked} were each allowed alone."
            yield Hit(
                "permissive-preflight",
                status_aware(severity, observations),
                observations,
                proof,
                {
                    "echoed_methods": sorted(m or "" for m in echoed_methods) if methods_proven else [],
                    "methods_wildcard": any(o in star for o in observations),
                    "headers_echoed": headers_proven,
                },
            )


def _max_age(traffic: Traffic) -> Iterator[Hit]:
    for o in traffic.observations:
        if o.kind != "preflight":
            continue
        value = (o.header("access-control-max-age") or "").strip()
        if not value.isdigit() or int(value) <= CHROMIUM_MAX_AGE:
            continue
        seconds = int(value)
        capped = "Chromium caps it at 7200 s" + (", Firefox at 86400 s" if seconds > FIREFOX_MAX_AGE else "")
        yield Hit(
            "long-preflight-max-age",
            Severity.INFO,
            [o],
            f"Access-Control-Max-Age: {seconds} ({seconds // 3600} h); {capped}.",
            {"max_age": [seconds]},
        )


def _private_network(traffic: Traffic, context: RuleContext) -> Iterator[Hit]:
    proven = {id(o) for proving, _ in proven_reflections(traffic, context).values() for o in proving}
    for o in traffic.observations:
        if (o.header("access-control-allow-private-network") or "").strip().lower() != "true":
            continue
        acao = o.acao
        if acao in ("*", "null"):
            why = f"Access-Control-Allow-Origin: {acao}"
        elif o.echoes and id(o) in proven:
            why = f"a reflected origin ({acao})"
        elif o.echoes and context.trusted and not context.is_trusted(o.origin or ""):
            why = f"the untrusted origin {acao}"
        else:
            continue
        yield Hit(
            "private-network-any-origin",
            status_aware(Severity.MEDIUM, [o]),
            [o],
            f"Access-Control-Allow-Private-Network: true granted together with {why}.",
        )
