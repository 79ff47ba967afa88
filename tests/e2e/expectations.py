"""What cors-audit must say about each oracle case, given what Chromium did: one set of rules for
every e2e test that compares cors-audit with Chromium (the HAR oracle, the live addon).

A case's truth is one `truth.json` item (`record.case_record`); a `Corpus` is those items in the
order the cases ran; a report is cors-audit's JSON report (`exchanges`). The judges return a
`Judgement`; `Judgement.enforce()` turns it into a pass, a skip or a failure.

The capture cannot show everything Chromium knew. These limits are handled explicitly, each the
same way for the report and for the live ALERT lines:

- The initiator. A capture does not say whether fetch(), XMLHttpRequest or sendBeacon() sent a
  request (all three send `Sec-Fetch-Dest: empty`), and Chromium's console text differs between
  them ("fetch", "XMLHttpRequest", "resource"). When cors-audit does not claim the request's real
  initiator, its message is compared with what Chromium printed for the case's fetch twin (same
  server behaviour, recorded in the same run), URL swapped in. Elements (`Sec-Fetch-Dest: image`,
  `script`, ...) are told apart on the wire, so their messages are compared as Chromium printed them.
- Credentials of a request the browser never sent. A credentialed request blocked before the
  Cookie went out leaves no Cookie in the capture. There, cors-audit's verdict passes when it
  matches, or when its `alternative` reading names Chromium's error; its message is then not
  comparable.
- Chromium's internal header order (`capture_limits=("header-order",)` in cases.py): with several
  headers missing from ACAH, the message may name any of the requested headers.
- fetch's redirect mode (`capture_limits=("redirect-mode",)`): a redirect that was not followed
  reads the same for 'manual' (allowed) and 'error' (net::ERR_FAILED). cors-audit passes when its
  verdict matches, or when its `alternative` reading names Chromium's answer; its message is then
  not comparable.

A plain network error (`net::ERR_TOO_MANY_REDIRECTS`, ...: Chromium's `loadingFailed` without a
`corsErrorStatus`) is Chromium's answer too: cors-audit must say "blocked" with no CorsError name,
and its message must name the same `net::` error.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pytest

from tests.e2e.cases import BY_ID

Truth = dict[str, Any]
Exchange = dict[str, Any]
Report = Mapping[str, Any]

XHR_INITIATORS = frozenset({"xhr", "xmlhttprequest"})
HIDDEN_INITIATORS: Mapping[str, frozenset[str]] = {
    "xmlhttprequest": XHR_INITIATORS,
    "beacon": frozenset({"beacon", "ping"}),
}
"""Initiators the wire cannot tell from fetch(), and the names cors-audit may claim for them."""

NON_UTF8_HEADER_BYTE = (
    "cors-audit keeps non-UTF-8 header bytes as U+FFFD, so the byte is lost for the message "
    "(it prints \\u00EF\\u00BF\\u00BD where Chromium prints the Latin-1 byte, e.g. \\u00FC)"
)
KNOWN_MESSAGE_DIFFERENCES: Mapping[str, str] = {"a7-non-ascii-latin1": NON_UTF8_HEADER_BYTE}
"""Cases whose verdict is right but whose console message cors-audit cannot reproduce: strict xfails
of the message comparison only (an XPASS fails, so a fix is noticed)."""

LIMIT_CREDENTIALS = "credentials"
LIMIT_REDIRECT_MODE = "redirect-mode"
LIMIT_HEADER_ORDER = "header-order"

_KIND = re.compile(r"Access to (.+?) at '")


@dataclass(frozen=True, slots=True)
class Judgement:
    """cors-audit's answer for one case next to Chromium's.

    `problem`: why they disagree (None when they agree). `excused_by`: the capture limit under
    which a differing verdict still passed (through the `alternative` reading). `skip`: why this
    part cannot be compared at all.
    """

    problem: str | None = None
    excused_by: str | None = None
    skip: str | None = None

    def enforce(self) -> None:
        """Fail on a problem, skip what cannot be compared, pass otherwise."""
        if self.problem is not None:
            pytest.fail(self.problem, pytrace=False)
        if self.skip is not None:
            pytest.skip(self.skip)


@dataclass
class Corpus:
    """Chromium's truth per case (`truth.json` items), in the order the cases ran."""

    items: Sequence[Truth]
    by_case: dict[str, Truth] = field(init=False)

    def __post_init__(self) -> None:
        self.by_case = {item["case"]: item for item in self.items}

    def occurrence(self, truth: Truth) -> int:
        """How many earlier cases requested the same URL with the same method (§4 repeats)."""
        n = 0
        for item in self.items:
            if item is truth:
                return n
            if item["url"] == truth["url"] and item["method"] == truth["method"]:
                n += 1
        raise AssertionError(f"{truth['case']} is not in its own corpus")

    def exchange(self, report: Report, truth: Truth) -> Exchange | None:
        """The exchange for this case: same URL and method, the n-th of them for a repeated URL.

        The method is compared exactly first, then case-insensitively: mitmproxy upper-cases
        methods (`patch` becomes `PATCH`), and only a paired preflight's
        Access-Control-Request-Method still shows what Chromium sent.
        """
        n = self.occurrence(truth)
        on_url = [x for x in report["exchanges"] if x.get("url") == truth["url"]]
        for same in (lambda m: m == truth["method"], lambda m: str(m).upper() == truth["method"].upper()):
            matches = [x for x in on_url if same(x.get("method"))]
            if n < len(matches):
                return matches[n]
        return None

    def twin_message(self, truth: Truth) -> str | None:
        """What Chromium printed for this case's fetch twin, with this case's URL swapped in."""
        twin = self.by_case.get(truth.get("twin") or "")
        if twin is None or twin["message"] is None:
            return None
        return (
            twin["message"]
            .replace(twin["path"] + "/", truth["path"] + "/")
            .replace(twin["path"] + "'", truth["path"] + "'")
        )


