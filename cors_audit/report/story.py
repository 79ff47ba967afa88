"""What happened to one exchange, step by step, as the sequence diagrams and header tables show it.

A story is plain data (no markup): the page's call, the preflight (sent, answered from the
preflight cache, or missing from the capture), each hop of the actual request, the browser's
checks, and the verdict the page sees. It is built from the report dict's exchange, plus the
captured messages when the Audit is at hand (header lines, statuses); secrets are redacted
the way the JSON redacts them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from cors_audit.messages import initiator_kind
from cors_audit.model import Exchange, Message
from cors_audit.origin import origin_of
from cors_audit.redact import redact_header, redact_url
from cors_audit.report.advice import PAIRS, advice_for, header_pairs
from cors_audit.rules.observe import REQUEST_EVIDENCE

# Header lines a CORS diagram shows (the request lines that are evidence for the rules too);
# everything else is noise for this question.
REQUEST_HEADERS = REQUEST_EVIDENCE
RESPONSE_PREFIX = "access-control-"
RESPONSE_HEADERS = ("vary", "location")
MAX_LINES = 8  # header lines per message in a diagram
MAX_HOPS = 4  # redirect hops drawn; the rest are summarised


@dataclass(slots=True)
class Event:
    """One arrow or note: `kind` is call, send, receive, cached, check, risk, note or result."""

    kind: str
    title: str
    lines: list[str] = field(default_factory=list)
    ok: bool | None = None
    dashed: bool = False
    marked: list[int] = field(default_factory=list)  # indexes of `lines` the failed check is about


@dataclass(slots=True)
class Story:
    xid: str
    origin: str
    target: str
    outcome: str
    error: str | None
    blocked_at: str | None
    events: list[Event]
    verdict: str
    pairs: list[dict[str, object]] = field(default_factory=list)


def build_story(
    x: dict[str, Any], exchange: Exchange | None = None, *, redact: bool = True, risk: str | None = None
) -> Story:
    """The story of exchange dict `x`; `exchange` (the same exchange from the Audit) adds headers.

    `risk` (a finding's title) is drawn after the browser's checks: what the answer exposes.
    """
    origin = x["origin"] or "(no Origin header)"
    method = x["method"]
    path = _path(x["url"])
    blocked_at = x["blocked_at"]
    error = x["error"] or _network_error(x["message"])
    events = [
        Event("call", f"{initiator_kind(x['initiator'])}() {method}", [f"credentials: {x['credentials']}"])
    ]
    pairs: list[dict[str, object]] = []
    failing = advice_for(error).pair
    preflight = x["preflight"]
    if preflight is not None:
        if preflight["cached"]:
            cached_from = exchange.cached_from if exchange is not None else None
            lines = [f"earlier preflight: {cached_from}"] if cached_from else []
            events.append(Event("cached", "preflight answered from the browser's preflight cache", lines))
        elif not preflight["observed"]:
            events.append(Event("send", f"OPTIONS {path}", ["(not in the capture)"], dashed=True))
            events.append(Event("note", "preflight not captured: judged from the actual request"))
        else:
            message = exchange.preflight if exchange is not None else None
            events.extend(_round_trip("OPTIONS", path, message, preflight["status"], redact))
            if blocked_at == "preflight":
                _mark(events[-1], failing)
                events.append(Event("check", f"✗ preflight check failed: {error or 'blocked'}", ok=False))
                if message is not None:
                    pairs = _pairs(message, x["credentials"], failing, redact)
            else:
                events.append(Event("check", "✓ preflight passed", ok=True))
    if blocked_at == "preflight":
        events.append(Event("note", f"the {method} request itself was never sent"))
    else:
        hops = exchange.hops if exchange is not None and exchange.hops else []
        if hops:
            for index, hop in enumerate(hops[:MAX_HOPS]):
                hop_url = redact_url(hop.url) if redact else hop.url
                events.extend(_round_trip(hop.method, _path(hop_url), hop, hop.status, redact))
                if index < len(hops) - 1:
                    location = hops[index + 1].url
                    events.append(
                        Event("note", f"↪ redirected to {redact_url(location) if redact else location}")
                    )
            if len(hops) > MAX_HOPS:
                events.append(Event("note", f"… {len(hops) - MAX_HOPS} more redirect hops"))
            if blocked_at in ("actual", "redirect"):
                _mark(events[-1], failing)
                pairs = _pairs(hops[-1], x["credentials"], failing, redact)
        else:
            events.append(Event("send", f"{method} {path}"))
            events.append(
                Event("receive", "response (headers in the JSON report's source entries)", dashed=True)
            )
        events.append(_final_check(x["verdict"], error))
        if risk:
            events.append(Event("risk", f"⚠ {risk}"))
    events.append(_result(x["verdict"]))
    return Story(
        xid=x["id"],
        origin=origin,
        target=_target(x["url"]),
        outcome=x["verdict"],
        error=error,
        blocked_at=blocked_at,
        events=events,
        verdict=verdict_sentence(x["verdict"], error, blocked_at),
        pairs=pairs,
    )


def verdict_sentence(outcome: str, error: str | None, blocked_at: str | None) -> str:
    if outcome == "allowed":
        return "allowed: the page can read the response"
    if outcome == "blocked":
        where = f" at the {blocked_at}" if blocked_at else ""
        return f"blocked{where}: {error or 'network error'}"
    if outcome == "not-cors":
        return "not a CORS request: no CORS check applies"
    return "unknown: the capture cannot tell"


def key_lines(items: Any, names: tuple[str, ...], prefix: str | None, redact: bool) -> list[str]:
    """`Name: value` lines of the headers a CORS reader cares about, in capture order, capped."""
    out = []
    for name, value in items:
        lname = name.lower()
        if lname in names or (prefix is not None and lname.startswith(prefix)):
            out.append(f"{name}: {redact_header(name, value) if redact else value}")
    if len(out) > MAX_LINES:
        out = [*out[: MAX_LINES - 1], f"… {len(out) - MAX_LINES + 1} more header lines"]
    return out


def _round_trip(
    method: str, path: str, message: Message | None, status: int | None, redact: bool
) -> list[Event]:
    request = key_lines(message.request_headers, REQUEST_HEADERS, None, redact) if message else []
    send = Event("send", f"{method} {path}", request)
    if message is None and status is None:
        return [send, Event("receive", "no response", dashed=True)]
    if status is None:
        failure = message.error if message is not None and message.error else "no response"
        return [send, Event("receive", failure, dashed=True)]
    response = (
        key_lines(message.response_headers, RESPONSE_HEADERS, RESPONSE_PREFIX, redact) if message else []
    )
    if message is not None and not response:
        response = ["(no CORS headers)"]
    return [send, Event("receive", str(status), response)]


def _mark(event: Event, failing: str | None) -> None:
    """Mark the response line the failed check is about, or add "(no X)" when the header is absent."""
    header = next((answer for key, _, answer in PAIRS if key == failing), None)
    if event.kind != "receive" or failing is None or header is None or event.dashed:
        return
    if failing == "status":
        event.marked.append(-1)  # the status itself, in the title
        return
    name = header.lower() + ":"
    found = [i for i, line in enumerate(event.lines) if line.lower().startswith(name)]
    if not found:
        if event.lines == ["(no CORS headers)"]:
            event.lines.clear()
        event.lines.append(f"(no {header})")
        found = [len(event.lines) - 1]
    event.marked.extend(found)


def _pairs(message: Message, credentials: str, failing: str | None, redact: bool) -> list[dict[str, object]]:
    def lines(items: Any) -> list[tuple[str, str]]:
        return [(n, redact_header(n, v) if redact else v) for n, v in items]

    if message.status is None:  # no response: only the failure itself is worth a row
        failing = "status"
    rows = header_pairs(
        lines(message.request_headers),
        lines(message.response_headers),
        credentials=credentials,
        request_line=f"{message.method} {_path(redact_url(message.url) if redact else message.url)}",
        status=str(message.status) if message.status is not None else (message.error or "no response"),
        failing=failing,
    )
    return rows if message.status is not None else rows[:1]


def _final_check(outcome: str, error: str | None) -> Event:
    if outcome == "allowed":
        return Event("check", "✓ CORS check passed", ok=True)
    if outcome == "blocked":
        return Event("check", f"✗ {error or 'blocked'}", ok=False)
    if outcome == "not-cors":
        return Event("check", "no CORS check (same-origin, navigation or no-cors)")
    return Event("check", "? the capture cannot tell")


def _result(outcome: str) -> Event:
    if outcome == "allowed":
        return Event("result", "✓ response readable", ok=True)
    if outcome == "blocked":
        return Event("result", "✗ TypeError", ["Failed to fetch"], ok=False)
    if outcome == "not-cors":
        return Event("result", "response")
    return Event("result", "?")


def _network_error(message: str | None) -> str | None:
    if message and message.startswith("net::"):
        return message.split(" ", 1)[0]
    return None


def _path(url: str) -> str:
    try:
        parts = urlsplit(url)
    except ValueError:
        return url
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return url  # data:, javascript:, mangled: the whole thing is the clearest name
    return (parts.path or "/") + (f"?{parts.query}" if parts.query else "")


def _target(url: str) -> str:
    return origin_of(url)
