"""Layers built from requirements and shipped prebuilt: on the import path, attested, size-checked."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest

from support.realrepos import CliRun, copy_repo, run_cli

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return copy_repo("layers", tmp_path_factory.mktemp("realrepo") / "layers")


@pytest.fixture(scope="module")
def ran(repo: Path) -> CliRun:
    return run_cli(repo, "run")


def test_run_passes_with_imports_from_both_layers(ran: CliRun) -> None:
    assert ran.returncode == 0, str(ran)


def test_the_requirements_layer_holds_lambda_platform_wheels_under_python(repo: Path, ran: CliRun) -> None:
    with zipfile.ZipFile(repo / "build" / "deps.zip") as zf:
        names = zf.namelist()
    assert "python/orders_money/__init__.py" in names
    assert all(n.startswith("python/") for n in names)
    with zipfile.ZipFile(repo / "build" / "quote.zip") as zf:
        assert zf.namelist() == ["quote.py"]  # the function zip stays small: its packages are in layers


def test_layers_are_attested_like_function_code(repo: Path, ran: CliRun) -> None:
    artifacts = json.loads((repo / ".harness" / "attestation.json").read_text())["artifacts"]
    assert artifacts["build/deps.zip"]["kind"] == "layer"
    assert artifacts["layers/vendor.zip"]["kind"] == "prebuilt-layer"
