"""Inline-SVG pictures for the HTML report: sequence diagrams of one exchange, and two charts.

This module only does geometry: it returns `Drawing`s, lists of shapes with coordinates,
CSS classes from a fixed set, and text as plain strings. The template writes the markup and
autoescapes every string, so captured text can never become SVG markup or an attribute.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

import pandas as pd

from cors_audit.report.frames import timeline_frame
from cors_audit.report.story import Event, Story

MONO = 6.65  # px per character of the 11px monospace text (DejaVu Sans Mono, Menlo: 0.6em)
SANS = 6.4  # average px per character of the 11.5px sans-serif text
SUB = 6.05  # px per character of the 10px monospace actor subtitles
OUTCOME_ORDER = ("blocked", "allowed", "unknown", "not_cors")
OUTCOME_LABEL = {"blocked": "blocked", "allowed": "allowed", "unknown": "unknown", "not_cors": "not CORS"}
BIN_SECONDS = (1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400)
MAX_BINS = 90


@dataclass(frozen=True, slots=True)
class Shape:
    """One SVG element: `kind` is line, rect, text or poly; `cls` a space-separated class list."""

    kind: str
    cls: str
    x: float = 0
    y: float = 0
    x2: float = 0
    y2: float = 0
    w: float = 0
    h: float = 0
    text: str = ""
    anchor: str = "start"
    title: str = ""
    points: str = ""


@dataclass(slots=True)
class Drawing:
    width: float
    height: float
    label: str
    cls: str
    shapes: list[Shape] = field(default_factory=list)

    def line(self, x: float, y: float, x2: float, y2: float, cls: str) -> None:
        self.shapes.append(Shape("line", cls, x=_r(x), y=_r(y), x2=_r(x2), y2=_r(y2)))

    def rect(self, x: float, y: float, w: float, h: float, cls: str, title: str = "") -> None:
        self.shapes.append(
            Shape("rect", cls, x=_r(x), y=_r(y), w=_r(max(w, 0)), h=_r(max(h, 0)), title=title)
        )

    def text(self, x: float, y: float, text: str, cls: str, *, anchor: str = "start", limit: int = 0) -> None:
        shown, full = clip(text, limit) if limit else (text, "")
        self.shapes.append(Shape("text", cls, x=_r(x), y=_r(y), text=shown, anchor=anchor, title=full))

    def poly(self, points: Sequence[tuple[float, float]], cls: str) -> None:
        self.shapes.append(Shape("poly", cls, points=" ".join(f"{_r(x)},{_r(y)}" for x, y in points)))


def clip(text: str, limit: int) -> tuple[str, str]:
    """(`text` cut to `limit` characters with an ellipsis, the full text when it was cut, else "")."""
    if len(text) <= limit:
        return text, ""
    return text[: max(limit - 1, 0)] + "…", text[:2000]


# ---- sequence diagram ----

WIDTH = 900
PAGE_X, BROWSER_X, SERVER_X = 95, 290, 810
ACTOR_W, ACTOR_H = 172, 42
LINE_H = 15


def sequence_diagram(story: Story) -> Drawing:
    """Page, browser and server lifelines with every step of `story`, top to bottom."""
    d = Drawing(WIDTH, 0, f"Sequence of {story.xid}: {story.verdict}", f"seq outcome-{story.outcome}")
    span = int((SERVER_X - BROWSER_X - 24) / MONO)  # characters that fit between browser and server
    y = 10.0
    for x, name, sub in (
        (PAGE_X, "Page", story.origin),
        (BROWSER_X, "Browser", "CORS checks"),
        (SERVER_X, "Server", story.target),
    ):
        d.rect(x - ACTOR_W / 2, y, ACTOR_W, ACTOR_H, "actor")
        d.text(x, y + 17, name, "t-actor", anchor="middle")
        d.text(x, y + 33, sub, "t-sub", anchor="middle", limit=int((ACTOR_W - 12) / SUB))
    y += ACTOR_H + 26
    for event in story.events:
        if event.kind == "call":
            y = _arrow(d, PAGE_X, BROWSER_X, y, event, "msg call", 26)
        elif event.kind == "send":
            y = _arrow(d, BROWSER_X, SERVER_X, y, event, _msg("send", event.dashed), span)
        elif event.kind == "receive":
            y = _arrow(d, SERVER_X, BROWSER_X, y, event, _msg("receive", event.dashed), span)
        elif event.kind == "result":
            cls = "msg result " + ("ok" if event.ok else "fail" if event.ok is False else "")
            y = _arrow(d, BROWSER_X, PAGE_X, y, event, cls.strip(), 26)
        elif event.kind in ("check", "cached", "risk"):
            state = "ok" if event.ok else "fail" if event.ok is False else "neutral"
            state = "warn" if event.kind == "risk" else state
            cls = f"check {state}" + (" cached" if event.kind == "cached" else "")
            lines = [event.title, *event.lines]
            width = min(max(len(t) for t in lines) * MONO + 20, SERVER_X - BROWSER_X + 60)
            height = LINE_H * len(lines) + 10
            d.rect(BROWSER_X - 40, y - 4, width, height, cls)
            for i, text in enumerate(lines):
                d.text(BROWSER_X - 30, y + 10 + i * LINE_H, text, "t-check", limit=int((width - 20) / MONO))
            y += height + 14
        else:  # note
            d.text(BROWSER_X + 12, y + 4, event.title, "t-note", limit=span)
            y += LINE_H + 18
    verdict_cls = {"allowed": "ok", "blocked": "fail"}.get(story.outcome, "neutral")
    d.rect(10, y, WIDTH - 20, 28, f"verdict {verdict_cls}")
    d.text(22, y + 18, f"Browser verdict — {story.verdict}", "t-verdict", limit=int((WIDTH - 44) / 7.2))
    y += 40
    # lifelines go under everything else
    top = 10 + ACTOR_H
    lifelines = [
        Shape("line", "life", x=x, y=top, x2=x, y2=_r(y - 44)) for x in (PAGE_X, BROWSER_X, SERVER_X)
    ]
    d.shapes[0:0] = lifelines
    d.height = _r(y)
    return d


def _msg(kind: str, dashed: bool) -> str:
    return f"msg {kind}" + (" dashed" if dashed else "")


def _arrow(d: Drawing, x1: float, x2: float, y: float, event: Event, cls: str, span: int) -> float:
    """A labelled arrow from x1 to x2 (title above it, header lines below); returns the next y.

    Lines the failed check is about (`event.marked`; -1 is the title) are drawn in the error colour.
    """
    left = min(x1, x2) + 12
    d.text(left, y, event.title, "t-title bad" if -1 in event.marked else "t-title", limit=span)
    y += 7
    d.line(x1, y, x2, y, cls)
    tip = 8 if x2 > x1 else -8
    d.poly([(x2, y), (x2 - tip, y - 4.5), (x2 - tip, y + 4.5)], "head " + cls)
    y += 4
    for index, line in enumerate(event.lines):
        y += LINE_H
        d.text(left, y, line, "t-line bad" if index in event.marked else "t-line", limit=span)
    return y + 22


# ---- charts ----

CHART_W = 560
LABEL_W = 200


def verdict_bars(hosts: pd.DataFrame, limit: int = 10) -> Drawing | None:
    """Stacked horizontal bars: requests per target origin, split by verdict (largest first)."""
    if hosts.empty:
        return None
    rows = hosts.sort_values(["requests", "target_origin"], ascending=[False, True])
    shown = rows.head(limit)
    records = [(str(r["target_origin"]), {k: int(r[k]) for k in OUTCOME_ORDER}) for _, r in shown.iterrows()]
    rest = rows.iloc[limit:]
    if not rest.empty:
        records.append((f"{len(rest)} other targets", {k: int(rest[k].sum()) for k in OUTCOME_ORDER}))
    row_h = 24
    bar_x, bar_w = LABEL_W + 8, CHART_W - LABEL_W - 70
    d = Drawing(CHART_W, 30 + row_h * len(records) + 6, "Requests per target origin by verdict", "chart bars")
    _legend(d, 0, 12)
    biggest = max(sum(c.values()) for _, c in records) or 1
    for i, (label, counts) in enumerate(records):
        y = 30 + i * row_h
        d.text(LABEL_W, y + 15, label, "t-label", anchor="end", limit=int(LABEL_W / MONO))
        x = float(bar_x)
        for key in OUTCOME_ORDER:
            if counts[key]:
                w = max(counts[key] / biggest * bar_w, 2)
                d.rect(
                    x, y + 4, w, row_h - 8, f"seg {key}", title=f"{label}: {counts[key]} {OUTCOME_LABEL[key]}"
                )
                x += w
        d.text(x + 6, y + 15, f"{sum(counts.values()):,}", "t-count")
    return d


def timeline_chart(exchanges: pd.DataFrame) -> tuple[Drawing | None, str]:
    """Stacked columns of requests over time by verdict, and a caption naming the bin size."""
    started = exchanges["started"].dropna()
    if started.empty:
        return None, "The capture holds no timestamps."
    first, last = started.min(), started.max()
    span = (last - first).total_seconds()
    days = math.ceil(span / MAX_BINS / 86400) * 86400  # for captures spanning months
    seconds = next((s for s in BIN_SECONDS if span / s < MAX_BINS), days)
    counts = timeline_frame(exchanges, f"{seconds}s").set_index("minute")
    origin = counts.index.min()
    n_bins = int((counts.index.max() - origin).total_seconds() // seconds) + 1
    plot_x, plot_y, plot_w, plot_h = 46.0, 14.0, CHART_W - 56.0, 150.0
    d = Drawing(CHART_W, plot_y + plot_h + 44, "Requests over time by verdict", "chart timeline")
    top = int(counts["requests"].max()) or 1
    d.line(plot_x, plot_y + plot_h, plot_x + plot_w, plot_y + plot_h, "axis")
    for value in sorted({0, top // 2, top}):
        y = plot_y + plot_h - value / top * plot_h
        d.line(plot_x - 4, y, plot_x + plot_w, y, "grid")
        d.text(plot_x - 8, y + 4, f"{value:,}", "t-axis", anchor="end")
    bar_w = plot_w / max(n_bins, 1)
    for moment, row in counts.iterrows():
        index = int((moment - origin).total_seconds() // seconds)  # type: ignore[operator]
        x = plot_x + index * bar_w
        y = plot_y + plot_h
        for key in OUTCOME_ORDER:
            value = int(row[key])
            if value:
                h = value / top * plot_h
                y -= h
                when = _clock(moment, seconds)  # type: ignore[arg-type]
                d.rect(
                    x + 0.5,
                    y,
                    max(bar_w - 1, 1),
                    h,
                    f"seg {key}",
                    title=f"{when}: {value} {OUTCOME_LABEL[key]}",
                )
    ticks = [(0, origin), (n_bins, origin + pd.Timedelta(seconds=seconds * n_bins))]
    for index, moment in ticks:
        anchor = "start" if index == 0 else "end"
        d.text(plot_x + index * bar_w, plot_y + plot_h + 16, _clock(moment, seconds), "t-axis", anchor=anchor)
    _legend(d, plot_x, plot_y + plot_h + 36)
    caption = f"One bar per {_duration(seconds)}, {_clock(first, 1)} – {_clock(last, 1)} UTC"
    if first.date() != last.date():
        caption += f" ({first:%Y-%m-%d} – {last:%Y-%m-%d})"
    else:
        caption += f" on {first:%Y-%m-%d}"
    return d, caption


def mini_bar(counts: dict[str, int], width: float = 90) -> Drawing:
    """A small stacked bar (for table cells): shares of each verdict in one row."""
    total = sum(counts.values()) or 1
    d = Drawing(width, 10, "", "mini")
    x = 0.0
    for key in OUTCOME_ORDER:
        value = counts.get(key, 0)
        if value:
            w = value / total * width
            d.rect(x, 1, w, 8, f"seg {key}", title=f"{value} {OUTCOME_LABEL[key]}")
            x += w
    return d


def _legend(d: Drawing, x: float, y: float) -> None:
    for key in OUTCOME_ORDER:
        d.rect(x, y - 9, 10, 10, f"seg {key}")
        d.text(x + 14, y, OUTCOME_LABEL[key], "t-legend")
        x += 14 + len(OUTCOME_LABEL[key]) * SANS + 16


def _clock(moment: datetime, seconds: int) -> str:
    return moment.strftime("%H:%M:%S" if seconds < 60 else "%H:%M")


def _duration(seconds: int) -> str:
    if seconds < 60:
        return f"{seconds} s"
    if seconds < 3600:
        return f"{seconds // 60} min"
    if seconds < 86400:
        return f"{seconds // 3600} h"
    return "day" if seconds == 86400 else f"{seconds // 86400} days"


def _r(value: float) -> float:
    return round(float(value), 1)
