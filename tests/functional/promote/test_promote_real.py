"""Promotion end to end, with moto standing in for real AWS.

The "real" repo here has no backend block (local state in terraform/) and its
provider reaches the endpoint through AWS_ENDPOINT_URL in ``terraform_cmd_env``:
that is the one edge that cannot run in a test (real AWS).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import boto3
import pytest

from lambda_harness.errors import PromoteError
from lambda_harness.promote.release import promote, read_attestation, verify_code, write_attestation
from lambda_harness.settings import Settings
from lambda_harness.terraform import mirror
from lambda_harness.ui import PlainUI
from support.terraform import PLUGIN_DIR, PROVIDER, make_settings, tiny_zip, write_project

pytestmark = pytest.mark.slow

FUNCTION = (
    PROVIDER
    + """
resource "aws_s3_bucket" "artifacts" {
  bucket = "promote-artifacts"
}

resource "aws_s3_object" "dists" {
  bucket      = aws_s3_bucket.artifacts.id
  key         = "dists.zip"
  source      = "${path.module}/../dists.zip"
  source_hash = filemd5("${path.module}/../dists.zip")
}

resource "aws_iam_role" "lambda" {
  name               = "promote-role"
  assume_role_policy = jsonencode({ Version = "2012-10-17", Statement = [{ Effect = "Allow",
    Action = "sts:AssumeRole", Principal = { Service = "lambda.amazonaws.com" } }] })
}

resource "aws_lambda_function" "shipped" {
  function_name    = "shipped"
  role             = aws_iam_role.lambda.arn
  handler          = "app.handler"
  runtime          = "python3.12"
  s3_bucket        = aws_s3_object.dists.bucket
  s3_key           = aws_s3_object.dists.key
  source_code_hash = filebase64sha256("${path.module}/../dists.zip")
}
"""
)


def caller_env(url: str, tmp: Path) -> dict[str, str]:
    """The deployer's own environment: credentials, endpoint (moto here) and CLI config (mirror)."""
    rc = tmp / "deployer.tfrc"
    rc.write_text(mirror.cli_config_text(mirror.find_mirrors({"HOME": str(tmp)}, Path(PLUGIN_DIR))))
    return {
        "PATH": "/usr/local/bin:/usr/bin:/bin",
        "HOME": str(tmp),
        "AWS_ACCESS_KEY_ID": "deployer",
        "AWS_SECRET_ACCESS_KEY": "deployer-secret",
        "AWS_REGION": "us-east-1",
        "AWS_ENDPOINT_URL": url,
        "TF_CLI_CONFIG_FILE": str(rc),
    }


def lambda_client(url: str) -> Any:
    return boto3.client(
        "lambda", endpoint_url=url, region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x"
    )


@pytest.fixture
def repo(tmp_path: Path) -> Settings:
    settings = make_settings(write_project(tmp_path / "repo", {"main.tf": FUNCTION}))
    write_attestation(settings, settings.project_dir / "dists.zip", {"shipped": {"passed": 3, "failed": 0}})
    return settings


def test_promote_without_approval_only_plans(moto_url: str, repo: Settings, tmp_path: Path) -> None:
    result = promote(
        repo, PlainUI(), terraform_cmd_env=caller_env(moto_url, tmp_path), confirm=lambda changes: False
    )
    assert not result.applied and result.plan_path.is_file()
    assert "aws_lambda_function.shipped: create" in [c.describe() for c in result.changes]
    names = [f["FunctionName"] for f in lambda_client(moto_url).list_functions()["Functions"]]
    assert "shipped" not in names


def test_promote_applies_and_verifies_code_sha(moto_url: str, repo: Settings, tmp_path: Path) -> None:
    env = caller_env(moto_url, tmp_path)
    result = promote(repo, PlainUI(), terraform_cmd_env=env, auto_approve=True)
    assert result.applied and result.verified == ["shipped"]
    att = read_attestation(repo)
    config = lambda_client(moto_url).get_function_configuration(FunctionName="shipped")
    assert config["CodeSha256"] == att.zip_code_sha256
    assert (repo.terraform_dir / "terraform.tfstate").is_file()  # the "real" backend (local here) was used

    # Someone ships other code behind our back: verification names the function.
    lambda_client(moto_url).update_function_code(FunctionName="shipped", ZipFile=tiny_zip("x = 1\n"))
    show = {
        "values": {
            "root_module": {
                "resources": [
                    {
                        "type": "aws_lambda_function",
                        "mode": "managed",
                        "values": {"function_name": "shipped", "arn": config["FunctionArn"]},
                    }
                ]
            }
        }
    }
    with pytest.raises(PromoteError, match=r"shipped: CodeSha256 .* != tested"):
        verify_code(att, show, env)


def test_promote_runs_in_the_workspace_the_tests_ran_in(moto_url: str, tmp_path: Path) -> None:
    by_workspace = (
        FUNCTION.replace('"promote-artifacts"', '"promote-artifacts-${terraform.workspace}"')
        .replace('"promote-role"', '"promote-role-${terraform.workspace}"')
        .replace('function_name    = "shipped"', 'function_name    = "shipped-${terraform.workspace}"')
    )
    settings = make_settings(write_project(tmp_path / "repo", {"main.tf": by_workspace}))
    settings = settings.with_(workspace="dev")
    write_attestation(
        settings, settings.project_dir / "dists.zip", {"shipped-dev": {"passed": 1, "failed": 0}}
    )
    env = {**caller_env(moto_url, tmp_path), "TF_WORKSPACE": "prod"}  # the setting wins
    result = promote(settings, PlainUI(), terraform_cmd_env=env, auto_approve=True)
    assert result.applied and result.verified == ["shipped-dev"]
    # A local backend keeps the team's workspaces beside its state, as their own terraform would.
    assert (settings.terraform_dir / "terraform.tfstate.d" / "dev" / "terraform.tfstate").is_file()
    assert not (settings.terraform_dir / "terraform.tfstate.d" / "prod").exists()
