"""A perpetual diff is caught and named; the tflocal driver runs only in the staged copy."""

from __future__ import annotations

import pytest
from tf_helpers import PROVIDER, harness_environ, make_settings, snapshot, write_project

from lambda_harness.errors import TerraformError
from lambda_harness.terraform import Terraform, deploy
from lambda_harness.tf.staging import TFLOCAL_OVERRIDE
from lambda_harness.ui import PlainUI

pytestmark = pytest.mark.slow

CHURN = (
    PROVIDER
    + """
resource "aws_s3_bucket" "churn" {
  bucket = "churn"
  tags   = { deployed_at = timestamp() }
}
"""
)

STABLE = """
terraform {
  required_providers {
    aws = { source = "hashicorp/aws", version = "~> 5.0" }
  }
  backend "s3" {
    bucket = "team-state-tflocal"
    key    = "x.tfstate"
    region = "us-east-1"
  }
}

provider "aws" {
  region = "us-east-1"
}

resource "aws_s3_bucket" "stable" {
  bucket = "stable"
}
"""


def test_perpetual_diff_is_listed(moto_url: str, tmp_path: pytest.TempPathFactory) -> None:
    root = write_project(tmp_path / "repo", {"main.tf": CHURN})  # type: ignore[operator]
    settings = make_settings(root)
    with pytest.raises(
        TerraformError, match=r"perpetual diff: aws_s3_bucket\.churn: update \(tags, tags_all\)"
    ):
        deploy(settings, PlainUI(), moto_url, environ=harness_environ())


def test_tflocal_driver_stays_in_staged_copy(moto_url: str, tmp_path: pytest.TempPathFactory) -> None:
    root = write_project(tmp_path / "repo", {"main.tf": STABLE})  # type: ignore[operator]
    settings = make_settings(root).with_(tf_driver="tflocal")
    before = snapshot(root)
    tf = Terraform(settings, PlainUI(), moto_url, environ=harness_environ())
    tf.apply()
    assert tf.driver == "tflocal"
    assert snapshot(root) == before
    assert not (settings.terraform_dir / TFLOCAL_OVERRIDE).exists()
    assert not (tf.staged.workdir / TFLOCAL_OVERRIDE).exists()  # tflocal removed its own file
    names = [r["values"]["bucket"] for r in tf.show_json()["values"]["root_module"]["resources"]]
    assert names == ["stable"]
    assert tf.staged.state.is_file()
