"""Risky CORS configurations: one module per family, one registry of every rule id.

`evaluate` runs every family over all judged exchanges of one audit (the context across
exchanges is what passive proof needs), merges the hits into one `Finding` per
(rule, target origin, path pattern), ranks them, and records on each exchange the rule ids it
shows. `live_findings` is the same machinery over one exchange: what the live addon can decide
without the rest of the traffic.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence

from cors_audit.fixes import fix_for
from cors_audit.model import Exchange, Finding, Severity
from cors_audit.rules import caching, preflight, reflection, trust, validity, wildcard
from cors_audit.rules.observe import Hit, Observation, RuleContext, Traffic
from cors_audit.rules.registry import PASSIVE_RULES, REGISTRY, RULE_ORDER, RuleInfo, rule_info

__all__ = [
    "PASSIVE_RULES",
    "REGISTRY",
    "RuleContext",
    "RuleInfo",
    "evaluate",
    "live_evaluate",
    "live_findings",
    "rule_info",
]

Check = Callable[[Traffic, RuleContext], Iterable[Hit]]
FAMILIES: tuple[Check, ...] = (
    reflection.check,
    trust.check,
    wildcard.check,
    validity.check,
    caching.check,
    preflight.check,
)
MAX_SAMPLES = 3


def evaluate(exchanges: Sequence[Exchange], context: RuleContext) -> list[Finding]:
    """Every risk the traffic proves, one Finding per (rule, target), worst first.

    Side effect, by contract: each exchange's `findings` lists the rule ids it shows.
    """
    findings = _findings(Traffic.build(exchanges), context)
    by_id = {e.id: e for e in exchanges}
    for finding in findings:
        for exchange_id in finding.exchanges:
            exchange = by_id.get(exchange_id)
            if exchange is not None and finding.rule not in exchange.findings:
                exchange.findings.append(finding.rule)
    return findings


def live_evaluate(exchange: Exchange, context: RuleContext) -> list[Finding]:
    """The findings decidable from this one exchange (no side effects on it)."""
    return _findings(Traffic.build([exchange]), context)


def live_findings(exchange: Exchange, context: RuleContext) -> list[str]:
    """Rule ids decidable from one exchange alone, worst first (null trusted, `*` with credentials,
    invalid ACAO, insecure origin, long max-age, reflection outside declared trusted origins, ...).
    Info-level ids are included; filter with `live_evaluate` when severity matters."""
    return [f.rule for f in live_evaluate(exchange, context)]


def _findings(traffic: Traffic, context: RuleContext) -> list[Finding]:
    groups: dict[tuple[str, str, str], list[Hit]] = {}
    for family in FAMILIES:
        for hit in family(traffic, context):
            target, pattern = hit.observations[0].endpoint
            groups.setdefault((hit.rule, target, pattern), []).append(hit)
    findings = [
        _finding(rule, target + pattern, hits, context) for (rule, target, pattern), hits in groups.items()
    ]
    findings.sort(key=lambda f: (-int(f.severity), RULE_ORDER.get(f.rule, 999), f.target))
    return findings


def _finding(rule: str, target: str, hits: list[Hit], context: RuleContext) -> Finding:
    info = rule_info(rule)
    worst = max(hits, key=lambda h: int(h.severity))
    observations = _unique(o for h in hits for o in h.observations)
    exchange_ids = _unique_str(e for o in observations for e in o.exchanges)
    credentialed = any(o.credentialed for o in observations)
    fix = fix_for(rule, context.trusted_origins, credentials=credentialed or rule.endswith("credentials"))
    proof = worst.proof
    if len(exchange_ids) > 1:
        proof += f" Seen in {len(exchange_ids)} exchanges."
    return Finding(
        rule=rule,
        severity=worst.severity,
        title=info.title,
        target=target,
        evidence=_evidence(observations, hits, context),
        exchanges=exchange_ids,
        count=len(exchange_ids),
        impact=worst.impact or info.impact,
        fix=fix.text,
        fix_snippets=dict(fix.snippets),
        confidence="observed",
        proof=proof,
    )


def _evidence(observations: list[Observation], hits: list[Hit], context: RuleContext) -> dict[str, object]:
    evidence: dict[str, object] = {
        "origins": sorted({o.origin for o in observations if o.origin is not None}),
        "allow_origin": sorted({o.acao for o in observations if o.acao is not None}),
        "credentials": any(o.credentialed for o in observations),
        "statuses": sorted({o.status for o in observations if o.status is not None}),
    }
    for hit in hits:
        for key, value in hit.details.items():
            if isinstance(value, list):
                merged = evidence.setdefault(key, [])
                if isinstance(merged, list):
                    merged.extend(v for v in value if v not in merged)
            elif isinstance(value, bool):
                evidence[key] = bool(evidence.get(key)) or value
            else:
                evidence.setdefault(key, value)
    evidence["samples"] = [o.sample(context.redact) for o in _pick_samples(observations)]
    return evidence


def _pick_samples(observations: list[Observation]) -> list[Observation]:
    """A few responses that show the problem best: distinct origins first, successes before errors."""
    ranked = sorted(observations, key=lambda o: (o.failed, o.kind != "actual"))
    picked: list[Observation] = []
    origins: set[str | None] = set()
    for o in ranked:
        if o.origin not in origins:
            picked.append(o)
            origins.add(o.origin)
        if len(picked) == MAX_SAMPLES:
            return picked
    for o in ranked:
        if o not in picked:
            picked.append(o)
        if len(picked) == MAX_SAMPLES:
            break
    return picked


def _unique(items: Iterable[Observation]) -> list[Observation]:
    seen: set[int] = set()
    out = []
    for item in items:
        if id(item) not in seen:
            seen.add(id(item))
            out.append(item)
    return out


def _unique_str(items: Iterator[str] | Iterable[str]) -> list[str]:
    return list(dict.fromkeys(items))


def severity_of(findings: Sequence[Finding]) -> Severity | None:
    """The worst severity among `findings` (None when there are none): what `--fail-on` compares."""
    return max((f.severity for f in findings), default=None)
