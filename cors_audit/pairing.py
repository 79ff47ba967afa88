"""Online pairing: fed one Message at a time, emits finished Exchanges.

- A preflight (OPTIONS + Origin + Access-Control-Request-Method) waits for the request it guards:
  same Origin, URL and method, requested headers compatible, within `hold` seconds.
- A request that needed a preflight but has none is a preflight-cache hit when an earlier successful
  preflight covers it (max-age aware, §4); otherwise "preflight not observed". It first waits a moment
  for a preflight listed after it (Chrome's HAR lists the request before its preflight).
- A preflight whose request never came becomes the exchange itself (the request is reconstructed
  from Access-Control-Request-*); the browser model decides whether it was blocked.
- A redirect of a cors-mode request waits for its next hop (URL = Location), which may bring a preflight
  of its own; the chain becomes one exchange.

Time is the capture's own clock (message start times), so batch and live runs pair identically, and
memory stays bounded: everything pending expires.
"""

from __future__ import annotations

import functools
import heapq
import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar
from urllib.parse import urlsplit, urlunsplit

from cors_audit import browser
from cors_audit.model import Exchange, Message
from cors_audit.origin import DEFAULT_PORTS, NULL, origin_of, split_authority

HOLD_SECONDS = 30.0
LATE_PREFLIGHT_SECONDS = 2.0


@functools.lru_cache(maxsize=1024)
def url_key(url: str) -> str:
    """URL identity for matching: lower-case scheme and host, no default port, no fragment.

    Cached: pairing asks several times for each message's URL, and redirect targets recur."""
    split = split_authority(url)
    if split is None:
        return _slow_url_key(url)
    authority, rest = split
    rest = rest.partition("#")[0]
    if rest.endswith("?"):
        rest = rest[:-1]
    if not rest.startswith("/"):
        rest = "/" + rest
    return _authority_key(authority) + rest


@functools.lru_cache(maxsize=4096)
def _authority_key(authority: str) -> str:
    return _slow_url_key(authority + "/")[:-1]


def _slow_url_key(url: str) -> str:
    try:
        parts = urlsplit(url.strip())
        scheme = parts.scheme.lower()
        host = (parts.hostname or "").lower()
        port = parts.port
    except ValueError:
        return url
    if ":" in host:
        host = f"[{host}]"
    netloc = host if port is None or port == DEFAULT_PORTS.get(scheme) else f"{host}:{port}"
    return urlunsplit((scheme, netloc, parts.path or "/", parts.query, ""))


def _requested(preflight: Message) -> tuple[str, list[str]]:
    headers = preflight.request_headers
    method = (headers.get("access-control-request-method") or "").strip(" \t")
    names = headers.get("access-control-request-headers") or ""
    return method, sorted({n.strip(" \t").lower() for n in names.split(",") if n.strip(" \t")})


class _Expiring(Protocol):
    deadline: float


_T = TypeVar("_T", bound=_Expiring)


@dataclass(slots=True)
class _Pending:
    preflight: Message
    origin: str
    method: str
    headers: list[str]
    deadline: float


@dataclass(slots=True)
class _Chain:
    exchange: Exchange
    expect: str
    deadline: float
    next_preflight: Message | None = None


@dataclass(slots=True)
class _Held:
    exchange: Exchange
    unsafe: list[str]
    deadline: float


