"""Origins: parse and serialize (scheme, host, port, or "null"), same-origin and same-site.

Serialization follows the HTML standard: lower-case scheme and host, no default port,
no path, no trailing slash; opaque origins serialize as "null" (fetch-rules §0.7).
"""

from __future__ import annotations

import functools
import ipaddress
import re
from dataclasses import dataclass
from urllib.parse import urlsplit

DEFAULT_PORTS = {"http": 80, "https": 443, "ws": 80, "wss": 443, "ftp": 21}
TUPLE_SCHEMES = frozenset(DEFAULT_PORTS)
NULL = "null"


@dataclass(frozen=True, slots=True)
class Origin:
    """A tuple origin; `Origin.opaque()` (scheme "") stands for the opaque origin `null`."""

    scheme: str
    host: str
    port: int | None

    @classmethod
    def opaque(cls) -> Origin:
        return cls("", "", None)

    @property
    def is_opaque(self) -> bool:
        return self.scheme == ""

    def serialize(self) -> str:
        if self.is_opaque:
            return NULL
        host = f"[{self.host}]" if ":" in self.host else self.host
        if self.port is None or self.port == DEFAULT_PORTS.get(self.scheme):
            return f"{self.scheme}://{host}"
        return f"{self.scheme}://{host}:{self.port}"

    def __str__(self) -> str:
        return self.serialize()


def _normalize_host(host: str) -> str | None:
    host = host.strip().rstrip(".") if host not in (".",) else host
    if not host:
        return None
    if host.startswith("[") and host.endswith("]"):
        try:
            return str(ipaddress.IPv6Address(host[1:-1]))
        except ValueError:
            return None
    try:
        return host.encode("idna").decode("ascii").lower()
    except (UnicodeError, ValueError):
        return host.lower()


@functools.lru_cache(maxsize=4096)
def parse_url_origin(url: str) -> Origin:
    """The origin of an absolute URL; opaque for non-tuple schemes and unparsable URLs."""
    try:
        parts = urlsplit(url.strip())
        scheme = parts.scheme.lower()
        if scheme not in TUPLE_SCHEMES:
            return Origin.opaque()
        raw_host = parts.netloc.rpartition("@")[2]
        if raw_host.startswith("["):
            host_part = raw_host[: raw_host.find("]") + 1]
        else:
            host_part = raw_host.split(":", 1)[0]
        host = _normalize_host(host_part)
        if host is None:
            return Origin.opaque()
        port = parts.port
    except ValueError:
        return Origin.opaque()
    if port is None:
        port = DEFAULT_PORTS[scheme]
    return Origin(scheme, host, port)


@functools.lru_cache(maxsize=1024)
def origin_of(url: str) -> str:
    """Serialized origin of `url` ("null" when it has none). Cached: one exchange asks many times."""
    split = split_authority(url)
    if split is not None:
        return _authority_origin(split[0])
    return parse_url_origin(url).serialize()


@functools.lru_cache(maxsize=4096)
def _authority_origin(authority: str) -> str:
    return parse_url_origin(authority + "/").serialize()


# scheme://authority, then the rest; no tab or newline anywhere (urlsplit would delete them first)
_SPLIT = re.compile(r"([A-Za-z][A-Za-z0-9+.\-]*://[^/?#\t\n\r]*)([^\t\n\r]*)")


def split_authority(url: str) -> tuple[str, str] | None:
    """`url` split after its `scheme://authority` part, the way urlsplit splits it; None when unsure.

    Captures repeat a few origins across endless distinct paths and queries: callers cache what
    they derive from the authority part and skip urlsplit for the rest. URLs urlsplit would clean
    first (surrounding whitespace or controls, tab or newline inside) get None: the slow path.
    """
    match = _SPLIT.fullmatch(url)
    if match is None or url[-1] <= " ":
        return None
    return match.group(1), match.group(2)


def parse_origin(value: str | None) -> Origin | None:
    """Parse an `Origin` header or origin-like value; None when it is not an origin at all.

    "null" parses to the opaque origin. A value with a path, query or credentials is not
    a serialized origin and yields None.
    """
    if value is None:
        return None
    value = value.strip()
    if value == NULL:
        return Origin.opaque()
    try:
        parts = urlsplit(value)
    except ValueError:
        return None
    if parts.scheme.lower() not in TUPLE_SCHEMES or not parts.netloc:
        return None
    if parts.path not in ("",) or parts.query or parts.fragment or "@" in parts.netloc:
        return None
    origin = parse_url_origin(value)
    return None if origin.is_opaque else origin


def normalize_origin(value: str) -> str:
    """Canonical serialization of an origin value, or the stripped value when it is not one."""
    parsed = parse_origin(value)
    return parsed.serialize() if parsed is not None else value.strip()


def same_origin(a: str, b: str) -> bool:
    """Same scheme, host and port. Opaque origins are never same-origin with anything."""
    oa, ob = _as_origin(a), _as_origin(b)
    if oa is None or ob is None or oa.is_opaque or ob.is_opaque:
        return False
    return oa == ob


def _as_origin(value: str) -> Origin | None:
    parsed = parse_origin(value)
    if parsed is not None:
        return parsed
    url_origin = parse_url_origin(value)
    return None if url_origin.is_opaque else url_origin


@functools.lru_cache(maxsize=1)
def _psl():  # type: ignore[no-untyped-def]
    from publicsuffixlist import PublicSuffixList

    return PublicSuffixList()


@functools.lru_cache(maxsize=4096)
def registrable_domain(host: str) -> str:
    """eTLD+1 of a host (the host itself for IP addresses, localhost and bare suffixes)."""
    if is_ip_address(host) or "." not in host:
        return host
    site = _psl().privatesuffix(host)
    return site if site else host


def site_of(value: str) -> str | None:
    """Schemeful site: scheme plus registrable domain, e.g. "https://example.co.uk"."""
    origin = _as_origin(value)
    if origin is None:
        return None
    return f"{origin.scheme}://{registrable_domain(origin.host)}"


def same_site(a: str, b: str) -> bool:
    """Schemeful same-site (HTML): same scheme and same registrable domain."""
    sa, sb = site_of(a), site_of(b)
    return sa is not None and sa == sb


def is_ip_address(host: str) -> bool:
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return True


def is_loopback_host(host: str) -> bool:
    host = host.strip("[]").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def is_private_host(host: str) -> bool:
    """Loopback, RFC 1918, link-local, unique-local or `.local`/`.internal` names."""
    host = host.strip("[]").lower()
    if is_loopback_host(host) or host.endswith((".local", ".internal", ".lan", ".home.arpa")):
        return True
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        return False
    return ip.is_private or ip.is_link_local
