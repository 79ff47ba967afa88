"""The one pipeline every entry point runs: messages -> pairing -> browser verdicts -> rules -> Audit."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence

from cors_audit import browser, rules
from cors_audit.model import PROBE_USER_AGENT, Audit, Exchange, Message
from cors_audit.pairing import Pairer


class LiveJudge:
    """Pairing and verdicts one message at a time, for the live addon (same core as the CLI)."""

    def __init__(self) -> None:
        self._pairer = Pairer()

    def feed(self, message: Message) -> list[Exchange]:
        return self._pairer.feed(message)

    def expire(self, now: float) -> list[Exchange]:
        return self._pairer.expire(now)

    def flush(self) -> list[Exchange]:
        return self._pairer.flush()

    @property
    def pending(self) -> int:
        return self._pairer.pending


def judge_all(messages: Iterable[Message], warnings: list[str] | None = None) -> tuple[int, list[Exchange]]:
    """Pair and judge every message; exchanges come back in time order with ids x1, x2, ...

    Requests our own probe sent (its User-Agent token), recorded by the same proxy, are left out
    with one warning: they are not what the browser did.
    """
    pairer = Pairer()
    exchanges: list[Exchange] = []
    count = 0
    probes = 0
    for message in messages:
        count += 1
        if PROBE_USER_AGENT in (message.request_headers.get("user-agent") or ""):
            probes += 1  # `cors-audit probe` traffic recorded by the same proxy: not the browser's
            continue
        for exchange in pairer.feed(message):
            browser.slim(exchange)
            exchanges.append(exchange)
    for exchange in pairer.flush():
        browser.slim(exchange)
        exchanges.append(exchange)
    if probes and warnings is not None:
        warnings.append(
            f"{probes} requests sent by cors-audit probe (User-Agent {PROBE_USER_AGENT}...) were left out: "
            "they are not browser traffic"
        )
    exchanges.sort(key=_first_seen)
    for number, exchange in enumerate(exchanges, 1):
        exchange.id = f"x{number}"
        if exchange.verdict is None:
            exchange.verdict = browser.judge(exchange)
    return count, exchanges


def analyze(
    messages: Iterable[Message],
    *,
    inputs: Sequence[str],
    trusted_origins: Sequence[str] = (),
    redact: bool = True,
    warnings: list[str] | None = None,
    judged: Callable[[list[Exchange]], object] | None = None,
) -> Audit:
    """Run the whole core over `messages` and return the Audit every report format renders.

    `judged` is called with the exchanges once every one is judged, before the rules run (the
    command line forks its report renderer there).
    """
    warnings = warnings if warnings is not None else []
    count, exchanges = judge_all(messages, warnings)
    if judged is not None:
        judged(exchanges)
    context = rules.RuleContext(trusted_origins=tuple(trusted_origins), redact=redact)
    findings = rules.evaluate(exchanges, context)
    return Audit(
        inputs=list(inputs),
        messages=count,
        exchanges=exchanges,
        findings=findings,
        warnings=warnings,
    )


def _first_seen(exchange: Exchange) -> tuple[float, str]:
    messages = exchange.messages
    return (messages[0].started if messages else 0.0, exchange.url)
