"""``pipeline.run`` on a copy of this repo: real build, embedded endpoint, Terraform and pytest.

Also proves that a function made by ``lambda-harness new`` passes the run at once.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from lambda_harness import pipeline
from lambda_harness.endpoint.ports import free_port
from lambda_harness.scaffold.new import new_function
from lambda_harness.settings import load_settings
from lambda_harness.ui import PlainUI

REPO = Path(__file__).resolve().parents[3]


def copy_worker_repo(dst: Path) -> Path:
    ignore = shutil.ignore_patterns("__pycache__", ".terraform", "*.tfstate*", ".terraform.lock.hcl")
    for name in ("functions", "terraform"):
        shutil.copytree(REPO / name, dst / name, ignore=ignore)
    shutil.copytree(REPO / "tests" / "integration", dst / "tests" / "integration", ignore=ignore)
    for name in ("requirements.txt", "pyproject.toml"):
        shutil.copy(REPO / name, dst / name)
    return dst


@pytest.mark.slow
def test_run_builds_deploys_tests_and_attests_a_new_function(tmp_path: Path) -> None:
    if shutil.which("terraform") is None:
        pytest.skip("terraform not installed")
    repo = copy_worker_repo(tmp_path / "worker")
    settings = load_settings(repo, {"port": free_port()}, environ=dict(os.environ))
    new_function(settings, "nightly_digest", "schedule")

    report = pipeline.run(settings, PlainUI())

    assert report.ok, "\n".join(report.failures)
    functions = report.results["functions"]
    assert functions["nightly_digest"]["passed"] == 1 and functions["nightly_digest"]["failed"] == 0
    deployed = {fn.name for fn in report.inventory.functions} if report.inventory else set()
    assert {"nightly_digest", "process_checker", "risk_ingest", "alerts_authorizer"} <= deployed
    # The alerts HTTP API's cases ran over HTTP, through its authorizer, one per route and outcome.
    assert report.inventory is not None and [a.name for a in report.inventory.apis] == ["alerts"]
    assert functions["api:alerts"]["failed"] == 0 and functions["api:alerts"]["passed"] >= 5
    assert report.attestation is not None
    attestation = json.loads(report.attestation.read_text())
    assert attestation["results"]["nightly_digest"] == {"passed": 1, "failed": 0}
    assert report.junit_path is not None and "nightly_digest/default" in report.junit_path.read_text()
    # Hand-written side-effect tests ran too (they skip only without a deployment).
    assert report.results["tests"].get("skipped", 0) == 0
    # The reference repo's least-privilege role passes as it is, enforced (the default).
    iam = report.results["iam"]
    assert iam["mode"] == "enforce" and iam["denials_outside_cases"] == [] and iam["trust"] == []
    for name in deployed:
        assert functions[name]["iam"]["denied"] == [], name
    assert functions["risk_ingest"]["iam"]["used"], "risk_ingest's calls were evaluated"
