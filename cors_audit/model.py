"""The data that flows through cors-audit: messages in, exchanges with verdicts, findings out.

Pure data, standard library only. Sources build `Message`s, pairing builds `Exchange`s,
the browser model attaches a `Verdict`, the rules produce `Finding`s.
"""

from __future__ import annotations

import enum
import functools
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Literal
from urllib.parse import urljoin

Credentials = Literal["include", "omit", "unknown"]
Outcome = Literal["allowed", "blocked", "not-cors", "unknown"]
BlockedAt = Literal["preflight", "actual", "redirect"]
Confidence = Literal["observed", "confirmed"]

REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
# In the User-Agent of every forged-Origin probe (`cors-audit probe`): never browser traffic.
PROBE_USER_AGENT = "cors-audit-probe/"
# mitmproxy answers the browser with 502 Bad Gateway (no CORS headers) when the server fails.
PROXY_ERROR_STATUS = 502


# Lower-cased header names, shared: every message's lookup table would otherwise hold its own copies.
_LOWER: dict[str, str] = {}


def _lower(name: str) -> str:
    lowered = name.lower()
    if len(_LOWER) < 8192:
        _LOWER[name] = lowered
    return lowered


class Headers:
    """Ordered header lines; names compare case-insensitively; duplicates are kept.

    `get` joins repeated lines with ", " as the Fetch standard and Chromium do before
    any CORS check (fetch-rules §0.3), after trimming SP/HTAB from each value.
    """

    __slots__ = ("_items", "_index", "_slim")

    def __init__(self, items: Iterable[tuple[str, str]] = ()) -> None:
        self._items: list[tuple[str, str]] = [(str(n), str(v)) for n, v in items]
        self._index: dict[str, str] | None = None
        self._slim = False

    @classmethod
    def from_pairs(cls, items: list[tuple[str, str]], *, slim: bool = False) -> Headers:
        """Adopt a list of (str, str) lines as is, without converting each: the readers' fast path.

        `slim` says the reader already kept only the lines the analysis reads (see `only`).
        """
        headers = cls()
        headers._items = items
        headers._slim = slim
        return headers

    def _lookup(self) -> dict[str, str]:
        # built on first use: every CORS check reads a handful of names from each message. One str
        # per name (repeated lines already combined) keeps a long capture's memory down.
        index = self._index
        if index is None:
            index = self._index = {}
            for n, v in self._items:
                key = _LOWER.get(n) or _lower(n)
                value = v.strip(" \t")
                index[key] = value if key not in index else f"{index[key]}, {value}"
        return index

    def get(self, name: str) -> str | None:
        """Combined value of every line named `name`, or None when there is none."""
        index = self._index
        if index is None:
            index = self._lookup()
        value = index.get(name)  # the core asks in lower case; others may write "Origin"
        if value is None and not name.islower():
            value = index.get(name.lower())
        return value

    def peek(self, name: str) -> str | None:
        """`get(name)` for a lower-case `name`, without building the lookup table when there is none:
        for messages read once (a not-cors message whose table `forget_index` dropped)."""
        index = self._index
        if index is not None:
            return index.get(name)
        values = [v.strip(" \t") for n, v in self._items if (_LOWER.get(n) or _lower(n)) == name]
        return ", ".join(values) if values else None

    def get_all(self, name: str) -> list[str]:
        """The value of each line named `name`, trimmed, in order."""
        key = name.lower()
        return [v.strip(" \t") for n, v in self._items if n.lower() == key]

    def count(self, name: str) -> int:
        key = name.lower()
        return sum(1 for n, _ in self._items if n.lower() == key)

    def any_name_starts(self, prefix: str | tuple[str, ...]) -> bool:
        """Whether a line's lower-cased name starts with `prefix` (or one of them); no lookup table built."""
        return any((_LOWER.get(n) or _lower(n)).startswith(prefix) for n, _ in self._items)

    def forget_index(self) -> None:
        """Free the lookup table (rebuilt on the next lookup): for messages kept but rarely read."""
        self._index = None

    def names(self) -> list[str]:
        """Distinct lower-cased names, in first-seen order."""
        return list(self._lookup())

    def __contains__(self, name: object) -> bool:
        if not isinstance(name, str):
            return False
        index = self._index
        return name.lower() in (index if index is not None else self._lookup())

    def __iter__(self) -> Iterator[tuple[str, str]]:
        return iter(self._items)

    def __len__(self) -> int:
        return len(self._items)

    def __bool__(self) -> bool:
        return bool(self._items)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Headers) and self._items == other._items

    def __repr__(self) -> str:
        return f"Headers({self._items!r})"

    def items(self) -> list[tuple[str, str]]:
        return list(self._items)

    @property
    def is_slim(self) -> bool:
        """Whether only the lines the analysis reads are here (see `only`)."""
        return self._slim

    def only(self, keep: Callable[[str], bool]) -> Headers:
        """The lines whose lower-cased name `keep` accepts, in order (self when already slim)."""
        if self._slim:
            return self
        return Headers.from_pairs([(n, v) for n, v in self._items if keep(n.lower())], slim=True)


@functools.lru_cache(maxsize=1024)
def _absolute(url: str, location: str) -> str | None:
    """`location` resolved against `url` (cached: pairing and the checks ask for each redirect often)."""
    try:
        return urljoin(url, location)
    except ValueError:
        return None


