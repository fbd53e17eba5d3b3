"""Terraform at the repo root (``terraform = "."``): staging copies only the root module."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from support.realrepos import CliRun, copy_repo, run_cli

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return copy_repo("root_module", tmp_path_factory.mktemp("realrepo") / "root_module")


@pytest.fixture(scope="module")
def ran(repo: Path) -> CliRun:
    return run_cli(repo, "run")


def test_run_passes_unmodified(ran: CliRun) -> None:
    assert ran.returncode == 0, str(ran)
    assert "orders-dev-intake" in ran.output


def test_the_edge_function_is_tested_in_the_region_of_its_provider(repo: Path, ran: CliRun) -> None:
    """Lambda@Edge on the aliased us-east-1 provider; the default provider is in eu-west-1."""
    inventory = json.loads((repo / ".harness" / "inventory.json").read_text())
    arns = {fn["name"]: fn["arn"] for fn in inventory["functions"]}
    assert arns["orders-dev-intake-edge"].startswith("arn:aws:lambda:us-east-1:")
    assert arns["orders-dev-intake"].startswith("arn:aws:lambda:eu-west-1:")
    results = json.loads((repo / ".harness" / "results.json").read_text())["functions"]
    assert results["orders-dev-intake-edge"]["passed"] == 1, str(ran)


def test_the_staged_copy_holds_no_harness_git_or_venv(repo: Path, ran: CliRun) -> None:
    tree = repo / ".harness" / "tf" / "embedded" / "tree"
    names = {p.name for p in tree.iterdir()}
    assert {"main.tf", "versions.tf", "src"} <= names
    assert not names & {".harness", ".git", ".venv"}
    assert not (tree / "main.tf").is_symlink() and (tree / "src").is_symlink()


def test_the_lock_in_the_functions_folder_is_used(repo: Path, ran: CliRun) -> None:
    import zipfile

    with zipfile.ZipFile(repo / "build" / "lambda.zip") as zf:
        names = set(zf.namelist())
    assert "orders_money/__init__.py" in names and "orders/intake.py" in names
    assert not any(n.endswith(".tf") for n in names)
