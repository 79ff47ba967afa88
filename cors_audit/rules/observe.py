"""What every rule looks at: one observation per captured response, grouped by endpoint.

Rules never walk exchanges themselves. `Traffic.build` turns the judged exchanges of one audit
into `Observation`s (one per captured message with a response, preflights and actual hops alike,
de-duplicated when several exchanges share a preflight) and groups them per endpoint
(target origin + path pattern) and per target origin, which is the context across exchanges
that passive proof needs (e.g. how many distinct sites one endpoint echoed).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Literal
from urllib.parse import urlsplit

from cors_audit.model import Exchange, Message, Severity
from cors_audit.origin import (
    Origin,
    is_ip_address,
    is_loopback_host,
    is_private_host,
    origin_of,
    parse_origin,
    parse_url_origin,
    site_of,
    split_authority,
)
from cors_audit.redact import redact_header, redact_url

Kind = Literal["preflight", "actual"]
Endpoint = tuple[str, str]  # (target origin, path pattern)

# A path segment that names one record rather than an endpoint: ASCII digits, a UUID, or hex of 8+
# characters with a digit (24+ without one). One pass finds them in a path, or in many paths one per
# line: a segment runs between "/" and line ends.
_HEXDIGIT = "[0-9a-fA-F]"
_ID_SEGMENTS = re.compile(
    rf"(?<![^/\n])(?:[0-9]+|{_HEXDIGIT}{{8}}-?{_HEXDIGIT}{{4}}-?{_HEXDIGIT}{{4}}-?{_HEXDIGIT}{{4}}-?{_HEXDIGIT}{{12}}"
    rf"|(?=[a-fA-F]*[0-9]){_HEXDIGIT}{{8,}}|{_HEXDIGIT}{{24,}})(?![^/\n])",
    re.ASCII,
)
# one URL per line: scheme://authority (empty when absent), the path, and the rest of the line
_URL_LINES = re.compile(r"^([A-Za-z][A-Za-z0-9+.\-]*://[^/?#\n]*)?([^?#\n]*)[^\n]*$", re.MULTILINE)

REQUEST_EVIDENCE = (
    "origin",
    "access-control-request-method",
    "access-control-request-headers",
    "access-control-request-private-network",
    "cookie",
    "authorization",
)
RESPONSE_EVIDENCE = (
    "access-control-allow-origin",
    "access-control-allow-credentials",
    "access-control-allow-methods",
    "access-control-allow-headers",
    "access-control-max-age",
    "access-control-allow-private-network",
    "vary",
    "cache-control",
    "expires",
    "strict-transport-security",
)
_REQUEST_EVIDENCE = frozenset(REQUEST_EVIDENCE)
_RESPONSE_EVIDENCE = frozenset(RESPONSE_EVIDENCE)
_SECRET_EVIDENCE = frozenset({"cookie", "authorization"})


def rule_input(exchange: Exchange) -> tuple[object, ...]:
    """Everything the risk rules read from one exchange: per message the method, URL without query,
    status, shape and evidence headers; secrets reduced to what redaction leaves. Equal inputs give
    equal findings, so the live addon memoizes the rules on this key."""
    verdict = exchange.verdict
    parts: list[object] = [
        exchange.origin,
        exchange.method,
        exchange.credentials,
        verdict.outcome if verdict is not None else None,
        verdict.error if verdict is not None else None,
    ]
    for message in exchange.messages:
        request: list[tuple[str, str]] = []
        for name, value in message.request_headers:
            lname = name.lower()
            if lname in _REQUEST_EVIDENCE:
                request.append((lname, redact_header(lname, value) if lname in _SECRET_EVIDENCE else value))
        response: list[tuple[str, str]] = []
        for name, value in message.response_headers:
            lname = name.lower()
            if lname in _RESPONSE_EVIDENCE:
                response.append((lname, value))
        parts.append(
            (
                message.method,
                message.url.split("?", 1)[0],
                message.status,
                message is exchange.actual,
                tuple(request),
                tuple(response),
            )
        )
    return tuple(parts)


@dataclass(frozen=True, slots=True)
class RuleContext:
    """What the user told us: the origins they trust (`--trusted-origin`) and whether to redact evidence."""

    trusted_origins: Sequence[str] = ()  # a tuple, a list, or URLs such as `https://app.example/`
    redact: bool = True

    @property
    def trusted(self) -> frozenset[str]:
        return _trusted_set(tuple(self.trusted_origins))

    def is_trusted(self, origin: str) -> bool:
        parsed = origin_value(origin)
        return (parsed.serialize() if parsed is not None else origin.strip()) in self.trusted


@functools.lru_cache(maxsize=64)
def _trusted_set(origins: tuple[str, ...]) -> frozenset[str]:
    return frozenset(_as_origin(o) for o in origins if o.strip())


def _as_origin(value: str) -> str:
    """A declared trusted origin in serialized form; tolerates a URL such as `https://app.example/`."""
    parsed = parse_origin(value)
    if parsed is not None:
        return parsed.serialize()
    url_origin = parse_url_origin(value)
    return value.strip() if url_origin.is_opaque else url_origin.serialize()


def path_pattern(url: str) -> str:
    """The URL path with numeric, UUID and hex-id segments collapsed to `{id}`; no query."""
    try:
        path = urlsplit(url).path
    except ValueError:
        return "/"
    return collapse_ids(path)


def collapse_ids(path: str) -> str:
    """`path` with every segment that names one record (number, UUID, hex id) as `{id}`: the one
    definition of an endpoint, shared by the rules' targets and the reports' tables."""
    return _ID_SEGMENTS.sub("{id}", path) or "/"


def collapse_ids_many(paths: list[str]) -> list[str]:
    """`collapse_ids` of each path, in one regex pass over all of them."""
    text = "\n".join(paths)
    if text.count("\n") != len(paths) - 1:  # a path with a line break (no URL split gives one)
        return [collapse_ids(path) for path in paths]
    return [line or "/" for line in _ID_SEGMENTS.sub("{id}", text).split("\n")] if paths else []


def endpoints_of(urls: list[str]) -> tuple[list[str], list[str]]:
    """(target origins, path patterns) of many URLs, as `endpoint_of` gives them one by one.

    The URLs are matched as the lines of one string (one regex pass, in C); each distinct
    authority and path is then worked out once. The few URLs the fast split does not vouch for
    (no `scheme://`, surrounding whitespace, line breaks) go through urlsplit.
    """
    targets: list[str] = []
    patterns: list[str] = []
    text = "\n".join(urls)
    if text.count("\n") != len(urls) - 1 or "\r" in text or "\t" in text:  # urlsplit drops these
        for url in urls:
            target, pattern = endpoint_of(url)
            targets.append(target)
            patterns.append(pattern)
        return targets, patterns
    found: list[tuple[str, str]] = _URL_LINES.findall(text)
    distinct = list(dict.fromkeys(path for _, path in found))
    pattern_by_path = dict(zip(distinct, collapse_ids_many(distinct), strict=True))
    origin_by_authority: dict[str, str] = {}
    for index, (authority, path) in enumerate(found):
        if not authority:  # no scheme://authority: data:, about:, a relative or mangled URL
            target, pattern = endpoint_of(urls[index])
            targets.append(target)
            patterns.append(pattern)
            continue
        known = origin_by_authority.get(authority)
        if known is None:
            known = origin_by_authority[authority] = origin_of(authority + "/")
        targets.append(known)
        patterns.append(pattern_by_path[path])
    return targets, patterns


@functools.lru_cache(maxsize=1 << 12)
def endpoint_of(url: str) -> tuple[str, str]:
    """(target origin, path pattern) of one URL: what the reports' summaries group by."""
    return origin_of(url), path_pattern(url)


