"""Terraform workspaces (explore P-E1): a configuration that indexes a map by ``terraform.workspace``
fails in workspace ``default`` with a message naming the file, the line and the setting; with
``workspace = "dev"`` the staged copy deploys the dev names, into that workspace's local state, and
the second plan is empty."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from lambda_harness import cli
from support.tiny_repo import free_port, tiny_environ, write_tiny_repo

pytestmark = pytest.mark.slow

BY_WORKSPACE = """
locals {
  settings = {
    dev  = { memory = 128 }
    prod = { memory = 512 }
  }
  env = local.settings[terraform.workspace]
}

resource "aws_lambda_function" "charge" {
  function_name    = "pay-${terraform.workspace}-charge"
  handler          = "charge.handler"
  runtime          = "python3.12"
  role             = aws_iam_role.fn.arn
  memory_size      = local.env.memory
  filename         = "${path.module}/../dists.zip"
  source_code_hash = filebase64sha256("${path.module}/../dists.zip")
}
"""


def test_workspace_setting_selects_the_workspace_and_default_is_explained(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    if shutil.which("terraform") is None:
        pytest.skip("terraform not installed")
    for name in [k for k in os.environ if k.startswith(("AWS_", "LAMBDA_HARNESS_", "TF_WORKSPACE"))]:
        monkeypatch.delenv(name)
    for name, value in tiny_environ().items():
        monkeypatch.setenv(name, value)
    repo = write_tiny_repo(tmp_path / "repo", functions=(), extra_tf=BY_WORKSPACE)
    (repo / "functions" / "charge.py").write_text("def handler(event, context):\n    return {'ok': True}\n")
    case = repo / "tests" / "integration" / "events" / "pay-dev-charge"
    case.mkdir(parents=True)
    (case / "default.json").write_text("{}")
    monkeypatch.chdir(repo)
    port = ["--port", str(free_port())]
    try:
        assert cli.main(["apply", *port]) == 1
        err = capsys.readouterr().err
        line = next(
            n
            for n, text in enumerate((repo / "terraform" / "main.tf").read_text().splitlines(), 1)
            if "[terraform.workspace]" in text
        )
        assert f'terraform/main.tf:{line} indexes by terraform.workspace, which is "default" here' in err
        assert 'set workspace = "dev" in [tool.lambda-harness]' in err
        assert "(its keys: dev, prod)" in err
    finally:
        cli.main(["down", *port])

    (repo / "pyproject.toml").write_text('[tool.lambda-harness]\nworkspace = "dev"\n')
    port = ["--port", str(free_port())]
    try:
        assert cli.main(["run", *port]) == 0, capsys.readouterr().err
        err = capsys.readouterr().err
        assert "pay-dev-charge" in err and "all functions passed" in err
        assert "terraform init (terraform, workspace dev from " in err
        assert "terraform plan (must be empty after apply, ran beside the tests): empty" in err
        state = repo / ".harness" / "tf" / "embedded" / "terraform.tfstate.d" / "dev" / "terraform.tfstate"
        names = [
            r["instances"][0]["attributes"]["function_name"]
            for r in json.loads(state.read_text())["resources"]
            if r["type"] == "aws_lambda_function"
        ]
        assert names == ["pay-dev-charge"]
    finally:
        cli.main(["down", *port])
