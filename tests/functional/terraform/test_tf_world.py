"""The world against real terraform and a real moto server: the new-world draft, Terraform's own errors.

``new-world`` on the fixture repo without its world must write a draft that applies and makes
every lookup of the repo find something. A lookup the pre-check cannot evaluate (inside a child
module) still fails in Terraform's plan; the error then names it with the world snippet.
"""

from __future__ import annotations

import io
import re
from pathlib import Path

import boto3
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


EDGE = """
provider "aws" {
  region = "eu-west-2"
}

provider "aws" {
  alias  = "us_east_1"
  region = "us-east-1"
}

data "aws_ssm_parameter" "edge_cfg" {
  provider = aws.us_east_1
  name     = "/cdn/edge/config"
}

data "aws_sns_topic" "jobs" {
  name = "cdn-jobs"
}
"""


def test_the_draft_answers_lookups_through_an_aliased_provider_in_its_region(
    moto_url: str, tmp_path: Path
) -> None:
    """Lambda@Edge stacks look things up in us-east-1: the draft must create them there."""
    repo = write_project(tmp_path / "repo", {"main.tf": EDGE})
    assert cli.main(["new-world", "--project", str(repo)]) == 0
    settings = make_settings(repo)
    found = preflight.problems(settings, lookups.Clients(moto_url), {})
    assert len(found) == 2 and "(region us-east-1)" in found[0]

    outputs = World(settings, PlainUI(io.StringIO()), moto_url, environ=harness_environ()).apply()

    assert preflight.problems(settings, lookups.Clients(moto_url), outputs) == []


def test_new_world_writes_nothing_when_nothing_is_looked_up(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Follow-up 13: a world of providers only would add an apply to every run for nothing."""
    lookups_only_built_in = 'data "aws_caller_identity" "me" {}\ndata "aws_region" "here" {}\n'
    repo = write_project(
        tmp_path / "repo", {"main.tf": EDGE.split("data ", maxsplit=1)[0] + lookups_only_built_in}
    )
    assert cli.main(["new-world", "--project", str(repo)]) == 0
    assert not (repo / "tests" / "integration" / "world").exists()
    captured = capsys.readouterr()
    out = captured.out + captured.err
    assert "no world needed: terraform looks up nothing the local endpoint lacks" in out
    assert "next:" not in out


REGIONAL = """
provider "aws" {
  region = "eu-west-1"
}

provider "aws" {
  alias  = "us_east_1"
  region = "us-east-1"
}

module "shared" {
  source = "./shared"
  name   = "/from/the/module"
}

module "edge" {
  source    = "./shared"
  name      = "/edge/config"
  providers = { aws = aws.us_east_1 }
}
"""


def test_a_child_modules_lookup_is_named_in_the_region_of_the_provider_it_inherits(
    moto_url: str, tmp_path: Path
) -> None:
    """Follow-up 11: the root's default provider (eu-west-1), or the one its call passes."""
    repo = write_project(tmp_path / "repo", {"main.tf": REGIONAL})
    (repo / "terraform" / "shared").mkdir()
    (repo / "terraform" / "shared" / "main.tf").write_text(SHARED)

    with pytest.raises(TerraformError) as failed:
        deploy(make_settings(repo), PlainUI(io.StringIO()), moto_url, environ=harness_environ())

    items = re.split(r"\n\n(?=\d\. )", str(failed.value).split("\n\nTerraform said:")[0])[1:]
    inherited, passed = sorted(items, key=lambda text: "/edge/" in text)
    assert '(name = "/from/the/module") finds nothing on the local endpoint (region eu-west-1)' in inherited
    assert "provider = aws" not in inherited
    assert '(name = "/edge/config") finds nothing on the local endpoint (region us-east-1)' in passed
    assert "  provider = aws.us_east_1\n" in passed


BOUNDED = """
provider "aws" {
  region = "eu-west-1"
}

data "terraform_remote_state" "platform" {
  backend = "s3"
  config = {
    bucket = "acme-platform-tfstate"
    key    = "platform/core.tfstate"
    region = "eu-west-1"
  }
  defaults = {
    log_retention_days = 30
  }
}

resource "aws_iam_role" "fn" {
  name                 = "bounded-role"
  permissions_boundary = data.terraform_remote_state.platform.outputs.lambda_boundary_arn
  assume_role_policy = jsonencode({
    Version   = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Action    = "sts:AssumeRole"
      Principal = { Service = "lambda.amazonaws.com" }
    }]
  })
}

resource "aws_lambda_function" "f" {
  function_name = "bounded"
  filename      = "../dists.zip"
  handler       = "app.handler"
  runtime       = "python3.12"
  role          = aws_iam_role.fn.arn
  environment {
    variables = {
      RETENTION = tostring(data.terraform_remote_state.platform.outputs.log_retention_days)
    }
  }
}
"""


def test_the_draft_answers_a_remote_state_boundary_with_a_policy_and_leaves_defaults_alone(
    moto_url: str, tmp_path: Path
) -> None:
    """P-C2/P-C3 (explore report, repo C): the draft applies as written: the boundary is the ARN
    of a policy the world creates (``local-lambda_boundary_arn`` was refused as an invalid ARN),
    and a key the block's ``defaults`` answer is neither demanded nor overridden."""
    repo = write_project(tmp_path / "repo", {"main.tf": BOUNDED})
    settings = make_settings(repo)
    found = preflight.problems(settings, lookups.Clients(moto_url), {})
    assert len(found) == 1 and "lambda_boundary_arn" in found[0]
    assert "log_retention_days = 30  # optional" in found[0]  # not demanded, the default's type kept

    assert cli.main(["new-world", "--project", str(repo)]) == 0
    outputs_tf = (repo / "tests/integration/world/outputs.tf").read_text()
    assert 'resource "aws_iam_policy" "platform_lambda_boundary"' in outputs_tf
    assert "# log_retention_days = 30" in outputs_tf

    deploy(settings, PlainUI(io.StringIO()), moto_url, environ=harness_environ())

    clients = {"endpoint_url": moto_url, "region_name": "eu-west-1"}
    keys = {"aws_access_key_id": "test", "aws_secret_access_key": "test"}
    role = boto3.client("iam", **clients, **keys).get_role(RoleName="bounded-role")["Role"]
    boundary = role["PermissionsBoundary"]["PermissionsBoundaryArn"]
    assert boundary == "arn:aws:iam::123456789012:policy/local-lambda-boundary"
    fn = boto3.client("lambda", **clients, **keys).get_function_configuration(FunctionName="bounded")
    assert fn["Environment"]["Variables"] == {"RETENTION": "30"}
