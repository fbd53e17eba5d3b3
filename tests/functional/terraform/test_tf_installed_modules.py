"""A registry module installed in the team's folder is reused by the staged copy (follow-up 6).

Offline, ``init`` cannot download a registry or git module; its error tells the team to run
``terraform init`` once where the network is reachable and keep ``.terraform/modules``. The
staged copy must then take that folder (and its ``modules.json``): real terraform inits offline
and the function the module declares is applied to a real moto server.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from lambda_harness.terraform.deploy import deploy
from lambda_harness.ui import PlainUI
from support.terraform import PROVIDER, harness_environ, make_settings, write_project

pytestmark = pytest.mark.slow

MAIN = (
    PROVIDER
    + """
module "thumbnailer" {
  source  = "terraform-aws-modules/lambda/aws"
  version = "~> 7.20"

  function_name          = "media-thumbnailer"
  handler                = "app.handler"
  local_existing_package = "${path.module}/../dists.zip"
}
"""
)
# What `terraform init` left in .terraform/modules/thumbnailer (a trimmed stand-in for the module).
MODULE = """
variable "function_name" {}
variable "handler" {}
variable "local_existing_package" {}

resource "aws_iam_role" "this" {
  name = var.function_name
  assume_role_policy = jsonencode({ Version = "2012-10-17", Statement = [{ Effect = "Allow",
    Action = "sts:AssumeRole", Principal = { Service = "lambda.amazonaws.com" } }] })
}

resource "aws_lambda_function" "this" {
  function_name    = var.function_name
  role             = aws_iam_role.this.arn
  handler          = var.handler
  runtime          = "python3.12"
  filename         = var.local_existing_package
  source_code_hash = filebase64sha256(var.local_existing_package)
}
"""


def installed(tf: Path) -> None:
    modules = tf / ".terraform" / "modules"
    (modules / "thumbnailer").mkdir(parents=True)
    (modules / "thumbnailer" / "main.tf").write_text(MODULE)
    (modules / "modules.json").write_text(
        json.dumps(
            {
                "Modules": [
                    {"Key": "", "Source": "", "Dir": "."},
                    {
                        "Key": "thumbnailer",
                        "Source": "registry.terraform.io/terraform-aws-modules/lambda/aws",
                        "Version": "7.20.1",
                        "Dir": ".terraform/modules/thumbnailer",
                    },
                ]
            }
        )
    )


def test_an_installed_registry_module_is_applied_offline(moto_url: str, tmp_path: Path) -> None:
    repo = write_project(tmp_path / "repo", {"main.tf": MAIN})
    installed(repo / "terraform")
    inventory = deploy(make_settings(repo), PlainUI(), moto_url, environ=harness_environ())
    (fn,) = inventory.functions
    assert (fn.name, fn.handler, fn.address) == (
        "media-thumbnailer",
        "app.handler",
        "module.thumbnailer.aws_lambda_function.this",
    )