@functools.lru_cache(maxsize=4096)
def _authority_target(authority: str) -> tuple[str, str]:
    """(serialized origin, host) of `scheme://authority`; ValueError where urlsplit cannot split it."""
    parts = urlsplit(authority + "/")
    origin = parse_url_origin(f"{parts.scheme.lower()}://{parts.netloc}/")
    return origin.serialize(), origin.host


def _grants_cors(message: Message) -> bool:
    return message.response_headers.any_name_starts("access-control-")


def _locate(url: str) -> tuple[str, str, str]:
    """(target origin, its host, path pattern) of a URL: `endpoint_of` and the host, parsing the
    authority once per distinct one."""
    split = split_authority(url)
    if split is not None:
        authority, rest = split
        try:
            target, host = _authority_target(authority)
        except ValueError:
            return origin_of(url), "", "/"
        end = len(rest)
        for char in "?#":
            at = rest.find(char)
            if 0 <= at < end:
                end = at
        return target, host, collapse_ids(rest[:end])
    origin = parse_url_origin(url)  # as origin_of: the WHATWG trim of surrounding spaces included
    return origin.serialize(), origin.host, path_pattern(url)


@functools.lru_cache(maxsize=8192)
def origin_value(value: str | None) -> Origin | None:
    """`parse_origin`, memoized: captures repeat the same few Origin and ACAO values endlessly."""
    return parse_origin(value)


