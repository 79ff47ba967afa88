"""Judging probe answers: which forged origins the server granted, which flaw that proves, and the
merge of those findings into an Audit.

A server is judged the way a browser would judge it: a probe is granted when one
Access-Control-Allow-Origin line equals the forged Origin byte for byte, and it is credentialed when
Access-Control-Allow-Credentials is exactly `true`. Many probes are granted by one flaw (a server
that reflects every origin also grants the prefix probe), so findings name the flaw that explains
the granted probes, not each probe:

- the arbitrary origin granted: reflection; every derived probe is implied and not reported again;
- prefix and suffix probes both granted: an unanchored "contains" check, `substring-match`;
- a special-character probe that starts with a granted prefix probe's origin is the prefix flaw;
- a subdomain or look-alike (unescaped-dot) probe that ends with a granted suffix probe's domain is
  the suffix flaw;
- a suffix probe that is itself a subdomain (`<rand>app.example.com`) of a domain whose made-up
  subdomain was granted is the subdomain flaw.

`null`, `http://` downgrade, third-party and localhost grants are independent flaws and always
reported. Pure: no I/O.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, fields, replace
from urllib.parse import urlsplit

from cors_audit.fixes import fix_for
from cors_audit.model import Audit, Finding, Severity
from cors_audit.origin import parse_origin
from cors_audit.probe.model import ProbeResult, Target
from cors_audit.redact import redact_header, redact_url
from cors_audit.rules.observe import lower, private_network
from cors_audit.rules.registry import RULE_ORDER, rule_info

RULE_OF_KIND = {
    "arbitrary": "reflected-origin-credentials",
    "null": "null-origin-trusted",
    "http": "insecure-origin-trusted",
    "prefix": "prefix-match",
    "suffix": "suffix-match",
    "unescaped-dot": "unescaped-dot",
    "substring": "substring-match",
    "subdomain": "arbitrary-subdomain",
    "third-party": "third-party-origin-trusted",
    "localhost": "localhost-origin-trusted",
    "special-char": "special-char-bypass",
}
# A probe finding that proves more than a passive one on the same target replaces it; one that proves
# less confirms it (reflection seen with credentials in the capture, without them in the probe).
SUPERSEDES = {"reflected-origin-credentials": "reflected-origin"}
MAX_SAMPLES = 3


@dataclass(slots=True)
class ProbeStats:
    """What a probe run did, for the report and the terminal."""

    targets: int = 0
    sent: int = 0
    answered: int = 0
    failed: int = 0
    skipped: int = 0
    seconds: float = 0.0

    def add(self, other: ProbeStats) -> None:
        """Count `other`'s run in too (the addon's probe runs, one per time probing was on)."""
        for f in fields(self):
            setattr(self, f.name, getattr(self, f.name) + getattr(other, f.name))


def granted(results: Iterable[ProbeResult]) -> list[ProbeResult]:
    """Answers that grant their forged Origin (the legitimate baseline is not forged)."""
    return [r for r in results if r.echoes and r.request.probe.kind != "baseline"]


def explain(results: Sequence[ProbeResult]) -> dict[str, list[ProbeResult]]:
    """The granting answers grouped by the rule id of the flaw that explains them."""
    grants = granted(results)
    kinds = {r.request.probe.kind for r in grants}
    by_rule: dict[str, list[ProbeResult]] = {}
    if "arbitrary" in kinds:
        for r in grants:
            if r.request.probe.kind in ("arbitrary", "null"):
                by_rule.setdefault(RULE_OF_KIND[r.request.probe.kind], []).append(r)
        return by_rule
    heads = {r.request.probe.anchor for r in grants if r.request.probe.kind == "prefix"}
    subdomains = {r.request.probe.anchor for r in grants if r.request.probe.kind == "subdomain"}
    # `<rand>app.example.com` ends with app.example.com but is also a subdomain of example.com: when a
    # subdomain of example.com was granted, that grant proves no suffix check on its own.
    ambiguous = {
        id(r)
        for r in grants
        if r.request.probe.kind == "suffix"
        and any(_host(r.request.probe.origin).endswith("." + a) for a in subdomains)
    }
    tails = {
        r.request.probe.anchor for r in grants if r.request.probe.kind == "suffix" and id(r) not in ambiguous
    }
    contains = bool(heads) and bool(tails)
    for r in grants:
        probe = r.request.probe
        rule = RULE_OF_KIND[probe.kind]
        explained_by_prefix = probe.kind == "special-char" and any(probe.origin.startswith(h) for h in heads)
        explained_by_suffix = probe.kind in ("subdomain", "unescaped-dot", "suffix") and any(
            _host(probe.origin).endswith(t) for t in tails
        )
        if probe.kind == "suffix" and id(r) in ambiguous and not explained_by_suffix:
            rule = "arbitrary-subdomain"
        if contains and (probe.kind in ("prefix", "suffix") or explained_by_prefix or explained_by_suffix):
            rule = "substring-match"
        elif explained_by_prefix:
            rule = "prefix-match"
        elif explained_by_suffix:
            rule = "suffix-match"
        by_rule.setdefault(rule, []).append(r)
    return by_rule


def judge(target: Target, results: Sequence[ProbeResult], *, redact: bool = True) -> list[Finding]:
    """The findings one target's probe answers prove, worst first; each `confidence: confirmed`."""
    findings = [
        _finding(target, rule, proving, results, redact) for rule, proving in explain(results).items()
    ]
    findings.sort(key=sort_key)
    return findings


