"""The HTML report: one self-contained file rendered by jinja2 from the report dict and its frames.

Nothing in the page is loaded from elsewhere and no captured text can become markup:
jinja2 autoescapes every value (and shows control and bidi characters as visible `\\uXXXX`),
pictures are inline SVG whose text goes through the same escaping, the requests table travels
as one JSON blob with `<`, `>` and `&` escaped inside `<script type="application/json">`, the
inline script only ever writes `textContent`, captured URLs are shown as text (never links),
and a Content-Security-Policy allows exactly our own script and style (by hash).

Long lists are capped (groups, findings, diagrams, table rows) with a count of what is left
out: the JSON and CSV files hold everything.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import json
import re
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

import jinja2
import numpy as np
import pandas as pd
from markupsafe import Markup, escape

from cors_audit.report.advice import advice_for
from cors_audit.report.frames import BLOCKED_KEYS, Frames, blocked_rows, build_frames, filled
from cors_audit.report.json_out import SEVERITIES, audit_to_dict
from cors_audit.report.story import build_story
from cors_audit.report.svg import mini_bar, sequence_diagram, timeline_chart, verdict_bars
from cors_audit.report.text import visible as visible_text

if TYPE_CHECKING:
    from cors_audit.model import Audit, Exchange

TEMPLATE = "report.html.j2"
MAX_BLOCKED_GROUPS = 50  # cards in "What the browser blocked"
MAX_FINDINGS = 200  # finding cards
MAX_DIAGRAMS = 20  # sequence diagrams per section
MAX_IDS = 20  # request-id buttons per card
MAX_TABLE_ROWS = 5000  # rows of the embedded requests table
MAX_TEXT = 2000  # characters of one table cell
MAX_MATRIX_ORIGINS, MAX_MATRIX_TARGETS = 15, 10
MAX_SUMMARY_ROWS = 50  # hosts, endpoints
MAX_ASSUMPTIONS = 15
MAX_WARNINGS = 100
# Columns of the JSON blob behind the "all requests" table.
BLOB_COLUMNS = (
    "id",
    "started",
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
    dump_html(audit_to_dict(audit, redact=redact), path, audit=audit, redact=redact)


def dump_html(
    report: dict[str, Any],
    path: str,
    frames: Frames | None = None,
    *,
    audit: Audit | None = None,
    redact: bool = True,
) -> None:
    """Render an already-built report dict (and its frames, if built) and write it atomically."""
    from cors_audit.report import atomic_writer

    html = render_html(report, frames, audit=audit, redact=redact)
    with atomic_writer(path) as out:
        out.write(html)


def render_html(
    report: dict[str, Any],
    frames: Frames | None = None,
    *,
    audit: Audit | None = None,
    redact: bool = True,
) -> str:
    """The complete HTML page for a report dict.

    `audit` (the Audit the dict was built from) adds what the JSON does not carry: times for the
    timeline and the captured header lines the diagrams and header tables show.
    """
    frames = frames if frames is not None else build_frames(report, audit)
    exchanges = report["exchanges"]
    source = _Source(report, audit, redact)
    summary = report["summary"]
    started = frames.exchanges["started"].dropna()
    blocked, blocked_hidden = blocked_cards(frames, source)
    findings, findings_hidden = finding_cards(report["findings"], source)
    referenced = {xid for card in blocked for xid in card["ids"]}
    referenced.update(xid for card in findings for xid in card["ids"])
    rows = table_rows(frames.exchanges, referenced)
    timeline, timeline_caption = timeline_chart(frames.exchanges)
    cross_origin = summary["exchanges"] - summary["not_cors"]
    template = _environment().get_template(TEMPLATE)
    return template.render(
        report=report,
        summary=summary,
        severities=SEVERITIES,
        cross_origin=cross_origin,
        headline=headline(summary, len(frames.blocked)),
        time_range=time_range(started),
        blocked=blocked,
        blocked_groups=len(frames.blocked),
        blocked_hidden=blocked_hidden,
        findings_by_severity=[
            (severity, [c for c in findings if c["finding"]["severity"] == severity])
            for severity in SEVERITIES
        ],
        findings_hidden=findings_hidden,
        rules=sorted({f["rule"] for f in report["findings"]}),
        verdict_chart=verdict_bars(frames.hosts),
        timeline_chart=timeline,
        timeline_caption=timeline_caption,
        matrix=matrix_view(frames.matrix),
        hosts=_records(frames.hosts.head(MAX_SUMMARY_ROWS)),
        hosts_total=len(frames.hosts),
        endpoints=_records(frames.endpoints.head(MAX_SUMMARY_ROWS)),
        endpoints_total=len(frames.endpoints),
        assumptions=assumption_counts(frames.exchanges),
        preflights=preflight_counts(frames.exchanges),
        credentials=frames.exchanges.loc[frames.exchanges["verdict"] != "not-cors", "credentials"]
        .value_counts()
        .to_dict(),
        data_blob=json_blob(_blob(exchanges, rows, frames.exchanges["started"])),
        table_rows=len(rows),
        warnings=report["warnings"][:MAX_WARNINGS],
        warnings_hidden=max(len(report["warnings"]) - MAX_WARNINGS, 0),
        snippet_labels=SNIPPET_LABELS,
    )


class _Source:
    """Exchange dicts and Audit exchanges by id, for the few exchanges a card shows in detail."""

    def __init__(self, report: dict[str, Any], audit: Audit | None, redact: bool) -> None:
        self.exchanges = report["exchanges"]
        self.audit = audit if audit is not None and len(audit.exchanges) == len(self.exchanges) else None
        self.redact = redact

    @functools.cached_property
    def _positions(self) -> dict[str, int]:
        return {x["id"]: i for i, x in enumerate(self.exchanges)}

    def position(self, xid: str) -> int | None:
        """Where exchange `xid` is: `x17` is usually the 17th (the pipeline numbers them in order)."""
        guess = int(xid[1:]) - 1 if xid[:1] == "x" and xid[1:].isdigit() else -1
        if 0 <= guess < len(self.exchanges) and self.exchanges[guess]["id"] == xid:
            return guess
        return self._positions.get(xid)

    def exchange(self, xid: str) -> dict[str, Any] | None:
        index = self.position(xid)
        return self.exchanges[index] if index is not None else None

    def captured(self, xid: str) -> Exchange | None:
        index = self.position(xid)
        if self.audit is None or index is None:
            return None
        exchange = self.audit.exchanges[index]
        return exchange if exchange.id == xid else None

    def story(self, xid: str, risk: str | None = None) -> dict[str, Any] | None:
        x = self.exchange(xid)
        if x is None:
            return None
        story = build_story(x, self.captured(xid), redact=self.redact, risk=risk)
        return {"story": story, "diagram": sequence_diagram(story)}


def blocked_cards(frames: Frames, source: _Source) -> tuple[list[dict[str, Any]], int]:
    """The largest blocked groups as cards (example, origins, ids, header pairs, fix, diagram).

    Returns the cards and how many blocked requests the cards leave out.
    """
    groups = frames.blocked.head(MAX_BLOCKED_GROUPS)
    if groups.empty:
        return [], 0
    rows = blocked_rows(frames.exchanges)
    wanted = rows.merge(groups[BLOCKED_KEYS], on=BLOCKED_KEYS)
    first = wanted.groupby(BLOCKED_KEYS, sort=False, observed=True).head(MAX_IDS)
    ids = first.groupby(BLOCKED_KEYS, sort=False, observed=True)["id"].agg(list)
    origin_counts = (
        wanted.assign(origin=filled(wanted["origin"], "(none)"))
        .groupby([*BLOCKED_KEYS, "origin"], observed=True)
        .size()
        .sort_index()
    )
    cards = []
    for index, group in enumerate(_records(groups)):
        key = tuple(group[k] for k in BLOCKED_KEYS)
        example = source.exchange(group["example"]) or {}
        by_origin = origin_counts.loc[key].sort_values(ascending=False) if key in ids.index else pd.Series()
        detail = source.story(group["example"]) if index < MAX_DIAGRAMS else None
        cards.append(
            {
                "group": group,
                "example": example,
                "ids": ids.get(key, []),
                "origins": list(by_origin.head(5).items()),
                "more_origins": max(len(by_origin) - 5, 0),
                "advice": advice_for(group["error"], example.get("origin")),
                "detail": detail,
            }
        )
    return cards, int(frames.blocked["requests"].iloc[MAX_BLOCKED_GROUPS:].sum())


def finding_cards(findings: list[dict[str, Any]], source: _Source) -> tuple[list[dict[str, Any]], int]:
    """Findings (most severe first, as the rules ordered them), capped, each with its evidence samples."""
    order = {s: i for i, s in enumerate(SEVERITIES)}
    ranked = sorted(findings, key=lambda f: order.get(f["severity"], len(order)))[:MAX_FINDINGS]
    cards = []
    for index, f in enumerate(ranked):
        evidence = f["evidence"] if isinstance(f["evidence"], Mapping) else {}
        samples = [s for s in evidence.get("samples", []) if isinstance(s, Mapping)]
        example = next((x for s in samples for x in s.get("exchanges", [])), None) or next(
            iter(f["exchanges"]), None
        )
        cards.append(
            {
                "finding": f,
                "evidence": {k: v for k, v in evidence.items() if k != "samples"},
                "samples": samples[:4],
                "ids": list(f["exchanges"][:MAX_IDS]),
                "detail": source.story(example, f["title"].replace("`", ""))
                if example and index < MAX_DIAGRAMS
                else None,
            }
        )
    return cards, max(len(findings) - MAX_FINDINGS, 0)


def table_rows(exchanges: pd.DataFrame, referenced: set[str]) -> list[int]:
    """Positions of the exchanges the embedded table carries, at most MAX_TABLE_ROWS, in capture order.

    When there are more, the ones the page points at come first, then blocked, then those with
    findings, unknown, allowed and last not-cors; the JSON and CSV files hold every one.
    """
    if len(exchanges) <= MAX_TABLE_ROWS:
        return list(range(len(exchanges)))
    verdict = exchanges["verdict"].to_numpy(dtype=object)
    has_findings = exchanges["findings"].map(bool).to_numpy(dtype=bool)
    rank = np.select(
        [
            exchanges["id"].isin(referenced).to_numpy(dtype=bool),
            verdict == "blocked",
            has_findings,
            verdict == "unknown",
            verdict == "allowed",
        ],
        [0, 1, 2, 3, 4],
        default=5,
    )
    chosen = np.argsort(rank, kind="stable")[:MAX_TABLE_ROWS]
    return sorted(int(i) for i in chosen)


def matrix_view(matrix: pd.DataFrame) -> dict[str, Any]:
    """The origin x target matrix as rows of cells, the busiest origins and targets only."""
    if matrix.empty:
        return {"origins": [], "targets": [], "rows": [], "hidden_origins": 0, "hidden_targets": 0}
    origins = matrix.groupby("origin", observed=True)["requests"].sum().sort_values(ascending=False)
    targets = matrix.groupby("target_origin", observed=True)["requests"].sum().sort_values(ascending=False)
    shown_origins = list(origins.index[:MAX_MATRIX_ORIGINS])
    shown_targets = list(targets.index[:MAX_MATRIX_TARGETS])
    cells = matrix.set_index(["origin", "target_origin"]).sort_index()
    rows = []
    for origin in shown_origins:
        row: list[dict[str, Any] | None] = []
        for target in shown_targets:
            if (origin, target) in cells.index:
                counts = {
                    k: int(cells.loc[(origin, target), k])
                    for k in ("allowed", "blocked", "not_cors", "unknown")
                }
                row.append({"counts": counts, "bar": mini_bar(counts)})
            else:
                row.append(None)
        rows.append({"origin": origin, "requests": int(origins[origin]), "cells": row})
    return {
        "targets": shown_targets,
        "rows": rows,
        "hidden_origins": max(len(origins) - MAX_MATRIX_ORIGINS, 0),
        "hidden_targets": max(len(targets) - MAX_MATRIX_TARGETS, 0),
    }


def assumption_counts(exchanges: pd.DataFrame) -> list[tuple[str, int]]:
    """The readings verdicts rest on, most common first, with how many requests rest on each."""
    if exchanges.empty:
        return []
    counts = exchanges["assumptions"].explode().dropna().value_counts()
    return [(str(k), int(v)) for k, v in counts.head(MAX_ASSUMPTIONS).items()]


def preflight_counts(exchanges: pd.DataFrame) -> dict[str, int]:
    """Requests whose preflight was captured, answered from the preflight cache, or not captured."""
    # no preflight involved: both NA; captured: observed; cache hit or missing: not observed
    observed = exchanges["preflight_observed"].fillna(False).astype(bool)
    needed = exchanges["preflight_observed"].notna()
    cached = exchanges["preflight_cached"].fillna(False).astype(bool) & ~observed
    return {
        "observed": int(observed.sum()),
        "cached": int(cached.sum()),
        "missing": int((needed & ~observed & ~cached).sum()),
    }


def headline(summary: Mapping[str, Any], blocked_groups: int) -> str:
    """One sentence a reader sees first: what broke and what is risky."""
    cross = summary["exchanges"] - summary["not_cors"]
    parts = []
    if summary["exchanges"] == 0:
        return "The input holds no requests."
    if cross == 0:
        parts.append(f"None of the {summary['exchanges']:,} requests was cross-origin")
    elif summary["blocked"]:
        groups = f" ({blocked_groups:,} distinct problem{'s' if blocked_groups != 1 else ''})"
        parts.append(f"The browser blocked {summary['blocked']:,} of {cross:,} cross-origin requests{groups}")
    else:
        parts.append(f"The browser allowed every one of the {cross:,} cross-origin requests it judged")
    counts = summary["findings"]
    total = sum(counts.values())
    if total:
        serious = [f"{counts[s]} {s}" for s in SEVERITIES if counts[s]]
        parts.append(f"{total} risky configuration{'s' if total != 1 else ''} found: " + ", ".join(serious))
    else:
        parts.append("no risky CORS configuration observed")
    return "; ".join(parts) + "."


def time_range(started: pd.Series) -> dict[str, str] | None:
    if started.empty:
        return None
    first, last = started.min(), started.max()
    seconds = (last - first).total_seconds()
    return {
        "first": _iso(first),
        "last": _iso(last),
        "duration": _duration(seconds),
    }


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


def visible(value: object) -> object:
    """Strings with control and bidi characters shown as `\\uXXXX` (jinja's finalize: every `{{ }}`)."""
    if isinstance(value, str) and not isinstance(value, Markup):
        return visible_text(value)
    return value


def warm_up() -> None:
    """Load the template now (compiled, or from the bytecode cache), ahead of the first render."""
    _environment().get_template(TEMPLATE)


@functools.lru_cache(maxsize=1)
def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("cors_audit.report", "templates"),
        bytecode_cache=_bytecode_cache(),
        autoescape=jinja2.select_autoescape(enabled_extensions=("html", "htm", "xml", "j2"), default=True),
        trim_blocks=True,
        lstrip_blocks=True,
        undefined=jinja2.StrictUndefined,
        finalize=visible,
    )
    env.filters["csp_source"] = csp_source
    env.filters["evidence"] = _evidence_text
    env.filters["inline"] = _inline
    env.filters["code_spans"] = _code_spans
    env.filters["clip"] = _clip
    env.filters["count"] = lambda n: f"{int(n):,}"
    env.tests["block"] = _evidence_is_block
    return env


