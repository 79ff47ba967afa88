"""The probe catalogue: which forged Origin values to send to one target, and the requests that carry them.

The union of what Corsy, CORScanner, ZAP 40040, nuclei, CorsOne and CORS* send (anchors.md §1-2),
derived from a legitimate origin `S://H` (registrable domain `R`) and an attacker domain
`cors-audit-<rand>.com` whose label comes from a seeded generator, so a dry run lists exactly what a
real run sends. Pure: no sockets, no clocks.

| kind          | example (trusted https://app.example.com)         | a server that grants it has |
|---------------|---------------------------------------------------|-----------------------------|
| baseline      | https://app.example.com                           | (the legitimate origin)     |
| arbitrary     | https://cors-audit-<rand>.com                     | reflection of any origin    |
| null          | null                                              | `null` trusted              |
| http          | http://app.example.com (https targets only)       | an http:// origin trusted   |
| prefix        | https://app.example.com.cors-audit-<rand>.com     | a startsWith / `^…` check   |
| suffix        | https://<rand>example.com, https://<rand>app.example.com | an endsWith / `…$` check |
| unescaped-dot | https://appxexample.com                           | a regex with a bare `.`     |
| substring     | https://xample.com, https://app.example.co        | a "contained in" check      |
| subdomain     | https://<rand>.example.com, https://<rand>.app.example.com | any subdomain trusted |
| third-party   | https://cors-audit-<rand>.github.io, https://codepen.io, … | shared hosting trusted |
| localhost     | http://localhost, http://localhost:3000, http://127.0.0.1 (non-local targets) | dev |
| special-char  | https://app.example.com_.cors-audit-<rand>.com, … `%60`, backtick, … | a lax parser |
"""

from __future__ import annotations

import random
import re
import string
from collections.abc import Iterable, Iterator, Sequence
from urllib.parse import urlsplit

from cors_audit.model import Audit, Exchange
from cors_audit.origin import (
    DEFAULT_PORTS,
    is_ip_address,
    is_loopback_host,
    parse_origin,
    parse_url_origin,
    registrable_domain,
)
from cors_audit.probe.model import (
    DEFAULT_USER_AGENT,
    SAFE_METHODS,
    USER_AGENT_TOKEN,
    Probe,
    ProbeRequest,
    Settings,
    Target,
)

KINDS = (
    "baseline",
    "arbitrary",
    "null",
    "http",
    "prefix",
    "suffix",
    "unescaped-dot",
    "substring",
    "subdomain",
    "third-party",
    "localhost",
    "special-char",
)
# CORScanner's special_characters_bypass list (a superset of nuclei's and CorsOne's): characters some
# server-side URL parsers stop a host name at, while some browsers (Safari; `_` also Chrome and Firefox)
# send them inside one.
SPECIAL_CHARACTERS = (
    "_", "-", '"', "{", "}", "+", "^", "%60", "!", "~", "`", ";", "|", "&", "'", "(", ")", "*", ",", "$",
    "=", "%0b",
)  # fmt: skip
THIRD_PARTY = (
    "https://{rand}.github.io",
    "https://codepen.io",
    "https://jsfiddle.net",
    "http://jsbin.com",
    "https://repl.it",
    "http://www.webdevout.net",
)
LOCALHOST = ("http://localhost", "http://localhost:3000", "http://127.0.0.1")
DOT_REPLACEMENT = "x"


def label(seed: str, target: Target) -> str:
    """Eight lower-case letters, the same for the same seed and target origin (a dry run shows what runs).

    `random.Random` seeded with a str is stable across processes and Python versions (SHA-512 based).
    """
    rng = random.Random(f"cors-audit|{seed}|{target.origin}")
    return "".join(rng.choice(string.ascii_lowercase) for _ in range(8))


def catalogue(target: Target, seed: str = "0") -> list[Probe]:
    """Every probe for `target`, in run order, each Origin value once (the first kind that yields it wins)."""
    rand = label(seed, target)
    attacker = f"cors-audit-{rand}.com"
    probes: list[Probe] = []
    for base in target.bases:
        probes.extend(_derived(target, base, rand, attacker))
    probes.extend(_fixed(target, rand, attacker))
    legitimate = {_normal(b) for b in target.bases}
    seen: set[str] = set()
    out: list[Probe] = []
    for probe in sorted(probes, key=lambda p: p.stage):  # stable: keeps catalogue order within a stage
        if probe.origin in seen or (probe.kind != "baseline" and probe.origin in legitimate):
            continue
        seen.add(probe.origin)
        out.append(probe)
    return out


