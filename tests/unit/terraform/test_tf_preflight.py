"""terraform/preflight.py: one report of every missing piece; Terraform's own failures explained."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from lambda_harness.settings import Settings, load_settings
from lambda_harness.terraform import preflight

MAIN = """\
variable "env" {
  type = string
}

data "aws_ssm_parameter" "api" {
  name = "/shared/${var.env}/api-url"
}

data "aws_secretsmanager_secret_version" "db" {
  secret_id = "shared/db"
}
"""
MODULE = """\
variable "name" {
  type = string
}

data "aws_ssm_parameter" "inner" {
  name = var.name
}
"""
# Terraform 1.11's -no-color text for these failures (captured against moto).
ROOT_LOOKUP_FAILED = """\
data.aws_ssm_parameter.api: Reading...

Error: reading SSM Parameter (/shared/prod/api-url): couldn't find resource

  with data.aws_ssm_parameter.api,
  on main.tf line 5, in data "aws_ssm_parameter" "api":
   5: data "aws_ssm_parameter" "api" {
"""
MODULE_LOOKUP_FAILED = """\
Error: reading SSM Parameter (/from/module): couldn't find resource

  with module.m.data.aws_ssm_parameter.inner,
  on mod/main.tf line 5, in data "aws_ssm_parameter" "inner":
   5: data "aws_ssm_parameter" "inner" {
"""
VARIABLE_MISSING = """\
Error: No value for required variable

  on main.tf line 1:
   1: variable "env" {

The root module input variable "env" is not set, and has no default value.
Use a -var or -var-file command line argument to provide a value for this
variable.
"""


def repo(tmp_path: Path, tfvars: str | None = None) -> Settings:
    tf = tmp_path / "terraform"
    (tf / "mod").mkdir(parents=True)
    (tf / "main.tf").write_text(MAIN)
    (tf / "mod" / "main.tf").write_text(MODULE)
    if tfvars is not None:
        (tmp_path / "tests/integration").mkdir(parents=True)
        (tmp_path / "tests/integration/harness.tfvars").write_text(tfvars)
    return load_settings(tmp_path, environ={"HOME": str(tmp_path)})


class NoSecret:
    """The endpoint: every SSM parameter exists, no secret does."""

    def __call__(self, service: str, region: str) -> Any:
        return self

    def get_parameter(self, Name: str) -> dict[str, Any]:
        return {}

    def get_secret_value(self, SecretId: str) -> dict[str, Any]:
        from botocore.exceptions import ClientError

        raise ClientError({"Error": {"Code": "ResourceNotFoundException"}}, "GetSecretValue")


def test_every_problem_in_one_report_with_the_lookups_waiting_for_variables(tmp_path: Path) -> None:
    settings = repo(tmp_path)
    found = preflight.problems(settings, NoSecret(), {})
    assert len(found) == 2
    assert found[0].startswith("1 variable has no value locally: env (terraform/main.tf:1).")
    assert found[0].endswith(
        'Lookups named after them are checked once they have values: data "aws_ssm_parameter" "api" '
        "(terraform/main.tf:5)."
    )
    assert found[1].startswith(
        'terraform/main.tf:9: data "aws_secretsmanager_secret_version" "db" (secret_id = "shared/db") finds '
        "nothing on the local endpoint (region us-east-1). Create tests/integration/world/main.tf "
        "(`lambda-harness new-world` writes a first draft) with:\n"
        'resource "aws_secretsmanager_secret" "db" {'
    )
    report = preflight.report(settings, found)
    assert report.startswith(
        "terraform needs 2 thing(s) the local endpoint does not have (nothing was planned"
    )
    assert "\n\n1. 1 variable has" in report and "\n\n2. terraform/main.tf:9:" in report


def test_a_tfvars_file_that_is_set_but_missing_is_named(tmp_path: Path) -> None:
    settings = repo(tmp_path).with_(tfvars=(tmp_path / "local.tfvars",))
    found = preflight.problems(settings, NoSecret(), {})
    assert found[0].startswith(f"tfvars: {tmp_path / 'local.tfvars'} does not exist")


def test_terraforms_lookup_error_becomes_the_world_snippet(tmp_path: Path) -> None:
    settings = repo(tmp_path, tfvars='env = "prod"\n')
    (found,) = preflight.explain(settings, ROOT_LOOKUP_FAILED)
    assert found.startswith(
        'terraform/main.tf:5: data "aws_ssm_parameter" "api" (name = "/shared/prod/api-url") finds nothing '
        "on the local endpoint (region us-east-1): reading SSM Parameter (/shared/prod/api-url): couldn't "
        "find resource."
    )
    assert 'name  = "/shared/prod/api-url"' in found


def test_a_lookup_in_a_child_module_gets_its_key_from_terraforms_words(tmp_path: Path) -> None:
    settings = repo(tmp_path)
    (found,) = preflight.explain(settings, MODULE_LOOKUP_FAILED)
    assert found.startswith(
        'terraform/mod/main.tf:5: data "aws_ssm_parameter" "inner" (name = "/from/module") finds nothing'
    )
    assert 'name  = "/from/module"' in found


def test_terraforms_missing_variable_errors_become_the_harness_sentence(tmp_path: Path) -> None:
    settings = repo(tmp_path)
    (found,) = preflight.explain(settings, VARIABLE_MISSING + "\n" + VARIABLE_MISSING)
    assert found.startswith("1 variable has no value locally: env (terraform/main.tf:1).")


def test_unrelated_failures_are_not_explained(tmp_path: Path) -> None:
    assert preflight.explain(repo(tmp_path), "Error: creating Lambda Function (x): InvalidParameter") == []


def function(name: str, vpc: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "mode": "managed",
        "type": "aws_lambda_function",
        "instances": [{"attributes": {"function_name": name, "vpc_config": vpc}}],
    }


def test_vpc_functions_are_named_once_as_recorded_not_enforced(tmp_path: Path) -> None:
    state = tmp_path / "terraform.tfstate"
    resources = [
        function("in-vpc", [{"subnet_ids": ["subnet-1"], "security_group_ids": ["sg-1"]}]),
        function("plain", []),
        function("empty", [{"subnet_ids": [], "security_group_ids": []}]),
    ]
    state.write_text(json.dumps({"version": 4, "resources": resources}))
    note, warning = preflight.vpc_notes(state)
    assert note is not None and warning is not None
    assert note.startswith("1 function(s) run in a VPC (in-vpc): subnets and security groups are recorded")
    assert "not enforced" in note
    assert warning.startswith("vpc_config with no subnets (empty)")
    state.write_text(json.dumps({"version": 4, "resources": [function("plain", [])]}))
    assert preflight.vpc_notes(state) == (None, None)
    assert preflight.vpc_notes(tmp_path / "absent") == (None, None)


EDGE = """\
provider "aws" {
  region = "eu-west-2"
}

provider "aws" {
  alias  = "us_east_1"
  region = "us-east-1"
}

data "aws_secretsmanager_secret_version" "edge" {
  provider  = aws.us_east_1
  secret_id = "edge/key"
}
"""


def test_a_lookup_on_an_aliased_provider_gets_a_snippet_on_that_provider(tmp_path: Path) -> None:
    (tmp_path / "terraform").mkdir()
    (tmp_path / "terraform" / "main.tf").write_text(EDGE)
    settings = load_settings(tmp_path, environ={"HOME": str(tmp_path)})
    (found,) = preflight.problems(settings, NoSecret(), {})
    assert "finds nothing on the local endpoint (region us-east-1)" in found
    snippet = found.split("with:\n", 1)[1]
    assert snippet.startswith('provider "aws" {\n  alias  = "us_east_1"\n  region = "us-east-1"\n}\n')
    assert snippet.count("  provider = aws.us_east_1\n") == 2  # the secret and its version

    world = tmp_path / "tests/integration/world"
    world.mkdir(parents=True)
    (world / "main.tf").write_text('provider "aws" {\n  alias  = "us_east_1"\n  region = "us-east-1"\n}\n')
    (found,) = preflight.problems(settings, NoSecret(), {})
    assert "Add to tests/integration/world/main.tf:\nresource " in found  # its provider is there already


def test_with_terraform_at_the_repo_root_the_report_names_the_terraform_root(tmp_path: Path) -> None:
    """Follow-up 12: not ". needs 1 thing(s)"."""
    (tmp_path / "pyproject.toml").write_text('[tool.lambda-harness]\nterraform = "."\nfunctions = "src"\n')
    (tmp_path / "main.tf").write_text(EDGE)
    settings = load_settings(tmp_path, environ={"HOME": str(tmp_path)})
    found = preflight.problems(settings, NoSecret(), {})
    assert preflight.report(settings, found).startswith(
        "the Terraform root (.) needs 1 thing(s) the local endpoint does not have"
    )
    assert found[0].startswith('main.tf:10: data "aws_secretsmanager_secret_version" "edge"')
