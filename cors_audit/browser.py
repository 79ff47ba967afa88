"""What the browser decides: request classification, preflight need, preflight and access checks.

Written step by step from fetch-rules.md (Fetch standard + Chromium); where Chromium deviates from the
spec we follow Chromium (§10). Every function is pure: headers and statuses in, decisions out.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit

from cors_audit.messages import console_message
from cors_audit.model import REDIRECT_STATUSES, Credentials, Exchange, Headers, Message, Verdict
from cors_audit.origin import NULL, origin_of

# §1.4: names the page cannot set; on the wire they were added by the browser (Chromium kForbiddenHeaderNames).
FORBIDDEN_HEADER_NAMES = frozenset(
    {
        "accept-charset", "accept-encoding", "access-control-request-headers", "access-control-request-method",
        "access-control-request-private-network", "connection", "content-length", "cookie", "cookie2", "date",
        "dnt", "expect", "host", "keep-alive", "origin", "referer", "set-cookie", "te", "trailer",
        "transfer-encoding", "upgrade", "user-agent", "via",
    }
)
FORBIDDEN_PREFIXES = ("proxy-", "sec-")
# Added below the page by Chromium's network stack; never part of the page's header list.
BROWSER_ADDED_NAMES = frozenset({"priority"})

SAFELISTED_METHODS = frozenset({"GET", "HEAD", "POST"})
SAFELIST_VALUE_LIMIT = 128
SAFELIST_TOTAL_LIMIT = 1024
PREFLIGHT_DEFAULT_MAX_AGE = 5.0
PREFLIGHT_MAX_AGE_CAP = 7200.0  # Chromium since M76
CORS_SCHEMES = frozenset({"http", "https"})

_UNSAFE_BYTES = frozenset(b'"():<>?@[\\]{}\x7f') | (frozenset(range(0x20)) - {0x09})
_LANGUAGE_BYTES = frozenset(b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz *,-.;=")
_TOKEN = re.compile(r"^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$")
_RANGE = re.compile(r"^bytes=([0-9]+)-([0-9]*)$")
_DECIMAL = re.compile(r"^[0-9]+(\.[0-9]+)?$")
_DIGITS = re.compile(r"^[0-9]+$")
_ECT = frozenset({"slow-2g", "2g", "3g", "4g"})
_SAFE_CONTENT_TYPES = frozenset({"application/x-www-form-urlencoded", "multipart/form-data", "text/plain"})
_HTTP_WHITESPACE = " \t\r\n"


def _bytes(value: str) -> bytes:
    return value.encode("utf-8", "surrogateescape")


def has_unsafe_byte(value: bytes) -> bool:
    return any(b in _UNSAFE_BYTES for b in value)


def _mime_essence(value: str) -> str | None:
    """Strict WHATWG "parse a MIME type" essence (no comma lists), or None when it does not parse."""
    value = value.strip(_HTTP_WHITESPACE)
    type_, slash, rest = value.partition("/")
    if not slash or not _TOKEN.match(type_):
        return None
    subtype = rest.split(";", 1)[0].rstrip(_HTTP_WHITESPACE)
    if not _TOKEN.match(subtype):
        return None
    return f"{type_}/{subtype}".lower()


def is_safelisted_header(name: str, value: str) -> bool:
    """CORS-safelisted request-header (fetch-rules §2.1) plus Chromium's extra names (§2.4)."""
    check = _SAFELIST_CHECKS.get(name.lower())
    if check is None:
        return False  # no safelist rule names it: unsafe whatever the value
    raw = _bytes(value)
    if len(raw) > SAFELIST_VALUE_LIMIT:
        return False
    return check(value, raw)


def _range_is_safelisted(value: str, raw: bytes) -> bool:
    match = _RANGE.match(value)
    if not match:
        return False
    start, end = match.groups()
    return not end or int(end) >= int(start)


def _language_is_safelisted(value: str, raw: bytes) -> bool:
    return all(b in _LANGUAGE_BYTES for b in raw)


def _decimal(value: str, raw: bytes) -> bool:
    return bool(_DECIMAL.match(value))


def _digits(value: str, raw: bytes) -> bool:
    return bool(_DIGITS.match(value))


