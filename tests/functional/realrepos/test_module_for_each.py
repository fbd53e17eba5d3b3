"""Six functions through a local module with for_each over a tfvars map: seen by Terraform's plan."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from support.realrepos import CliRun, cli_env, copy_repo, run_cli

pytestmark = pytest.mark.slow

NAMES = [f"billing-dev-{w}" for w in ("invoices", "payments", "refunds", "reminders", "statements", "taxes")]


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return copy_repo("module_for_each", tmp_path_factory.mktemp("realrepo") / "module_for_each")


@pytest.fixture(scope="module")
def env(repo: Path) -> dict[str, str]:
    # uv.lock pins the dependency with its hash; pip finds the vendored wheel beside the index.
    links = " ".join(filter(None, [str(repo / "wheels"), os.environ.get("PIP_FIND_LINKS")]))
    return cli_env(PIP_FIND_LINKS=links)


@pytest.fixture(scope="module")
def ran(repo: Path, env: dict[str, str]) -> CliRun:
    return run_cli(repo, "run", env=env)


def test_run_passes_unmodified(ran: CliRun) -> None:
    assert ran.returncode == 0, str(ran)
    assert "reading what Terraform deploys from its own plan" in ran.output


def test_every_function_is_built_deployed_and_tested_by_its_deployed_name(repo: Path, ran: CliRun) -> None:
    manifest = json.loads((repo / "dists.zip.json").read_text())
    assert sorted(h["function"] for h in manifest["handlers"]) == NAMES
    assert manifest["lock_file"]["kind"] == "uv"
    results = json.loads((repo / ".harness" / "results.json").read_text())["functions"]
    assert {name: results[name]["passed"] for name in NAMES} == dict.fromkeys(NAMES, 1)
