"""pandas frames over one report: every table the HTML page and the CSV export show, built once.

Built from the report dict (`json_out.audit_to_dict`), so tables show exactly the values the
JSON file holds; the Audit adds only what the JSON does not carry (when each exchange started).
Everything is computed column-wise: a 100,000-request capture costs a fraction of a second here.

Frames (each also written as `<name>.csv` by `--csv DIR`):
- exchanges: one row per exchange, not-cors ones included
- findings: one row per finding
- blocked: blocked requests grouped by CorsError and target (origin + path pattern)
- matrix: page origin x target origin, counts by verdict
- timeline: counts by verdict per minute
- hosts: per target origin: counts by verdict, paths, page origins, errors, findings
- endpoints / origins: cross-origin requests per (target, path pattern) and per page origin
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, fields
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from cors_audit.origin import origin_of
from cors_audit.report.json_out import exchange_columns
from cors_audit.rules.observe import endpoints_of

if TYPE_CHECKING:
    from cors_audit.model import Audit, Exchange

OUTCOMES = ["allowed", "blocked", "not-cors", "unknown"]
CORS_OUTCOMES = ["allowed", "blocked", "unknown"]
SEVERITIES = ["critical", "high", "medium", "low", "info"]
NO_ORIGIN = "(no Origin header)"
# column names of the verdict counts (CSV-friendly: no dash)
COUNT_COLUMNS = {"allowed": "allowed", "blocked": "blocked", "not-cors": "not_cors", "unknown": "unknown"}

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
    "started",
]
FINDING_COLUMNS = [
    "rule",
    "severity",
    "title",
    "target",
    "count",
    "confidence",
    "exchanges",
    "target_origin",
    "impact",
    "fix",
    "proof",
]
BLOCKED_COLUMNS = [
    "error",
    "target_origin",
    "path",
    "requests",
    "origins",
    "methods",
    "blocked_at",
    "credentials",
    "example",
    "first_started",
    "last_started",
]
MATRIX_COLUMNS = ["origin", "target_origin", "requests", *COUNT_COLUMNS.values()]
TIMELINE_COLUMNS = ["minute", "requests", *COUNT_COLUMNS.values()]
HOST_COLUMNS = [
    "target_origin",
    "requests",
    *COUNT_COLUMNS.values(),
    "paths",
    "origins",
    "errors",
    "findings",
    "worst_severity",
]
SUMMARY_COUNTS = ["requests", *CORS_OUTCOMES, "origins", "errors"]
BLOCKED_KEYS = ["error", "target_origin", "path"]
CATEGORY_COLUMNS = ["origin", "target_origin", "verdict", "error"]

_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
# list-valued columns and how a CSV cell joins them
_LIST_SEPARATORS = {"assumptions": "; ", "findings": ", ", "source_entries": " "}


@dataclass(frozen=True, slots=True)
class Frames:
    """Every table of one report; the field order is the order `tables()` yields them."""

    exchanges: pd.DataFrame
    findings: pd.DataFrame
    blocked: pd.DataFrame
    matrix: pd.DataFrame
    timeline: pd.DataFrame
    hosts: pd.DataFrame
    endpoints: pd.DataFrame
    origins: pd.DataFrame

    def tables(self) -> Iterator[tuple[str, pd.DataFrame]]:
        """(name, frame) for every table, as `--csv DIR` writes them."""
        for f in fields(self):
            yield f.name, getattr(self, f.name)


def build_frames(
    report: dict[str, Any], audit: Audit | None = None, *, exchanges: pd.DataFrame | None = None
) -> Frames:
    """All tables of a report dict, built once. Pass the `audit` it came from for the timeline.

    `exchanges`: the requests table, if already built from the same records (the renderer
    process builds it while the rules still run).
    """
    if exchanges is None:
        started = exchange_times(audit.exchanges) if audit is not None else None
        exchanges = exchanges_frame(report["exchanges"], started)
    findings = findings_frame(report["findings"])
    return Frames(
        exchanges=exchanges,
        findings=findings,
        blocked=blocked_frame(exchanges),
        matrix=matrix_frame(exchanges),
        timeline=timeline_frame(exchanges),
        hosts=hosts_frame(exchanges, findings),
        endpoints=summary_by(exchanges, ["target_origin", "path"]),
        origins=summary_by(exchanges, ["origin"]),
    )


def exchange_times(exchanges: Sequence[Exchange]) -> list[float | None]:
    """When each exchange started (its first captured message), in epoch seconds; None if unknown."""
    out: list[float | None] = []
    for x in exchanges:
        first = x.hops[0] if x.hops else x.actual
        started = first.started if first is not None else None
        if x.preflight is not None and (started is None or x.preflight.started < started):
            started = x.preflight.started
        out.append(started if started else None)  # 0.0: a source that had no time for it
    return out


def exchanges_frame(
    exchanges: list[dict[str, Any]], started: Sequence[float | None] | None = None
) -> pd.DataFrame:
    """One row per exchange. List-valued fields stay lists (joined only in the CSV)."""
    if not exchanges:
        frame = pd.DataFrame({c: pd.Series(dtype=object) for c in EXCHANGE_COLUMNS})
        frame["started"] = pd.Series(dtype="datetime64[ns, UTC]")
        return frame
    raw = exchange_columns(exchanges)
    target_origin, path = endpoints_of(raw["url"])
    columns: dict[str, Any] = {
        "id": raw["id"],
        "method": raw["method"],
        "url": raw["url"],
        "final_url": raw["final_url"],
        "origin": raw["origin"],
        "target_origin": target_origin,
        "path": path,
        "credentials": raw["credentials"],
        "initiator": raw["initiator"],
        "preflight_status": pd.array(raw["preflight_status"], dtype="Int64"),
        "preflight_cached": pd.array(raw["preflight_cached"], dtype="boolean"),
        "preflight_observed": pd.array(raw["preflight_observed"], dtype="boolean"),
        "verdict": raw["verdict"],
        "blocked_at": raw["blocked_at"],
        "error": raw["error"],
        "message": raw["message"],
        "failed_parameter": raw["failed_parameter"],
        "assumptions": raw["assumptions"],
        "alternative": raw["alternative"],
        "findings": raw["findings"],
        "source_file": raw["source_file"],
        "source_entries": raw["source_entries"],
    }
    frame = pd.DataFrame(columns)
    # Few distinct values, grouped by again and again: factorize each once. (Not `path`:
    # same-origin assets make it nearly unique.)
    for column in CATEGORY_COLUMNS:
        frame[column] = frame[column].astype("category")
    if started is not None and len(started) == len(frame):
        seconds = pd.Series(started, index=frame.index, dtype="float64")
        frame["started"] = pd.to_datetime(seconds, unit="s", utc=True)
    else:
        frame["started"] = pd.Series(pd.NaT, index=frame.index, dtype="datetime64[ns, UTC]")
    return frame


def findings_frame(findings: list[dict[str, Any]]) -> pd.DataFrame:
    rows = [
        {
            **{k: f[k] for k in ("rule", "severity", "title", "target", "count", "confidence")},
            "exchanges": ", ".join(f["exchanges"]),
            "target_origin": origin_of(f["target"]),
            "impact": f["impact"],
            "fix": f["fix"],
            "proof": f["proof"],
        }
        for f in findings
    ]
    return pd.DataFrame.from_records(rows, columns=FINDING_COLUMNS)


def blocked_frame(exchanges: pd.DataFrame) -> pd.DataFrame:
    """Blocked requests grouped by CorsError and target; largest group first.

    Fifty identical failures are one problem: one row with how many, from how many page
    origins, with which methods, and the first request as the example to look at.
    """
    blocked = blocked_rows(exchanges)
    if blocked.empty:
        return _empty(BLOCKED_COLUMNS)
    keys = BLOCKED_KEYS
    grouped = blocked.groupby(keys, sort=False, observed=True)
    out = grouped.agg(
        requests=("id", "size"),
        origins=("origin", "nunique"),
        example=("id", "first"),
        first_started=("started", "min"),
        last_started=("started", "max"),
    )
    out["methods"] = _distinct(blocked, keys, "method")
    out["blocked_at"] = _distinct(blocked, keys, "blocked_at")
    out["credentials"] = _distinct(blocked, keys, "credentials")
    out[["methods", "blocked_at", "credentials"]] = out[["methods", "blocked_at", "credentials"]].fillna("")
    out = out.reset_index()
    out = out.sort_values(
        ["requests", "first_started", "error"], ascending=[False, True, True], kind="stable"
    )
    return out[BLOCKED_COLUMNS].reset_index(drop=True)


def blocked_rows(exchanges: pd.DataFrame) -> pd.DataFrame:
    """The blocked exchanges, `error` filled for network failures (`net::ERR_…` from the message)."""
    columns = ["id", "method", "origin", "target_origin", "path", "credentials", "blocked_at", "error"]
    blocked = exchanges.loc[exchanges["verdict"] == "blocked", [*columns, "message", "started"]]
    if blocked["error"].isna().any():
        network = blocked["message"].astype(object).str.extract(r"^(net::[A-Z0-9_]+)", expand=False)
        error = blocked["error"].astype(object).fillna(network).fillna("(no error recorded)")
        blocked = blocked.assign(error=error.astype("category"))
    return blocked


def matrix_frame(exchanges: pd.DataFrame) -> pd.DataFrame:
    """Page origin x target origin with counts by verdict (requests without Origin grouped as one row)."""
    if exchanges.empty:
        return _empty(MATRIX_COLUMNS)
    keyed = exchanges[["origin", "target_origin", "verdict"]]
    keyed = keyed.assign(origin=filled(keyed["origin"], NO_ORIGIN))
    out = _verdict_counts(keyed, ["origin", "target_origin"]).reset_index()
    out = out.sort_values(["requests", "origin", "target_origin"], ascending=[False, True, True])
    return out[MATRIX_COLUMNS].reset_index(drop=True)


def timeline_frame(exchanges: pd.DataFrame, freq: str = "min") -> pd.DataFrame:
    """Counts by verdict per `freq` (a pandas offset alias; default one minute). Empty without times."""
    timed = exchanges.loc[exchanges["started"].notna(), ["started", "verdict"]]
    if timed.empty:
        return _empty(TIMELINE_COLUMNS)
    keyed = timed.assign(minute=timed["started"].dt.floor(freq))
    out = _verdict_counts(keyed, ["minute"]).reset_index()
    return out[TIMELINE_COLUMNS].sort_values("minute").reset_index(drop=True)


def hosts_frame(exchanges: pd.DataFrame, findings: pd.DataFrame) -> pd.DataFrame:
    """One row per target origin: what was requested there, what the browser did, what is risky."""
    if exchanges.empty:
        return _empty(HOST_COLUMNS)
    out = _verdict_counts(exchanges, ["target_origin"])
    grouped = exchanges.groupby("target_origin", observed=True)
    out["paths"] = grouped["path"].nunique()
    out["origins"] = grouped["origin"].nunique()
    out["errors"] = _tally(exchanges, ["target_origin"], "error").reindex(out.index, fill_value="")
    if findings.empty:
        out["findings"] = 0
        out["worst_severity"] = ""
    else:
        rank = findings["severity"].map({s: i for i, s in enumerate(SEVERITIES)})
        by_host = findings.assign(rank=rank).groupby("target_origin")
        out["findings"] = by_host.size().reindex(out.index, fill_value=0)
        worst = by_host["rank"].min().map(dict(enumerate(SEVERITIES)))
        out["worst_severity"] = worst.reindex(out.index, fill_value="")
    out = out.reset_index().sort_values(
        ["blocked", "requests", "target_origin"], ascending=[False, False, True]
    )
    return out[HOST_COLUMNS].reset_index(drop=True)


def summary_by(exchanges: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """Cross-origin requests grouped by `keys`: counts by verdict, distinct origins, errors seen.

    not-cors exchanges (same-origin loads, navigations, no-cors) are left out: they say
    nothing about a CORS policy. Rows are sorted by blocked count, then request count.
    """
    columns = list(dict.fromkeys([*keys, "origin", "verdict", "error"]))
    cors = exchanges.loc[exchanges["verdict"] != "not-cors", columns]
    if cors.empty:
        return _empty([*keys, *SUMMARY_COUNTS])
    cors = cors.assign(**{k: filled(cors[k], "(none)") for k in keys})
    summary = _verdict_counts(cors, keys)
    summary["origins"] = cors.groupby(keys, observed=True)["origin"].nunique()
    summary["errors"] = _tally(cors, keys, "error").reindex(summary.index, fill_value="")
    summary = summary.reset_index()[[*keys, *SUMMARY_COUNTS]]
    summary = summary.sort_values(
        ["blocked", "requests", *keys], ascending=[False, False, *([True] * len(keys))]
    )
    return summary.reset_index(drop=True)


def dump_csv(frames: Frames, folder: str) -> list[str]:
    """Write every frame as `folder/<name>.csv` (atomically each); return the paths written.

    Lists are joined into one cell, times are ISO 8601 UTC, and captured text that a
    spreadsheet would run as a formula (`=HYPERLINK(...)` in an Origin header) gets a leading
    `'`, the usual defence against CSV injection.
    """
    import os

    from cors_audit.report import atomic_writer

    written = []
    for name, frame in frames.tables():
        path = os.path.join(folder, f"{name}.csv")
        with atomic_writer(path) as out:
            csv_table(frame).to_csv(out, index=False, date_format="%Y-%m-%dT%H:%M:%S.%fZ")
        written.append(path)
    return written


def csv_table(frame: pd.DataFrame) -> pd.DataFrame:
    """`frame` as its CSV shows it: lists joined, text that could start a formula defused."""
    table = frame.copy()
    for column in table.columns:
        series = table[column]
        if column in _LIST_SEPARATORS:
            sep = _LIST_SEPARATORS[column]
            series = pd.Series(
                [sep.join(map(str, v)) if isinstance(v, list) else v for v in series], index=series.index
            )
        if isinstance(series.dtype, pd.CategoricalDtype):  # check each distinct value once
            categories = series.cat.categories.astype(object)
            series = series.cat.rename_categories([_defused(c) for c in categories])
        elif pd.api.types.is_object_dtype(series) or pd.api.types.is_string_dtype(series):
            text = series.astype(object)
            risky = text.str.startswith(_FORMULA_STARTS, na=False).astype(bool)
            if risky.any():
                text = text.where(~risky, "'" + text[risky].astype(str))
            series = text
        table[column] = series
    return table


def _defused(value: object) -> object:
    return "'" + value if isinstance(value, str) and value.startswith(_FORMULA_STARTS) else value


def csv_cell(value: object) -> object:
    """A text cell a spreadsheet shows as text, never evaluates."""
    if isinstance(value, str) and value.startswith(_FORMULA_STARTS):
        return "'" + value
    return value


def _verdict_counts(frame: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """Rows per `keys` with `requests` and one count column per verdict (zeros included)."""
    counts = (
        frame.groupby([*keys, "verdict"], sort=False, observed=True).size().unstack("verdict", fill_value=0)
    )
    counts = counts.reindex(columns=OUTCOMES, fill_value=0).rename(columns=COUNT_COLUMNS)
    counts.columns.name = None
    counts.insert(0, "requests", counts.sum(axis=1))
    return counts.astype("int64")


def _tally(frame: pd.DataFrame, keys: list[str], column: str) -> pd.Series:
    """Per group of `keys`: the distinct values of `column` with their counts ("A ×3, B"), most first."""
    present = frame[frame[column].notna()]
    if present.empty:
        return pd.Series(dtype=object)
    counts = present.groupby([*keys, column], sort=False, observed=True).size().rename("n").reset_index()
    counts = counts.sort_values([*keys, "n", column], ascending=[*([True] * len(keys)), False, True])
    label = counts[column].astype(str) + np.where(counts["n"] > 1, " ×" + counts["n"].astype(str), "")
    return label.groupby([counts[k] for k in keys], sort=False, observed=True).agg(", ".join)


def _distinct(frame: pd.DataFrame, keys: list[str], column: str) -> pd.Series:
    """Per group of `keys`: the distinct non-empty values of `column`, sorted, comma-joined."""
    values = frame[[*keys, column]].dropna().drop_duplicates()
    values = values.assign(**{column: values[column].astype(str)}).sort_values(column)
    return values.groupby(keys, sort=False, observed=True)[column].agg(", ".join)


def filled(series: pd.Series, value: str) -> pd.Series:
    """`series` with missing values replaced by `value` (adding it as a category when needed)."""
    if not series.hasnans:
        return series
    if isinstance(series.dtype, pd.CategoricalDtype) and value not in series.cat.categories:
        series = series.cat.add_categories([value])
    return series.fillna(value)


def _empty(columns: list[str]) -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype=object) for c in columns})