# The value check of each safelisted name (value and its bytes): the one list of names a safelist rule knows.
_SAFELIST_CHECKS: dict[str, Callable[[str, bytes], bool]] = {
    "accept": lambda value, raw: not has_unsafe_byte(raw),
    "accept-language": _language_is_safelisted,
    "content-language": _language_is_safelisted,
    "content-type": lambda value, raw: not has_unsafe_byte(raw) and _mime_essence(value) in _SAFE_CONTENT_TYPES,
    "range": _range_is_safelisted,
    "intervention": lambda value, raw: True,
    "device-memory": _decimal,
    "dpr": _decimal,
    "downlink": _decimal,
    "width": _digits,
    "viewport-width": _digits,
    "rtt": _digits,
    "ect": lambda value, raw: value in _ECT,
    "save-data": lambda value, raw: value.lower() == "on",
}


def is_page_settable(name: str) -> bool:
    """False for names only the browser can put on the wire (forbidden or network-stack added)."""
    name = name.lower()
    return not (name in FORBIDDEN_HEADER_NAMES or name in BROWSER_ADDED_NAMES or name.startswith(FORBIDDEN_PREFIXES))


def unsafe_header_names(headers: Iterable[tuple[str, str]]) -> list[str]:
    """Sorted, lower-cased, de-duplicated CORS-unsafe request-header names (§2.1–2.3, Chromium §2.4)."""
    lines = []
    for name, value in headers:
        kind = _LINE_KINDS.get(name)
        if kind is None:
            kind = _line_kind(name)
        if kind:
            # a name no safelist rule knows is unsafe whatever its value: leaving the value out lets
            # requests that differ only in, say, a trace id share one memo entry
            lines.append((name, value if kind == _VALUE_CHECKED else ""))
    return list(_unsafe_names(tuple(lines)))


_NOT_SETTABLE, _VALUE_IGNORED, _VALUE_CHECKED = 0, 1, 2
# Memo by wire name (captures repeat the same few dozen names endlessly): not page-settable, settable
# and unsafe whatever the value, or settable and checked by value.
_LINE_KINDS: dict[str, int] = {}


def _line_kind(name: str) -> int:
    if not is_page_settable(name):
        kind = _NOT_SETTABLE
    else:
        kind = _VALUE_CHECKED if name.lower() in _SAFELIST_CHECKS else _VALUE_IGNORED
    if len(_LINE_KINDS) < 4096:
        _LINE_KINDS[name] = kind
    return kind


def _settable(name: str) -> bool:
    kind = _LINE_KINDS.get(name)
    return (kind if kind is not None else _line_kind(name)) != _NOT_SETTABLE


@functools.lru_cache(maxsize=4096)
def _unsafe_names(settable: tuple[tuple[str, str], ...]) -> tuple[str, ...]:
    """unsafe_header_names over the page-settable lines only (memoized: requests repeat them)."""
    combined: dict[str, list[str]] = {}
    for name, value in settable:
        combined.setdefault(name.lower(), []).append(value.strip(" \t"))
    unsafe: set[str] = set()
    safelisted_total = 0
    safelisted: list[str] = []
    for name, values in combined.items():
        value = ", ".join(values)
        if is_safelisted_header(name, value):
            safelisted.append(name)
            safelisted_total += len(_bytes(value))
        else:
            unsafe.add(name)
    if safelisted_total > SAFELIST_TOTAL_LIMIT:
        unsafe.update(safelisted)
    return tuple(sorted(unsafe))


# Lines any later stage reads once an exchange is judged (rules, reports, a re-judgement): the
# page-settable request headers plus these. The rest (user-agent, client hints, most response
# headers) goes, so a long capture keeps a fraction of its headers in memory.
_KEPT_REQUEST = frozenset({"origin", "cookie", "referer", "upgrade-insecure-requests"})
_KEPT_RESPONSE = frozenset(
    {"vary", "cache-control", "expires", "last-modified", "strict-transport-security", "location", "age",
     "content-type"}
)


def kept_request_header(name: str) -> bool:
    """Whether a request line (lower-cased name) matters to any check, rule or report."""
    return name in _KEPT_REQUEST or name.startswith(("sec-fetch-", "access-control-")) or _settable(name)


def kept_response_header(name: str) -> bool:
    """Whether a response line (lower-cased name) matters to any check, rule or report."""
    return name in _KEPT_RESPONSE or name.startswith("access-control-")


