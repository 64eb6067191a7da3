"""Figure 6: bytecode. The packaged ingest's import time under the Lambda runtime's Python, with and
without the compiled bytecode shipped in the package.

Lambda's code folder is read-only: a package without ``__pycache__`` is compiled from source on every
cold start (nothing can be cached). Each variant runs in a fresh ``python3.13 -B`` (no bytecode
written between runs) that imports ``ingest.handler`` from the unpacked package, with AWS credentials
in the environment as on Lambda: the ingest then needs nothing outside the package and the standard
library (boto3 is not imported), and builds its SQS client for the real, HTTPS endpoint (CA bundle
loaded) without any network call.
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from bench.env import PROBES, ProcessResult, run_process
from bench.package import Built, build_ingest_from_source, extract, zip_contents
from bench.report import Figure, Table, interval, ms, summary_cells, times
from bench.stats import Summary, median_ratio_interval, ratio
from sandbox.moto import AWS_TEST_ENV

VARIANTS = ("bytecode", "sources")
LABELS = {
    "bytecode": "**package with bytecode** (as `infra.package` builds it)",
    "sources": "package without bytecode (sources only)",
}


@dataclass
class BytecodeResults:
    interpreter: str = ""
    version: str = ""
    origin: str = ""  # where the package came from
    shipped_tags: list[str] = field(default_factory=list)
    runs: dict[str, list[ProcessResult]] = field(default_factory=lambda: {v: [] for v in VARIANTS})
    problem: str = ""
    compile_ms: float = float("nan")  # compiling the package's sources, in process (median of 5)

    def values(self, variant: str) -> list[float]:
        return [float(run.result["import_ms"]) for run in self.runs[variant]]


def find_interpreter() -> tuple[str, str] | None:
    """The runtime's Python (3.13, as ``infra/template.yaml`` sets it) and its version, if it runs here."""
    candidates = [os.environ.get("LAMBDA_PYTHON", "")]
    candidates += sorted(glob.glob(os.path.expanduser("~/.pyenv/versions/3.13*/bin/python3.13")))
    candidates += sorted(glob.glob("/root/.pyenv/versions/3.13*/bin/python3.13"))
    candidates.append(shutil.which("python3.13") or "")  # a pyenv shim may be on PATH and not work
    for candidate in candidates:
        if not candidate or not os.access(candidate, os.X_OK):
            continue
        try:
            done = subprocess.run(
                [candidate, "--version"], capture_output=True, text=True, timeout=30, check=False
            )
        except OSError:
            continue
        if done.returncode == 0 and done.stdout.startswith("Python 3.13"):
            return candidate, done.stdout.strip()
    return None


def measure(built: Built, rounds: int, progress: Callable[[str], None]) -> BytecodeResults:
    results = BytecodeResults()
    found = find_interpreter()
    if found is None:
        results.problem = "no working python3.13 on this machine"
        return results
    interpreter, results.version = found
    results.interpreter = interpreter
    with tempfile.TemporaryDirectory(prefix="bench-bytecode-") as tmp:
        root = Path(tmp)
        if built.ingest is not None and built.ingest_sources_only is not None:
            results.origin = "`python -m infra.package` (with and without `--no-bytecode`)"
            with_bytecode = extract(built.ingest, root / "with")
            sources = extract(built.ingest_sources_only, root / "without")
            results.shipped_tags = zip_contents(built.ingest)[2]
            if "cpython-313" not in results.shipped_tags:
                _compile(interpreter, with_bytecode)
        else:
            results.origin = "the source folders (`infra.package` not available), compiled here"
            sources = build_ingest_from_source(root / "without")
            with_bytecode = shutil.copytree(sources, root / "with")
            _compile(interpreter, with_bytecode)
            results.shipped_tags = ["cpython-313 (compiled here)"]
        paths = {"bytecode": [with_bytecode], "sources": [sources]}
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith("PYTHON") and k != "AWS_ENDPOINT_URL"},
            **AWS_TEST_ENV,
        }

        def run(variant: str) -> ProcessResult:
            command = [interpreter, "-s", "-B", str(PROBES / "import_ingest.py"), *map(str, paths[variant])]
            return run_process(command, env=env, timeout=60)

        results.compile_ms = _compile_time(interpreter, sources)
        for variant in VARIANTS:
            run(variant)  # warm-up: files in the page cache
        for number in range(rounds):
            order = VARIANTS[number % len(VARIANTS) :] + VARIANTS[: number % len(VARIANTS)]
            for variant in order:
                results.runs[variant].append(run(variant))
        progress(f"  bytecode: {rounds} rounds under {results.version}")
    return results


