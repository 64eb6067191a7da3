"""The Lambda packages as ``make package`` builds them (here into a temporary folder).

The worker's dependencies are downloaded for manylinux2014_aarch64 / CPython 3.13 once into
``build/lambda-deps/`` and reused; the packages are built once per test session.
"""

from __future__ import annotations

import importlib.metadata
import subprocess
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from infra import package as pkg
from infra import template as infra

FIRST_PARTY = {"ingest", "worker", "shared", "sandbox", "ops", "bench", "tests", "infra"}


@pytest.fixture(scope="session")
def runtime() -> pkg.Runtime:
    return pkg.runtime_from_template()


@pytest.fixture(scope="session")
def built(tmp_path_factory: pytest.TempPathFactory, runtime: pkg.Runtime) -> dict[str, pkg.Package]:
    out = tmp_path_factory.mktemp("dist")
    return {name: pkg.build(name, out, runtime=runtime) for name in ("ingest", "worker")}


def names(package: pkg.Package) -> list[str]:
    with zipfile.ZipFile(package.path) as archive:
        return archive.namelist()


def infos(package: pkg.Package) -> Iterator[zipfile.ZipInfo]:
    with zipfile.ZipFile(package.path) as archive:
        yield from archive.infolist()


def top_levels(package: pkg.Package) -> set[str]:
    return {name.split("/", 1)[0] for name in names(package)}


def test_the_template_points_at_what_make_package_writes(built: dict[str, pkg.Package]) -> None:
    template = infra.load()
    for name in ("ingest", "worker"):
        code_uri = infra.properties(template, f"{name.capitalize()}Function")["CodeUri"]
        assert (infra.TEMPLATE.parent / code_uri).resolve() == pkg.DIST / f"{name}.zip"
    # The alarm function ships in the worker's package: make package builds no third zip.
    alarm = infra.properties(template, "AlarmFunction")
    assert (infra.TEMPLATE.parent / alarm["CodeUri"]).resolve() == pkg.DIST / "worker.zip"
    module = alarm["Handler"].rsplit(".", 1)[0].replace(".", "/") + ".py"
    assert module == "worker/alarm_handler.py" and module in names(built["worker"])


def test_the_packages_fit_their_size_limits(built: dict[str, pkg.Package]) -> None:
    assert built["ingest"].size <= 1024 * 1024
    assert built["worker"].size <= 6 * 1024 * 1024
    for package in built.values():
        assert package.path.stat().st_size == package.size


def test_the_ingest_ships_only_its_code_and_shared(built: dict[str, pkg.Package]) -> None:
    ingest = built["ingest"]
    assert top_levels(ingest) == {"ingest", "shared"}
    assert "ingest/handler.py" in names(ingest) and "shared/envelope.py" in names(ingest)
    sources = {
        p.relative_to(infra.ROOT).as_posix()
        for d in ("ingest", "shared")
        for p in (infra.ROOT / d).rglob("*.py")
    }
    assert sources <= set(names(ingest))


def test_the_worker_ships_its_code_and_dependencies_but_never_boto3_or_local_tools(
    built: dict[str, pkg.Package],
) -> None:
    tops = top_levels(built["worker"])
    assert {"worker", "shared", "slack_sdk", "pydantic", "pydantic_core", "aws_lambda_powertools"} <= tops
    assert {"typing_extensions.py", "annotated_types", "typing_inspection"} <= tops
    assert "worker/handler.py" in names(built["worker"])
    assert any(n.startswith("worker/skills/") and n.endswith(".py") for n in names(built["worker"]))
    assert not tops & {"boto3", "botocore", "s3transfer", "urllib3", "bin"}
    assert not tops & (FIRST_PARTY - {"worker", "shared"})


def test_the_worker_dependencies_are_the_versions_the_tests_ran(built: dict[str, pkg.Package]) -> None:
    dist_infos = {n.split("/", 1)[0] for n in names(built["worker"]) if ".dist-info/" in n}
    for project in ("slack_sdk", "pydantic", "aws_lambda_powertools"):
        version = importlib.metadata.version(project)
        assert f"{project}-{version}.dist-info" in dist_infos


def test_native_code_is_for_lambda_arm64_and_python_3_13(
    built: dict[str, pkg.Package], runtime: pkg.Runtime
) -> None:
    (native,) = [n for n in names(built["worker"]) if n.startswith("pydantic_core/") and n.endswith(".so")]
    assert f"cpython-{runtime.python_version.replace('.', '')}-aarch64-linux-gnu" in native
    with zipfile.ZipFile(built["worker"].path) as archive:
        header = archive.read(native)[:20]
    assert header[:4] == b"\x7fELF"
    assert int.from_bytes(header[18:20], "little") == 183  # e_machine EM_AARCH64


def test_zip_entries_have_fixed_dates_and_modes(built: dict[str, pkg.Package]) -> None:
    for package in built.values():
        for info in infos(package):
            assert info.date_time == pkg.ZIP_DATE, info.filename
            assert (info.external_attr >> 16) in (0o100644, 0o100755), info.filename


def test_the_same_inputs_give_the_same_bytes(
    built: dict[str, pkg.Package], tmp_path: Path, runtime: pkg.Runtime
) -> None:
    for name, first in built.items():
        again = pkg.build(name, tmp_path, runtime=runtime)
        assert again.sha256 == first.sha256, name


@pytest.fixture(scope="session")
def magic(runtime: pkg.Runtime) -> bytes:
    python = pkg.find_python(runtime.python_version)
    if python is None:
        pytest.skip(f"no python{runtime.python_version} here: the packages ship sources only")
    answer = subprocess.run(
        [
            str(python),
            "-c",
            "import importlib.util, sys; sys.stdout.buffer.write(importlib.util.MAGIC_NUMBER)",
        ],
        capture_output=True,
        check=True,
    )
    return answer.stdout


def pycs(package: pkg.Package) -> dict[str, bytes]:
    with zipfile.ZipFile(package.path) as archive:
        return {n: archive.read(n)[:16] for n in archive.namelist() if n.endswith(".pyc")}


def test_our_code_ships_unchecked_hash_bytecode_for_the_runtime(
    built: dict[str, pkg.Package], runtime: pkg.Runtime, magic: bytes
) -> None:
    tag = runtime.cache_tag
    for package in built.values():
        assert package.bytecode
        compiled = pycs(package)
        assert all(f".{tag}.pyc" in n for n in compiled)
        for name in names(package):
            if name.endswith(".py") and name.split("/", 1)[0] in ("ingest", "worker", "shared"):
                folder, _, module = name.rpartition("/")
                pyc = f"{folder}/__pycache__/{module[:-3]}.{tag}.pyc"
                assert pyc in compiled, pyc
        for name, header in compiled.items():
            assert header[:4] == magic, name
            assert int.from_bytes(header[4:8], "little") == 0b01, name  # hash-based, source not checked


def test_the_dependencies_the_worker_imports_ship_bytecode(
    built: dict[str, pkg.Package], runtime: pkg.Runtime, magic: Any
) -> None:
    compiled = pycs(built["worker"])
    tag = runtime.cache_tag
    for module in ("pydantic/main", "pydantic_core/core_schema", "slack_sdk/web/client"):
        folder, _, leaf = module.rpartition("/")
        assert f"{folder}/__pycache__/{leaf}.{tag}.pyc" in compiled, module