@dataclass(frozen=True, slots=True)
class Source:
    """Where a message came from: an input file and entry index, or a live mitmproxy flow."""

    file: str
    index: int | None = None
    flow_id: str | None = None

    def to_json(self) -> dict[str, object]:
        out: dict[str, object] = {"file": self.file}
        if self.index is not None:
            out["index"] = self.index
        if self.flow_id is not None:
            out["flow"] = self.flow_id
        return out


@dataclass(slots=True)
class Message:
    """One observed HTTP request and its response, or its failure. Never a body.

    `status` is None when no response was received (network error, or the browser
    blocked the request before a response existed in the capture). `error` holds the
    producer's failure text when there is one (Chrome `_error`, Playwright `_failureText`,
    mitmproxy flow error). `initiator` is what the producer says started the request:
    "fetch", "xmlhttprequest", "preflight", "document", "script", ... or None.
    `page_url` is the document that issued it, when the producer records it. `via_proxy` says
    the capture was taken by the proxy the browser talked to (mitmproxy): when the server failed,
    the browser received the proxy's own error response (502, no CORS headers), not a network error.
    """

    id: str
    started: float
    method: str
    url: str
    request_headers: Headers
    status: int | None = None
    response_headers: Headers = field(default_factory=Headers)
    error: str | None = None
    initiator: str | None = None
    page_url: str | None = None
    from_cache: bool = False
    via_proxy: bool = False
    source: Source = field(default_factory=lambda: Source(""))

    @property
    def redirect_url(self) -> str | None:
        """Absolute Location of a redirect response (301/302/303/307/308 with a non-empty Location)."""
        if self.status not in REDIRECT_STATUSES:
            return None
        location = self.response_headers.get("location")
        if not location:
            return None
        return _absolute(self.url, location)

    def as_seen_by_browser(self) -> tuple[int | None, Headers]:
        """Status and headers the browser received; None status when it received no response."""
        if self.status is None and self.via_proxy and "client" not in (self.error or "").lower():
            return PROXY_ERROR_STATUS, Headers()
        return self.status, self.response_headers

    @property
    def is_preflight_shape(self) -> bool:
        """OPTIONS + Origin + Access-Control-Request-Method: a CORS preflight by shape."""
        return (
            self.method == "OPTIONS"
            and "origin" in self.request_headers
            and "access-control-request-method" in self.request_headers
        )


@dataclass(frozen=True, slots=True)
class Verdict:
    """What the browser did or would do with one cross-origin request.

    `error` is Chromium's CorsError name without the leading `k`
    (e.g. "PreflightMissingAllowOriginHeader"); `message` is the console text.
    `assumptions` are the readings the verdict rests on; `alternative` says what the
    verdict would be under the other reading, when that differs.
    """

    outcome: Outcome
    blocked_at: BlockedAt | None = None
    error: str | None = None
    message: str | None = None
    failed_parameter: str | None = None
    assumptions: tuple[str, ...] = ()
    alternative: str | None = None


@dataclass(slots=True)
class Exchange:
    """One request a page intended, with the preflight that guarded it and its redirect hops.

    `actual` is None when a failed preflight stopped the browser from sending the request;
    `intended` then describes the reconstructed request (method and URL from the preflight).
    `hops` are the actual-request messages in redirect order (hops[0] is the first request,
    hops[-1] the final one, equal to `actual`). `preflights` holds one preflight per hop that
    needed one (None where the cache served it or none was needed).
    """

    id: str
    origin: str | None
    method: str
    url: str
    actual: Message | None
    preflight: Message | None = None
    preflight_cached: bool = False
    cached_from: str | None = None
    preflight_observed: bool = True
    credentials: Credentials = "unknown"
    credentials_reason: str = ""
    initiator: str | None = None
    hops: list[Message] = field(default_factory=list)
    preflights: list[Message | None] = field(default_factory=list)
    verdict: Verdict | None = None
    findings: list[str] = field(default_factory=list)

    @property
    def messages(self) -> list[Message]:
        """Every captured message of this exchange, in time order."""
        if self.preflight is None and len(self.hops) == 1 and self.actual is self.hops[0]:
            if not any(self.preflights):  # most exchanges: one request, no preflight
                return [self.actual]
        out = [m for m in self.preflights if m is not None]
        if self.preflight is not None and self.preflight not in out:
            out.append(self.preflight)
        out.extend(self.hops)
        if self.actual is not None and self.actual not in out:
            out.append(self.actual)
        return sorted(out, key=lambda m: m.started)

    @property
    def final_url(self) -> str:
        return self.hops[-1].url if self.hops else self.url


class Severity(enum.IntEnum):
    """Finding severity; larger is worse. `str()` gives the lower-case name used in outputs."""

    INFO = 0
    LOW = 1
    MEDIUM = 2
    HIGH = 3
    CRITICAL = 4

    def __str__(self) -> str:
        return self.name.lower()

    @classmethod
    def parse(cls, text: str) -> Severity:
        return cls[text.strip().upper()]


@dataclass(slots=True)
class Finding:
    """A risky server configuration that the traffic proves, aggregated per (rule, target)."""

    rule: str
    severity: Severity
    title: str
    target: str
    evidence: dict[str, object] = field(default_factory=dict)
    exchanges: list[str] = field(default_factory=list)
    count: int = 0
    impact: str = ""
    fix: str = ""
    fix_snippets: dict[str, str] = field(default_factory=dict)
    confidence: Confidence = "observed"
    proof: str = ""


@dataclass(slots=True)
class Audit:
    """Everything one analysis produced: the input of every report format."""

    inputs: list[str]
    messages: int
    exchanges: list[Exchange]
    findings: list[Finding] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    probed: bool = False  # forged-Origin probes ran (`cors-audit probe`): some findings are `confirmed`
