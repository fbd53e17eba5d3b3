"""One zip per function, each with its own dependencies, attested per function."""

from __future__ import annotations

import base64
import hashlib
import json
import zipfile
from pathlib import Path

import pytest

from support.realrepos import CliRun, copy_repo, run_cli

pytestmark = pytest.mark.slow

ZIPS = {"orders-api": "orders_api", "orders-worker": "orders_worker", "orders-reports": "reports"}


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return copy_repo("per_function_zips", tmp_path_factory.mktemp("realrepo") / "per_function_zips")


@pytest.fixture(scope="module")
def ran(repo: Path) -> CliRun:
    return run_cli(repo, "run")


def names(path: Path) -> set[str]:
    with zipfile.ZipFile(path) as zf:
        return set(zf.namelist())


def test_run_passes_unmodified(ran: CliRun) -> None:
    assert ran.returncode == 0, str(ran)


def test_each_zip_holds_its_folder_and_its_own_dependencies(repo: Path, ran: CliRun) -> None:
    build = repo / "build"
    assert {"app.py", "orders_money/__init__.py"} <= names(build / "orders_api.zip")
    assert "lhtest_ledger/__init__.py" not in names(build / "orders_api.zip")  # named, not the whole lock
    assert {"worker.py", "orders_ids/__init__.py"} <= names(build / "orders_worker.zip")
    assert {"report.py", "lhtest_ledger/__init__.py"} <= names(build / "reports.zip")  # the shared lock
    assert not any(n.startswith(("orders_api/", "reports/")) for n in names(build / "orders_worker.zip"))


def test_the_attestation_names_each_function_and_its_zip(repo: Path, ran: CliRun) -> None:
    att = json.loads((repo / ".harness" / "attestation.json").read_text())
    for function, stem in ZIPS.items():
        zip_path = repo / "build" / f"{stem}.zip"
        code_sha = base64.b64encode(hashlib.sha256(zip_path.read_bytes()).digest()).decode()
        assert att["functions"][function] == code_sha
        assert att["artifacts"][f"build/{stem}.zip"]["functions"] == [function]


def test_a_rebuild_is_byte_identical(repo: Path, ran: CliRun) -> None:
    before = {p.name: p.read_bytes() for p in (repo / "build").glob("*.zip")}
    assert run_cli(repo, "build").returncode == 0
    assert {p.name: p.read_bytes() for p in (repo / "build").glob("*.zip")} == before


def test_a_failed_build_leaves_every_previous_zip_as_it_was(tmp_path: Path) -> None:
    """Follow-up 15: the zips of one build are moved into place together, or not at all."""
    repo = copy_repo("per_function_zips", tmp_path / "per_function_zips")
    assert run_cli(repo, "build").returncode == 0
    before = {p.name: p.read_bytes() for p in (repo / "build").iterdir()}
    app = repo / "functions" / "orders_api" / "app.py"
    app.write_text(app.read_text() + "\nCHANGED = True\n")  # built before reports: would be rewritten
    main = repo / "terraform" / "main.tf"
    main.write_text(main.read_text().replace('"report.handler"', '"report.missing"'))

    failed = run_cli(repo, "build")

    assert failed.returncode != 0 and 'handler "report.missing"' in failed.output, str(failed)
    assert "orders_api.zip" in failed.output  # it was built, then discarded with the rest
    assert {p.name: p.read_bytes() for p in (repo / "build").iterdir()} == before