@dataclass(slots=True)
class Pairer:
    """Preflight <-> request pairing with the preflight cache and redirect chains, one message at a time."""

    hold: float = HOLD_SECONDS
    late: float = LATE_PREFLIGHT_SECONDS
    _pending: dict[tuple[str, str], list[_Pending]] = field(default_factory=dict)
    _chains: dict[str, list[_Chain]] = field(default_factory=dict)
    _held: dict[tuple[str, str], list[_Held]] = field(default_factory=dict)
    _cache: dict[tuple[str, str], browser.PreflightResult] = field(default_factory=dict)
    _now: float = -math.inf
    # When each table's keys have an item due, one heap per table: (deadline, order added, key). The
    # items stay in the tables; an entry whose item was taken early is skipped when it comes due, and
    # holds no message meanwhile (a busy proxy takes thousands of preflights early every 30 s).
    _held_due: list[tuple[float, int, Any]] = field(default_factory=list)
    _pending_due: list[tuple[float, int, Any]] = field(default_factory=list)
    _chains_due: list[tuple[float, int, Any]] = field(default_factory=list)
    _seq: int = 0
    _added: int = 0
    _cache_limit: int = 256

    @property
    def pending(self) -> int:
        """Messages waiting for a partner (preflights, redirect chains, requests awaiting a late preflight)."""
        return (
            sum(map(len, self._pending.values()))
            + sum(map(len, self._chains.values()))
            + sum(map(len, self._held.values()))
        )

    @property
    def cache_entries(self) -> int:
        return len(self._cache)

    def feed(self, message: Message) -> list[Exchange]:
        out = self.expire(message.started)
        if message.is_preflight_shape and (message.request_headers.get("sec-fetch-mode") or "cors") == "cors":
            out.extend(self._on_preflight(message))
        else:
            out.extend(self._on_request(message))
        return out

    def expire(self, now: float) -> list[Exchange]:
        """Emit whatever waited longer than its window as of capture time `now`."""
        if now <= self._now:
            return []
        self._now = now
        if len(self._cache) > self._cache_limit:
            # lookups check expiry themselves; this only bounds memory. Pruning whenever the cache has
            # doubled costs O(1) per stored preflight, however many distinct URLs a capture preflights.
            self._cache = {k: v for k, v in self._cache.items() if v.expires >= now}
            self._cache_limit = 2 * len(self._cache) + 256
        held_due, pending_due, chains_due = self._held_due, self._pending_due, self._chains_due
        if (not held_due or held_due[0][0] >= now) and (not pending_due or pending_due[0][0] >= now) and (
            not chains_due or chains_due[0][0] >= now
        ):
            return []  # nothing waits past its deadline: the common case costs three comparisons
        out: list[Exchange] = []
        for held in self._expired(self._held, self._held_due, now):
            out.extend(self._finish_request(held.exchange, held.unsafe, preflight=None, searched=True))
        for pending in self._expired(self._pending, self._pending_due, now):
            out.append(self._orphan(pending.preflight))
        for chain in self._expired(self._chains, self._chains_due, now):
            out.append(self._close_chain(chain))
        return out

    def _expired(self, table: dict[Any, list[_T]], due: list[tuple[float, int, Any]], now: float) -> list[_T]:
        """Take out of `table` every item whose deadline has passed: keys in the order they became due
        first, items of one key in the order they were added."""
        keys = []
        while due and due[0][0] < now:
            keys.append(heapq.heappop(due))
        keys.sort(key=lambda entry: entry[1])
        gone: list[_T] = []
        for _, _, key in keys:
            items = table.get(key)
            if not items:
                continue  # taken by their partners before the deadline, or already expired
            gone.extend(i for i in items if i.deadline < now)
            self._set(table, key, [i for i in items if i.deadline >= now])
        return gone

    def flush(self) -> list[Exchange]:
        """End of input: emit everything still waiting."""
        out = self.expire(math.inf)
        self._now = -math.inf
        return out

    # ---- preflights ----

    def _on_preflight(self, preflight: Message) -> list[Exchange]:
        origin = preflight.request_headers.get("origin") or NULL
        method, headers = _requested(preflight)
        key = url_key(preflight.url)
        chain = self._take_chain(key, preflight)
        if chain is not None:
            chain.next_preflight = preflight
            chain.exchange.preflights.append(preflight)
            if browser.judge(chain.exchange).outcome == "blocked":
                return [self._finalize(chain.exchange)]
            chain.exchange.preflights.pop()
            self._add(self._chains, self._chains_due, key, chain)
            return []
        held = self._take(self._held, (origin, key), lambda h: h.exchange.method.upper() == method.upper())
        if held is not None:
            return self._finish_request(held.exchange, held.unsafe, preflight=preflight, searched=True)
        pending = _Pending(preflight, origin, method, headers, preflight.started + self.hold)
        if preflight.initiator != "preflight" and self._fails_without_credentials(pending):
            # the browser never sends the request after this: the exchange is complete now
            return [self._orphan(preflight)]
        self._add(self._pending, self._pending_due, (origin, key), pending)
        return []

    def _fails_without_credentials(self, pending: _Pending) -> bool:
        failure = browser.check_preflight(
            pending.preflight, method=pending.method, unsafe_headers=pending.headers,
            origin=pending.origin, credentialed=False,
        )
        return failure is not None

    def _orphan(self, preflight: Message) -> Exchange:
        """The exchange of a preflight whose request never came."""
        origin = preflight.request_headers.get("origin") or NULL
        method, _ = _requested(preflight)
        exchange = self._new(origin, method or "GET", preflight.url, actual=None)
        exchange.preflight = preflight
        exchange.preflights = [preflight]
        exchange.credentials = "unknown"
        return self._finalize(exchange)

    # ---- requests ----

    def _on_request(self, message: Message) -> list[Exchange]:
        chain = self._take_chain(url_key(message.url), message) if self._chains else None
        if chain is not None:
            exchange = chain.exchange
            exchange.hops.append(message)
            exchange.actual = message
            preflight = chain.next_preflight
            if preflight is None and len(exchange.preflights) < len(exchange.hops):
                preflight = self._take_pending(message)
            exchange.preflights.append(preflight)
            exchange.credentials, exchange.credentials_reason = browser.credentials_of_hops(
                exchange.hops, exchange.origin
            )
            return self._continue(exchange)
        origin = self._page_origin(message)
        mode = (message.request_headers.get("sec-fetch-mode") or "").lower()
        if origin is None or (mode and mode != "cors") or not self._may_be_cors(message):
            exchange = self._new(origin, message.method, message.url, actual=message)
            exchange.hops = [message]
            exchange.preflights = [None]
            exchange.initiator = browser.initiator_of(message)
            exchange.credentials, exchange.credentials_reason = browser.credentials_of(message)
            if origin is not None and message.redirect_url and (mode == "cors" or "origin" in message.request_headers):
                return self._continue(exchange)
            return [self._finalize(exchange)]
        exchange = self._new(origin, message.method, message.url, actual=message)
        exchange.hops = [message]
        exchange.initiator = browser.initiator_of(message)
        exchange.credentials, exchange.credentials_reason = browser.credentials_of(message)
        unsafe = browser.unsafe_header_names(message.request_headers)
        preflight = self._take_pending(message, unsafe)
        return self._finish_request(exchange, unsafe, preflight, searched=False)

    def _finish_request(
        self, exchange: Exchange, unsafe: list[str], preflight: Message | None, *, searched: bool
    ) -> list[Exchange]:
        """Attach the preflight (observed, cached or missing) to a first hop and go on."""
        message = exchange.hops[0]
        credentialed = exchange.credentials == "include"
        if preflight is not None:
            exchange.preflight = preflight
            exchange.preflights = [preflight]
            exchange.method = _requested(preflight)[0] or exchange.method
            return self._continue(exchange)
        exchange.preflights = [None]
        if browser.is_cors_exchange(exchange) and browser.needs_preflight(message.method, unsafe):
            entry = self._cache.get((exchange.origin or NULL, url_key(message.url)))
            if entry is not None and entry.covers(message.method, unsafe, credentialed, message.started):
                exchange.preflight_cached = True
                exchange.cached_from = entry.preflight_id
            elif not searched:
                key = (exchange.origin or NULL, url_key(message.url))
                self._add(self._held, self._held_due, key, _Held(exchange, unsafe, message.started + self.late))
                return []
            else:
                exchange.preflight_observed = False
        return self._continue(exchange)

    def _continue(self, exchange: Exchange) -> list[Exchange]:
        """After a hop: wait for the next hop of a followed redirect, or finish."""
        last = exchange.hops[-1]
        redirect = last.redirect_url
        if redirect is not None and self._follows(exchange):
            self._remember_preflight(exchange)
            key = url_key(redirect)
            self._add(self._chains, self._chains_due, key, _Chain(exchange, key, last.started + self.hold))
            return []
        return [self._finalize(exchange)]

    @staticmethod
    def _follows(exchange: Exchange) -> bool:
        """Whether the browser followed the last hop's redirect (so a next hop is expected)."""
        mode = (exchange.hops[0].request_headers.get("sec-fetch-mode") or "").lower()
        if not browser.is_cors_exchange(exchange) and mode != "cors":
            return False
        return browser.redirect_followed(exchange)

    def _close_chain(self, chain: _Chain) -> Exchange:
        if chain.next_preflight is not None:
            chain.exchange.preflights.append(chain.next_preflight)
        return self._finalize(chain.exchange)

    def _finalize(self, exchange: Exchange) -> Exchange:
        if exchange.hops:
            exchange.credentials, exchange.credentials_reason = browser.credentials_of_hops(
                exchange.hops, exchange.origin
            )
        exchange.verdict = browser.judge(exchange)
        self._remember_preflight(exchange)
        return exchange

    def _remember_preflight(self, exchange: Exchange) -> None:
        """Store each observed preflight that passed in the preflight cache (P9)."""
        credentialed = exchange.credentials == "include"
        for preflight in exchange.preflights:
            if preflight is None or preflight.status is None:
                continue
            origin = preflight.request_headers.get("origin") or NULL
            method, headers = _requested(preflight)
            if browser.check_preflight(
                preflight, method=method, unsafe_headers=headers, origin=origin, credentialed=credentialed
            ):
                continue
            result = browser.PreflightResult.from_preflight(preflight, origin, credentialed)
            key = (origin, url_key(preflight.url))
            if result is not None:
                self._cache[key] = result
            else:
                self._cache.pop(key, None)

    # ---- helpers ----

    def _new(self, origin: str | None, method: str, url: str, actual: Message | None) -> Exchange:
        self._seq += 1
        return Exchange(id=f"x{self._seq}", origin=origin, method=method, url=url, actual=actual)

    @staticmethod
    def _page_origin(message: Message) -> str | None:
        origin = browser.request_origin(message)
        if origin is not None:
            return origin
        site = (message.request_headers.get("sec-fetch-site") or "").lower()
        if site == "same-origin":
            return origin_of(message.url)
        return None

    @staticmethod
    def _may_be_cors(message: Message) -> bool:
        mode = (message.request_headers.get("sec-fetch-mode") or "").lower()
        if mode == "cors":
            return True
        return browser.is_cors_request(message)

    def _take_pending(self, message: Message, unsafe: list[str] | None = None) -> Message | None:
        origin = message.request_headers.get("origin") or NULL
        key = (origin, url_key(message.url))
        if unsafe is None:
            unsafe = browser.unsafe_header_names(message.request_headers)
        # mitmproxy upper-cases methods (`Request.method`); the preflight's ACRM keeps the wire case
        candidates = [p for p in self._pending.get(key, ()) if p.method.upper() == message.method.upper()]
        if not candidates:
            return None
        candidates.sort(key=lambda p: p.method != message.method)
        exact = [p for p in candidates if p.headers == unsafe]
        subset = [p for p in candidates if set(p.headers) <= set(message.request_headers.names())]
        chosen = (exact or subset or candidates)[0]
        self._pending[key].remove(chosen)
        self._set(self._pending, key, self._pending[key])
        return chosen.preflight

    def _take_chain(self, key: str, message: Message) -> _Chain | None:
        chains = self._chains.get(key)
        if not chains:
            return None
        origin = message.request_headers.get("origin")
        for chain in chains:
            page = chain.exchange.origin
            if origin is None or origin in (page, NULL):
                chains.remove(chain)
                self._set(self._chains, key, chains)
                return chain
        return None

    @staticmethod
    def _take(table: dict, key: tuple[str, str], match) -> _Held | None:  # type: ignore[type-arg, no-untyped-def]
        items = table.get(key)
        if not items:
            return None
        for item in items:
            if match(item):
                items.remove(item)
                if not items:
                    del table[key]
                return item
        return None

    def _add(self, table: dict, due: list, key: object, item: _Expiring) -> None:  # type: ignore[type-arg]
        table.setdefault(key, []).append(item)
        self._added += 1
        heapq.heappush(due, (item.deadline, self._added, key))

    @staticmethod
    def _set(table: dict, key: object, items: list) -> None:  # type: ignore[type-arg]
        if items:
            table[key] = items
        else:
            table.pop(key, None)


def pair(messages: Iterable[Message]) -> list[Exchange]:
    """Batch convenience: pair every message and return the finished exchanges."""
    pairer = Pairer()
    out: list[Exchange] = []
    for message in messages:
        out.extend(pairer.feed(message))
    out.extend(pairer.flush())
    return out
