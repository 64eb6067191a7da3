"""Build the two Lambda packages: ``dist/ingest.zip`` and ``dist/worker.zip`` (``make package``).

- **ingest.zip**: ``ingest/`` and ``shared/``, nothing else (stdlib and the runtime's boto3).
- **worker.zip**: ``worker/`` (skills included) and ``shared/`` plus the worker's dependencies from
  ``pyproject.toml`` less boto3 (the runtime has it), as wheels for the template's runtime and
  architecture (``pip install --platform manylinux2014_aarch64 --implementation cp --python-version 3.13
  --only-binary=:all:``), pinned to the versions installed here, so that what the tests ran is what ships.
- **Bytecode**: when a Python matching the runtime is found (``LAMBDA_PYTHON``, ``python3.13`` on PATH or
  under pyenv), ``__pycache__/*.cpython-313.pyc`` is shipped next to the sources, as unchecked-hash pycs
  (no timestamps: reproducible, and valid in Lambda's read-only code folder, where nothing is cached at
  run time). Our own code is compiled whole; of the dependencies, the modules the worker imports (found
  by importing every worker module here) are compiled, the rest stays source: compiling all of
  Powertools and pydantic's v1 layer would push the package past 6 MiB for code that never loads.
- **Reproducible**: files in sorted order, fixed dates and modes; the same inputs give the same bytes.

Dependencies are downloaded once per requirement set into ``build/lambda-deps/<hash>/`` and reused.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import importlib.metadata
import json
import os
import re
import shutil
import stat
import subprocess
import sys
import tempfile
import tomllib
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from infra import template as infra_template

ROOT = infra_template.ROOT
DIST = ROOT / "dist"
DEPS_CACHE = ROOT / "build" / "lambda-deps"

INGEST_LIMIT_BYTES = 1024 * 1024
WORKER_LIMIT_BYTES = 6 * 1024 * 1024
ZIP_DATE = (1980, 1, 1, 0, 0, 0)  # zip's epoch: no build time in the package
# The runtime brings these; shipping them would shadow its patched versions and cost megabytes.
NEVER_SHIPPED = ("boto3", "botocore", "s3transfer", "urllib3")
PLATFORMS = {"arm64": "manylinux2014_aarch64", "x86_64": "manylinux2014_x86_64"}


@dataclass(frozen=True)
class Runtime:
    python_version: str  # "3.13"
    architecture: str  # "arm64"

    @property
    def platform(self) -> str:
        return PLATFORMS[self.architecture]

    @property
    def cache_tag(self) -> str:
        return "cpython-" + self.python_version.replace(".", "")


@dataclass(frozen=True)
class Package:
    name: str
    path: Path
    size: int
    sha256: str
    bytecode: bool


def runtime_from_template() -> Runtime:
    """The functions' runtime and architecture, as ``infra/template.yaml`` sets them (Globals)."""
    template = infra_template.load()
    function = template["Globals"]["Function"]
    runtime = str(function["Runtime"])
    match = re.fullmatch(r"python(\d+\.\d+)", runtime)
    if not match:
        raise ValueError(f"not a Python runtime: {runtime}")
    return Runtime(python_version=match.group(1), architecture=str(function["Architectures"][0]))


