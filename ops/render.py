"""Plain-text output for the SRE commands: ages, tables, a progress bar and a yes/no question."""

from __future__ import annotations

import sys
import time
from collections.abc import Sequence
from typing import TextIO


def age(seconds: float | None) -> str:
    """``45s``, ``3m``, ``2h``, ``4d`` (rounded down); ``n/a`` when unknown."""
    if seconds is None:
        return "n/a"
    seconds = max(0, int(seconds))
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def iso(epoch_seconds: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(epoch_seconds))


def excerpt(text: str, width: int) -> str:
    """One line, at most ``width`` characters (an ellipsis marks a cut)."""
    line = " ".join(text.split())
    return line if len(line) <= width else line[: width - 1] + "…"


def table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """Columns padded to their widest cell, two spaces apart; the last column is not padded."""
    widths = [max(len(str(row[i])) for row in [headers, *rows]) for i in range(len(headers))]
    lines = []
    for row in [headers, *rows]:
        cells = [str(cell).ljust(width) for cell, width in zip(row[:-1], widths, strict=False)]
        lines.append("  ".join([*cells, str(row[-1])]).rstrip())
    return "\n".join(lines)


class Progress:
    """``redrive [#####-----] 5/10`` on stderr: redrawn in place on a terminal, else one line per step
    of the bar (at most eleven lines), so a log stays short."""

    WIDTH = 10

    def __init__(self, label: str, total: int, stream: TextIO | None = None) -> None:
        self.label = label
        self.total = max(total, 0)
        self.done = 0
        self.stream = stream if stream is not None else sys.stderr
        self._last_drawn: int | None = None

    def advance(self, count: int = 1) -> None:
        self.update(self.done + count)

    def update(self, done: int, total: int | None = None) -> None:
        if total is not None:
            self.total = max(total, 0)
        self.done = done
        filled = self._filled()
        if self._interactive():
            self.stream.write("\r" + self.line())
        elif filled != self._last_drawn:
            self.stream.write(self.line() + "\n")
        self._last_drawn = filled
        self.stream.flush()

    def finish(self) -> None:
        if self._interactive():
            self.stream.write("\n")
            self.stream.flush()

    def line(self) -> str:
        filled = self._filled()
        return f"{self.label} [{'#' * filled}{'-' * (self.WIDTH - filled)}] {self.done}/{self.total}"

    def _filled(self) -> int:
        if self.total <= 0:
            return self.WIDTH
        return min(self.WIDTH, self.done * self.WIDTH // self.total)

    def _interactive(self) -> bool:
        return bool(getattr(self.stream, "isatty", lambda: False)())


def confirm(question: str, *, assume_yes: bool) -> bool:
    """Ask ``question [y/N]`` on the terminal. Without one (no tty, no stdin) the answer is no, and
    the reason is said, so that a script that forgot ``--yes`` changes nothing."""
    if assume_yes:
        return True
    stdin = sys.stdin
    if stdin is None or stdin.closed or not stdin.isatty():
        print(f"{question} not confirmed: no terminal to ask on (pass --yes)", file=sys.stderr)
        return False
    print(f"{question} [y/N] ", end="", file=sys.stderr, flush=True)
    answer = stdin.readline()
    return answer.strip().lower() in ("y", "yes")
