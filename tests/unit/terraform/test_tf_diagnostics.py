"""Terraform's init failures, read into one message each (texts as Terraform 1.11 prints them)."""

from __future__ import annotations

from pathlib import Path

from lambda_harness.packaging.tfconfig import read_config
from lambda_harness.settings import load_settings
from lambda_harness.terraform import diagnostics, providers, runtimes
from lambda_harness.terraform.mirror import Mirror

OFFLINE = """
Initializing provider plugins...
- Finding hashicorp/random versions matching "~> 3.6"...
- Finding latest version of hashicorp/null...

Error: Failed to query available provider packages

Could not retrieve the list of available versions for provider
hashicorp/random: could not connect to registry.terraform.io: failed to
request discovery document: Get
"https://registry.terraform.io/.well-known/terraform.json": dial tcp: lookup
registry.terraform.io on 10.255.255.53:53: no such host

To see which modules are currently depending on hashicorp/random and what
versions are specified, run the following command:
    terraform providers

Error: Failed to query available provider packages

Could not retrieve the list of available versions for provider
hashicorp/null: could not connect to registry.terraform.io: failed to request
discovery document: Get
"https://registry.terraform.io/.well-known/terraform.json": dial tcp: lookup
registry.terraform.io on 10.255.255.53:53: no such host

To see which modules are currently depending on hashicorp/null and what
versions are specified, run the following command:
    terraform providers
"""

PROVIDERS = """
Providers required by configuration:
.
├── provider[registry.terraform.io/hashicorp/aws] >= 5.0.0
├── provider[registry.terraform.io/hashicorp/random] ~> 3.6
├── provider[registry.terraform.io/hashicorp/null]
└── module.m
    ├── provider[registry.terraform.io/hashicorp/random] >= 3.0.0
    └── provider[registry.terraform.io/hashicorp/time]
"""

PIN = """
Error: Failed to query available provider packages

Could not retrieve the list of available versions for provider hashicorp/aws:
no available releases match the given constraints ~> 4.8.0
"""

STALE = """
Error: Failed to query available provider packages

Could not retrieve the list of available versions for provider hashicorp/aws:
the previously-selected version 5.80.0 is no longer available
"""

MODULES = """
Error: Error accessing remote module registry

  on main.tf line 1:
   1: module "lambda" {

Failed to retrieve available versions for module "lambda" (main.tf:1) from
registry.terraform.io: failed to request discovery document: Get
"https://registry.terraform.io/.well-known/terraform.json": dial tcp: lookup
registry.terraform.io on 10.255.255.53:53: no such host.

Error: Failed to download module

  on main.tf line 5:
   5: module "gitmod" {

Could not download module "gitmod" (main.tf:5) source code from
"git::https://github.com/acme/modules.git?ref=v1": error downloading
"""


def test_offline_providers_are_read_once_each() -> None:
    found = diagnostics.unavailable_providers(OFFLINE)
    assert [u.provider for u in found] == ["hashicorp/random", "hashicorp/null"]
    assert all(u.offline and u.unmatched_constraint is None for u in found)


def test_constraints_are_merged_over_modules() -> None:
    assert diagnostics.required_constraints(PROVIDERS) == {
        "hashicorp/aws": [">= 5.0.0"],
        "hashicorp/random": ["~> 3.6", ">= 3.0.0"],
        "hashicorp/null": [],
        "hashicorp/time": [],
    }