def sort_key(finding: Finding) -> tuple[int, int, str]:
    return (-int(finding.severity), RULE_ORDER.get(finding.rule, 999), finding.target)


def _finding(
    target: Target, rule: str, proving: list[ProbeResult], results: Sequence[ProbeResult], redact: bool
) -> Finding:
    credentialed = [r for r in proving if r.credentialed]
    if rule == "reflected-origin-credentials" and not credentialed:
        rule = "reflected-origin"
    info = rule_info(rule)
    shown = credentialed or proving
    severity = _severity(rule, target, shown, bool(credentialed))
    fix = fix_for(rule, target.trusted, credentials=bool(credentialed))
    origins = sorted({r.request.probe.origin for r in proving})
    statuses = sorted({r.status for r in proving if r.status is not None})
    return Finding(
        rule=rule,
        severity=severity,
        title=info.title,
        target=target.endpoint,
        evidence={
            "origins": origins,
            "allow_origin": sorted({r.allow_origin or "" for r in proving}),
            "credentials": bool(credentialed),
            "statuses": statuses,
            "probe_kinds": sorted({r.request.probe.kind for r in proving}),
            "trusted_origins": list(target.bases),
            "legitimate_origin_granted": _baseline(results),
            "samples": [sample(r, redact) for r in _pick(shown)],
        },
        exchanges=[],
        count=len(proving),
        impact=info.impact,
        fix=fix.text,
        fix_snippets=dict(fix.snippets),
        confidence="confirmed",
        proof=_proof(rule, target, proving, credentialed),
    )


def _severity(rule: str, target: Target, proving: list[ProbeResult], credentialed: bool) -> Severity:
    """The passive rules' severity for the same grant (credential- and status-aware); a broken matcher
    is high with credentials, and without them grants what `*` grants: low (medium on private networks)."""
    private = private_network(target.host)
    if rule == "reflected-origin-credentials":
        severity = Severity.CRITICAL
    elif rule == "reflected-origin":
        severity = Severity.MEDIUM if private else Severity.INFO
    elif rule == "null-origin-trusted":
        severity = Severity.HIGH if credentialed else Severity.MEDIUM
    elif rule in ("insecure-origin-trusted", "third-party-origin-trusted"):
        severity = Severity.MEDIUM if credentialed else Severity.LOW
        if rule == "insecure-origin-trusted" and _hsts_covers(proving):
            severity = lower(severity)
    elif rule == "localhost-origin-trusted":
        severity = Severity.LOW if credentialed else Severity.INFO
    else:
        severity = Severity.HIGH if credentialed else (Severity.MEDIUM if private else Severity.LOW)
    if proving and all(r.failed for r in proving):
        severity = lower(severity)
    return severity


def _hsts_covers(proving: list[ProbeResult]) -> bool:
    """The https resource's HSTS covers the downgraded host: browsers upgrade it before any page loads."""
    for r in proving:
        hsts = (r.headers.get("strict-transport-security") or "").lower().replace(" ", "")
        if not hsts:
            continue
        host = _host(r.request.probe.origin)
        target = r.request.target.host
        if host == target or ("includesubdomains" in hsts and host.endswith("." + target)):
            return True
    return False


def _baseline(results: Sequence[ProbeResult]) -> bool | None:
    """Whether the legitimate origin itself was granted (None when no baseline answer came back)."""
    answers = [r for r in results if r.request.probe.kind == "baseline" and r.status is not None]
    if not answers:
        return None
    return any(r.echoes for r in answers)


