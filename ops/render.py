"""Plain-text output for the SRE commands: ages, tables, a progress bar and a yes/no question.

Dead letters carry text from outside (what a Slack user typed, error texts from servers), and a
terminal obeys control characters: ``ESC [2J`` clears the screen, ``ESC ]52;c;…`` writes the
clipboard, a C1 ``CSI`` does the same as ``ESC [`` on some terminals, and bidi overrides reorder what
is shown. ``printable`` removes them before anything is printed; ``terminal_json`` keeps JSON
lossless by writing them as ``\\uXXXX`` escapes instead.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Sequence
from typing import Any, TextIO

_BIDI_CONTROLS = [0x061C, 0x200E, 0x200F, *range(0x202A, 0x202F), *range(0x2066, 0x206A)]
# C0 (tab and newline decided per call), DEL, C1, and the bidi controls.
_CONTROLS = [*range(0x00, 0x20), 0x7F, *range(0x80, 0xA0), *_BIDI_CONTROLS]
_STRIP = {code: None for code in _CONTROLS}
_MULTILINE = {**_STRIP, ord("\n"): "\n", ord("\t"): "\t"}
_ONE_LINE = {**_STRIP, ord("\n"): " ", ord("\t"): " ", ord("\r"): " "}
# What json.dumps(ensure_ascii=False) leaves raw: everything but C0, which it escapes itself.
_JSON_ESCAPES = {code: f"\\u{code:04x}" for code in _CONTROLS if code >= 0x7F}


def printable(text: str, *, multiline: bool = False) -> str:
    """``text`` without control characters a terminal would act on.

    ``multiline`` keeps newlines and tabs (a message body); otherwise they become spaces (a cell).
    """
    return text.translate(_MULTILINE if multiline else _ONE_LINE)


def terminal_json(data: Any) -> str:
    """Indented JSON, non-ASCII text readable, control characters escaped (so it decodes unchanged)."""
    return json.dumps(data, indent=2, ensure_ascii=False).translate(_JSON_ESCAPES)


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
    """One printable line, at most ``width`` characters (an ellipsis marks a cut)."""
    line = " ".join(printable(text).split())
    return line if len(line) <= width else line[: width - 1] + "…"


def table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """Columns padded to their widest cell, two spaces apart; the last column is not padded.

    Every cell is made ``printable`` first: a control character would both act and skew the columns.
    """
    headers = [printable(str(cell)) for cell in headers]
    rows = [[printable(str(cell)) for cell in row] for row in rows]
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