def test_the_missing_providers_message(tmp_path: Path) -> None:
    mirror = tmp_path / "mirror" / "registry.terraform.io" / "hashicorp" / "aws" / "5.100.0" / "linux_amd64"
    mirror.mkdir(parents=True)
    (mirror / "terraform-provider-aws_v5.100.0_x5").write_text("")
    mirrors = [Mirror(tmp_path / "mirror", ("registry.terraform.io/hashicorp/aws",))]
    text = diagnostics.missing_providers_message(
        diagnostics.unavailable_providers(OFFLINE),
        diagnostics.required_constraints(PROVIDERS),
        {"hashicorp/random": "terraform/versions.tf:3"},
        mirrors=mirrors,
        terraform_dir=tmp_path / "terraform",
        project_dir=tmp_path,
    )
    assert text.splitlines()[:3] == [
        "2 provider(s) are not in the local mirror(s) and registry.terraform.io cannot be reached:",
        "  - hashicorp/random ~> 3.6 and >= 3.0.0 (terraform/versions.tf:3)",
        "  - hashicorp/null any version (implied)",
    ]
    assert f"Mirrors: {tmp_path / 'mirror'} (hashicorp/aws 5.100.0)." in text
    assert "in terraform: `terraform providers mirror -platform=" in text


def test_a_pin_and_a_stale_lock_are_told_apart() -> None:
    (pin,) = diagnostics.unavailable_providers(PIN)
    assert pin.unmatched_constraint == "~> 4.8.0" and not pin.offline
    (stale,) = diagnostics.unavailable_providers(STALE)
    assert stale.previous_version == "5.80.0" and stale.unmatched_constraint is None


def test_the_pin_is_found_as_written(tmp_path: Path) -> None:
    (tmp_path / "versions.tf").write_text(
        "terraform {\n  required_providers {\n"
        '    aws = { source = "hashicorp/aws", version = "~> 4.8" }\n  }\n}\n'
    )
    assert diagnostics.pins_of("hashicorp/aws", "~> 4.8.0", tmp_path, tmp_path) == ["versions.tf:2"]


def test_modules_that_cannot_be_downloaded() -> None:
    text = diagnostics.module_download_message(MODULES)
    assert text is not None
    assert text.startswith('module "lambda" (main.tf:1), module "gitmod" (main.tf:5): cannot be downloaded')
    assert "vendor it into the repo" in text
    assert diagnostics.module_download_message(OFFLINE) is None


VALIDATE_DIAG = {
    "severity": "error",
    "summary": 'expected runtime to be one of ["nodejs" "python3.12" "java21" "python3.13" "nodejs22.x"], '
    "got python3.14",
    "detail": "",
    "address": "aws_lambda_function.post",
    "range": {"filename": "main.tf", "start": {"line": 23, "column": 22, "byte": 1}},
}

APPLY_TEXT = """
Error: expected runtime to be one of ["nodejs" "python3.12" "python3.13"
"nodejs22.x"], got python3.14

  with module.fn["a"].aws_lambda_function.this,
  on modules/lambda/main.tf line 6, in resource "aws_lambda_function" "this":
   6:   runtime       = var.runtime
"""


def test_a_rejected_runtime_from_validate_json(tmp_path: Path) -> None:
    (found,) = diagnostics.rejected_runtimes([VALIDATE_DIAG], tmp_path, tmp_path / "terraform")
    assert found.where == "terraform/main.tf:23"
    assert found.runtime == "python3.14" and found.accepted_python == ("python3.12", "python3.13")
    assert diagnostics.runtime_message([found], "5.100.0") == (
        "terraform/main.tf:23: runtime python3.14 is not accepted by hashicorp/aws 5.100.0 (its newest "
        "Python runtime is python3.13). Fix: put hashicorp/aws >= 6.20.0 in the provider mirror (and allow "
        "it in required_providers), or use python3.13"
    )


def test_a_rejected_runtime_from_apply_text(tmp_path: Path) -> None:
    (found,) = diagnostics.rejected_runtimes_in_text(APPLY_TEXT, tmp_path, tmp_path / "terraform")
    assert found.where == "terraform/modules/lambda/main.tf:6"


