"""pandas frames over one report: exchanges, findings, and summaries per endpoint and per page origin.

Built from the report dict (`json_out.audit_to_dict`), never from the Audit, so tables show
exactly the values the JSON file holds. The HTML report and the CSV export render these.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import pandas as pd

from cors_audit.origin import origin_of

EXCHANGE_COLUMNS = [
    "id",
    "method",
    "url",
    "final_url",
    "origin",
    "target_origin",
    "path",
    "credentials",
    "initiator",
    "preflight_status",
    "preflight_cached",
    "preflight_observed",
    "verdict",
    "blocked_at",
    "error",
    "message",
    "failed_parameter",
    "assumptions",
    "alternative",
    "findings",
    "source_file",
    "source_entries",
]
FINDING_COLUMNS = ["rule", "severity", "title", "target", "count", "confidence", "exchanges"]
CORS_OUTCOMES = ["allowed", "blocked", "unknown"]
SUMMARY_COUNTS = ["requests", *CORS_OUTCOMES, "origins", "errors"]

# path segments that identify one record rather than an endpoint: numbers, UUIDs, long hex ids
_ID_SEGMENT = re.compile(
    r"^(?:\d+|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|[0-9a-f]{16,})$", re.IGNORECASE
)


_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True, slots=True)
class Frames:
    """Every table of one report."""

    exchanges: pd.DataFrame
    findings: pd.DataFrame
    endpoints: pd.DataFrame
    origins: pd.DataFrame


def build_frames(report: dict[str, Any]) -> Frames:
    """All tables of a report dict, built once."""
    exchanges = exchanges_frame(report["exchanges"])
    return Frames(
        exchanges=exchanges,
        findings=findings_frame(report["findings"]),
        endpoints=summary_by(exchanges, ["target_origin", "path"]),
        origins=summary_by(exchanges, ["origin"]),
    )


def exchanges_frame(exchanges: list[dict[str, Any]]) -> pd.DataFrame:
    """One flat row per exchange (lists joined), including not-cors ones."""
    rows = []
    for x in exchanges:
        preflight = x["preflight"] or {}
        endpoint = endpoint_of(x["url"])
        rows.append(
            {
                "id": x["id"],
                "method": x["method"],
                "url": x["url"],
                "final_url": x["final_url"],
                "origin": x["origin"],
                "target_origin": endpoint[0],
                "path": endpoint[1],
                "credentials": x["credentials"],
                "initiator": x["initiator"],
                "preflight_status": preflight.get("status"),
                "preflight_cached": preflight.get("cached"),
                "preflight_observed": preflight.get("observed"),
                "verdict": x["verdict"],
                "blocked_at": x["blocked_at"],
                "error": x["error"],
                "message": x["message"],
                "failed_parameter": x["failed_parameter"],
                "assumptions": "; ".join(x["assumptions"]),
                "alternative": x["alternative"],
                "findings": ", ".join(x["findings"]),
                "source_file": x["source"]["file"],
                "source_entries": " ".join(str(i) for i in x["source"]["entries"]),
            }
        )
    frame = pd.DataFrame.from_records(rows, columns=EXCHANGE_COLUMNS)
    frame["preflight_status"] = frame["preflight_status"].astype("Int64")
    return frame


def findings_frame(findings: list[dict[str, Any]]) -> pd.DataFrame:
    rows = [{**{k: f[k] for k in FINDING_COLUMNS}, "exchanges": ", ".join(f["exchanges"])} for f in findings]
    return pd.DataFrame.from_records(rows, columns=FINDING_COLUMNS)


def summary_by(exchanges: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """Cross-origin requests grouped by `keys`: counts by verdict, distinct origins, errors seen.

    not-cors exchanges (same-origin loads, navigations, no-cors) are left out: they say
    nothing about a CORS policy. Rows are sorted by blocked count, then request count.
    """
    cors = exchanges[exchanges["verdict"] != "not-cors"].copy()
    if cors.empty:
        return pd.DataFrame(columns=[*keys, *SUMMARY_COUNTS])
    cors[keys] = cors[keys].fillna("(none)")
    grouped = cors.groupby(keys, sort=False, dropna=False)
    counts = pd.crosstab([cors[k] for k in keys], cors["verdict"]).reindex(
        columns=CORS_OUTCOMES, fill_value=0
    )
    summary = counts.assign(
        requests=grouped.size(),
        origins=grouped["origin"].nunique(),
        errors=grouped["error"].agg(_error_tally),
    )
    summary = summary.reset_index()[[*keys, *SUMMARY_COUNTS]]
    summary = summary.sort_values(
        ["blocked", "requests", *keys], ascending=[False, False, *([True] * len(keys))]
    )
    return summary.reset_index(drop=True)


@functools.lru_cache(maxsize=1 << 17)
def endpoint_of(url: str) -> tuple[str, str]:
    """(target origin, path pattern) of a URL: what the summaries group by. Cached: every table asks."""
    return origin_of(url), path_pattern(url)


def path_pattern(url: str) -> str:
    """The URL path with record ids collapsed to `{id}`: /users/42/avatar -> /users/{id}/avatar."""
    try:
        path = urlsplit(url).path or "/"
    except ValueError:
        return url
    return "/".join("{id}" if _ID_SEGMENT.match(segment) else segment for segment in path.split("/"))


def dump_csv(frames: Frames, path: str) -> None:
    """The exchanges table as CSV (one row per exchange), written atomically.

    Captured text that a spreadsheet would run as a formula (`=HYPERLINK(...)` in an Origin
    header) gets a leading `'`, the usual defence against CSV injection.
    """
    from cors_audit.report import atomic_writer

    table = frames.exchanges.copy()
    for column in table.columns:
        if not pd.api.types.is_numeric_dtype(table[column]) and not pd.api.types.is_bool_dtype(table[column]):
            table[column] = table[column].map(csv_cell, na_action="ignore")
    with atomic_writer(path) as out:
        table.to_csv(out, index=False)


def csv_cell(value: object) -> object:
    """A text cell a spreadsheet shows as text, never evaluates."""
    if isinstance(value, str) and value.startswith(_FORMULA_STARTS):
        return "'" + value
    return value


def _error_tally(errors: pd.Series) -> str:
    counts = errors.dropna().value_counts()
    return ", ".join(f"{name} ×{n}" if n > 1 else str(name) for name, n in counts.items())