def slim(exchange: Exchange) -> None:
    """Drop the header lines of a judged exchange that no check, rule or report reads.

    A long capture then keeps a fraction of its headers in memory. Readers that filter while
    decoding (the HAR reader) hand over slim headers already, and this costs nothing.
    """
    cors = exchange.verdict is None or exchange.verdict.outcome != "not-cors"
    for message in exchange.messages:
        message.request_headers = message.request_headers.only(kept_request_header)
        message.response_headers = message.response_headers.only(kept_response_header)
        if not cors:  # most of a capture; the rules glance at few of them, the reports at none
            message.request_headers.forget_index()
            message.response_headers.forget_index()


def needs_preflight(method: str, unsafe_headers: Iterable[str], forced: bool = False) -> bool:
    """§2: a cross-origin request needs a preflight (absent a cache entry)."""
    return forced or method not in SAFELISTED_METHODS or any(True for _ in unsafe_headers)


def parse_allow_list(value: str | None) -> list[str] | None:
    """ACAM/ACAH: comma split, trim, drop empties, each a token; None when it does not parse (P6)."""
    if value is None:
        return []
    items = [item.strip(" \t") for item in value.split(",")]
    items = [item for item in items if item]
    if not all(_TOKEN.match(item) for item in items):
        return None
    return items


def parse_max_age(value: str | None) -> float:
    """Seconds Chromium caches a preflight result: default 5, negative -> 0, cap 7200."""
    if value is None:
        return PREFLIGHT_DEFAULT_MAX_AGE
    text = value.strip(" \t")
    if not re.fullmatch(r"[+-]?[0-9]+", text):
        return PREFLIGHT_DEFAULT_MAX_AGE
    seconds = int(text)
    if seconds <= 0:
        return 0.0
    return float(min(seconds, PREFLIGHT_MAX_AGE_CAP))


_SPECIAL_SCHEMES = frozenset({"http", "https", "ws", "wss", "ftp", "file"})
_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.\-]*):(.*)$", re.DOTALL)
# U+FFFD stands for header bytes that were not UTF-8: such a host never parses.
_BAD_HOST_CHARS = frozenset(" #%/:<>?@[\\]^|\x00\ufffd")


def is_parseable_url(value: str) -> bool:
    """Approximates Chromium's GURL validity for an ACAO value (§7 step 3c)."""
    value = value.replace("\t", "").replace("\n", "").replace("\r", "")  # the URL parser drops them
    match = _SCHEME.match(value)
    if not match:
        return False
    scheme, rest = match.group(1).lower(), match.group(2)
    if scheme not in _SPECIAL_SCHEMES:
        return True
    if scheme == "file":
        return True
    authority = rest.lstrip("/\\")
    for stop in "/?#\\":
        authority = authority.split(stop, 1)[0]
    host = authority.rpartition("@")[2]
    if host.startswith("["):
        return host.endswith("]") or "]:" in host
    host, _, port = host.partition(":")
    if not host or any(c in _BAD_HOST_CHARS for c in host):
        return False
    return not port or port.isdigit()


@dataclass(frozen=True, slots=True)
class CheckFailure:
    """A failed check: Chromium's CorsError name and its failed parameter (None when there is none)."""

    error: str
    parameter: str | None = None


def check_access(headers: Headers, origin: str, credentialed: bool) -> CheckFailure | None:
    """§7 Chromium CheckAccess over a response's ACAO/ACAC; None when it passes."""
    acao = headers.get("access-control-allow-origin")
    if acao == "*":
        return CheckFailure("WildcardOriginNotAllowed") if credentialed else None
    if acao is None:
        return CheckFailure("MissingAllowOriginHeader")
    if acao != origin:
        if " " in acao or "," in acao:
            return CheckFailure("MultipleAllowOriginValues", acao)
        if acao == NULL:
            return CheckFailure("AllowOriginMismatch", acao)
        if not is_parseable_url(acao):
            return CheckFailure("InvalidAllowOriginValue", acao)
        return CheckFailure("AllowOriginMismatch", acao)
    if credentialed:
        acac = headers.get("access-control-allow-credentials")
        if acac != "true":
            return CheckFailure("InvalidAllowCredentials", acac or "")
    return None


