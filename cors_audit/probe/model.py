"""What a probe run is made of: targets, settings, probes, the requests sent and what came back.

Plain frozen data, standard library only; the catalogue builds it, the sender fills in results,
the judge reads them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal
from urllib.parse import urlsplit

import cors_audit
from cors_audit.model import PROBE_USER_AGENT, Headers
from cors_audit.origin import parse_url_origin
from cors_audit.rules.observe import path_pattern

USER_AGENT_TOKEN = f"{PROBE_USER_AGENT}{cors_audit.__version__}"
"""Appended to every probe's User-Agent, so server owners can find (and filter) probe traffic."""
DEFAULT_USER_AGENT = f"Mozilla/5.0 (compatible) {USER_AGENT_TOKEN}"
DEFAULT_RATE = 5.0
"""Requests per second per host."""
DEFAULT_TIMEOUT = 10.0
SAFE_METHODS = frozenset({"GET", "HEAD"})
MAX_BASES = 3
"""Legitimate origins per target that variants are derived from (each one multiplies the probes)."""

Stage = Literal[0, 1, 2]


@dataclass(frozen=True, slots=True)
class Target:
    """One endpoint to probe: a URL, the method the app uses on it, and the origins it legitimately serves.

    `origins` are what the forged variants derive from (the captured request's Origin, the declared
    trusted origins); empty means the target's own origin. `trusted` are the origins the fix snippets
    allow (never the target's own origin as a stand-in).
    """

    url: str
    method: str = "GET"
    origins: tuple[str, ...] = ()
    trusted: tuple[str, ...] = ()
    user_agent: str | None = None

    @property
    def origin(self) -> str:
        return parse_url_origin(self.url).serialize()

    @property
    def host(self) -> str:
        return parse_url_origin(self.url).host

    @property
    def endpoint(self) -> str:
        """Target origin + path pattern: the `target` of the findings (the same key passive rules use)."""
        return self.origin + path_pattern(self.url)

    @property
    def https(self) -> bool:
        return urlsplit(self.url).scheme.lower() == "https"

    @property
    def bases(self) -> tuple[str, ...]:
        return self.origins[:MAX_BASES] if self.origins else (self.origin,)


@dataclass(frozen=True, slots=True)
class Settings:
    """How to send: per-host rate, timeout, proxy, TLS checking, extra headers (auth), method policy."""

    rate: float = DEFAULT_RATE
    timeout: float = DEFAULT_TIMEOUT
    proxy: str | None = None
    insecure: bool = False
    headers: tuple[tuple[str, str], ...] = ()
    allow_unsafe_methods: bool = False
    seed: str = "0"
    redact: bool = True


@dataclass(frozen=True, slots=True)
class Probe:
    """One forged Origin value and what it proves when the server grants it.

    `kind` names the catalogue entry (see catalogue.KINDS); `base` is the legitimate origin it was
    derived from. `anchor` is what makes it match a broken check: for a prefix probe the trusted
    `scheme://host` it starts with, for a suffix probe the domain it ends with. `stage` orders the run:
    0 first (baseline, arbitrary, null), 2 last (special characters).
    """

    kind: str
    origin: str
    base: str = ""
    anchor: str = ""
    stage: Stage = 1
    note: str = ""


@dataclass(frozen=True, slots=True)
class ProbeRequest:
    """Exactly what is sent: method, URL and header lines in order (Host included)."""

    target: Target
    probe: Probe
    method: str
    url: str
    headers: tuple[tuple[str, str], ...]

    @property
    def is_preflight(self) -> bool:
        return self.method == "OPTIONS"

    def request_line(self) -> str:
        parts = urlsplit(self.url)
        path = parts.path or "/"
        return f"{self.method} {path}{'?' + parts.query if parts.query else ''} HTTP/1.1"


@dataclass(frozen=True, slots=True)
class ProbeResult:
    """What came back: status and header lines, or the network error that stopped the request."""

    request: ProbeRequest
    status: int | None = None
    reason: str = ""
    headers: Headers = field(default_factory=Headers)
    error: str | None = None
    started: float = 0.0

    @property
    def allow_origin(self) -> str | None:
        return self.headers.get("access-control-allow-origin")

    @property
    def echoes(self) -> bool:
        """One Access-Control-Allow-Origin line equal, byte for byte, to the forged Origin: what a
        browser requires to grant it (fetch-rules: the CORS check is an exact string comparison)."""
        return (
            self.status is not None
            and self.headers.count("access-control-allow-origin") == 1
            and self.allow_origin == self.request.probe.origin
        )

    @property
    def credentialed(self) -> bool:
        """Access-Control-Allow-Credentials exactly `true`, the only value a browser honours."""
        return self.headers.get("access-control-allow-credentials") == "true"

    @property
    def failed(self) -> bool:
        """An answer that grants nothing by itself in a browser: a preflight without an ok status, 4xx/5xx."""
        if self.status is None:
            return True
        if self.request.is_preflight:
            return not 200 <= self.status <= 299
        return self.status >= 400