def _normal(origin: str) -> str:
    parsed = parse_origin(origin)
    return parsed.serialize() if parsed is not None else origin


def _derived(target: Target, base: str, rand: str, attacker: str) -> Iterator[Probe]:
    parsed = parse_origin(base)
    yield Probe("baseline", _normal(base), base, stage=0, note="the legitimate origin")
    if parsed is None or parsed.is_opaque:
        return
    scheme, host = parsed.scheme, parsed.host
    port = "" if parsed.port in (None, DEFAULT_PORTS.get(scheme)) else f":{parsed.port}"
    head = f"{scheme}://{host}"
    domain = registrable_domain(host)
    ip = is_ip_address(host)

    def make(kind: str, new_host: str, anchor: str = "", note: str = "", new_scheme: str = scheme) -> Probe:
        return Probe(kind, f"{new_scheme}://{new_host}{port}", base, anchor, stage=1, note=note)

    if scheme == "https" and target.https:
        yield make("http", host, note="the trusted origin over plain http", new_scheme="http")
    yield make("prefix", f"{host}.{attacker}", head, "starts with the trusted origin")
    yield make("suffix", f"{rand}{domain}", domain, f"ends with {domain}")
    if domain != host:
        yield make("suffix", f"{rand}{host}", host, f"ends with {host}")
    if not ip:
        for index in _inner_dots(host, domain):
            look_alike = host[:index] + DOT_REPLACEMENT + host[index + 1 :]
            yield make("unescaped-dot", look_alike, note=f"{host} with a dot replaced by {DOT_REPLACEMENT!r}")
        if len(domain) > 3:
            yield make("substring", domain[1:], note=f"{domain} minus its first character")
        yield make("substring", host[:-1], note=f"{host} minus its last character")
        yield make("subdomain", f"{rand}.{domain}", domain, f"a made-up subdomain of {domain}")
        if domain != host:
            yield make("subdomain", f"{rand}.{host}", host, f"a made-up subdomain of {host}")
    for char in SPECIAL_CHARACTERS:
        probe = make("special-char", f"{host}{char}.{attacker}", head, f"{char!r} after the trusted host")
        yield Probe(probe.kind, probe.origin, base, head, stage=2, note=probe.note)


def _inner_dots(host: str, domain: str) -> list[int]:
    """Positions of the dots an attacker can replace and still own the name: those left of the public
    suffix (`www.example.com` -> the first dot: `wwwxexample.com`; `example.com` has none)."""
    suffix_len = len(domain) - domain.find(".") - 1 if "." in domain else 0
    registrable_part = host[: len(host) - suffix_len - 1] if suffix_len else host
    return [i for i, char in enumerate(registrable_part) if char == "."]


def _fixed(target: Target, rand: str, attacker: str) -> Iterator[Probe]:
    scheme = "https" if target.https else "http"
    yield Probe("arbitrary", f"{scheme}://{attacker}", stage=0, note="an unrelated origin")
    yield Probe("null", "null", stage=0, note="sandboxed iframes, data: and file: documents")
    for origin in THIRD_PARTY:
        yield Probe("third-party", origin.format(rand=f"cors-audit-{rand}"), note="shared hosting / sandbox")
    if not is_loopback_host(target.host):
        for origin in LOCALHOST:
            yield Probe("localhost", origin, note="a development origin")


# ---- requests ----


def requests_for(target: Target, probe: Probe, settings: Settings) -> list[ProbeRequest]:
    """The requests that carry one probe: a preflight, then the request itself (GET unless the target's
    method is HEAD, or an unsafe method the user allowed)."""
    method = target.method.upper()
    actual = method if (method in SAFE_METHODS or settings.allow_unsafe_methods) else "GET"
    preflight_method = method if method not in ("OPTIONS",) else "GET"
    return [
        _request(target, probe, "OPTIONS", settings, (("Access-Control-Request-Method", preflight_method),)),
        _request(target, probe, actual, settings, ()),
    ]