def check_preflight(
    preflight: Message, *, method: str, unsafe_headers: list[str], origin: str, credentialed: bool
) -> CheckFailure | None:
    """§5 preflight response checks in Chromium's order (P2–P8); None when the preflight passes.

    A preflight with no response (P1) fails with the network error and no CorsError.
    """
    status, headers = preflight.as_seen_by_browser()
    if status is None:
        return CheckFailure("", preflight.error or "net::ERR_FAILED")
    if status in REDIRECT_STATUSES and headers.get("location"):
        return CheckFailure("PreflightDisallowedRedirect")
    access = check_access(headers, origin, credentialed)
    if access is not None:
        return CheckFailure("Preflight" + access.error, access.parameter)
    if not 200 <= status <= 299:
        return CheckFailure("PreflightInvalidStatus")
    methods = parse_allow_list(headers.get("access-control-allow-methods"))
    if methods is None:
        return CheckFailure("InvalidAllowMethodsPreflightResponse")
    allowed_headers = parse_allow_list(headers.get("access-control-allow-headers"))
    if allowed_headers is None:
        return CheckFailure("InvalidAllowHeadersPreflightResponse")
    if not (method in SAFELISTED_METHODS or method in methods or ("*" in methods and not credentialed)):
        return CheckFailure("MethodDisallowedByPreflightResponse", method)
    allowed = {h.lower() for h in allowed_headers}
    wildcard = "*" in allowed and not credentialed
    for name in unsafe_headers:
        if name not in allowed and not wildcard:
            return CheckFailure("HeaderDisallowedByPreflightResponse", name)
    return None


@dataclass(frozen=True, slots=True)
class PreflightResult:
    """What a successful preflight lets the cache answer (§4, Chromium PreflightResult)."""

    origin: str
    url: str
    credentialed: bool
    methods: frozenset[str]
    headers: frozenset[str]
    expires: float
    preflight_id: str

    @classmethod
    def from_preflight(cls, preflight: Message, origin: str, credentialed: bool) -> PreflightResult | None:
        headers = preflight.response_headers
        max_age = parse_max_age(headers.get("access-control-max-age"))
        if max_age <= 0:
            return None
        methods = parse_allow_list(headers.get("access-control-allow-methods")) or []
        allowed = parse_allow_list(headers.get("access-control-allow-headers")) or []
        return cls(
            origin=origin,
            url=preflight.url,
            credentialed=credentialed,
            methods=frozenset(methods),
            headers=frozenset(h.lower() for h in allowed),
            expires=preflight.started + max_age,
            preflight_id=preflight.id,
        )

    def covers(self, method: str, unsafe_headers: Iterable[str], credentialed: bool, at: float) -> bool:
        """Chromium's cache lookup: unexpired, credentials compatible, method and headers listed.

        `*` never covers `authorization` in a cache lookup (a miss just means a new preflight).
        """
        if at > self.expires or (credentialed and not self.credentialed):
            return False
        wildcard = not self.credentialed
        if not (
            method in SAFELISTED_METHODS or method in self.methods or (wildcard and "*" in self.methods)
        ):
            return False
        for name in unsafe_headers:
            if name in self.headers:
                continue
            if wildcard and "*" in self.headers and name != "authorization":
                continue
            return False
        return True


# ---- request classification (§1, DESIGN "Deciding what the browser does") ----

NAVIGATION_MODES = frozenset({"navigate", "nested-navigate"})


def request_origin(message: Message) -> str | None:
    """The serialized origin the request was made from, when the wire or the producer says."""
    origin = message.request_headers.get("origin")
    if origin is not None:
        return origin
    if message.page_url:
        page = origin_of(message.page_url)
        return page if page != NULL else None
    return provisional_origin(message)


_SCRIPT_INITIATORS = frozenset({"fetch", "xmlhttprequest", "xhr"})


def provisional_origin(message: Message) -> str | None:
    """The page origin of a script request recorded with provisional headers only.

    Chrome and Playwright record a request the browser never completed with the few headers
    known before sending (no Origin, no Sec-Fetch-*); the Referer still names the page.
    """
    headers = message.request_headers
    if (
        message.status is not None
        or (message.initiator or "").lower() not in _SCRIPT_INITIATORS
        or "origin" in headers
        or "sec-fetch-mode" in headers
    ):
        return None
    referer = headers.get("referer")
    page = origin_of(message.page_url or referer or "")
    return page if page != NULL else None


