"""``python -m bench`` (``make bench``): every benchmark, side by side with its baseline, into RESULTS.md.

python -m bench                  # everything (a few minutes); writes bench/RESULTS.md and the plot
python -m bench --quick          # a short run of everything, printed (add --write to keep it)
python -m bench --only warm      # one figure (repeatable), printed

It ends with the verdict: each target met or missed, one line each. While it runs, the terminal shows
only its progress lines: anything else written to stderr (warnings, a crashed figure's traceback,
what its child processes say) goes to build/bench.log, which the end names.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import tempfile
import time
import traceback
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from bench import bytecode, claims, cold, e2e, footprint, modal, package, plot, warm, worker_batch
from bench.env import BenchEnv
from bench.machine import describe, load
from bench.report import Figure, document, scrub_paths, verdict

FIGURES = ("cold", "warm", "worker", "e2e", "footprint", "bytecode", "plot", "claims", "modal")
HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
LOG = ROOT / "build" / "bench.log"


@dataclass(frozen=True)
class Sizes:
    cold_rounds: int
    warm_rounds: int
    worker_rounds: int
    pings: int
    cold_workers: int
    bytecode_rounds: int
    claim_events: int  # events of each kind whose DynamoDB requests are counted
    modal_commands: int  # `/incident` commands through the sandbox


FULL = Sizes(
    cold_rounds=40,
    warm_rounds=400,
    worker_rounds=10,
    pings=200,
    cold_workers=5,
    bytecode_rounds=15,
    claim_events=10,
    modal_commands=100,
)
QUICK = Sizes(
    cold_rounds=6,
    warm_rounds=60,
    worker_rounds=3,
    pings=30,
    cold_workers=2,
    bytecode_rounds=3,
    claim_events=3,
    modal_commands=20,
)


# Where progress lines go: the terminal's stderr, also while stderr itself goes to the log.
_terminal: TextIO | None = None


def progress(message: str) -> None:
    print(f"{time.strftime('%H:%M:%S')} {message}", file=_terminal or sys.stderr, flush=True)


@contextlib.contextmanager
def stderr_to(log: Path) -> Iterator[None]:
    """Send file descriptor 2 (so ``sys.stderr``, ``warnings`` and child processes) to ``log``, while
    ``progress`` keeps writing to the terminal: a warning never breaks a progress line."""
    global _terminal
    log.parent.mkdir(parents=True, exist_ok=True)
    sys.stderr.flush()
    saved, python_stderr = os.dup(2), sys.stderr
    # Line-buffered: this process's lines and its children's (on the same open file) keep their order.
    with (
        open(log, "w", encoding="utf-8", buffering=1) as sink,
        open(os.dup(saved), "w", encoding="utf-8") as terminal,
    ):
        os.dup2(sink.fileno(), 2)
        sys.stderr, _terminal = sink, terminal  # sys.stderr too, in case it is not file descriptor 2
        try:
            yield
        finally:
            sink.flush()
            sys.stderr, _terminal = python_stderr, None
            os.dup2(saved, 2)
            os.close(saved)


def log_summary(log: Path, shown: int = 3) -> str:
    """A line or a few naming what went to the log instead of the terminal (empty if nothing did)."""
    try:
        lines = [line.rstrip() for line in log.read_text(encoding="utf-8", errors="replace").splitlines()]
    except OSError:
        return ""
    lines = [line for line in lines if line.strip()]
    if not lines:
        return ""
    where = _relative(log)
    distinct = list(dict.fromkeys(line.strip() for line in lines))[:shown]
    first = "\n".join(f"  {line[:160]}" for line in distinct)
    return f"{len(lines)} lines of warnings or errors went to {where}; the first:\n{first}"


def _relative(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)


class Run:
    """Measures what the chosen figures need, once each, and collects the figures."""

    def __init__(self, sizes: Sizes, out: Path, write: bool) -> None:
        self.sizes = sizes
        self.out = out
        self.write = write
        self.env: BenchEnv | None = None
        self.tmp = tempfile.TemporaryDirectory(prefix="bench-")
        self.figures: list[Figure] = []
        self.crashed: list[str] = []
        self._cold: cold.ColdResults | None = None
        self._warm: warm.WarmResults | None = None
        self._built: package.Built | None = None

    def world(self) -> BenchEnv:
        if self.env is None:
            progress("starting moto (server mode) and the Slack stand-in")
            self.env = BenchEnv().start()
        return self.env

    def cold(self) -> cold.ColdResults:
        if self._cold is None:
            progress(
                f"figure 1: cold start, {self.sizes.cold_rounds} interleaved rounds of 4 fresh processes"
            )
            self._cold = cold.measure(self.world(), self.sizes.cold_rounds, progress)
        return self._cold

    def warm(self) -> warm.WarmResults:
        if self._warm is None:
            progress(f"figure 2: warm ack, {self.sizes.warm_rounds} interleaved rounds")
            self._warm = warm.measure(self.world(), self.sizes.warm_rounds, progress)
        return self._warm

    def built(self) -> package.Built:
        if self._built is None:
            progress("building the Lambda packages (python -m infra.package) into a temp folder")
            self._built = package.build(Path(self.tmp.name) / "dist")
        return self._built

    # -- the figures -------------------------------------------------------------------------------

    def figure(self, name: str) -> Figure:
        if name == "cold":
            return cold.figure(self.cold())
        if name == "warm":
            return warm.figure(self.warm())
        if name == "worker":
            progress(f"figure 3: worker concurrency, {self.sizes.worker_rounds} interleaved rounds")
            return worker_batch.figure(worker_batch.measure(self.world(), self.sizes.worker_rounds, progress))
        if name == "e2e":
            progress("figure 4: end to end through the sandbox")
            return e2e.figure(e2e.measure(self.sizes.pings, progress))
        if name == "footprint":
            built = self.built()
            progress("figure 5: footprint")
            workers = footprint.measure_worker(self.world(), self.sizes.cold_workers, progress)
            return footprint.figure(footprint.FootprintResults(built, workers), self.cold())
        if name == "bytecode":
            built = self.built()
            progress("figure 6: bytecode under the runtime's Python")
            return bytecode.figure(bytecode.measure(built, self.sizes.bytecode_rounds, progress))
        if name == "plot":
            # The picture shows what was measured for figures 1 and 2; it measures them if needed.
            cold_results, warm_results = self.cold(), self.warm()
            path = self.out / "ack_latency.png"
            if self.write:
                self.out.mkdir(parents=True, exist_ok=True)
                plot.draw(path, cold_results, warm_results)
            return plot.figure(path, cold_results, warm_results, self.write)
        if name == "claims":
            progress(f"figure 8: DynamoDB requests per event, {self.sizes.claim_events} events of each kind")
            return claims.figure(claims.measure(self.world(), self.sizes.claim_events, progress))
        if name == "modal":
            progress("figure 9: `/incident` → `views.open` through the sandbox, and cold workers")
            return modal.figure(
                modal.measure(self.world(), self.sizes.modal_commands, self.sizes.cold_workers, progress)
            )
        raise ValueError(name)

    def run(self, names: list[str]) -> None:
        for number, name in enumerate(FIGURES, start=1):
            if name not in names:
                continue
            started = time.monotonic()
            try:
                figure = self.figure(name)
            except Exception as error:
                traceback.print_exc()
                self.crashed.append(name)
                figure = Figure(
                    number, name, f"{name} (crashed)", f"Crashed: `{type(error).__name__}: {error}`"
                )
            figure.seconds = time.monotonic() - started
            self.figures.append(figure)

    def close(self) -> None:
        if self.env is not None:
            self.env.stop()
        self.tmp.cleanup()


def header(sizes: Sizes, mode: str, load_before: str, seconds: float, names: list[str]) -> str:
    lines = [
        "# Benchmarks",
        "",
        "Written by `python -m bench` (`make bench`); do not edit by hand. Each figure measures this code "
        "and its baseline side by side in the same run, interleaved; ratios are of medians with a paired "
        "bootstrap 95 % interval. Benchmarks never fail on timing: a missed target is reported here.",
        "",
        "| machine | |",
        "|---|---|",
    ]
    lines += [f"| {name} | {value} |" for name, value in describe(load_before)]
    lines += [
        f"| run | {mode}: {', '.join(names)}; {seconds:.0f} s; rounds: cold {sizes.cold_rounds}, warm "
        f"{sizes.warm_rounds}, worker {sizes.worker_rounds}, pings {sizes.pings}, bytecode {sizes.bytecode_rounds}, "
        f"claims {sizes.claim_events} events of each kind, modals {sizes.modal_commands} |",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench",
        description=__doc__.split("\n", 1)[1] if __doc__ else None,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--quick", action="store_true", help="fewer rounds: a smoke run of about a minute")
    parser.add_argument(
        "--only",
        action="append",
        choices=FIGURES,
        metavar="NAME",
        help=f"one of {', '.join(FIGURES)} (repeatable)",
    )
    parser.add_argument(
        "--write", action="store_true", help="write RESULTS.md and the plot after --quick or --only too"
    )
    parser.add_argument(
        "--out", type=Path, default=HERE, help="where RESULTS.md and ack_latency.png go (default: bench/)"
    )
    args = parser.parse_args(argv)

    names = [name for name in FIGURES if not args.only or name in args.only]
    sizes = QUICK if args.quick else FULL
    full = not args.quick and not args.only
    write = full or args.write
    mode = "quick run" if args.quick else "full run"
    load_before = load()
    started = time.monotonic()
    run = Run(sizes, args.out, write)
    with stderr_to(LOG):
        try:
            run.run(names)
        finally:
            run.close()
    text = document(header(sizes, mode, load_before, time.monotonic() - started, names), run.figures)
    text = scrub_paths(text, ROOT, Path.home())  # RESULTS.md is committed: no paths of this machine
    results = args.out / "RESULTS.md"
    if write:
        args.out.mkdir(parents=True, exist_ok=True)
        results.write_text(text)
        progress(f"wrote {_relative(results)}")
    else:
        print(text, flush=True)
    noise = log_summary(LOG)
    if noise:
        print(scrub_paths(noise, ROOT, Path.home()), file=sys.stderr, flush=True)
    print(verdict(run.figures, run.crashed, _relative(results) if write else "the report above"))
    return 1 if run.crashed else 0


if __name__ == "__main__":
    sys.exit(main())