def _request(
    target: Target, probe: Probe, method: str, settings: Settings, extra: tuple[tuple[str, str], ...]
) -> ProbeRequest:
    parts = urlsplit(target.url)
    host = parts.netloc.rpartition("@")[2]
    user_agent = (target.user_agent or DEFAULT_USER_AGENT).strip()
    if USER_AGENT_TOKEN not in user_agent:
        user_agent = f"{user_agent} {USER_AGENT_TOKEN}"
    custom = [(n, v) for n, v in settings.headers if n.lower() != "user-agent"]
    for name, value in settings.headers:
        if name.lower() == "user-agent":
            user_agent = f"{value} {USER_AGENT_TOKEN}"
    headers: list[tuple[str, str]] = [
        ("Host", host),
        ("User-Agent", user_agent),
        ("Accept", "*/*"),
        ("Origin", probe.origin),
        *extra,
        ("Sec-Fetch-Mode", "cors"),
        ("Sec-Fetch-Site", "cross-site"),
        ("Sec-Fetch-Dest", "empty"),
        *custom,
        ("Connection", "close"),
    ]
    return ProbeRequest(target, probe, method, target.url, tuple(headers))


def plan(targets: Iterable[Target], settings: Settings) -> list[ProbeRequest]:
    """Every request a run may send, in order (a run skips later stages when earlier ones decide)."""
    return [
        request
        for target in targets
        for probe in catalogue(target, settings.seed)
        for request in requests_for(target, probe, settings)
    ]


# ---- targets ----


def target_from_url(
    url: str, *, trusted: Sequence[str] = (), method: str = "GET", user_agent: str | None = None
) -> Target:
    """A target for `cors-audit probe URL`; ValueError (a usage error) when the URL is not http(s)."""
    parts = urlsplit(url)
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        raise ValueError(f"{url!r} is not an http:// or https:// URL")
    if parts.username or parts.password:
        raise ValueError(f"{url!r}: credentials in the URL are not sent; use --header or --cookie")
    origins = tuple(dict.fromkeys(trusted))
    return Target(url.split("#", 1)[0], method.upper(), origins, origins, user_agent)


def targets_from_audit(
    audit: Audit, *, trusted: Sequence[str] = (), scope: str | None = None
) -> list[Target]:
    """`targets_from_exchanges` over every exchange of the audit."""
    return targets_from_exchanges(audit.exchanges, trusted=trusted, scope=scope)


def targets_from_exchanges(
    exchanges: Iterable[Exchange], *, trusted: Sequence[str] = (), scope: str | None = None
) -> list[Target]:
    """One target per (target origin, path pattern) seen in cross-origin exchanges, in scope.

    Only hosts the capture contains, filtered by the `scope` host regex. The URL of the first request
    seen on the endpoint is probed without its query (it may hold one-time tokens); the variants derive
    from the Origins the captured requests really sent (then the declared trusted origins). Captured
    cookies and auth headers are not replayed.
    """
    pattern = re.compile(scope, re.IGNORECASE) if scope else None
    found: dict[str, tuple[str, str, list[str], str | None]] = {}
    for exchange in exchanges:
        verdict = exchange.verdict
        if exchange.origin is None or (verdict is not None and verdict.outcome == "not-cors"):
            continue
        url_origin = parse_url_origin(exchange.url)
        if url_origin.is_opaque or url_origin.scheme not in ("http", "https"):
            continue
        if pattern is not None and not pattern.search(url_origin.host):
            continue
        parts = urlsplit(exchange.url)
        url = f"{parts.scheme}://{parts.netloc.rpartition('@')[2]}{parts.path or '/'}"
        target = Target(url)
        key = target.endpoint
        entry = found.setdefault(key, (url, exchange.method, [], _user_agent(exchange)))
        origin = parse_origin(exchange.origin)
        if origin is not None and not origin.is_opaque and origin != url_origin:
            serialized = origin.serialize()
            if serialized not in entry[2]:
                entry[2].append(serialized)
    targets = []
    for url, method, seen, agent in found.values():
        origins = tuple(dict.fromkeys([*seen, *trusted]))
        targets.append(Target(url, method.upper(), origins, origins, agent))
    return targets


def _user_agent(exchange: Exchange) -> str | None:
    """The browser's User-Agent on the captured request: probes look like it, plus the probe token."""
    for message in exchange.messages:
        agent = message.request_headers.get("user-agent")
        if agent:
            return agent
    return None