def is_navigation(message: Message) -> bool:
    mode = (message.request_headers.get("sec-fetch-mode") or "").lower()
    if mode:
        return mode in NAVIGATION_MODES
    if (message.initiator or "").lower() in ("document", "iframe", "navigation", "other"):
        return (message.request_headers.get("sec-fetch-dest") or "document").lower() in ("document", "iframe")
    accept = (message.request_headers.get("accept") or "").lower()
    return accept.startswith("text/html") and "upgrade-insecure-requests" in message.request_headers


def is_cors_request(message: Message) -> bool:
    """Subject to a CORS check: mode cors and cross-origin (or from an opaque origin)."""
    mode = (message.request_headers.get("sec-fetch-mode") or "").lower()
    if mode and mode != "cors":
        return False
    origin = message.request_headers.get("origin") or provisional_origin(message)
    if origin is None:
        return False
    if not mode and is_navigation(message):
        return False
    return origin == NULL or origin_of(message.url) != origin.strip()


def is_cors_exchange(exchange: Exchange) -> bool:
    """Any hop of a cors-mode request that leaves the page's origin makes the exchange CORS."""
    if exchange.origin is None:
        return False
    if exchange.hops:
        first = exchange.hops[0]
        mode = (first.request_headers.get("sec-fetch-mode") or "").lower()
        if (mode and mode != "cors") or (not mode and is_navigation(first)):
            return False
    if exchange.origin == NULL:
        return True
    urls = [m.url for m in exchange.hops] or [exchange.url]
    return any(origin_of(url) != exchange.origin for url in urls)


_DEST_KINDS = {"image": "image", "script": "script", "style": "stylesheet", "font": "font", "audio": "audio",
               "video": "video", "track": "texttrack", "manifest": "manifest"}


def initiator_of(message: Message) -> str | None:
    """What started the request: the producer's word (Chrome `_resourceType`), else `Sec-Fetch-Dest`.

    `Sec-Fetch-Dest: empty` is fetch() or XMLHttpRequest alike, so it says nothing.
    """
    if message.initiator and message.initiator != "preflight":
        return message.initiator
    dest = (message.request_headers.get("sec-fetch-dest") or "").lower()
    if dest == "empty" and (message.request_headers.get("accept") or "").startswith("text/event-stream"):
        return "eventsource"
    return _DEST_KINDS.get(dest)


def credentials_of(message: Message) -> tuple[Credentials, str]:
    """Inferred credentials mode of an actual request, with the reason (§0.6, DESIGN)."""
    if "cookie" in message.request_headers:
        return "include", "credentials mode inferred as 'include' from the Cookie header"
    return "omit", "credentials mode inferred as 'omit': no Cookie header was sent"


def credentials_of_hops(hops: list[Message], page_origin: str | None) -> tuple[Credentials, str]:
    """Credentials mode read from the hops that left the page's origin.

    The default mode 'same-origin' sends cookies to the page's own origin only, so a Cookie on a
    same-origin first hop says nothing about the cross-origin hops after a redirect.
    """
    cross = [hop for hop in hops if page_origin in (None, NULL) or origin_of(hop.url) != page_origin]
    with_cookie = next((hop for hop in cross if "cookie" in hop.request_headers), None)
    return credentials_of(with_cookie or (cross or hops)[0])


# ---- the verdict for one exchange ----


@dataclass(slots=True)
class _Walk:
    """The result of walking an exchange's hops under one credentials mode."""

    failure: CheckFailure | None
    blocked_at: str | None
    url: str
    network_error: str | None = None
    incomplete: str | None = None
    awaiting_hop: bool = False  # the last hop redirected and the browser would follow it
    origin_value: str = NULL


