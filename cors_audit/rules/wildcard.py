"""Wildcard family: wildcard-with-credentials, wildcard-origin.

`*` without credentials is how public data should be served: it is info, the most common false
positive of other scanners. It matters on private-network hosts (any public page can read the
intranet through the user's browser). Loopback hosts are development setups in practice, and
Chromium's Local Network Access prompt guards them, so they stay info.
"""

from __future__ import annotations

from collections.abc import Iterator

from cors_audit.model import Severity
from cors_audit.rules.observe import Hit, RuleContext, Traffic, private_network, status_aware


def check(traffic: Traffic, context: RuleContext) -> Iterator[Hit]:
    for o in traffic.observations:
        if o.acao != "*" or o.acao_lines != 1:
            continue
        if o.credentialed:
            yield Hit(
                "wildcard-with-credentials",
                status_aware(Severity.LOW, [o]),
                [o],
                "Access-Control-Allow-Origin: * with Access-Control-Allow-Credentials: true "
                "(browsers block credentialed reads; unauthenticated reads are open to every site).",
            )
            continue
        host = o.target_host
        private = private_network(host)
        yield Hit(
            "wildcard-origin",
            status_aware(Severity.MEDIUM if private else Severity.INFO, [o]),
            [o],
            f"Access-Control-Allow-Origin: * on the private-network host {host}."
            if private
            else "Access-Control-Allow-Origin: * without credentials (fine for public data).",
            {"private_network": private},
        )