@functools.lru_cache(maxsize=8192)
def loopback(host: str) -> bool:
    return is_loopback_host(host)


@functools.lru_cache(maxsize=8192)
def private_network(host: str) -> bool:
    """RFC 1918, link-local, unique-local or intranet names, but not loopback (development setups)."""
    return is_private_host(host) and not is_loopback_host(host)


@functools.lru_cache(maxsize=8192)
def site_key(origin: str) -> str:
    """What counts as one site when counting distinct echoed origins.

    The schemeful site (scheme + registrable domain) for named hosts. IP addresses, `localhost`
    and single-label hosts have no registrable domain to group by, and different ports on them
    are different applications in practice, so there the origin itself is the key.
    """
    parsed = origin_value(origin)
    if parsed is None or parsed.is_opaque:
        return origin
    host = parsed.host
    if is_ip_address(host) or is_loopback_host(host) or "." not in host:
        return parsed.serialize()
    return site_of(parsed.serialize()) or parsed.serialize()


def header_tokens(value: str | None) -> list[str]:
    """Comma-separated list items, trimmed, empties dropped (fetch-rules §5 P6)."""
    if not value:
        return []
    return [item.strip(" \t") for item in value.split(",") if item.strip(" \t")]


@dataclass(slots=True, eq=False)
class Observation:
    """One captured response as the rules see it: who asked, from where, and what the server allowed."""

    message: Message
    exchanges: list[str]
    kind: Kind
    origin: str | None
    target: str
    target_host: str
    pattern: str
    cookie_sent: bool
    acao: str | None = None
    acao_lines: int = 0
    acac: str | None = None

    def __post_init__(self) -> None:
        headers = self.message.response_headers
        self.acao = headers.get("access-control-allow-origin")
        self.acao_lines = headers.count("access-control-allow-origin") if self.acao is not None else 0
        self.acac = headers.get("access-control-allow-credentials")

    @property
    def endpoint(self) -> Endpoint:
        return (self.target, self.pattern)

    @property
    def status(self) -> int | None:
        return self.message.status

    @property
    def credentialed(self) -> bool:
        """ACAC exactly `true`: the only value that lets a browser expose a credentialed response."""
        return self.acac == "true"

    @property
    def echoes(self) -> bool:
        """ACAO repeats the request's Origin byte for byte (a single header line)."""
        return self.origin is not None and self.acao_lines == 1 and self.acao == self.origin

    @property
    def failed(self) -> bool:
        """An error response: 4xx/5xx, or a preflight without an ok status (which grants nothing)."""
        status = self.message.status
        if status is None:
            return False
        if self.kind == "preflight":
            return not 200 <= status <= 299
        return status >= 400

    @property
    def https(self) -> bool:
        return self.target.startswith("https:")

    def header(self, name: str) -> str | None:
        return self.message.response_headers.get(name)

    def request_header(self, name: str) -> str | None:
        return self.message.request_headers.get(name)

    def sample(self, redact: bool) -> dict[str, object]:
        """The header lines that prove a finding, secrets redacted unless the user opted out."""
        m = self.message

        def lines(items: Iterable[tuple[str, str]], names: Sequence[str]) -> list[str]:
            out = []
            for name, value in items:
                if name.lower() in names:
                    shown = redact_header(name, value) if redact else value
                    out.append(f"{name}: {shown}")
            return out

        return {
            "exchanges": list(self.exchanges),
            "kind": self.kind,
            "method": m.method,
            "url": redact_url(m.url) if redact else m.url,
            "status": m.status,
            "request": lines(m.request_headers, REQUEST_EVIDENCE),
            "response": lines(m.response_headers, RESPONSE_EVIDENCE),
        }


