"""A worker repo run, then promoted twice, with moto standing in for real AWS.

The function's name comes from a variable (``hello-${var.env}``): the run tests ``hello-local``
(``harness.tfvars``), CI deploys ``hello-prod`` (``TF_VAR_env``). Promotion must find the
tested function by its Terraform address, a second promotion must be allowed, and the team's
terraform/ folder must hold nothing new but the real (local) state.
"""

from __future__ import annotations

import json
from pathlib import Path

import boto3
import pytest

from lambda_harness.terraform import mirror
from support.realrepos import PLUGIN_DIR, CliRun, cli_env, copy_repo, run_cli

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return copy_repo("promote_env", tmp_path_factory.mktemp("realrepo") / "promote_env")


@pytest.fixture(scope="module")
def ran(repo: Path) -> CliRun:
    return run_cli(repo, "run")


def deployer_env(url: str, home: Path) -> dict[str, str]:
    """CI's environment: its own credentials, TF_VAR_env=prod, the endpoint (moto) and CLI config."""
    rc = home / "deployer.tfrc"
    rc.write_text(mirror.cli_config_text(mirror.find_mirrors({"HOME": str(home)}, Path(PLUGIN_DIR))))
    return cli_env(
        HOME=str(home),
        AWS_ACCESS_KEY_ID="deployer",
        AWS_SECRET_ACCESS_KEY="deployer-secret",
        AWS_REGION="eu-west-1",
        AWS_ENDPOINT_URL=url,
        TF_CLI_CONFIG_FILE=str(rc),
        TF_VAR_env="prod",
    )


def test_the_run_tests_the_local_name(ran: CliRun) -> None:
    assert ran.returncode == 0, str(ran)
    assert "hello-local" in ran.output


@pytest.fixture(scope="module")
def deployer(moto_url: str, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    return deployer_env(moto_url, tmp_path_factory.mktemp("deployer"))


def test_promote_finds_the_tested_function_by_its_address(
    repo: Path, ran: CliRun, moto_url: str, deployer: dict[str, str]
) -> None:
    assert ran.returncode == 0, str(ran)
    att = json.loads((repo / ".harness" / "attestation.json").read_text())
    assert att["addresses"] == {"hello-local": "aws_lambda_function.hello"}

    first = run_cli(repo, "promote", "--yes", env=deployer)
    assert first.returncode == 0, str(first)
    assert "hello-local -> hello-prod" in first.output
    client = boto3.client(
        "lambda",
        endpoint_url=moto_url,
        region_name="eu-west-1",
        aws_access_key_id="x",
        aws_secret_access_key="x",
    )
    deployed = client.get_function_configuration(FunctionName="hello-prod")
    assert deployed["CodeSha256"] == att["functions"]["hello-local"]
    assert deployed["Environment"]["Variables"] == {"STAGE": "prod"}


def test_a_second_promote_is_allowed_and_the_terraform_folder_stays_as_written(
    repo: Path, ran: CliRun, deployer: dict[str, str]
) -> None:
    """init runs in a staged copy: no .terraform/ nor lock file in the team's folder (follow-up 4)."""
    assert ran.returncode == 0, str(ran)
    first = run_cli(repo, "promote", "--yes", env=deployer)
    assert first.returncode == 0, str(first)
    assert "has no .terraform.lock.hcl: init chose the provider versions" in first.output
    second = run_cli(repo, "promote", "--yes", env=deployer)
    assert second.returncode == 0, str(second)
    assert "no changes" in second.output
    left = sorted(p.name for p in (repo / "terraform").iterdir())
    assert left in (
        ["main.tf", "terraform.tfstate"],
        ["main.tf", "terraform.tfstate", "terraform.tfstate.backup"],
    )
