"""The world against real terraform and a real moto server: the new-world draft, Terraform's own errors.

``new-world`` on the fixture repo without its world must write a draft that applies and makes
every lookup of the repo find something. A lookup the pre-check cannot evaluate (inside a child
module) still fails in Terraform's plan; the error then names it with the world snippet.
"""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from lambda_harness import cli
from lambda_harness.errors import TerraformError
from lambda_harness.terraform import lookups, preflight
from lambda_harness.terraform.deploy import deploy
from lambda_harness.terraform.world import World
from lambda_harness.ui import PlainUI
from support.terraform import copy_repo, harness_environ, make_settings, write_project

pytestmark = pytest.mark.slow


def test_new_world_drafts_a_world_that_applies_and_answers_every_lookup(
    moto_url: str, tmp_path: Path
) -> None:
    repo = copy_repo(
        "imports_world",
        tmp_path / "repo",
        drop=("tests/integration/world", "tests/integration/harness.tfvars"),
    )
    assert cli.main(["new-world", "--project", str(repo)]) == 0
    world = repo / "tests/integration/world"
    assert sorted(p.name for p in world.iterdir()) == ["main.tf", "outputs.tf"]
    assert 'env         = "local" # local value' in (repo / "tests/integration/harness.tfvars").read_text()

    settings = make_settings(repo)
    outputs = World(settings, PlainUI(io.StringIO()), moto_url, environ=harness_environ()).apply()

    assert set(outputs) == {"remote_state_network"}
    assert preflight.problems(settings, lookups.Clients(moto_url), outputs) == []
    assert cli.main(["new-world", "--project", str(repo)]) == 2  # never overwrites a world


MAIN = """
provider "aws" {
  region = "us-east-1"
}

module "shared" {
  source = "./shared"
  name   = "/from/the/module"
}

resource "aws_lambda_function" "f" {
  function_name = "f"
  filename      = "../dists.zip"
  handler       = "app.handler"
  runtime       = "python3.12"
  role          = "arn:aws:iam::123456789012:role/x"
  environment {
    variables = { A = module.shared.value }
  }
}
"""
SHARED = """
variable "name" {
  type = string
}

data "aws_ssm_parameter" "inner" {
  name = var.name
}

output "value" {
  value = data.aws_ssm_parameter.inner.value
}
"""


def test_a_lookup_only_terraform_can_evaluate_is_named_from_its_error(moto_url: str, tmp_path: Path) -> None:
    repo = write_project(tmp_path / "repo", {"main.tf": MAIN})
    (repo / "terraform" / "shared").mkdir()
    (repo / "terraform" / "shared" / "main.tf").write_text(SHARED)

    with pytest.raises(TerraformError) as failed:
        deploy(make_settings(repo), PlainUI(io.StringIO()), moto_url, environ=harness_environ())

    message = str(failed.value)
    assert message.startswith(
        "terraform needs 1 thing(s) the local endpoint does not have (Terraform's plan failed)"
    )
    assert (
        '1. terraform/shared/main.tf:6: data "aws_ssm_parameter" "inner" (name = "/from/the/module") finds '
        "nothing on the local endpoint (region us-east-1): reading SSM Parameter (/from/the/module): "
        "couldn't find resource. Create tests/integration/world/main.tf"
    ) in message
    assert 'name  = "/from/the/module"' in message
