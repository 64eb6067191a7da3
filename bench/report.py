"""What a figure reports (tables, targets met or missed, notes) and how ``RESULTS.md`` is written."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from bench.stats import Summary


@dataclass(frozen=True)
class Verdict:
    target: str  # "cold ingest ≤ 1.15 x the SDK floor (median)"
    measured: str  # "1.08 x (95 % CI 1.03–1.12)"
    met: bool | None  # None: could not be measured


@dataclass
class Table:
    headers: list[str]
    rows: list[list[str]] = field(default_factory=list)

    def add(self, *cells: str) -> None:
        self.rows.append(list(cells))

    def markdown(self) -> str:
        lines = ["| " + " | ".join(self.headers) + " |", "|" + "---|" * len(self.headers)]
        lines += ["| " + " | ".join(row) + " |" for row in self.rows]
        return "\n".join(lines)


@dataclass
class Figure:
    number: int
    key: str
    title: str
    method: str  # how it was measured, one paragraph
    tables: list[Table] = field(default_factory=list)
    verdicts: list[Verdict] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0  # how long the figure took to measure

    def markdown(self) -> str:
        parts = [f"## {self.number}. {self.title}", "", self.method, ""]
        for table in self.tables:
            parts += [table.markdown(), ""]
        for verdict in self.verdicts:
            parts.append(f"- **{_mark(verdict.met)}** {verdict.target}: {verdict.measured}")
        if self.verdicts:
            parts.append("")
        parts += [
            f"{note}" if note.startswith(("-", "|", "```", "![")) else f"_{note}_" for note in self.notes
        ]
        if self.notes:
            parts.append("")
        return "\n".join(parts)


def _mark(met: bool | None) -> str:
    return {True: "met", False: "MISSED", None: "not measured"}[met]


def ms(value: float) -> str:
    if math.isnan(value):
        return "–"
    if value >= 100:
        return f"{value:.0f} ms"
    if value >= 1:
        return f"{value:.1f} ms"
    return f"{value:.2f} ms"


def mib(kib: float) -> str:
    return "–" if math.isnan(kib) else f"{kib / 1024:.1f} MiB"


def size(num_bytes: float) -> str:
    if num_bytes < 1024 * 1024:
        return f"{num_bytes / 1024:.0f} KiB"
    return f"{num_bytes / 1024 / 1024:.2f} MiB"


def times(value: float) -> str:
    return "–" if math.isnan(value) else f"{value:.2f} x"


def interval(low: float, high: float) -> str:
    if math.isnan(low) or math.isnan(high):
        return ""
    return f" (95 % CI {low:.2f}–{high:.2f})"


def summary_cells(summary: Summary) -> list[str]:
    """n, median, p99 (the columns every timing table has)."""
    return [str(summary.n), ms(summary.median), ms(summary.p99)]


def document(header: str, figures: list[Figure]) -> str:
    verdicts = [(figure, verdict) for figure in figures for verdict in figure.verdicts]
    lines = [header, "", "## Targets", "", "| figure | target | measured | |", "|---|---|---|---|"]
    for figure, verdict in verdicts:
        lines.append(f"| {figure.number} | {verdict.target} | {verdict.measured} | {_mark(verdict.met)} |")
    lines.append("")
    for figure in figures:
        lines.append(figure.markdown())
    return "\n".join(lines).rstrip() + "\n"