def worker_requirements(pin_installed: bool = True) -> list[str]:
    """The project's dependencies less what the runtime brings, pinned to the versions installed here."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    requirements = []
    for spec in project["dependencies"]:
        name = re.split(r"[<>=!~\[; ]", spec, maxsplit=1)[0]
        if _normalise(name) in {_normalise(n) for n in NEVER_SHIPPED}:
            continue
        if pin_installed:
            with contextlib.suppress(importlib.metadata.PackageNotFoundError):
                spec = f"{name}=={importlib.metadata.version(name)}"
        requirements.append(spec)
    return sorted(requirements)


def _normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


# ----- dependencies ----------------------------------------------------------------------------------


def install_dependencies(requirements: list[str], runtime: Runtime, cache: Path = DEPS_CACHE) -> Path:
    """The requirements installed for the runtime's platform into a cached folder (downloaded only once)."""
    key = hashlib.sha256(
        json.dumps([requirements, runtime.platform, runtime.python_version]).encode()
    ).hexdigest()[:16]
    target = cache / key
    if (target / ".complete").is_file():
        return target
    cache.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f"{key}.", dir=cache))
    command = [
        sys.executable,
        "-m",
        "pip",
        "install",
        "--quiet",
        "--disable-pip-version-check",
        "--no-warn-conflicts",
        "--platform",
        runtime.platform,
        "--implementation",
        "cp",
        "--python-version",
        runtime.python_version,
        "--only-binary=:all:",
        "--no-compile",
        "--target",
        str(staging),
        *requirements,
    ]
    try:
        subprocess.run(command, check=True)  # noqa: S603 (our own interpreter's pip, fixed arguments)
    except subprocess.CalledProcessError as error:
        shutil.rmtree(staging, ignore_errors=True)
        raise SystemExit(
            f"pip could not install {' '.join(requirements)} for {runtime.platform} / Python "
            f"{runtime.python_version} (exit {error.returncode}); see its message above"
        ) from error
    shutil.rmtree(staging / "bin", ignore_errors=True)  # console scripts: nothing runs them on Lambda
    shipped = {_normalise(p.name) for p in staging.iterdir()}
    for name in NEVER_SHIPPED:
        if _normalise(name) in shipped:
            shutil.rmtree(staging, ignore_errors=True)
            raise SystemExit(f"{name} was pulled in by a dependency; the runtime provides it")
    (staging / ".complete").write_text("\n".join(requirements) + "\n")
    shutil.rmtree(target, ignore_errors=True)
    staging.rename(target)
    return target


# ----- bytecode --------------------------------------------------------------------------------------


