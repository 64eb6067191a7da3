"""``make bench``'s output: it ends with the verdict, RESULTS.md holds no path of the machine, and
stderr noise goes to the log instead of between the progress lines."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

import bench.__main__ as bench_main
from bench.report import Figure, Table, Verdict, scrub_paths, verdict


def _figures() -> list[Figure]:
    cold = Figure(1, "cold", "Ingest cold start", "method")
    cold.tables.append(Table(["fresh process", "n", "median", "p99"], [["floor", "40", "297 ms", "424 ms"]]))
    cold.verdicts.append(
        Verdict("cold ingest ≤ 1.15 x the SDK floor (median)", "1.04 x (95 % CI 0.95–1.27)", True)
    )
    batch = Figure(3, "worker", "Worker concurrency", "method")
    batch.verdicts.append(Verdict("a batch of 10 ≤ 1.5 x one 300 ms call (median)", "2.07 x", False))
    e2e = Figure(4, "e2e", "End to end", "method")
    e2e.verdicts.append(Verdict("p50 request → reply < 100 ms", "n/a", None))
    return [cold, batch, e2e]


def test_the_verdict_is_one_line_per_target_and_a_count() -> None:
    text = verdict(_figures(), [], "bench/RESULTS.md")
    assert text.splitlines() == [
        "Targets (every table: bench/RESULTS.md):",
        "  met           1. cold ingest ≤ 1.15 x the SDK floor (median): 1.04 x (95 % CI 0.95–1.27)",
        "  MISSED        3. a batch of 10 ≤ 1.5 x one 300 ms call (median): 2.07 x",
        "  not measured  4. p50 request → reply < 100 ms: n/a",
        "1 of 3 targets met; missed: figure 3; not measured: figure 4.",
    ]


def test_the_verdict_names_crashed_figures() -> None:
    text = verdict(_figures()[:1], ["e2e", "plot"], "the report above")
    assert text.splitlines()[-1] == "Crashed: e2e, plot (the traceback is in the log)."
    assert text.splitlines()[-2] == "1 of 1 targets met."


def test_paths_of_the_machine_are_scrubbed_and_others_kept() -> None:
    text = (
        "CPython (`/work/main/.venv/bin/python`) in /work/main; "
        "Python 3.13 (`/home/ann/.pyenv/versions/3.13.0/bin/python3.13`); "
        "runtime /usr/bin/python3.13, built in /tmp/bench-x1/dist/ingest.zip; "
        "a sibling /work/main2/x; GET `/sandbox/slow?ms=300`, POST /slack/events, "
        "http://127.0.0.1:4566/queue/work, log to /dev/null, 5/10 rounds, ~/.cache kept"
    )
    scrubbed = scrub_paths(
        text, Path("/work/main"), Path("/home/ann"), top_level=["work", "home", "usr", "tmp", "dev"]
    )
    assert scrubbed == (
        "CPython (`.venv/bin/python`) in .; "
        "Python 3.13 (`~/.pyenv/versions/3.13.0/bin/python3.13`); "
        "runtime python3.13, built in ingest.zip; "
        "a sibling x; GET `/sandbox/slow?ms=300`, POST /slack/events, "
        "http://127.0.0.1:4566/queue/work, log to /dev/null, 5/10 rounds, ~/.cache kept"
    )


def test_stderr_goes_to_the_log_and_progress_lines_to_the_terminal(
    tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    log = tmp_path / "build" / "bench.log"
    with bench_main.stderr_to(log):
        bench_main.progress("figure 1: cold start")
        print("in-process noise", file=sys.stderr)  # where Python's warnings are shown
        child = "import warnings; warnings.warn('a library grumbles', DeprecationWarning)"
        subprocess.run([sys.executable, "-W", "always", "-c", child], check=True)
        bench_main.progress("figure 2: warm ack")
    terminal = capfd.readouterr().err
    assert re.fullmatch(r"\d\d:\d\d:\d\d figure 1: cold start\n\d\d:\d\d:\d\d figure 2: warm ack\n", terminal)
    logged = log.read_text()
    assert "in-process noise" in logged and "DeprecationWarning: a library grumbles" in logged
    summary = bench_main.log_summary(log)
    assert summary.startswith("2 lines of warnings or errors went to ")
    assert "DeprecationWarning: a library grumbles" in summary
    print("after", file=sys.stderr)
    assert capfd.readouterr().err == "after\n"  # stderr is the terminal's again


def test_a_run_ends_with_the_verdict_and_writes_no_machine_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    figures = {f.key: f for f in _figures()}
    monkeypatch.setattr(bench_main, "LOG", tmp_path / "bench.log")
    monkeypatch.setattr(bench_main.Run, "figure", lambda self, name: figures[name])
    code = bench_main.main(["--only", "cold", "--only", "worker", "--write", "--out", str(tmp_path)])
    assert code == 0
    out = capsys.readouterr().out
    assert out.splitlines()[-1] == "1 of 2 targets met; missed: figure 3."
    assert "| floor | 40 | 297 ms | 424 ms |" not in out  # the tables are in RESULTS.md, not on screen
    results = (tmp_path / "RESULTS.md").read_text()
    assert "| floor | 40 | 297 ms | 424 ms |" in results
    assert str(bench_main.ROOT) not in results and str(Path.home()) + "/" not in results
    assert re.search(r"Python \| CPython [\d.]+ \(`[^/`][^`]*`\)", results)  # the interpreter, relative