def _walk(exchange: Exchange, credentialed: bool) -> _Walk:
    """Run every check Chromium runs over the exchange's hops in order; stop at the first failure.

    `preflights[i]` guards `hops[i]`; one extra preflight at the end is a preflight whose
    request never came (the browser stopped there, or the capture ended).
    """
    page_origin = exchange.origin or NULL
    origin_value = page_origin
    cors_flag = False
    tainted = False
    hops, preflights = exchange.hops, exchange.preflights
    for index in range(max(len(hops), len(preflights))):
        hop = hops[index] if index < len(hops) else None
        preflight = preflights[index] if index < len(preflights) else None
        url = hop.url if hop is not None else preflight.url  # type: ignore[union-attr]
        cors_flag = cors_flag or page_origin == NULL or origin_of(url) != page_origin
        if preflight is not None:
            method = preflight.request_headers.get("access-control-request-method") or exchange.method
            failure = check_preflight(
                preflight, method=method, unsafe_headers=_requested_headers(preflight),
                origin=origin_value, credentialed=credentialed,
            )
            if failure is not None:
                if failure.error == "":
                    return _Walk(None, "preflight", url, network_error=failure.parameter)
                return _Walk(failure, "preflight", url)
        if hop is None:
            return _Walk(None, None, url, incomplete="the preflight passed but the request itself was not captured")
        status, response_headers = hop.as_seen_by_browser()
        if status is None:
            return _Walk(None, "redirect" if index else "actual", url, network_error=hop.error or "net::ERR_FAILED")
        redirect = hop.redirect_url
        net_error = _redirect_net_error(hop, redirect, index)
        if net_error:
            return _Walk(None, "redirect", url, network_error=net_error)
        if cors_flag and (status != 304 or "access-control-allow-origin" in response_headers):
            # A 304 revalidation is merged into the stored response: its own ACAO, if any, replaces
            # the stored one and is what Chromium checks (observed); without one the stored headers
            # (not in the capture) stand.
            if status == 304 and "access-control-allow-credentials" not in response_headers:
                response_headers = Headers([*response_headers, ("Access-Control-Allow-Credentials", "true")])
            failure = check_access(response_headers, origin_value, credentialed)
            if failure is not None:
                return _Walk(failure, "redirect" if redirect else "actual", url)
        if redirect is None:
            return _Walk(None, None, url, origin_value=origin_value)
        # §6.3: a Location with a username or password
        if _has_userinfo(redirect) and (cors_flag or tainted or origin_of(redirect) != page_origin):
            return _Walk(CheckFailure("RedirectContainsCredentials", ""), "redirect", url)
        # §6.4: taint when the hop leaves an origin that is not the page's
        if origin_of(redirect) != origin_of(url) and page_origin != origin_of(url):
            tainted = True
            origin_value = NULL
        if index + 1 >= max(len(hops), len(preflights)):
            return _Walk(None, None, url, origin_value=origin_value, awaiting_hop=True)
    return _Walk(None, None, exchange.url)


MAX_REDIRECTS = 20


def _redirect_net_error(hop: Message, redirect: str | None, index: int) -> str | None:
    """Failures the network stack raises on a redirect before any CORS check sees it."""
    if hop.status not in REDIRECT_STATUSES:
        return None
    locations = {v for v in hop.response_headers.get_all("location") if v}
    if len(locations) > 1:
        return "net::ERR_RESPONSE_HEADERS_MULTIPLE_LOCATION"
    if redirect is None:
        return None
    if index >= MAX_REDIRECTS:
        return "net::ERR_TOO_MANY_REDIRECTS"
    if urlsplit(redirect).scheme.lower() not in CORS_SCHEMES:
        return "net::ERR_UNSAFE_REDIRECT"
    return None


def redirect_followed(exchange: Exchange) -> bool:
    """Whether the browser followed the last hop's redirect, so a next request is expected."""
    if not is_cors_exchange(exchange):
        return bool(exchange.hops and exchange.hops[-1].redirect_url) and _redirect_net_error(
            exchange.hops[-1], exchange.hops[-1].redirect_url, len(exchange.hops) - 1) is None
    return _walk(exchange, exchange.credentials == "include").awaiting_hop


def _has_userinfo(url: str) -> bool:
    try:
        parts = urlsplit(url)
        return bool(parts.username or parts.password)
    except ValueError:
        return False


def _requested_headers(preflight: Message) -> list[str]:
    value = preflight.request_headers.get("access-control-request-headers") or ""
    return sorted({h.strip(" \t").lower() for h in value.split(",") if h.strip(" \t")})


def _requested_method(preflight: Message, hop: Message) -> str:
    return preflight.request_headers.get("access-control-request-method") or hop.method


NOT_CORS = Verdict("not-cors")  # immutable, so every not-cors exchange shares it