def near(report: Report, truth: Truth) -> str:
    """The report's exchanges on this case's path, for a failure message."""
    path = truth["path"]
    found = [
        f"{x.get('id')} {x.get('method')} {x.get('url')} -> {x.get('verdict')}"
        for x in report["exchanges"]
        if path in str(x.get("url")) or path in str(x.get("final_url"))
    ]
    return "; ".join(found) or "none"


def chromium_said(truth: Truth) -> str:
    parts = [truth["outcome"], truth["error"] or truth.get("net_error") or "-", repr(truth["message"])]
    return " | ".join(parts)


def audit_said(exchange: Exchange | None) -> str:
    if exchange is None:
        return "no exchange"
    parts = [str(exchange.get("verdict")), str(exchange.get("error") or "-"), repr(exchange.get("message"))]
    return " | ".join(parts)


def capture_limits(case_id: str) -> tuple[str, ...]:
    case = BY_ID.get(case_id)
    return case.capture_limits if case is not None else ()


def credentials_visible(truth: Truth) -> bool:
    """Whether the capture shows the request's credentials: not credentialed, or the Cookie went out."""
    return truth["credentials"] != "include" or bool(truth["cookie_sent"])


def _agrees(exchange: Exchange, truth: Truth) -> bool:
    """Verdict and error name agree (for a plain network error: blocked, no name, same net:: error)."""
    if truth["outcome"] == "error":
        return (exchange.get("verdict"), exchange.get("error")) == ("blocked", None) and str(
            truth["net_error"]
        ) in str(exchange.get("message") or "")
    return (exchange.get("verdict"), exchange.get("error")) == (truth["outcome"], truth["error"])


def _unrecorded(truth: Truth) -> str | None:
    if truth["outcome"] == "error" and not truth.get("net_error"):
        return f"{truth['case']}: the recording has no Chromium verdict ({truth.get('error_text')})"
    return None


def judge_verdict(corpus: Corpus, report: Report, case_id: str) -> Judgement:
    """cors-audit's verdict and CorsError name for the case against Chromium's."""
    truth = corpus.by_case[case_id]
    if (unrecorded := _unrecorded(truth)) is not None:
        return Judgement(problem=unrecorded)
    exchange = corpus.exchange(report, truth)
    outcome = truth["outcome"]
    if outcome == "absent":  # never reached the network, so it cannot be in the capture
        if exchange is not None:
            return Judgement(
                problem=f"{case_id}: Chromium sent nothing, cors-audit reports {audit_said(exchange)}"
            )
        return Judgement()
    if exchange is None:
        return Judgement(
            problem=f"{case_id}: no exchange for {truth['method']} {truth['url']} (occurrence "
            f"{corpus.occurrence(truth)}); Chromium: {chromium_said(truth)}; exchanges on this path: "
            f"{near(report, truth)}"
        )
    if outcome == "not-cors":
        if exchange.get("verdict") != "not-cors":
            return Judgement(
                problem=f"{case_id}: Chromium did no CORS check; cors-audit says {audit_said(exchange)}"
            )
        return Judgement()
    alternative = str(exchange.get("alternative") or "")
    if LIMIT_REDIRECT_MODE in capture_limits(case_id) and not _agrees(exchange, truth):
        wanted = truth.get("net_error") or truth["error"] or outcome
        if wanted in alternative:
            return Judgement(excused_by=LIMIT_REDIRECT_MODE)
        return Judgement(
            problem=f"{case_id}: the redirect mode is not in the capture, yet neither the verdict nor the "
            f"alternative reading is Chromium's. Chromium: {chromium_said(truth)}; cors-audit: "
            f"{audit_said(exchange)}, alternative {alternative!r}"
        )
    if outcome == "error":  # a plain network error: blocked, no CorsError
        if (exchange.get("verdict"), exchange.get("error")) != ("blocked", None):
            return Judgement(
                problem=f"{case_id}: Chromium failed it with {truth['net_error']} and no CorsError; "
                f"cors-audit: {audit_said(exchange)}"
            )
        return Judgement()
    if (exchange.get("verdict"), exchange.get("error")) == (outcome, truth["error"]):
        return Judgement()
    if not credentials_visible(truth):
        if truth["error"] and truth["error"] in alternative:
            return Judgement(excused_by=LIMIT_CREDENTIALS)
        return Judgement(
            problem=f"{case_id}: credentialed request blocked before it was sent (no Cookie in the "
            f"capture). Chromium: {chromium_said(truth)}; cors-audit: {audit_said(exchange)}, "
            f"alternative {alternative!r}"
        )
    return Judgement(
        problem=f"{case_id}: Chromium: {chromium_said(truth)}; cors-audit: {audit_said(exchange)}"
    )


