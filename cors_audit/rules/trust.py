"""Trusted-origin family: null-origin-trusted, insecure-origin-trusted, third-party-origin-trusted,
localhost-origin-trusted.

Each is decidable from one response: whatever the request's Origin was, an
Access-Control-Allow-Origin naming such an origin grants it access.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator

from cors_audit.model import Severity
from cors_audit.origin import same_site
from cors_audit.rules.observe import (
    Hit,
    Observation,
    RuleContext,
    Traffic,
    loopback,
    lower,
    origin_value,
    status_aware,
)

# Hosting and playground domains where anyone can publish script (CORScanner origins.json, Corsy, and the
# usual static/app hosting platforms whose subdomains are handed out to strangers).
SHARED_HOSTING = (
    "github.io",
    "gitlab.io",
    "bitbucket.io",
    "codepen.io",
    "cdpn.io",
    "jsfiddle.net",
    "fiddle.jshell.net",
    "jsbin.com",
    "repl.it",
    "repl.co",
    "replit.dev",
    "replit.app",
    "webdevout.net",
    "codesandbox.io",
    "csb.app",
    "stackblitz.io",
    "webcontainer.io",
    "plnkr.co",
    "glitch.me",
    "herokuapp.com",
    "netlify.app",
    "vercel.app",
    "pages.dev",
    "workers.dev",
    "web.app",
    "firebaseapp.com",
    "surge.sh",
    "ngrok.io",
    "ngrok-free.app",
    "trycloudflare.com",
    "blogspot.com",
    "appspot.com",
    "azurewebsites.net",
    "s3.amazonaws.com",
)


def check(traffic: Traffic, context: RuleContext) -> Iterator[Hit]:
    for o in traffic.observations:
        acao = o.acao
        if acao is None or o.acao_lines != 1:
            continue
        if acao == "null":
            yield _null(o)
            continue
        allowed = origin_value(acao)
        if allowed is None or allowed.is_opaque:
            continue
        local_target = loopback(o.target_host)
        if loopback(allowed.host) and not local_target:
            yield _trusted(
                "localhost-origin-trusted", o, acao, f"{o.target} allowed the loopback origin {acao}",
                (Severity.LOW, Severity.INFO),
            )
        elif allowed.scheme == "http" and o.https:
            yield _insecure(o, acao, allowed.host)
        if _shared_hosting(allowed.host) and not same_site(acao, o.target):
            yield _trusted(
                "third-party-origin-trusted", o, acao,
                f"Access-Control-Allow-Origin allowed {acao}, on a shared hosting / sandbox domain",
                (Severity.MEDIUM, Severity.LOW),
            )


def _null(o: Observation) -> Hit:
    how = "echoed `Origin: null`" if o.origin == "null" else "is the literal `null`"
    return _trusted(
        "null-origin-trusted", o, "null", f"Access-Control-Allow-Origin {how}", (Severity.HIGH, Severity.MEDIUM)
    )


def _insecure(o: Observation, acao: str, host: str) -> Hit:
    proof = f"The https resource allowed the unencrypted origin {acao}"
    # the browser upgrades http://host to https before any page can load there
    mitigated = _hsts_covers(o, host)
    if mitigated:
        proof += " (mitigated: Strict-Transport-Security covers that host)"
    return _trusted("insecure-origin-trusted", o, acao, proof, (Severity.MEDIUM, Severity.LOW), mitigated=mitigated)


def _trusted(
    rule: str, o: Observation, allowed: str, proof: str, severities: tuple[Severity, Severity], *,
    mitigated: bool = False,
) -> Hit:
    """The hit of one response that allowed the origin `allowed`; `severities` are (with credentials,
    without), lowered one step when something else `mitigated` it."""
    severity = status_aware(severities[0] if o.credentialed else severities[1], [o])
    if mitigated:
        severity = lower(severity)
    return Hit(
        rule,
        severity,
        [o],
        proof + (" with Access-Control-Allow-Credentials: true." if o.credentialed else "."),
        {"allowed_origin": [allowed]},
    )


def _hsts_covers(o: Observation, host: str) -> bool:
    hsts = o.header("strict-transport-security")
    if not hsts:
        return False
    target = o.target_host
    if host == target:
        return True
    return "includesubdomains" in hsts.lower().replace(" ", "") and host.endswith("." + target)


@functools.lru_cache(maxsize=4096)
def _shared_hosting(host: str) -> bool:
    host = host.lower()
    return any(host == d or host.endswith("." + d) for d in SHARED_HOSTING)