def judge(exchange: Exchange) -> Verdict:
    """Chromium's verdict for one exchange: allowed, or blocked with the CorsError and console text."""
    if not is_cors_exchange(exchange):
        return NOT_CORS
    assumptions: list[str] = []
    if exchange.credentials == "unknown":
        return _judge_unknown_credentials(exchange)
    credentialed = exchange.credentials == "include"
    if exchange.credentials_reason:
        assumptions.append(exchange.credentials_reason)
    assumptions.extend(_pairing_assumptions(exchange))
    walk = _walk(exchange, credentialed)
    verdict = _verdict_from_walk(exchange, walk, assumptions)
    if not credentialed and verdict.outcome == "allowed":
        other = _walk(exchange, True)
        if other.failure is not None:
            return _with_alternative(verdict, f"blocked with {other.failure.error} if the page sent credentials")
    return verdict


def _judge_unknown_credentials(exchange: Exchange) -> Verdict:
    """No actual request to read cookies from: decide by what the capture proves (see pairing)."""
    omit = _walk(exchange, False)
    include = _walk(exchange, True)
    assumptions = list(_pairing_assumptions(exchange))
    if omit.failure is not None or omit.network_error:
        assumptions.append("credentials mode unknown (the request was never sent); judged as 'omit'")
        verdict = _verdict_from_walk(exchange, omit, assumptions)
        if include.failure is not None and include.failure.error != (omit.failure.error if omit.failure else None):
            return _with_alternative(verdict, f"blocked with {include.failure.error} if the page sent credentials")
        return verdict
    if include.failure is not None:
        assumptions.append(
            "credentials mode inferred as 'include': the preflight passes without credentials, "
            "yet the browser never sent the request"
        )
        return _verdict_from_walk(exchange, include, assumptions)
    assumptions.append("credentials mode unknown (the request was not captured)")
    return _verdict_from_walk(exchange, omit, assumptions)


def _pairing_assumptions(exchange: Exchange) -> list[str]:
    out: list[str] = []
    if exchange.preflight_cached:
        out.append(f"preflight served from the preflight cache (earlier preflight {exchange.cached_from})")
    elif not exchange.preflight_observed:
        out.append("preflight not observed (served from the preflight cache, or sent before the capture started)")
    if exchange.initiator is None:
        out.append("initiator assumed to be fetch() (the capture does not say)")
    if any(m.status is None and m.as_seen_by_browser()[0] is not None for m in exchange.messages):
        out.append("the server sent no response; mitmproxy answered the browser with 502 Bad Gateway, "
                   "without CORS headers")
    return out


def _verdict_from_walk(exchange: Exchange, walk: _Walk, assumptions: list[str]) -> Verdict:
    first_url = exchange.url if walk.url != exchange.url else None
    if walk.network_error:
        assumptions.append(
            "the capture holds no response: the browser blocked the request without recording why, "
            "or the network failed"
        )
        return Verdict(
            "blocked", walk.blocked_at, None, f"{walk.network_error} at {walk.url}",  # type: ignore[arg-type]
            None, tuple(assumptions),
        )
    if walk.failure is not None:
        message = console_message(
            walk.failure.error, url=walk.url, origin=exchange.origin or NULL, initiator=exchange.initiator,
            parameter=walk.failure.parameter, first_url=first_url,
        )
        return Verdict(
            "blocked", walk.blocked_at, walk.failure.error, message,  # type: ignore[arg-type]
            walk.failure.parameter, tuple(assumptions),
        )
    if walk.incomplete:
        return Verdict("unknown", None, None, walk.incomplete, None, tuple(assumptions))
    if walk.awaiting_hop:
        # A followed redirect always shows its next request; with none, the page did not follow it.
        assumptions.append(
            "the redirect was not followed (no next request in the capture): the page used "
            "redirect: 'manual' and got an opaque-redirect response"
        )
        return Verdict(
            "allowed", None, None, None, None, tuple(assumptions),
            "blocked with net::ERR_FAILED if the page used redirect: 'error'; unknown if the capture "
            "ended or the HTTP cache answered the next request",
        )
    return Verdict("allowed", None, None, None, None, tuple(assumptions))


def _with_alternative(verdict: Verdict, alternative: str) -> Verdict:
    combined = f"{verdict.alternative}; {alternative}" if verdict.alternative else alternative
    return Verdict(
        verdict.outcome, verdict.blocked_at, verdict.error, verdict.message, verdict.failed_parameter,
        verdict.assumptions, combined,
    )
