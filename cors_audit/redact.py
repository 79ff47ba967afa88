"""Redaction of secrets in captured headers and URLs, shared by the capture file and finding evidence.

Cookie, Authorization, Proxy-Authorization and Set-Cookie values are replaced; query parameters whose
names look like credentials (token, key, secret, session, signature, ...) keep their name and lose
their value. Header names and CORS headers are never touched: they are the evidence.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

REDACTED = "[redacted]"
SECRET_HEADERS = frozenset(
    {"cookie", "set-cookie", "authorization", "proxy-authorization", "x-api-key", "x-auth-token", "x-csrf-token"}
)
# characters urlsplit deletes before splitting: with none, the query is a substring of the text after "?"
_URL_CLEANED = re.compile(r"[\t\n\r]")
_SECRET_PARAM = re.compile(
    r"(token|secret|passw|pwd|key|session|sid|auth|signature|sig|code|credential|jwt|bearer)", re.IGNORECASE
)


def redact_header(name: str, value: str) -> str:
    """The value to show for one header line."""
    lname = name.lower()
    if lname not in SECRET_HEADERS:
        return value
    if lname == "authorization" or lname == "proxy-authorization":
        scheme = value.split(" ", 1)[0] if " " in value else ""
        return f"{scheme} {REDACTED}".strip()
    if lname in ("cookie", "set-cookie"):
        # keep cookie names and attributes: they tell a reviewer which session is involved
        if lname == "cookie":
            names = [part.split("=", 1)[0].strip() for part in value.split(";") if part.strip()]
            return "; ".join(f"{n}={REDACTED}" for n in names)
        first, _, attributes = value.partition(";")
        cookie_name = first.split("=", 1)[0].strip()
        return f"{cookie_name}={REDACTED}" + (f";{attributes}" if attributes else "")
    return REDACTED


def redact_headers(items: Iterable[tuple[str, str]]) -> list[tuple[str, str]]:
    return [(name, redact_header(name, value)) for name, value in items]


def redact_url(url: str) -> str:
    """Blank the values of token-like query parameters and any userinfo password."""
    if "@" not in url and not _SECRET_PARAM.search(url.partition("?")[2]) and not _URL_CLEANED.search(url):
        return url  # no userinfo, nothing secret-looking after "?": most URLs, without parsing them
    try:
        parts = urlsplit(url)
    except ValueError:
        return url
    netloc = parts.netloc
    if "@" in netloc:
        userinfo, _, hostport = netloc.rpartition("@")
        user = userinfo.split(":", 1)[0]
        # no brackets here: "[...]" in the authority would read as an IPv6 host and break the URL
        netloc = f"{user}:redacted@{hostport}" if ":" in userinfo else netloc
    query = parts.query
    if query and _SECRET_PARAM.search(query):
        pairs = parse_qsl(query, keep_blank_values=True)
        query = urlencode(
            [(k, REDACTED if _SECRET_PARAM.search(k) else v) for k, v in pairs], safe="[]"
        )
    if netloc == parts.netloc and query == parts.query:
        return url
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))
