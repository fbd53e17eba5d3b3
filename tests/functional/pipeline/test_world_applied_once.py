"""A repo whose build needs Terraform's plan (functions in a module) and whose Terraform looks up
what a world declares: ``run`` applies the world once, on its own endpoint (real terraform, real
endpoint process, real handlers).

Before, the build's discovery plan applied the world on a private in-process endpoint, then the
run applied it again on its own: with a queue in the world, ~30 s twice. Now the run starts its
endpoint first when the build will plan, and the plan finds it on the configured port.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from lambda_harness.endpoint.ports import free_port
from support.terraform import copy_repo

pytestmark = pytest.mark.slow

if shutil.which("terraform") is None:  # pragma: no cover - depends on the machine
    pytest.skip("terraform is not installed", allow_module_level=True)

WORLD = """\
terraform {
  required_providers {
    aws = { source = "hashicorp/aws" }
  }
}

provider "aws" {
  region = "eu-west-1"
}

resource "aws_ssm_parameter" "greeting" {
  name  = "/billing/greeting"
  type  = "String"
  value = "from-the-world"
}
"""

LOOKUP = """
data "aws_ssm_parameter" "greeting" {
  name = "/billing/greeting"
}

output "greeting" {
  value     = data.aws_ssm_parameter.greeting.value
  sensitive = true
}
"""


def _cli(args: list[str]) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LAMBDA_HARNESS_")}
    env["CI"] = "1"
    return subprocess.run(
        [sys.executable, "-m", "lambda_harness", *args],
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )


def test_run_applies_the_world_once_when_the_build_plans(tmp_path: Path) -> None:
    repo = copy_repo("module_for_each", tmp_path / "repo")
    (repo / "terraform" / "lookup.tf").write_text(LOOKUP)
    world = repo / "tests" / "integration" / "world"
    world.mkdir(parents=True)
    (world / "main.tf").write_text(WORLD)

    done = _cli(["run", "--project", str(repo), "--port", str(free_port())])

    out = done.stderr + done.stdout
    assert done.returncode == 0, out
    assert "reading what Terraform deploys from its own plan" in out  # the build planned
    applied = [ln for ln in out.splitlines() if ln.startswith("the world: applying")]
    assert len(applied) == 1, out
    results = json.loads((repo / ".harness" / "results.json").read_text())["functions"]
    assert results and all(r["failed"] == 0 and r["passed"] >= 1 for r in results.values())
    assert (repo / ".harness" / "attestation.json").is_file()  # still a from-scratch run
    assert any("is already applied on this endpoint, unchanged" in ln for ln in out.splitlines()), out

    # Again, on a new endpoint, with the team's state of the first run kept and the build planning
    # again (a changed .tf): the world's state of the vanished endpoint is not trusted, the one
    # the build has just made on this endpoint is kept, and the world is still applied once.
    (repo / "terraform" / "lookup.tf").write_text("# looked up, not created\n" + LOOKUP)
    again = _cli(["run", "--project", str(repo), "--port", str(free_port())])

    out = again.stderr + again.stdout
    assert again.returncode == 0, out
    assert "reading what Terraform deploys from its own plan" in out
    assert len([ln for ln in out.splitlines() if ln.startswith("the world: applying")]) == 1, out
    assert (repo / ".harness" / "attestation.json").is_file()