def _pick(results: list[ProbeResult]) -> list[ProbeResult]:
    """A few answers that show the flaw best: distinct origins, successful answers first."""
    ranked = sorted(results, key=lambda r: (r.failed, r.request.is_preflight))
    picked: list[ProbeResult] = []
    origins: set[str] = set()
    for r in ranked:
        if r.request.probe.origin not in origins:
            picked.append(r)
            origins.add(r.request.probe.origin)
    for r in ranked:
        if r not in picked:
            picked.append(r)
    return picked[:MAX_SAMPLES]


def sample(result: ProbeResult, redact: bool) -> dict[str, object]:
    """The exact request and response header lines of one probe, secrets redacted unless asked not to."""
    request = result.request

    def show(name: str, value: str) -> str:
        return f"{name}: {redact_header(name, value) if redact else value}"

    response = [f"HTTP/1.1 {result.status} {result.reason}".rstrip()] if result.status is not None else []
    response += [show(n, v) for n, v in result.headers]
    line = request.request_line()
    return {
        "kind": "probe",
        "probe": request.probe.kind,
        "method": request.method,
        "url": redact_url(request.url) if redact else request.url,
        "status": result.status,
        "request": [line] + [show(n, v) for n, v in request.headers],
        "response": response,
    }


def _proof(rule: str, target: Target, proving: list[ProbeResult], credentialed: list[ProbeResult]) -> str:
    shown = credentialed or proving
    origins = sorted({r.request.probe.origin for r in shown})
    how = ", ".join(sorted({f"{r.request.method} {r.status}" for r in shown}))
    named = ", ".join(origins[:3]) + (f" and {len(origins) - 3} more" if len(origins) > 3 else "")
    text = f"Probe: the server granted the forged Origin {named} ({how})"
    text += " with Access-Control-Allow-Credentials: true." if credentialed else "."
    if rule == "substring-match" and any(r.request.probe.kind in ("prefix", "suffix") for r in proving):
        text += " Origins that start and that end with the trusted name were both granted: the check "
        text += "looks for the name anywhere in the Origin."
    bases = ", ".join(target.bases)
    return f"{text} Derived from {bases}."


def _host(origin: str) -> str:
    parsed = parse_origin(origin)
    if parsed is not None and not parsed.is_opaque:
        return parsed.host
    return (urlsplit(origin).hostname or "") if "://" in origin else ""


# ---- merge ----


def merge(audit: Audit, findings: Sequence[Finding], warnings: Sequence[str] = ()) -> Audit:
    """`audit` plus the probe findings: a passive finding a probe confirms becomes `confirmed` (with the
    probe's evidence and the worse severity) instead of appearing twice. The warnings list is kept
    (callers hold on to it) and the probe warnings are appended to it."""
    merged = list(audit.findings)
    by_key = {(f.rule, f.target): f for f in merged}
    weaker = {v: k for k, v in SUPERSEDES.items()}
    exchanges = {x.id: x for x in audit.exchanges}
    for found in findings:
        found = replace(found, exchanges=list(found.exchanges))  # the caller's findings stay as they were
        same = by_key.get((found.rule, found.target))
        replaced = by_key.get((SUPERSEDES.get(found.rule, ""), found.target))
        stronger = by_key.get((weaker.get(found.rule, ""), found.target))
        if same is not None:
            _confirm(same, found)
        elif replaced is not None:
            found.exchanges = list(replaced.exchanges)
            found.count += replaced.count
            merged[merged.index(replaced)] = found
            by_key.pop((replaced.rule, replaced.target))
            by_key[(found.rule, found.target)] = found
            for exchange_id in found.exchanges:
                exchange = exchanges.get(exchange_id)
                if exchange is not None:
                    exchange.findings = [found.rule if r == replaced.rule else r for r in exchange.findings]
        elif stronger is not None:
            _confirm(stronger, found)
        else:
            merged.append(found)
            by_key[(found.rule, found.target)] = found
    merged.sort(key=sort_key)
    audit.warnings.extend(warnings)
    return replace(audit, findings=merged, probed=True)


def _confirm(passive: Finding, probe: Finding) -> None:
    passive.confidence = "confirmed"
    passive.severity = max(passive.severity, probe.severity)
    passive.evidence = {**passive.evidence, "probe": probe.evidence}
    passive.proof = f"{passive.proof} Confirmed by probe: {probe.proof.removeprefix('Probe: ')}"