def accepted_messages(corpus: Corpus, truth: Truth, claimed: str | None) -> tuple[str, ...] | None:
    """The console messages that agree with Chromium for a blocked case, Chromium's own (or its
    fetch twin's) first; None when a hidden initiator's case has no recorded fetch twin.

    `claimed` is the initiator cors-audit names; when it is not the hidden real one (XHR, beacon),
    the fetch twin's message is the one to match. With the header-order limit, the message may
    name any requested header.
    """
    expected: str | None = truth["message"]
    hidden = HIDDEN_INITIATORS.get(truth["initiator"])
    if hidden is not None and str(claimed or "").lower() not in hidden:
        expected = corpus.twin_message(truth)
        if expected is None:
            return None
    if expected is None:
        return ("<Chromium printed no console message>",)
    accepted = [expected]
    if LIMIT_HEADER_ORDER in capture_limits(truth["case"]):
        requested = [h.get("access-control-request-headers") or "" for h in truth["preflight_headers"]]
        names = sorted({n.strip() for value in requested for n in value.split(",") if n.strip()})
        needle = f"field {truth['failed_parameter']} is"
        accepted += [expected.replace(needle, f"field {name} is") for name in names]
    return tuple(dict.fromkeys(accepted))


def judge_message(corpus: Corpus, report: Report, case_id: str) -> Judgement:
    """The report's console message for the case against Chromium's."""
    truth = corpus.by_case[case_id]
    exchange = corpus.exchange(report, truth)
    said = None if exchange is None else exchange.get("message")
    claimed = None if exchange is None else exchange.get("initiator")
    return _judge_text(corpus, report, truth, said, claimed, "cors-audit's message")


def judge_alert(corpus: Corpus, report: Report, case_id: str, alert: str | None) -> Judgement:
    """The addon's live ALERT line for the case (None: no alert) against Chromium's console message.

    A live line has no `initiator` field: its own wording ("Access to XMLHttpRequest at") is its
    claim. The verdict part of the rules (which capture limit excused a differing verdict) comes
    from the report, the only place the `alternative` reading is written.
    """
    truth = corpus.by_case[case_id]
    return _judge_text(corpus, report, truth, alert, wording_claim(truth, alert), "the live alert")


def wording_claim(truth: Truth, message: str | None) -> str | None:
    """The initiator a message's wording claims, as far as it matters: the real one when the
    message names the same kind Chromium's does ("XMLHttpRequest", "resource"), else None."""
    said = _KIND.match(message or "")
    chromium = _KIND.match(truth["message"] or "")
    if said and chromium and said.group(1) == chromium.group(1):
        return truth["initiator"]
    return None


def _judge_text(
    corpus: Corpus, report: Report, truth: Truth, said: str | None, claimed: str | None, what: str
) -> Judgement:
    case_id = truth["case"]
    verdict = judge_verdict(corpus, report, case_id)
    if verdict.excused_by is not None:
        return Judgement(
            skip=f"{case_id}: capture limit {verdict.excused_by}: cors-audit's verdict differs from "
            "Chromium's and its alternative reading names Chromium's answer, so the messages cannot agree"
        )
    if (unrecorded := _unrecorded(truth)) is not None:
        return Judgement(problem=unrecorded)
    outcome = truth["outcome"]
    if outcome == "error":
        if truth["net_error"] not in str(said or ""):
            return Judgement(
                problem=f"{case_id}: Chromium failed it with {truth['net_error']}; {what}: {said!r}"
            )
        return Judgement()
    if outcome != "blocked":
        if said:
            return Judgement(
                problem=f"{case_id}: Chromium printed no CORS message ({outcome}); {what}: {said!r}"
            )
        return Judgement()
    accepted = accepted_messages(corpus, truth, claimed)
    if accepted is None:
        return Judgement(skip=f"{case_id}: {truth['initiator']} case without a recorded fetch twin")
    if said not in accepted:
        others = "".join(f"\n  or:         {m!r}" for m in accepted[1:])
        return Judgement(
            problem=f"{case_id}: console message differs\n  Chromium:   {accepted[0]!r}{others}\n"
            f"  {what}: {said!r}"
        )
    return Judgement()


def message_params(case_ids: Iterable[str]) -> list[Any]:
    """Case ids for a message test, the known message differences marked as strict xfails."""
    return [
        pytest.param(cid, marks=pytest.mark.xfail(strict=True, reason=KNOWN_MESSAGE_DIFFERENCES[cid]))
        if cid in KNOWN_MESSAGE_DIFFERENCES
        else cid
        for cid in case_ids
    ]