def test_the_locked_provider_version(tmp_path: Path) -> None:
    lock = tmp_path / ".terraform.lock.hcl"
    lock.write_text(
        'provider "registry.terraform.io/hashicorp/aws" {\n  version     = "5.100.0"\n'
        '  constraints = ">= 5.0.0"\n}\n'
    )
    assert diagnostics.locked_version(lock) == "5.100.0"
    assert diagnostics.locked_version(tmp_path / "absent") is None


def test_the_runtime_line_of_a_function_and_the_probe(tmp_path: Path) -> None:
    """Follow-up 7: where a runtime set through a variable is written; the literal validate checks."""
    (tmp_path / "main.tf").write_text(
        'variable "rt" {\n  default = "python3.12"\n}\n\n'
        'resource "aws_lambda_function" "f" {\n  function_name = "f"\n  handler = "a.h"\n'
        "  runtime = var.rt\n}\n"
    )
    (tmp_path / "harness.tfvars").write_text('rt = "python3.14"\n')
    (fn,) = read_config(tmp_path, [tmp_path / "harness.tfvars"]).functions
    assert fn.runtime == "python3.14"
    assert runtimes.runtime_expression(fn) == (8, "var.rt")
    assert runtimes.new_runtimes(read_config(tmp_path)) == set()  # the default alone is known
    probe = runtimes.probe_text({"python3.14", "python3.15"})
    assert probe.count('resource "aws_lambda_function"') == 2 and 'runtime       = "python3.15"' in probe


def test_declarations_point_at_each_required_providers_entry(tmp_path: Path) -> None:
    """Follow-up 10: the line of `random = {`, not of `required_providers {`; built-ins need nothing."""
    tf = tmp_path / "terraform"
    tf.mkdir()
    (tf / "versions.tf").write_text(
        'terraform {\n  required_providers {\n    aws = { source = "hashicorp/aws" }\n'
        '    rnd = {\n      source = "hashicorp/random"\n    }\n  }\n}\n'
    )
    (tf / "main.tf").write_text(
        'resource "rnd_id" "x" {}\nresource "null_resource" "n" {}\n'
        'data "terraform_remote_state" "other" {}\n'
    )
    found = diagnostics.declarations(tf, tmp_path)
    assert found["hashicorp/aws"] == "terraform/versions.tf:3"
    assert found["hashicorp/random"] == "terraform/versions.tf:4"
    assert found["hashicorp/null"] == "terraform/main.tf:2"
    assert "hashicorp/rnd" not in found  # its prefix is a declared local name
    settings = load_settings(tmp_path, {}, {"HOME": str(tmp_path)})
    assert providers.needed(settings) == {"hashicorp/aws", "hashicorp/random", "hashicorp/null"}


INVALID_INDEX = """
Error: Invalid index

  on main.tf line 8, in locals:
   8:   env = local.settings[terraform.workspace]
    ├────────────────
    │ local.settings is object with 2 attributes
    │ terraform.workspace is "default"

The given key does not identify an element in this collection value.
"""


def test_an_invalid_index_by_terraform_workspace_names_the_line_the_keys_and_the_setting(
    tmp_path: Path,
) -> None:
    tf = tmp_path / "terraform"
    tf.mkdir()
    (tf / "main.tf").write_text(
        'locals {\n  settings = {\n    dev  = { memory = 128 }\n    "prod" = {\n      memory = 512\n    }\n'
        "  }\n  env = local.settings[terraform.workspace]\n}\n"
    )
    message = diagnostics.workspace_index_message(INVALID_INDEX, tmp_path, tf, "default")
    assert message is not None
    assert message.startswith(
        'terraform/main.tf:8 indexes by terraform.workspace, which is "default" here (its keys: dev, prod): '
        'set workspace = "dev" in [tool.lambda-harness] (or LAMBDA_HARNESS_WORKSPACE'
    )
    (tf / "main.tf").write_text("\n" * 7 + "  env = local.settings[var.env]\n")
    assert diagnostics.workspace_index_message(INVALID_INDEX, tmp_path, tf, "default") is None
