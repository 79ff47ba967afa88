"""The HTML report: one self-contained file rendered by jinja2 from the report dict.

Nothing in the page is loaded from elsewhere and no captured text can become markup:
jinja2 autoescapes every value, the exchanges travel as one JSON blob with `<`, `>` and `&`
escaped inside `<script type="application/json">`, the inline script only ever writes
`textContent`, and a Content-Security-Policy allows exactly our own script and style (by hash).
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from collections.abc import Mapping
from typing import Any

import jinja2
from markupsafe import Markup, escape

from cors_audit.model import Audit
from cors_audit.report.frames import Frames, build_frames, endpoint_of
from cors_audit.report.json_out import SEVERITIES, audit_to_dict

# Groups of blocked requests listed in full; the rest are left to the filterable table.
MAX_BLOCKED_GROUPS = 200
# Columns of the JSON blob behind the "all requests" table.
BLOB_COLUMNS = (
    "id",
    "method",
    "url",
    "final_url",
    "origin",
    "verdict",
    "error",
    "blocked_at",
    "credentials",
    "initiator",
    "preflight",
    "findings",
    "message",
    "assumptions",
    "alternative",
    "source",
)
SNIPPET_LABELS = {
    "express": "Express (cors)",
    "fastapi": "FastAPI / Starlette CORSMiddleware",
    "starlette": "Starlette CORSMiddleware",
    "flask": "Flask-CORS",
    "nginx": "nginx",
}
_BACKTICKS = re.compile(r"`([^`<>]+)`")
_JSON_ESCAPES = {ord("<"): "\\u003c", ord(">"): "\\u003e", ord("&"): "\\u0026"}


def write_html(audit: Audit, path: str, *, redact: bool = True) -> None:
    """Write the HTML report for `audit` to `path` (atomically)."""
    dump_html(audit_to_dict(audit, redact=redact), path)


def dump_html(report: dict[str, Any], path: str, frames: Frames | None = None) -> None:
    """Render an already-built report dict (and its frames, if built) and write it atomically."""
    from cors_audit.report import atomic_writer

    html = render_html(report, frames)
    with atomic_writer(path) as out:
        out.write(html)


def render_html(report: dict[str, Any], frames: Frames | None = None) -> str:
    """The complete HTML page for a report dict."""
    frames = frames if frames is not None else build_frames(report)
    exchanges = report["exchanges"]
    blocked = blocked_groups(exchanges)
    template = _environment().get_template("report.html.j2")
    return template.render(
        report=report,
        summary=report["summary"],
        severities=SEVERITIES,
        findings_by_severity=[
            (severity, [f for f in report["findings"] if f["severity"] == severity])
            for severity in SEVERITIES
        ],
        blocked=blocked[:MAX_BLOCKED_GROUPS],
        blocked_hidden=sum(len(g["ids"]) for g in blocked[MAX_BLOCKED_GROUPS:]),
        cross_origin=sum(1 for x in exchanges if x["verdict"] != "not-cors"),
        endpoints=_records(frames.endpoints),
        origins=_records(frames.origins),
        data_blob=json_blob(_blob(exchanges)),
        snippet_labels=SNIPPET_LABELS,
    )


def blocked_groups(exchanges: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Blocked requests grouped by error, origin, method and endpoint; largest group first.

    Fifty identical failures are one problem: one card with an example and the request ids.
    """
    groups: dict[tuple[Any, ...], dict[str, Any]] = {}
    for x in exchanges:
        if x["verdict"] != "blocked":
            continue
        endpoint = "".join(endpoint_of(x["url"]))
        key = (x["error"], x["origin"], x["method"], endpoint, x["blocked_at"], x["credentials"])
        group = groups.setdefault(key, {"example": x, "endpoint": endpoint, "ids": []})
        group["ids"].append(x["id"])
    return sorted(groups.values(), key=lambda g: -len(g["ids"]))


def json_blob(data: object) -> Markup:
    """JSON safe to place verbatim inside `<script type="application/json">`.

    Escaping `<`, `>` and `&` as \\u003c... means no `</script>` or `<!--` can ever appear,
    whatever the capture holds; `JSON.parse` turns them back into the same characters.
    """
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"), default=str)
    return Markup(text.translate(_JSON_ESCAPES))


