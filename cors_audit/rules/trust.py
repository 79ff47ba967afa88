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
            yield Hit(
                "localhost-origin-trusted",
                status_aware(Severity.LOW if o.credentialed else Severity.INFO, [o]),
                [o],
                f"{o.target} allowed the loopback origin {acao}"
                + (" with Access-Control-Allow-Credentials: true." if o.credentialed else "."),
                {"allowed_origin": [acao]},
            )
        elif allowed.scheme == "http" and o.https:
            yield _insecure(o, acao, allowed.host)
        if _shared_hosting(allowed.host) and not same_site(acao, o.target):
            yield Hit(
                "third-party-origin-trusted",
                status_aware(Severity.MEDIUM if o.credentialed else Severity.LOW, [o]),
                [o],
                f"Access-Control-Allow-Origin allowed {acao}, on a shared hosting / sandbox domain"
                + (" with Access-Control-Allow-Credentials: true." if o.credentialed else "."),
                {"allowed_origin": [acao]},
            )


def _null(o: Observation) -> Hit:
    how = "echoed `Origin: null`" if o.origin == "null" else "is the literal `null`"
    return Hit(
        "null-origin-trusted",
        status_aware(Severity.HIGH if o.credentialed else Severity.MEDIUM, [o]),
        [o],
        f"Access-Control-Allow-Origin {how}"
        + (" with Access-Control-Allow-Credentials: true." if o.credentialed else "."),
        {"allowed_origin": ["null"]},
    )


def _insecure(o: Observation, acao: str, host: str) -> Hit:
    severity = status_aware(Severity.MEDIUM if o.credentialed else Severity.LOW, [o])
    proof = f"The https resource allowed the unencrypted origin {acao}"
    if _hsts_covers(o, host):
        # the browser upgrades http://host to https before any page can load there
        severity = lower(severity)
        proof += " (mitigated: Strict-Transport-Security covers that host)"
    return Hit(
        "insecure-origin-trusted",
        severity,
        [o],
        proof + (" with Access-Control-Allow-Credentials: true." if o.credentialed else "."),
        {"allowed_origin": [acao]},
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
