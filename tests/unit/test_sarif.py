"""SARIF output: valid against the OASIS SARIF 2.1.0 schema (committed, no network) and usable by
GitHub code scanning (security tags, security-severity, physical locations, stable fingerprints)."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import jsonschema
import pytest

from cors_audit.model import Audit, Exchange, Headers, Message, Severity, Source
from cors_audit.report.sarif import SECURITY_SEVERITY, build_sarif, write_sarif
from cors_audit.rules import REGISTRY, RuleContext, evaluate

SCHEMA = json.loads((Path(__file__).parents[1] / "fixtures" / "sarif-schema-2.1.0.json").read_text("utf-8"))
_n = itertools.count(1)


def exchange(
    origin: str,
    response: list[tuple[str, str]],
    *,
    url: str = "https://api.example.com/me",
    file: str = "capture.har",
    status: int = 200,
) -> Exchange:
    n = next(_n)
    message = Message(
        id=f"m{n}",
        started=float(n),
        method="GET",
        url=url,
        request_headers=Headers([("Origin", origin), ("Cookie", "sid=secret")]),
        status=status,
        response_headers=Headers(response),
        source=Source(file, index=n),
    )
    return Exchange(
        id=f"x{n}",
        origin=origin,
        method="GET",
        url=url,
        actual=message,
        hops=[message],
        preflights=[None],
        credentials="include",
    )


def reflect(origin: str, **kw: object) -> Exchange:
    return exchange(
        origin, [("Access-Control-Allow-Origin", origin), ("Access-Control-Allow-Credentials", "true")], **kw
    )  # type: ignore[arg-type]


def audit_of(exchanges: list[Exchange], inputs: list[str], warnings: list[str] = ()) -> Audit:  # type: ignore[assignment]
    findings = evaluate(exchanges, RuleContext())
    return Audit(
        inputs=inputs,
        messages=len(exchanges),
        exchanges=exchanges,
        findings=findings,
        warnings=list(warnings),
    )


def rich_audit(tmp_path: Path) -> Audit:
    outside = "/elsewhere/other.har"
    exchanges = [
        reflect("https://a.example.org"),
        reflect("https://b.example.net"),
        exchange(
            "null", [("Access-Control-Allow-Origin", "null")], url="https://api.example.com/n", file=outside
        ),
        exchange(
            "https://a.example.org", [("Access-Control-Allow-Origin", "*")], url="https://cdn.example.com/x"
        ),
        exchange(
            "https://a.example.org",
            [("Access-Control-Allow-Origin", "https://a.example.org, https://b.example.net")],
            url="https://api.example.com/list",
            status=404,
        ),
    ]
    return audit_of(
        exchanges,
        ["capture.har", outside],
        warnings=["capture.har: entry 9: missing request.url; entry skipped"],
    )


def test_sarif_validates_against_the_2_1_0_schema(tmp_path: Path) -> None:
    audit = rich_audit(tmp_path)
    assert len(audit.findings) >= 4
    log = build_sarif(audit, base_dir=str(tmp_path))
    jsonschema.Draft4Validator(SCHEMA).validate(log)
    assert log["version"] == "2.1.0"


def test_empty_audit_is_a_valid_log_with_no_results(tmp_path: Path) -> None:
    log = build_sarif(Audit(inputs=[], messages=0, exchanges=[]), base_dir=str(tmp_path))
    jsonschema.Draft4Validator(SCHEMA).validate(log)
    assert log["runs"][0]["results"] == []


def test_schema_check_is_not_vacuous(tmp_path: Path) -> None:
    log = build_sarif(rich_audit(tmp_path), base_dir=str(tmp_path))
    log["runs"][0]["results"][0]["level"] = "critical"  # not a SARIF level
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.Draft4Validator(SCHEMA).validate(log)


# GitHub code scanning maps security-severity to levels: > 9.0 critical, 7.0-8.9 high, 4.0-6.9 medium,
# 0.1-3.9 low; 0.0 is none (our info).
GITHUB_BANDS = {"critical": (9.0, 10.0), "high": (7.0, 8.9), "medium": (4.0, 6.9), "low": (0.1, 3.9), "info": (0.0, 0.0)}


def test_rules_carry_security_tag_and_severity_for_github(tmp_path: Path) -> None:
    rules = build_sarif(rich_audit(tmp_path), base_dir=str(tmp_path))["runs"][0]["tool"]["driver"]["rules"]
    assert [r["id"] for r in rules] == list(REGISTRY)
    for rule in rules:
        props = rule["properties"]
        assert "security" in props["tags"] and "external/cwe/cwe-942" in props["tags"]
        assert 0.0 <= float(props["security-severity"]) <= 10.0
        assert props["security-severity"] == SECURITY_SEVERITY[REGISTRY[rule["id"]].severity]
        low, high = GITHUB_BANDS[str(REGISTRY[rule["id"]].severity)]
        assert low <= float(props["security-severity"]) <= high, rule["id"]
        assert rule["help"]["markdown"] and rule["shortDescription"]["text"]
    critical = next(r for r in rules if r["id"] == "reflected-origin-credentials")
    assert float(critical["properties"]["security-severity"]) >= 9.0


def test_every_result_has_a_physical_location_on_its_input_file(tmp_path: Path) -> None:
    log = build_sarif(rich_audit(tmp_path), base_dir=str(tmp_path))
    run = log["runs"][0]
    rules = run["tool"]["driver"]["rules"]
    uris = {}
    for result in run["results"]:
        assert rules[result["ruleIndex"]]["id"] == result["ruleId"]
        physical = result["locations"][0]["physicalLocation"]
        assert physical["region"]["startLine"] >= 1
        artifact = physical["artifactLocation"]
        assert run["artifacts"][artifact["index"]]["location"]["uri"] == artifact["uri"]
        uris[result["ruleId"]] = artifact["uri"]
        assert result["properties"]["entries"], result["ruleId"]
    assert uris["reflected-origin-credentials"] == "capture.har"
    assert uris["null-origin-trusted"] == "file:///elsewhere/other.har"
    assert run["originalUriBaseIds"]["%SRCROOT%"]["uri"].endswith("/")


@pytest.mark.parametrize(
    ("severity", "level"),
    [
        (Severity.CRITICAL, "error"),
        (Severity.HIGH, "error"),
        (Severity.MEDIUM, "warning"),
        (Severity.LOW, "note"),
        (Severity.INFO, "note"),
    ],
)
def test_result_level_follows_the_finding_severity(tmp_path: Path, severity: Severity, level: str) -> None:
    audit = rich_audit(tmp_path)
    audit.findings[0].severity = severity
    result = build_sarif(audit, base_dir=str(tmp_path))["runs"][0]["results"][0]
    assert result["level"] == level
    assert result["properties"]["severity"] == str(severity)


def test_fingerprints_are_stable_across_captures_and_distinct_per_problem(tmp_path: Path) -> None:
    first = audit_of([reflect("https://a.example.org"), reflect("https://b.example.net")], ["one.har"])
    second = audit_of(
        [reflect("https://c.example.io"), reflect("https://a.example.org"), reflect("https://d.example.dev")],
        ["two.har"],
    )
    other_path = audit_of(
        [
            reflect("https://a.example.org", url="https://api.example.com/admin"),
            reflect("https://b.example.net", url="https://api.example.com/admin"),
        ],
        ["one.har"],
    )

    def prints(audit: Audit) -> dict[str, str]:
        results = build_sarif(audit, base_dir=str(tmp_path))["runs"][0]["results"]
        return {r["ruleId"]: r["partialFingerprints"]["corsAuditFinding/v1"] for r in results}

    assert prints(first)["reflected-origin-credentials"] == prints(second)["reflected-origin-credentials"]
    assert prints(first)["reflected-origin-credentials"] != prints(other_path)["reflected-origin-credentials"]


def test_warnings_become_tool_notifications(tmp_path: Path) -> None:
    invocation = build_sarif(rich_audit(tmp_path), base_dir=str(tmp_path))["runs"][0]["invocations"][0]
    assert invocation["toolExecutionNotifications"][0]["message"]["text"].startswith("capture.har: entry 9")


def test_write_sarif_writes_the_same_log_and_no_secrets(tmp_path: Path) -> None:
    audit = rich_audit(tmp_path)
    path = tmp_path / "out" / "report.sarif"
    write_sarif(audit, str(path))
    text = path.read_text("utf-8")
    log = json.loads(text)
    jsonschema.Draft4Validator(SCHEMA).validate(log)
    assert len(log["runs"][0]["results"]) == len(audit.findings)
    assert "sid=secret" not in text
    assert [p.name for p in path.parent.iterdir()] == ["report.sarif"]  # no temp file left behind
