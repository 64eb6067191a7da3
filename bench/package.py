"""The Lambda packages the benchmarks measure: built with ``python -m infra.package`` into a temp folder.

When ``infra.package`` is not there (or fails), ``build_ingest_from_source`` lays out the same
``ingest/`` + ``shared/`` package from the source folders. Never writes to ``dist/``.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import zipfile
from dataclasses import dataclass
from pathlib import Path

from bench.env import ROOT, python


@dataclass(frozen=True)
class Built:
    ingest: Path | None
    worker: Path | None
    ingest_sources_only: Path | None
    problem: str = ""  # why nothing was built


def available() -> bool:
    try:
        return importlib.util.find_spec("infra.package") is not None
    except ModuleNotFoundError:
        return False


def build(out: Path) -> Built:
    """``dist``-like zips in ``out``: both packages with bytecode, and the ingest with sources only."""
    if not available():
        return Built(None, None, None, "`python -m infra.package` does not exist yet")
    env = {k: v for k, v in os.environ.items() if k != "AWS_ENDPOINT_URL"}
    with_bytecode = out / "bytecode"
    sources_only = out / "sources"
    for folder, extra in ((with_bytecode, []), (sources_only, ["ingest", "--no-bytecode"])):
        folder.mkdir(parents=True, exist_ok=True)
        done = subprocess.run(
            [python(), "-m", "infra.package", *extra, "--out", str(folder)],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
        if done.returncode != 0:
            return Built(None, None, None, f"`python -m infra.package` failed: {done.stderr.strip()[-300:]}")
    return Built(
        _exists(with_bytecode / "ingest.zip"),
        _exists(with_bytecode / "worker.zip"),
        _exists(sources_only / "ingest.zip"),
    )


def _exists(path: Path) -> Path | None:
    return path if path.is_file() else None


def zip_contents(path: Path) -> tuple[int, int, list[str]]:
    """(files, uncompressed bytes, bytecode cache tags found) of a zip."""
    with zipfile.ZipFile(path) as archive:
        infos = archive.infolist()
        tags = sorted({info.filename.rsplit(".", 2)[-2] for info in infos if info.filename.endswith(".pyc")})
        return len(infos), sum(info.file_size for info in infos), tags


def build_ingest_from_source(folder: Path) -> Path:
    """``ingest/`` and ``shared/``, sources only, as the ingest package holds them."""
    folder.mkdir(parents=True, exist_ok=True)
    for name in ("ingest", "shared"):
        shutil.copytree(ROOT / name, folder / name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    return folder


def extract(path: Path, folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path) as archive:
        archive.extractall(folder)
    return folder