def csp_source(code: str) -> str:
    """CSP hash source for an inline <script> or <style> body."""
    digest = hashlib.sha256(code.encode("utf-8")).digest()
    return "'sha256-" + base64.b64encode(digest).decode("ascii") + "'"


def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("cors_audit.report", "templates"),
        autoescape=jinja2.select_autoescape(enabled_extensions=("html", "htm", "xml", "j2"), default=True),
        trim_blocks=True,
        lstrip_blocks=True,
        undefined=jinja2.StrictUndefined,
    )
    env.filters["csp_source"] = csp_source
    env.filters["evidence"] = _evidence_text
    env.filters["inline"] = _inline
    env.filters["code_spans"] = _code_spans
    env.tests["block"] = _evidence_is_block
    return env


def _blob(exchanges: list[dict[str, Any]]) -> dict[str, Any]:
    rows = []
    for x in exchanges:
        preflight = x["preflight"]
        rows.append(
            [
                x["id"],
                x["method"],
                x["url"],
                x["final_url"] if x["final_url"] != x["url"] else "",
                x["origin"] or "",
                x["verdict"],
                x["error"] or "",
                x["blocked_at"] or "",
                x["credentials"],
                x["initiator"] or "",
                _preflight_text(preflight),
                ", ".join(x["findings"]),
                x["message"] or "",
                x["assumptions"],
                x["alternative"] or "",
                f"{x['source']['file']} {' '.join(str(i) for i in x['source']['entries'])}".strip(),
            ]
        )
    return {"columns": list(BLOB_COLUMNS), "rows": rows}


def _preflight_text(preflight: Mapping[str, Any] | None) -> str:
    if preflight is None:
        return ""
    if preflight["cached"]:
        return "cached"
    if not preflight["observed"]:
        return "not captured"
    status = preflight["status"]
    return "failed" if status is None else str(status)


def _code_spans(text: str) -> Markup:
    """Escape `text`, then show its `backtick` spans as <code> (the rules write them that way)."""
    escaped = str(escape(text))
    return Markup(_BACKTICKS.sub(r"<code>\1</code>", escaped))


def _evidence_text(value: object) -> str:
    """Evidence as plain indented text (the template escapes it): header lines stay one per line."""
    if _is_scalar(value):
        return _scalar(value)
    return "\n".join(_evidence_lines(value, 0))


def _evidence_is_block(value: object) -> bool:
    """Whether a value needs a block of lines rather than fitting inline."""
    if _is_scalar(value):
        return "\n" in str(value)
    if isinstance(value, (list, tuple)):
        if not all(_is_scalar(v) for v in value):
            return True
        header_lines = any(isinstance(v, str) and ": " in v for v in value)
        return header_lines or sum(len(_scalar(v)) for v in value) > 80
    return True


def _evidence_lines(value: object, depth: int) -> list[str]:
    pad = "  " * depth
    if isinstance(value, Mapping):
        lines = []
        for key, item in value.items():
            if _is_scalar(item) or (isinstance(item, (list, tuple)) and not _evidence_is_block(item)):
                lines.append(f"{pad}{key}: {_inline(item)}")
            else:
                lines.append(f"{pad}{key}:")
                lines.extend(_evidence_lines(item, depth + 1))
        return lines
    if isinstance(value, (list, tuple, set, frozenset)):
        lines = []
        for item in value:
            if _is_scalar(item):
                lines.append(f"{pad}{_scalar(item)}")
            else:
                nested = _evidence_lines(item, depth + 1)
                lines.append(f"{pad}- {nested[0].lstrip()}" if nested else f"{pad}-")
                lines.extend(nested[1:])
        return lines
    return [f"{pad}{_scalar(value)}"]


def _inline(value: object) -> str:
    if isinstance(value, (list, tuple)):
        return ", ".join(_scalar(v) for v in value)
    return _scalar(value)


def _is_scalar(value: object) -> bool:
    return value is None or isinstance(value, (str, int, float, bool))


def _scalar(value: object) -> str:
    if value is None or isinstance(value, bool):
        return json.dumps(value)
    return str(value)


def _records(frame: Any) -> list[dict[str, Any]]:
    return [{k: (None if _is_missing(v) else v) for k, v in row.items()} for row in frame.to_dict("records")]


def _is_missing(value: object) -> bool:
    try:
        import pandas as pd

        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False
