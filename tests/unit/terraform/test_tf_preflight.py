"""terraform/preflight.py: one report of every missing piece; Terraform's own failures explained."""

from __future__ import annotations

from pathlib import Path

from lambda_harness.settings import Settings, load_settings
from lambda_harness.terraform import preflight

MAIN = """\
variable "env" {
  type = string
}
"""
# Terraform 1.11's -no-color text for this failure.
VARIABLE_MISSING = """\
Error: No value for required variable

  on main.tf line 1:
   1: variable "env" {

The root module input variable "env" is not set, and has no default value.
Use a -var or -var-file command line argument to provide a value for this
variable.
"""


def repo(tmp_path: Path) -> Settings:
    (tmp_path / "terraform").mkdir()
    (tmp_path / "terraform" / "main.tf").write_text(MAIN)
    return load_settings(tmp_path, environ={"HOME": str(tmp_path)})


def test_every_problem_in_one_report(tmp_path: Path) -> None:
    settings = repo(tmp_path).with_(tfvars=(tmp_path / "local.tfvars",))
    found = preflight.problems(settings)
    assert len(found) == 2
    assert found[0].startswith(f"tfvars: {tmp_path / 'local.tfvars'} does not exist")
    assert found[1].startswith("1 variable has no value locally: env (terraform/main.tf:1).")
    report = preflight.report(settings, found)
    assert report.startswith("terraform needs 2 thing(s) the local endpoint does not have (nothing was")
    assert "\n\n1. tfvars:" in report and "\n\n2. 1 variable has" in report


def test_terraforms_missing_variable_errors_become_the_harness_sentence(tmp_path: Path) -> None:
    settings = repo(tmp_path)
    (found,) = preflight.explain(settings, VARIABLE_MISSING + "\n" + VARIABLE_MISSING)
    assert found.startswith("1 variable has no value locally: env (terraform/main.tf:1).")


def test_unrelated_failures_are_not_explained(tmp_path: Path) -> None:
    assert preflight.explain(repo(tmp_path), "Error: creating Lambda Function (x): InvalidParameter") == []
