"""invalid-allow-origin: values no browser accepts (fetch-rules §7 steps 3a, 3c, 3d).

Only responses to requests that carried an Origin count: that is where the value breaks a
browser. (Flask-CORS, for one, lists every configured origin to requests without Origin.)
"""

from __future__ import annotations

from collections.abc import Iterator

from cors_audit.model import Severity
from cors_audit.rules.observe import Hit, Observation, RuleContext, Traffic, origin_value


def problem(o: Observation) -> str | None:
    """Why this response's Access-Control-Allow-Origin is malformed, or None when it is well-formed."""
    value = o.acao
    if value is None:
        return None
    if o.acao_lines > 1:
        return f"{o.acao_lines} Access-Control-Allow-Origin header lines (browsers join them into '{value}')"
    if value in ("*", "null"):
        return None
    if "*" in value:
        return f"'{value}' is a pattern; browsers accept only one exact origin or '*'"
    if "," in value or " " in value:
        return f"'{value}' is a list; browsers accept exactly one origin"
    parsed = origin_value(value)
    if parsed is None:
        return f"'{value}' is not a serialized origin (scheme://host[:port], no path or trailing slash)"
    canonical = parsed.serialize()
    if canonical != value:
        return f"'{value}' is not in serialized form ('{canonical}'); browsers compare byte for byte"
    return None


def check(traffic: Traffic, context: RuleContext) -> Iterator[Hit]:
    for o in traffic.observations:
        if o.origin is None:
            continue
        why = problem(o)
        if why is not None:
            yield Hit(
                "invalid-allow-origin",
                Severity.INFO,
                [o],
                f"Malformed Access-Control-Allow-Origin: {why}.",
                {"problems": [why]},
            )
