"""terraform/variables.py: every variable without a value, with its declaration, in one sentence."""

from __future__ import annotations

from pathlib import Path

from lambda_harness.terraform import variables

VARIABLES = """\
variable "env" {
  type = string
}

variable "alarm_email" {
  type      = string
  sensitive = true
}

variable "subnets" {
  type = list(string)
}

variable "settings" {
  type = object({ a = string })
}

variable "memory" {
  default = 128
}

variable "nullable" {
  default = null
}
"""


def repo(tmp_path: Path) -> Path:
    tf = tmp_path / "terraform"
    tf.mkdir()
    (tf / "variables.tf").write_text(VARIABLES)
    return tf


def test_required_are_those_without_default(tmp_path: Path) -> None:
    tf = repo(tmp_path)
    found = variables.required(tf)
    assert [(v.name, v.line, v.type_expr, v.sensitive) for v in found] == [
        ("env", 1, "string", False),
        ("alarm_email", 5, "string", True),
        ("subnets", 10, "list(string)", False),
        ("settings", 14, "object({a = string})", False),
    ]


def test_values_come_from_terraforms_own_files_and_the_harness_tfvars(tmp_path: Path) -> None:
    tf = repo(tmp_path)
    (tf / "terraform.tfvars").write_text('env = "prod"\n')
    harness = tmp_path / "harness.tfvars"
    harness.write_text('subnets = ["a"]\n')
    assert [v.name for v in variables.missing(tf, [harness])] == ["alarm_email", "settings"]


def test_one_sentence_lists_every_missing_variable_with_a_draft(tmp_path: Path) -> None:
    tf = repo(tmp_path)
    text = variables.problem(
        variables.missing(tf, []), tmp_path / "tests/integration/harness.tfvars", tmp_path
    )
    assert text is not None
    first, *draft = text.splitlines()
    assert first.startswith(
        "4 variables have no value locally: env (terraform/variables.tf:1), alarm_email "
        "(terraform/variables.tf:5, sensitive), subnets (terraform/variables.tf:10), settings "
        "(terraform/variables.tf:14). "
    )
    assert "Add local values to tests/integration/harness.tfvars (setting tfvars)" in first
    assert draft == [
        'env = "local"  # local value',
        'alarm_email = "local"  # local value',
        "subnets = []  # local value",
        "# settings = ...  # type object({a = string}): write a local value",
    ]
    assert variables.problem([], tmp_path / "x", tmp_path) is None