def _bytecode_cache() -> jinja2.BytecodeCache | None:
    """jinja2's own cache of compiled templates (a private per-user folder under the temp dir).

    Compiling the report template costs about 0.1 s on every run; the cache is keyed by the
    template's source, so an edited template is compiled afresh. No usable folder: no cache.
    """
    try:
        return jinja2.FileSystemBytecodeCache()
    except (OSError, RuntimeError):
        return None


def _blob(
    exchanges: Sequence[dict[str, Any]], positions: Sequence[int], started: pd.Series
) -> dict[str, Any]:
    """The table's rows as columns + rows (no repeated keys), every text cell capped."""
    times = started.iloc[list(positions)]
    stamps = times.dt.strftime("%Y-%m-%dT%H:%M:%S.%f").str[:23].add("Z").fillna("").tolist()
    rows = []
    for position, stamp in zip(positions, stamps, strict=True):
        x = exchanges[position]
        rows.append(
            [
                x["id"],
                stamp,
                x["method"],
                _cap(x["url"]),
                _cap(x["final_url"]) if x["final_url"] != x["url"] else "",
                _cap(x["origin"] or ""),
                x["verdict"],
                x["error"] or "",
                x["blocked_at"] or "",
                x["credentials"],
                x["initiator"] or "",
                _preflight_text(x["preflight"]),
                ", ".join(x["findings"]),
                _cap(x["message"] or ""),
                [_cap(a) for a in x["assumptions"]],
                _cap(x["alternative"] or ""),
                f"{x['source']['file']} {' '.join(str(i) for i in x['source']['entries'][:20])}".strip(),
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


def _cap(text: str) -> str:
    return text if len(text) <= MAX_TEXT else text[: MAX_TEXT - 1] + "…"


def _clip(text: object, limit: int = 160) -> str:
    value = str(text)
    return value if len(value) <= limit else value[: limit - 1] + "…"


def _code_spans(text: str) -> Markup:
    """Escape `text`, then show its `backtick` spans as <code> (the rules write them that way)."""
    escaped = str(escape(visible(text)))
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


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """Rows as dicts of plain Python values (missing values as None)."""
    out = []
    for row in frame.astype(object).to_dict("records"):
        out.append({k: (None if _is_missing(v) else v) for k, v in row.items()})
    return out


def _is_missing(value: object) -> bool:
    try:
        return bool(pd.isna(value))  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return False


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S UTC")


def _duration(seconds: float) -> str:
    if seconds < 1:
        return "under a second"
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"