def find_python(version: str) -> Path | None:
    """An interpreter of exactly ``version`` (the runtime's), or None."""
    candidates: list[str] = []
    if os.environ.get("LAMBDA_PYTHON"):
        candidates.append(os.environ["LAMBDA_PYTHON"])
    pyenv_root = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv"))
    candidates += [str(p) for p in sorted(pyenv_root.glob(f"versions/{version}.*/bin/python{version}"))]
    on_path = shutil.which(f"python{version}")  # after pyenv's own: its shim is slow to start
    if on_path:
        candidates.append(on_path)
    for candidate in candidates:
        try:
            answer = subprocess.run(  # noqa: S603 (asks an interpreter its version)
                [candidate, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
                capture_output=True,
                text=True,
                timeout=30,
                check=True,
            )
        except (OSError, subprocess.SubprocessError):
            continue
        if answer.stdout.strip() == version:
            return Path(candidate)
    return None


_COMPILE = """
import py_compile, sys
root = sys.argv[1]
for rel in sys.stdin.read().split():
    py_compile.compile(
        root + "/" + rel,
        dfile="/var/task/" + rel,  # where Lambda unpacks the code: the path tracebacks show
        doraise=True,
        invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH,
    )
"""


def compile_bytecode(python: Path, root: Path, files: Iterable[str]) -> None:
    """``__pycache__/<name>.cpython-3XX.pyc`` next to each of ``files`` (paths relative to ``root``)."""
    listing = "\n".join(sorted(files))
    env = {k: v for k, v in os.environ.items() if k != "SOURCE_DATE_EPOCH"}
    subprocess.run(  # noqa: S603 (the runtime's interpreter on our own files)
        [str(python), "-I", "-c", _COMPILE, str(root)], input=listing, text=True, check=True, env=env
    )


def imported_modules(packages: Iterable[str]) -> set[str]:
    """Every module loaded by importing each module of ``packages`` (our code), in this interpreter."""
    script = (
        "import importlib, json, pkgutil, sys\n"
        "for top in sys.argv[1:]:\n"
        "    package = importlib.import_module(top)\n"
        "    for info in pkgutil.walk_packages(package.__path__, top + '.'):\n"
        "        importlib.import_module(info.name)\n"
        "print(json.dumps(sorted(sys.modules)))\n"
    )
    answer = subprocess.run(  # noqa: S603 (our own interpreter on our own packages)
        [sys.executable, "-c", script, *packages],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    return set(json.loads(answer.stdout))


def _module_of(rel: str) -> str:
    parts = rel.removesuffix(".py").split("/")
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


# ----- building ----------------------------------------------------------------------------------------


def _sources(package: str) -> Iterator[tuple[Path, str]]:
    """Our own package's files (sources and data), without caches."""
    base = ROOT / package
    for path in sorted(base.rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts and path.suffix not in (".pyc", ".pyo"):
            yield path, path.relative_to(ROOT).as_posix()


def _stage(staging: Path, packages: list[str], deps: Path | None) -> tuple[list[str], list[str]]:
    """Copy our packages (and the dependencies) into ``staging``; returns (our .py files, their .py files)."""
    ours: list[str] = []
    theirs: list[str] = []
    for package in packages:
        for path, rel in _sources(package):
            destination = staging / rel
            destination.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, destination)
            if rel.endswith(".py"):
                ours.append(rel)
    if deps is not None:
        for path in sorted(deps.rglob("*")):
            rel = path.relative_to(deps).as_posix()
            if rel == ".complete" or "__pycache__" in path.parts or not path.is_file():
                continue
            destination = staging / rel
            destination.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, destination)
            if rel.endswith(".py"):
                theirs.append(rel)
    return ours, theirs


def write_zip(staging: Path, destination: Path) -> None:
    """A reproducible zip of ``staging``: sorted entries, fixed dates, fixed modes, deflate level 9."""
    destination.parent.mkdir(parents=True, exist_ok=True)
    partial = destination.with_suffix(".zip.partial")
    with zipfile.ZipFile(partial, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        for path in sorted(p for p in staging.rglob("*") if p.is_file()):
            info = zipfile.ZipInfo(path.relative_to(staging).as_posix(), date_time=ZIP_DATE)
            executable = path.stat().st_mode & stat.S_IXUSR
            info.external_attr = ((0o100755 if executable else 0o100644) & 0xFFFF) << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            info.create_system = 3  # Unix, so that the modes above are read
            archive.writestr(info, path.read_bytes(), compresslevel=9)
    partial.replace(destination)


def build(
    name: str,
    out_dir: Path = DIST,
    *,
    bytecode: bool = True,
    deps_cache: Path = DEPS_CACHE,
    runtime: Runtime | None = None,
) -> Package:
    """Build ``{out_dir}/{name}.zip`` for ``name`` in (``ingest``, ``worker``)."""
    runtime = runtime or runtime_from_template()
    if name == "ingest":
        packages, deps, limit = ["ingest", "shared"], None, INGEST_LIMIT_BYTES
    elif name == "worker":
        packages = ["worker", "shared"]
        deps = install_dependencies(worker_requirements(), runtime, deps_cache)
        limit = WORKER_LIMIT_BYTES
    else:
        raise ValueError(f"no package {name!r}")
    python = find_python(runtime.python_version) if bytecode else None
    destination = out_dir / f"{name}.zip"
    with tempfile.TemporaryDirectory(prefix=f"lambda-{name}-") as tmp:
        staging = Path(tmp)
        ours, theirs = _stage(staging, packages, deps)
        if python is not None:
            loaded = imported_modules(packages) if theirs else set()
            wanted = ours + [rel for rel in theirs if _module_of(rel) in loaded]
            compile_bytecode(python, staging, wanted)
        write_zip(staging, destination)
    data = destination.read_bytes()
    if len(data) > limit:
        raise SystemExit(f"{destination} is {len(data)} bytes, over its limit of {limit}")
    return Package(name, destination, len(data), hashlib.sha256(data).hexdigest(), python is not None)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m infra.package", description="build dist/ingest.zip and dist/worker.zip"
    )
    parser.add_argument("names", nargs="*", metavar="ingest|worker", help="which packages (default: both)")
    parser.add_argument("--out", type=Path, default=DIST, help="output folder (default: dist/)")
    parser.add_argument("--no-bytecode", action="store_true", help="ship sources only")
    args = parser.parse_args(argv)
    names = args.names or ["ingest", "worker"]
    unknown = sorted(set(names) - {"ingest", "worker"})
    if unknown:
        parser.error(f"no package {', '.join(unknown)}")
    runtime = runtime_from_template()
    for name in names:
        package = build(name, args.out, bytecode=not args.no_bytecode, runtime=runtime)
        limit = INGEST_LIMIT_BYTES if name == "ingest" else WORKER_LIMIT_BYTES
        note = (
            f"bytecode {runtime.cache_tag}" if package.bytecode else "no bytecode (no matching Python found)"
        )
        print(
            f"{package.path.relative_to(ROOT) if package.path.is_relative_to(ROOT) else package.path}  "
            f"{package.size / 1024 / 1024:.2f} MiB (limit {limit // 1024 // 1024} MiB)  "
            f"python{runtime.python_version} {runtime.architecture}  {note}  sha256 {package.sha256[:16]}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