_COMPILE_TIME = """
import pathlib, statistics, sys, time
sources = [(str(p), p.read_text()) for p in pathlib.Path(sys.argv[1]).rglob("*.py")]
times = []
for _ in range(5):
    started = time.perf_counter()
    for name, text in sources:
        compile(text, name, "exec")
    times.append((time.perf_counter() - started) * 1000)
print(statistics.median(times))
"""


def _compile_time(interpreter: str, folder: Path) -> float:
    """What compiling every source file of the package costs, measured directly (no import noise)."""
    done = subprocess.run(
        [interpreter, "-c", _COMPILE_TIME, str(folder)], capture_output=True, text=True, check=True
    )
    return float(done.stdout.strip())


def _compile(interpreter: str, folder: Path) -> None:
    subprocess.run(
        [
            interpreter,
            "-m",
            "compileall",
            "-q",
            "-j",
            "0",
            "--invalidation-mode",
            "unchecked-hash",
            str(folder),
        ],
        check=True,
        stdout=subprocess.DEVNULL,
    )


def figure(results: BytecodeResults) -> Figure:
    fig = Figure(
        6, "bytecode", "Bytecode: the packaged ingest's import under the runtime's Python", _method()
    )
    if results.problem:
        fig.notes.append(f"Not measured: {results.problem}.")
        return fig
    base = results.values("bytecode")
    table = Table(["`import ingest.handler`", "n", "median", "p99", "× with bytecode", "CPU (whole process)"])
    for variant in VARIANTS:
        values = results.values(variant)
        summary = Summary.of(values)
        low, high = median_ratio_interval(values, base)
        table.add(
            LABELS[variant],
            *summary_cells(summary),
            times(ratio(summary.median, Summary.of(base).median))
            + (interval(low, high) if variant != "bytecode" else ""),
            ms(Summary.of([run.cpu_ms for run in results.runs[variant]]).median),
        )
    fig.tables.append(table)
    sdk = any(run.result.get("sdk_loaded") for runs in results.runs.values() for run in runs)
    fig.notes.append(f"boto3 or botocore imported by the packaged ingest: {'yes' if sdk else 'no'}.")
    saved = Summary.of(results.values("sources")).median - Summary.of(base).median
    effect = (
        f"without it, the median import is {ms(saved)} slower"
        if saved > 0
        else "without it, the median import is no slower here (within the noise)"
    )
    fig.notes.append(
        f"{results.version} (`{results.interpreter}`); package from {results.origin}; bytecode in the "
        f"package: {', '.join(results.shipped_tags) or 'none'}; {effect}. Compiling the package's "
        f"sources, timed directly, takes {ms(results.compile_ms)}: what every cold start without the "
        "bytecode pays."
    )
    return fig


def _method() -> str:
    return (
        "Fresh `python3.13 -s -B` processes, interleaved, each timing `import ingest.handler` (its "
        "SQS client is built at import, for the HTTPS endpoint) from the unpacked package put first on "
        "`sys.path`, with AWS credentials in the environment as on Lambda (no boto3 is imported). "
        "`-B`: nothing is cached between runs, as in Lambda's read-only code folder."
    )
