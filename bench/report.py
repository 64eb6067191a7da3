"""What a figure reports (tables, targets met or missed, notes), how ``RESULTS.md`` is written, and the
one-screen verdict ``make bench`` ends with."""

from __future__ import annotations

import math
import os
import re
from collections.abc import Collection
from dataclasses import dataclass, field
from pathlib import Path

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


def verdict(figures: list[Figure], crashed: list[str], where: str) -> str:
    """The last thing ``make bench`` prints: each target met or missed, one line each, and a count.

    ``where`` says where the tables are (``bench/RESULTS.md``, or "above" when they were printed).
    """
    lines = [f"Targets (every table: {where}):"]
    marks = [(figure, verdict) for figure in figures for verdict in figure.verdicts]
    width = max((len(_mark(v.met)) for _, v in marks), default=0)
    for figure, target in marks:
        lines.append(f"  {_mark(target.met):<{width}}  {figure.number}. {target.target}: {target.measured}")
    met = [figure.number for figure, v in marks if v.met]
    missed = [figure.number for figure, v in marks if v.met is False]
    unknown = [figure.number for figure, v in marks if v.met is None]
    summary = f"{len(met)} of {len(marks)} targets met"
    if missed:
        summary += f"; missed: figure {_numbers(missed)}"
    if unknown:
        summary += f"; not measured: figure {_numbers(unknown)}"
    lines.append(summary + ".")
    if crashed:
        lines.append(f"Crashed: {', '.join(crashed)} (the traceback is in the log).")
    return "\n".join(lines)


def _numbers(numbers: list[int]) -> str:
    return ", ".join(str(n) for n in dict.fromkeys(numbers))


# An absolute path: a slash not following a word, a dot, a tilde, a colon, a slash or a dash (so not
# a URL's path, a fraction or a ratio), then one or more path components.
_EVERY_MACHINES = frozenset({"dev", "proc", "sys"})  # /dev/null says nothing about this machine
_ABSOLUTE_PATH = re.compile(r"(?<![\w.~:/-])/([\w.@+-]+)(?:/[\w.@+-]+)*")


def scrub_paths(text: str, root: Path, home: Path, top_level: Collection[str] | None = None) -> str:
    """``text`` without this machine's absolute paths: the repository's become relative to it, the
    home directory's ``~/…``, and any other path under one of the machine's top-level directories
    (``top_level``, default: what ``/`` holds) only its last component (``/usr/bin/python3.13`` →
    ``python3.13``). Paths that are not the machine's (``/slack/events``, ``/sandbox/slow``) and those
    every machine has (``/dev/null``) stay."""
    tops = set(_top_level() if top_level is None else top_level) - _EVERY_MACHINES
    text = _replace_folder(text, root, inside="", itself=".")
    if str(home) not in ("", "/"):
        text = _replace_folder(text, home, inside="~/", itself="~")

    def last_component(match: re.Match[str]) -> str:
        return match.group(0).rsplit("/", 1)[-1] if match.group(1) in tops else match.group(0)

    return _ABSOLUTE_PATH.sub(last_component, text)


def _replace_folder(text: str, folder: Path, *, inside: str, itself: str) -> str:
    """``folder/x`` → ``{inside}x`` and ``folder`` alone → ``itself`` (not ``folder2/…``)."""
    escaped = re.escape(str(folder).rstrip("/"))
    text = re.sub(escaped + "/", lambda _: inside, text)
    return re.sub(escaped + r"(?![\w.@+-])", lambda _: itself, text)


def _top_level() -> list[str]:
    try:
        return os.listdir("/")
    except OSError:
        return []
