"""The JSON report (`"schema": 1`): one builder every output shares, and the file writer.

`audit_to_dict` is the single place that turns an Audit into plain data. The JSON file is
that dict; the HTML page, the CSV and the terminal summary are rendered from it, so every
format shows the same (redacted) values.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import msgspec

import cors_audit
from cors_audit.model import Audit, Exchange, Finding, Message, Severity
from cors_audit.redact import redact_url

SCHEMA_VERSION = 1
OUTCOMES = ("allowed", "blocked", "not-cors", "unknown")
SEVERITIES = tuple(str(s) for s in sorted(Severity, reverse=True))  # critical ... info


def audit_to_dict(
    audit: Audit, *, redact: bool = True, exchanges: list[dict[str, Any]] | None = None
) -> dict[str, Any]:
    """Plain, JSON-ready data for one audit, in the stable schema-1 shape.

    With `redact`, token-like query values and URL passwords are blanked in every URL and in
    the console messages that quote them (finding evidence is already redacted by the rules).
    `exchanges`: the exchange records, if already built (`exchange_to_dict`, the same `redact`).
    """
    if exchanges is None:
        exchanges = [exchange_to_dict(x, redact=redact) for x in audit.exchanges]
    findings = [finding_to_dict(f) for f in audit.findings]
    report: dict[str, Any] = {
        "schema": SCHEMA_VERSION,
        "tool": {"name": "cors-audit", "version": cors_audit.__version__},
        "inputs": list(audit.inputs),
        "summary": summarize(audit.messages, exchanges, findings),
        "exchanges": exchanges,
        "findings": findings,
        "warnings": list(audit.warnings),
    }
    # Only when forged-Origin probes ran (an audit from `cors_audit.probe`): a passive report stays
    # exactly what it was, and `"probe": true` tells a reader some findings come from active requests.
    if audit.probed:
        report["probe"] = True
    return report


def summarize(
    messages: int, exchanges: Iterable[dict[str, Any]], findings: Iterable[dict[str, Any]]
) -> dict[str, Any]:
    """Counts by verdict and by finding severity (DESIGN.md's summary, plus "unknown")."""
    outcomes = dict.fromkeys(OUTCOMES, 0)
    total = 0
    for exchange in exchanges:
        total += 1
        outcomes[exchange["verdict"]] = outcomes.get(exchange["verdict"], 0) + 1
    by_severity = dict.fromkeys(SEVERITIES, 0)
    for finding in findings:
        by_severity[finding["severity"]] += 1
    return {
        "messages": messages,
        "exchanges": total,
        "allowed": outcomes["allowed"],
        "blocked": outcomes["blocked"],
        "not_cors": outcomes["not-cors"],
        "unknown": outcomes["unknown"],
        "findings": by_severity,
    }


def exchange_to_dict(exchange: Exchange, *, redact: bool = True) -> dict[str, Any]:
    """One exchange in the schema-1 shape; every exchange is reported, not-cors ones too."""
    verdict = exchange.verdict
    url = exchange.url
    final_url = exchange.final_url
    message = verdict.message if verdict else None
    if redact:
        url, final_url, message = _redact_urls(url, final_url, message)
    return {
        "id": exchange.id,
        "url": url,
        "final_url": final_url,
        "method": exchange.method,
        "origin": exchange.origin,
        "credentials": exchange.credentials,
        "initiator": exchange.initiator,
        "preflight": _preflight(exchange),
        "verdict": verdict.outcome if verdict else "unknown",
        "blocked_at": verdict.blocked_at if verdict else None,
        "error": verdict.error if verdict else None,
        "message": message,
        "failed_parameter": verdict.failed_parameter if verdict else None,
        "assumptions": list(verdict.assumptions) if verdict else [],
        "alternative": verdict.alternative if verdict else None,
        "findings": list(exchange.findings),
        "source": _source(exchange.messages),
    }


def exchange_columns(exchanges: list[dict[str, Any]]) -> dict[str, list[Any]]:
    """Exchange records (`exchange_to_dict`'s shape) as columns, for the pandas stage.

    One list per top-level field, in record order, except that `preflight` and `source` become
    `preflight_status`, `preflight_cached`, `preflight_observed` (None without a preflight),
    `source_file` and `source_entries`. One compiled pass: turning 100,000 records around
    key by key in Python cost several times as much.
    """
    plain = [key for key in _EXCHANGE["properties"] if key not in ("preflight", "source")]
    columns: dict[str, list[Any]] = {key: [] for key in plain}
    status: list[int | None] = []
    cached: list[bool | None] = []
    observed: list[bool | None] = []
    files: list[str] = []
    entries: list[list[int]] = []
    for record in exchanges:
        for key in plain:
            columns[key].append(record[key])
        preflight = record["preflight"]
        if preflight is None:
            status.append(None)
            cached.append(None)
            observed.append(None)
        else:
            status.append(preflight["status"])
            cached.append(preflight["cached"])
            observed.append(preflight["observed"])
        source = record["source"]
        files.append(source["file"])
        entries.append(source["entries"])
    columns["preflight_status"] = status
    columns["preflight_cached"] = cached
    columns["preflight_observed"] = observed
    columns["source_file"] = files
    columns["source_entries"] = entries
    return columns


def finding_to_dict(finding: Finding) -> dict[str, Any]:
    return {
        "rule": finding.rule,
        "severity": str(severity_of(finding.severity)),
        "title": finding.title,
        "target": finding.target,
        "count": finding.count,
        "exchanges": list(finding.exchanges),
        "evidence": finding.evidence,
        "impact": finding.impact,
        "fix": finding.fix,
        "fix_snippets": dict(finding.fix_snippets),
        "confidence": finding.confidence,
        "proof": finding.proof,
    }


def dumps(report: dict[str, Any]) -> bytes:
    """The JSON bytes (UTF-8, indented) of a report dict; anything exotic in evidence becomes its str().

    msgspec encodes in C; the stdlib encoder falls back to pure Python as soon as it indents.
    """
    return msgspec.json.format(msgspec.json.encode(report, enc_hook=str), indent=2) + b"\n"


def dump_json(report: dict[str, Any], path: str) -> None:
    """Write an already-built report dict atomically."""
    from cors_audit.report import atomic_writer

    with atomic_writer(path, binary=True) as out:
        out.write(dumps(report))


def write_json(audit: Audit, path: str, *, redact: bool = True) -> None:
    """Write the schema-1 JSON report for `audit` to `path` (atomically)."""
    dump_json(audit_to_dict(audit, redact=redact), path)


def severity_of(value: Severity | int | str) -> Severity:
    """A finding's severity, whether a rule stored the enum, its number or its name."""
    return Severity.parse(value) if isinstance(value, str) else Severity(value)


def _preflight(exchange: Exchange) -> dict[str, Any] | None:
    """null when no preflight was involved; otherwise what the capture shows of it.

    A preflight that was needed but is absent (served from the preflight cache, or a
    producer that never records preflights) has status null and observed false.
    """
    if exchange.preflight is not None:
        return {"status": exchange.preflight.status, "cached": exchange.preflight_cached, "observed": True}
    if exchange.preflight_cached or not exchange.preflight_observed:
        return {"status": None, "cached": exchange.preflight_cached, "observed": False}
    return None


def _source(messages: list[Message]) -> dict[str, Any]:
    if len(messages) == 1:  # most exchanges
        source = messages[0].source
        return {"file": source.file, "entries": [] if source.index is None else [source.index]}
    file = next((m.source.file for m in messages if m.source.file), "")
    entries = sorted({m.source.index for m in messages if m.source.index is not None})
    return {"file": file, "entries": entries}


def _redact_urls(url: str, final_url: str, message: str | None) -> tuple[str, str, str | None]:
    safe_url = _redacted(url)
    safe_final = safe_url if final_url == url else _redacted(final_url)
    if message:
        # Chromium's message quotes the URLs verbatim; blank the same secrets there.
        for raw, safe in ((final_url, safe_final), (url, safe_url)):
            if raw != safe:
                message = message.replace(f"'{raw}'", f"'{safe}'")
    return safe_url, safe_final, message


def _redacted(url: str) -> str:
    # only a query or userinfo can hold a secret; skip the parse for the many URLs without either
    return redact_url(url) if ("?" in url or "@" in url) else url


def _record(properties: dict[str, Any]) -> dict[str, Any]:
    """A JSON Schema object with exactly these properties, every one required."""
    return {"type": "object", "required": list(properties), "additionalProperties": False, "properties": properties}


_EXCHANGE = _record(
    {
        "id": {"type": "string"},
        "url": {"type": "string"},
        "final_url": {"type": "string"},
        "method": {"type": "string"},
        "origin": {"type": ["string", "null"]},
        "credentials": {"enum": ["include", "omit", "unknown"]},
        "initiator": {"type": ["string", "null"]},
        "preflight": {
            "oneOf": [
                {"type": "null"},
                _record(
                    {
                        "status": {"type": ["integer", "null"]},
                        "cached": {"type": "boolean"},
                        "observed": {"type": "boolean"},
                    }
                ),
            ]
        },
        "verdict": {"enum": list(OUTCOMES)},
        "blocked_at": {"enum": ["preflight", "actual", "redirect", None]},
        "error": {"type": ["string", "null"]},
        "message": {"type": ["string", "null"]},
        "failed_parameter": {"type": ["string", "null"]},
        "assumptions": {"type": "array", "items": {"type": "string"}},
        "alternative": {"type": ["string", "null"]},
        "findings": {"type": "array", "items": {"type": "string"}},
        "source": _record(
            {"file": {"type": "string"}, "entries": {"type": "array", "items": {"type": "integer"}}}
        ),
    }
)
_FINDING = _record(
    {
        "rule": {"type": "string", "pattern": "^[a-z0-9]+(-[a-z0-9]+)*$"},
        "severity": {"enum": list(SEVERITIES)},
        "title": {"type": "string"},
        "target": {"type": "string"},
        "count": {"type": "integer", "minimum": 0},
        "exchanges": {"type": "array", "items": {"type": "string"}},
        "evidence": {"type": "object"},
        "impact": {"type": "string"},
        "fix": {"type": "string"},
        "fix_snippets": {"type": "object", "additionalProperties": {"type": "string"}},
        "confidence": {"enum": ["observed", "confirmed"]},
        "proof": {"type": "string"},
    }
)
_SUMMARY = _record(
    {
        **{
            key: {"type": "integer", "minimum": 0}
            for key in ("messages", "exchanges", "allowed", "blocked", "not_cors", "unknown")
        },
        "findings": _record({s: {"type": "integer", "minimum": 0} for s in SEVERITIES}),
    }
)
JSON_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "cors-audit report, schema 1",
    **_record(
        {
            "schema": {"const": 1},
            "tool": {  # open: a later version may say more about itself
                "type": "object",
                "required": ["name", "version"],
                "properties": {"name": {"const": "cors-audit"}, "version": {"type": "string"}},
            },
            "inputs": {"type": "array", "items": {"type": "string"}},
            "summary": _SUMMARY,
            "exchanges": {"type": "array", "items": _EXCHANGE},
            "findings": {"type": "array", "items": _FINDING},
            "warnings": {"type": "array", "items": {"type": "string"}},
        }
    ),
}
# optional: present only when probes ran
JSON_SCHEMA["properties"]["probe"] = {
    "const": True,
    "description": "Present when forged-Origin probes were sent (cors-audit probe, report --probe)",
}
"""The published shape of the JSON report (JSON Schema 2020-12), for consumers and tests."""
