"""SARIF 2.1.0 for code-scanning dashboards (GitHub code scanning and friends).

Every rule in the registry becomes a `reportingDescriptor` with a `security` tag and a
`security-severity` score (GitHub buckets it: >= 9 critical, 7-8.9 high, 4-6.9 medium, else low).
Every finding becomes a `result` anchored on the capture file it came from (line 1: captures are
data, not source; the entry indices travel in the result's properties) and carries stable
`partialFingerprints` built from (rule, target) only, so the same problem found in tomorrow's
capture is the same alert.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from pathlib import Path
from typing import Any

import cors_audit
from cors_audit.fixes import fix_for
from cors_audit.model import Audit, Exchange, Finding, Severity
from cors_audit.rules.registry import CWE, CWE_URL, REGISTRY, RuleInfo

SCHEMA_URI = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
SECURITY_SEVERITY = {
    Severity.CRITICAL: "9.5",
    Severity.HIGH: "8.0",
    Severity.MEDIUM: "5.5",
    Severity.LOW: "3.0",
    Severity.INFO: "0.0",
}
LEVEL = {
    Severity.CRITICAL: "error",
    Severity.HIGH: "error",
    Severity.MEDIUM: "warning",
    Severity.LOW: "note",
    Severity.INFO: "note",
}
SRCROOT = "%SRCROOT%"
FINGERPRINT = "corsAuditFinding/v1"


def build_sarif(audit: Audit, base_dir: str | None = None) -> dict[str, Any]:
    """The SARIF log for `audit`; input paths under `base_dir` (default: cwd) become relative URIs."""
    base = Path(base_dir or os.getcwd()).resolve()
    rules = list(REGISTRY.values())
    rule_index = {rule.id: index for index, rule in enumerate(rules)}
    artifacts = _Artifacts(base)
    for path in audit.inputs:
        artifacts.index(path)
    by_id = {exchange.id: exchange for exchange in audit.exchanges}
    results = [_result(f, rule_index, by_id, artifacts, audit) for f in audit.findings]
    run: dict[str, Any] = {
        "tool": {
            "driver": {
                "name": "cors-audit",
                "version": cors_audit.__version__,
                "semanticVersion": cors_audit.__version__,
                "rules": [_rule(rule) for rule in rules],
                "supportedTaxonomies": [{"name": "CWE", "index": 0}],
            }
        },
        "taxonomies": [
            {
                "name": "CWE",
                "organization": "MITRE",
                "shortDescription": {"text": "The MITRE Common Weakness Enumeration"},
                "taxa": [
                    {
                        "id": CWE.removeprefix("CWE-"),
                        "name": "Permissive Cross-domain Policy with Untrusted Domains",
                        "helpUri": CWE_URL,
                    }
                ],
            }
        ],
        "invocations": [
            {
                "executionSuccessful": True,
                "toolExecutionNotifications": [
                    {"level": "warning", "message": {"text": warning}} for warning in audit.warnings
                ],
            }
        ],
        "artifacts": artifacts.entries,
        "results": results,
        "columnKind": "unicodeCodePoints",
    }
    if artifacts.relative_used:
        run["originalUriBaseIds"] = {SRCROOT: {"uri": base.as_uri().rstrip("/") + "/"}}
    return {"$schema": SCHEMA_URI, "version": "2.1.0", "runs": [run]}


def write_sarif(audit: Audit, path: str) -> None:
    """Write the SARIF log atomically (a CI upload step never sees half a file)."""
    from cors_audit.report import atomic_writer

    with atomic_writer(path) as out:
        json.dump(build_sarif(audit), out, indent=2, ensure_ascii=False)
        out.write("\n")


def fingerprint(finding: Finding) -> str:
    """Stable across runs: depends on what is wrong and where, not on counts or capture order."""
    return hashlib.sha256(f"{finding.rule}\n{finding.target}".encode()).hexdigest()[:32]


def _rule(rule: RuleInfo) -> dict[str, Any]:
    fix = fix_for(rule.id)
    snippets = "\n\n".join(f"**{name}**\n\n```\n{code}\n```" for name, code in fix.snippets.items())
    tags = ["security", "cors", f"external/cwe/{rule.cwe.lower()}"]
    if rule.active:
        tags.append("active-probe")
    return {
        "id": rule.id,
        "name": rule.name,
        "shortDescription": {"text": rule.title},
        "fullDescription": {"text": rule.description},
        "help": {
            "text": f"{rule.help}\n\nImpact: {rule.impact}\n\nFix: {fix.text}",
            "markdown": f"{rule.help}\n\n**Impact:** {rule.impact}\n\n**Fix:** {fix.text}\n\n{snippets}",
        },
        "helpUri": CWE_URL,
        "defaultConfiguration": {"level": LEVEL[rule.severity]},
        "relationships": [
            {
                "target": {"id": CWE.removeprefix("CWE-"), "toolComponent": {"name": "CWE", "index": 0}},
                "kinds": ["superset"],
            }
        ],
        "properties": {
            "tags": tags,
            "security-severity": SECURITY_SEVERITY[rule.severity],
            "precision": "medium" if rule.active else "high",
            "problem.severity": "error" if rule.severity >= Severity.HIGH else "warning",
        },
    }


def _result(
    finding: Finding,
    rule_index: dict[str, int],
    exchanges: dict[str, Exchange],
    artifacts: _Artifacts,
    audit: Audit,
) -> dict[str, Any]:
    file, entries = _anchor(finding, exchanges, audit)
    location: dict[str, Any] = {
        "physicalLocation": {
            "artifactLocation": artifacts.location(file),
            "region": {"startLine": 1},
        },
        "logicalLocations": [
            {"name": finding.target, "fullyQualifiedName": finding.target, "kind": "resource"}
        ],
    }
    digest = fingerprint(finding)
    result: dict[str, Any] = {
        "ruleId": finding.rule,
        "level": LEVEL[finding.severity],
        "message": {
            "text": f"{finding.title}: {finding.target}. {finding.proof} "
            f"Impact: {finding.impact} Fix: {finding.fix}",
        },
        "locations": [location],
        "partialFingerprints": {FINGERPRINT: digest, "primaryLocationLineHash": f"{digest}:1"},
        "properties": {
            "severity": str(finding.severity),
            "security-severity": SECURITY_SEVERITY[finding.severity],
            "target": finding.target,
            "count": finding.count,
            "exchanges": list(finding.exchanges),
            "entries": entries,
            "confidence": finding.confidence,
            "proof": finding.proof,
            "evidence": finding.evidence,
            "fixSnippets": dict(finding.fix_snippets),
        },
    }
    if finding.rule in rule_index:
        result["ruleIndex"] = rule_index[finding.rule]
    return result


def _anchor(finding: Finding, exchanges: dict[str, Exchange], audit: Audit) -> tuple[str, list[int]]:
    """The input file that shows the finding first, and the entry indices in it."""
    file = ""
    entries: list[int] = []
    for exchange_id in finding.exchanges:
        exchange = exchanges.get(exchange_id)
        if exchange is None:
            continue
        for message in exchange.messages:
            source = message.source
            if not source.file:
                continue
            if not file:
                file = source.file
            if source.file == file and source.index is not None and source.index not in entries:
                entries.append(source.index)
    if not file:
        file = audit.inputs[0] if audit.inputs else "capture"
    return file, sorted(entries)


class _Artifacts:
    """The run's `artifacts` table: one entry per input file, URIs relative to the base when possible."""

    def __init__(self, base: Path) -> None:
        self.base = base
        self.entries: list[dict[str, Any]] = []
        self._index: dict[str, int] = {}
        self.relative_used = False

    def _uri(self, path: str) -> tuple[str, bool]:
        if re.match(r"[A-Za-z][A-Za-z0-9+.-]*://", path):  # `cors-audit probe URL...`: the URL itself
            return path, False
        candidate = Path(path)
        if candidate.is_absolute():
            try:
                return candidate.resolve().relative_to(self.base).as_posix(), True
            except ValueError:
                return candidate.as_uri(), False
        return candidate.as_posix(), True

    def index(self, path: str) -> int:
        if path not in self._index:
            uri, relative = self._uri(path)
            location: dict[str, Any] = {"uri": uri}
            if relative:
                location["uriBaseId"] = SRCROOT
                self.relative_used = True
            self._index[path] = len(self.entries)
            self.entries.append({"location": location, "roles": ["analysisTarget"]})
        return self._index[path]

    def location(self, path: str) -> dict[str, Any]:
        index = self.index(path)
        return {**self.entries[index]["location"], "index": index}
