"""A perpetual diff is caught and named; the tflocal driver runs only in the staged copy."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from lambda_harness.errors import TerraformError
from lambda_harness.terraform import mirror
from lambda_harness.terraform.deploy import Terraform, deploy
from lambda_harness.terraform.staging import TFLOCAL_OVERRIDE
from lambda_harness.ui import PlainUI
from support.terraform import PROVIDER, harness_environ, make_settings, snapshot, write_project

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


def test_perpetual_diff_is_listed(moto_url: str, tmp_path: Path) -> None:
    root = write_project(tmp_path / "repo", {"main.tf": CHURN})
    settings = make_settings(root)
    with pytest.raises(
        TerraformError, match=r"perpetual diff: aws_s3_bucket\.churn: update \(tags, tags_all\)"
    ):
        deploy(settings, PlainUI(), moto_url, environ=harness_environ())


def test_tflocal_driver_stays_in_staged_copy(moto_url: str, tmp_path: Path) -> None:
    root = write_project(tmp_path / "repo", {"main.tf": STABLE})
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


def test_missing_provider_says_what_to_set(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(mirror, "EXTRA_SEARCH_DIRS", ())  # hide this machine's /opt/tf-plugins
    root = write_project(tmp_path / "repo", {"main.tf": STABLE})
    environ = {"PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": str(tmp_path / "home")}
    tf = Terraform(make_settings(root), PlainUI(), "http://127.0.0.1:9", environ=environ)
    with pytest.raises(
        TerraformError, match=r"(?s)hashicorp/aws .*set LAMBDA_HARNESS_TF_PLUGIN_DIR=<dir>"
    ) as info:
        tf.init()
    assert "registry.terraform.io/hashicorp/aws/<version>/<os>_<arch>/" in str(info.value)


FOREIGN_LOCK = """provider "registry.terraform.io/hashicorp/aws" {
  version     = "5.100.0"
  constraints = "~> 5.0"
  hashes = [
    "h1:AAAAJWE4ORX8Fm+dpVpICzMZJat4AX0VRCAy/xkcOc0=",
  ]
}
"""


def test_lock_file_from_another_platform_keeps_versions(tmp_path: Path) -> None:
    root = write_project(tmp_path / "repo", {"main.tf": STABLE, ".terraform.lock.hcl": FOREIGN_LOCK})
    stream = io.StringIO()
    tf = Terraform(make_settings(root), PlainUI(stream), "http://127.0.0.1:9", environ=harness_environ())
    tf.init()
    assert "checksums do not cover" in stream.getvalue()
    assert 'version     = "5.100.0"' in (tf.staged.workdir / ".terraform.lock.hcl").read_text()
    assert (root / "terraform" / ".terraform.lock.hcl").read_text() == FOREIGN_LOCK
