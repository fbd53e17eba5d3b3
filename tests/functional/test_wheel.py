"""The wheel a user installs: the library and its package data, nothing the CI alone needs.

Built from a copy of this repo (``pip wheel`` builds in the source tree, and a stale
``build/lib`` could leak files that are gone from ``src/``).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from email.parser import Parser
from pathlib import Path

import pytest
from packaging.requirements import Requirement

import lambda_harness

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = Path(lambda_harness.__file__).parent
SKIP = shutil.ignore_patterns(
    ".git", ".venv", ".nox", ".harness", "build", "dist", "*.egg-info", "__pycache__", "*.pyc", ".*_cache"
)


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Iterator[zipfile.ZipFile]:
    src = shutil.copytree(ROOT, tmp_path_factory.mktemp("repo") / "repo", ignore=SKIP)
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", str(src), "-w", str(out), "--no-deps", "-q"],
        check=True,
        capture_output=True,
        timeout=600,
    )
    (path,) = out.glob("lambda_harness-*.whl")
    with zipfile.ZipFile(path) as whl:
        yield whl


def dist_info(wheel: zipfile.ZipFile, name: str) -> str:
    """A file of the wheel's ``*.dist-info`` folder, as text."""
    (folder,) = {n.split("/")[0] for n in wheel.namelist() if n.split("/")[0].endswith(".dist-info")}
    return wheel.read(f"{folder}/{name}").decode("utf-8")


def test_only_the_package_and_its_metadata(wheel: zipfile.ZipFile) -> None:
    tops = sorted({name.split("/")[0] for name in wheel.namelist()})
    assert len(tops) == 2 and tops[0] == "lambda_harness" and tops[1].startswith("lambda_harness-")
    assert tops[1].endswith(".dist-info")
    leaked = [n for n in wheel.namelist() if "compose_proof" in n or "/tests/" in n or "conftest" in n]
    assert leaked == []


def test_every_module_and_data_file_of_the_package(wheel: zipfile.ZipFile) -> None:
    shipped = {n for n in wheel.namelist() if n.startswith("lambda_harness/")}
    wanted = {
        f"lambda_harness/{p.relative_to(PACKAGE).as_posix()}"
        for p in PACKAGE.rglob("*")
        if p.is_file() and p.suffix in (".py", ".tmpl", ".typed", ".json") and "__pycache__" not in p.parts
    }
    assert shipped == wanted
    assert "lambda_harness/py.typed" in shipped
    assert "lambda_harness/scaffold/templates/lambda_function.tf.tmpl" in shipped
    assert "lambda_harness/endpoint/iam/data/catalog.json" in shipped  # the IAM action catalog


def test_metadata_keeps_docker_in_the_compose_proof_extra(wheel: zipfile.ZipFile) -> None:
    metadata = Parser().parsestr(dist_info(wheel, "METADATA"))
    requires = [Requirement(r) for r in metadata.get_all("Requires-Dist") or []]
    always = {r.name for r in requires if r.marker is None or r.marker.evaluate({"extra": ""})}
    assert "docker" not in always
    assert "boto3" in always and "python-hcl2" in always
    docker = [r for r in requires if r.name == "docker"]
    assert docker and all(r.marker is not None for r in docker)
    assert any(r.marker is not None and r.marker.evaluate({"extra": "compose-proof"}) for r in docker)
    assert "compose-proof" in (metadata.get_all("Provides-Extra") or [])


def test_entry_points_for_the_cli_and_the_pytest_plugin(wheel: zipfile.ZipFile) -> None:
    text = dist_info(wheel, "entry_points.txt")
    assert "lambda-harness = lambda_harness.cli:main" in text
    assert "lambda_harness = lambda_harness.testing.plugin" in text
