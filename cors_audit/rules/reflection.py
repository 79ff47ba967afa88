"""Reflection family: reflected-origin-credentials, reflected-origin, subdomains-trusted.

Captures hold only the origins the application really uses, normally trusted ones, so an echoed
Origin proves nothing by itself: an endpoint that echoes its one legitimate origin is an allowlist
doing its job. Reflection is proven passively only when one endpoint echoes two or more distinct
sites other than its own and refuses none, or an origin outside the trusted origins the user declared.

Without `Access-Control-Allow-Credentials: true`, reflection exposes exactly what `*` exposes
(no credentialed read either way), so `reflected-origin` is ranked like `wildcard-origin`: info,
medium on private-network hosts. With credentials it is the critical bug this tool exists for.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator

from cors_audit.model import Severity
from cors_audit.origin import registrable_domain
from cors_audit.rules.observe import (
    Endpoint,
    Hit,
    Observation,
    RuleContext,
    Traffic,
    origin_value,
    private_network,
    site_key,
    status_aware,
)

_MEMO_KEY = "reflection"


def echoed(group: list[Observation]) -> list[Observation]:
    """Responses that echo a cross-origin, non-null request Origin (null has its own rule)."""
    return [
        o
        for o in group
        if o.echoes and o.origin is not None and o.origin != "null" and not _same_origin(o.origin, o.target)
    ]


def refused(group: list[Observation], own_site: str) -> bool:
    """The endpoint answered some foreign origin without granting it: an allowlist, not reflection.

    Several echoed origins then mean several allowed origins. Error responses do not count: a 404
    page often carries no CORS headers whatever the policy.
    """
    return any(
        o.origin not in (None, "null")
        and site_key(o.origin or "") != own_site
        and o.status is not None
        and o.status < 400
        and not o.echoes
        and o.acao != "*"
        for o in group
    )


def proven_reflections(
    traffic: Traffic, context: RuleContext
) -> dict[Endpoint, tuple[list[Observation], str]]:
    """Per endpoint, the echoing responses that prove reflection and a sentence saying why.

    Shared with the caching and private-network rules, so computed once per audit.
    """
    memo = traffic.memo.get(_MEMO_KEY)
    if isinstance(memo, dict):
        return memo
    result: dict[Endpoint, tuple[list[Observation], str]] = {}
    trusted = context.trusted
    for endpoint, group in traffic.by_endpoint.items():
        echoes = echoed(group)
        if not echoes:
            continue
        if trusted:
            outside = [o for o in echoes if not context.is_trusted(o.origin or "")]
            if outside:
                names = sorted({o.origin or "" for o in outside})
                why = (
                    f"Access-Control-Allow-Origin echoed {_join(names)}, outside the trusted origins "
                    f"({_join(sorted(trusted))})."
                )
                result[endpoint] = (outside, why)
            continue
        own = site_key(endpoint[0])
        foreign = [o for o in echoes if site_key(o.origin or "") != own]
        sites = {site_key(o.origin or "") for o in foreign}
        if len(sites) >= 2 and not refused(group, own):
            names = sorted({o.origin or "" for o in foreign})
            why = f"Access-Control-Allow-Origin echoed {len(sites)} distinct cross-site origins "
            why += f"({_join(names)})."
            result[endpoint] = (foreign, why)
    traffic.memo[_MEMO_KEY] = result
    return result


def check(traffic: Traffic, context: RuleContext) -> Iterator[Hit]:
    proven = proven_reflections(traffic, context)
    for proving, why in proven.values():
        credentialed = [o for o in proving if o.credentialed]
        if credentialed:
            yield Hit(
                "reflected-origin-credentials",
                status_aware(Severity.CRITICAL, credentialed),
                proving,
                f"{why[:-1]} with Access-Control-Allow-Credentials: true.",
                {"origins_echoed": sorted({o.origin or "" for o in proving})},
            )
        else:
            acac = sorted({o.acac for o in proving if o.acac is not None})
            note = f" Access-Control-Allow-Credentials was {_join(acac)}, not exactly `true`." if acac else ""
            # Without credentials a reflected origin grants exactly what `*` grants: rank it like
            # wildcard-origin (a risk where network position gates the data), not like its credentialed twin.
            host = proving[0].target_host
            private = private_network(host)
            if private:
                note += (
                    f" {host} is a private-network host: any public page reads it through the user's browser."
                )
            yield Hit(
                "reflected-origin",
                status_aware(Severity.MEDIUM if private else Severity.INFO, proving),
                proving,
                why + note,
                {"origins_echoed": sorted({o.origin or "" for o in proving}), "private_network": private},
            )
    yield from _subdomains(traffic, context, proven)


def _subdomains(
    traffic: Traffic, context: RuleContext, proven: dict[Endpoint, tuple[list[Observation], str]]
) -> Iterator[Hit]:
    """Several different subdomains of one domain echoed by one endpoint (and no reflection proven)."""
    for endpoint, group in traffic.by_endpoint.items():
        if endpoint in proven:
            continue
        by_domain: dict[str, dict[str, list[Observation]]] = {}
        for o in echoed(group):
            if context.trusted and context.is_trusted(o.origin or ""):
                continue
            parsed = origin_value(o.origin)
            if parsed is None or parsed.is_opaque or site_key(serialized := parsed.serialize()) == serialized:
                continue  # IP, localhost, single label: no domain to have subdomains of
            host = parsed.host.removeprefix("www.")
            domain = registrable_domain(parsed.host)
            by_domain.setdefault(domain, {}).setdefault(host, []).append(o)
        for domain, hosts in by_domain.items():
            if len(hosts) < 2:
                continue
            observations = [o for group_ in hosts.values() for o in group_]
            credentialed = any(o.credentialed for o in observations)
            severity = Severity.LOW if len(hosts) >= 3 and credentialed else Severity.INFO
            yield Hit(
                "subdomains-trusted",
                status_aware(severity, observations),
                observations,
                f"Access-Control-Allow-Origin echoed {len(hosts)} different subdomains of {domain} "
                f"({_join(sorted(hosts))})" + (" with credentials." if credentialed else "."),
                {"domain": domain, "subdomains": sorted(hosts)},
            )


@functools.lru_cache(maxsize=4096)
def _same_origin(origin: str, target: str) -> bool:
    parsed = origin_value(origin)
    return parsed is not None and not parsed.is_opaque and parsed.serialize() == target


def _join(items: list[str]) -> str:
    return ", ".join(items)