@dataclass(slots=True)
class Hit:
    """One rule firing on some observations of one endpoint; the aggregator merges hits into Findings."""

    rule: str
    severity: Severity
    observations: list[Observation]
    proof: str
    details: dict[str, object] = field(default_factory=dict)
    impact: str | None = None


class Traffic:
    """All observations of one audit, grouped the ways rules need; also a memo for shared results."""

    def __init__(self, observations: list[Observation]) -> None:
        self.observations = observations
        self.memo: dict[str, object] = {}
        self.by_endpoint: dict[Endpoint, list[Observation]] = {}
        self.by_target: dict[str, list[Observation]] = {}
        for obs in observations:
            self.by_endpoint.setdefault(obs.endpoint, []).append(obs)
            self.by_target.setdefault(obs.target, []).append(obs)

    @classmethod
    def build(cls, exchanges: Iterable[Exchange]) -> Traffic:
        seen: dict[str, Observation] = {}
        order: list[Observation] = []
        for exchange in exchanges:
            preflights = {id(m) for m in exchange.preflights if m is not None}
            if exchange.preflight is not None:
                preflights.add(id(exchange.preflight))
            cookie = exchange.credentials == "include"
            # A not-cors request (an <img>, a navigation) asked for nothing: the page origin is not an
            # Origin the server answered, so it neither proves nor refutes a policy.
            cors = exchange.verdict is None or exchange.verdict.outcome != "not-cors"
            for message in exchange.messages:
                if message.status is None and not message.response_headers:
                    continue
                key = message.id or f"@{id(message)}"
                known = seen.get(key)
                if known is not None:
                    if exchange.id not in known.exchanges:
                        known.exchanges.append(exchange.id)
                    continue
                is_preflight = id(message) in preflights or message.is_preflight_shape
                origin = message.request_headers.peek("origin")  # no lookup table for a not-cors message
                if origin is None and not is_preflight and message is exchange.actual and cors:
                    origin = exchange.origin  # provisional headers (Playwright) omit the Origin sent
                if origin is None and not is_preflight and not _grants_cors(message):
                    continue  # no Origin asked, no CORS header answered: nothing any rule reads
                target, host, pattern = _locate(message.url)
                obs = Observation(
                    message=message,
                    exchanges=[exchange.id],
                    kind="preflight" if is_preflight else "actual",
                    origin=origin,
                    target=target,
                    target_host=host,
                    pattern=pattern,
                    cookie_sent=cookie or "cookie" in message.request_headers,
                )
                seen[key] = obs
                order.append(obs)
        return cls(order)


def lower(severity: Severity, steps: int = 1) -> Severity:
    return Severity(max(int(Severity.INFO), int(severity) - steps))


def status_aware(severity: Severity, observations: Sequence[Observation]) -> Severity:
    """Error responses rank lower: one step down when every proving response is an error."""
    if observations and all(o.failed for o in observations):
        return lower(severity)
    return severity
