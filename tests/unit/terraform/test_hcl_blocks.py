"""terraform/hcl.py: top-level blocks with their file and lines, bodies as plain values."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from lambda_harness.errors import ConfigError
from lambda_harness.terraform import hcl
from lambda_harness.terraform.sources import ModuleSource

MAIN = """\
variable "env" {
  type = string
}

import {
  to = aws_lambda_function.legacy
  id = "legacy-${var.env}"
}

data "aws_subnets" "private" {
  filter {
    name   = "vpc-id"
    values = [data.aws_vpc.shared.id]
  }
  tags = { Tier = "private" }
}
"""


def test_blocks_carry_kind_labels_lines_and_body(tmp_path: Path) -> None:
    (tmp_path / "main.tf").write_text(MAIN)
    blocks = hcl.read_module(tmp_path).blocks
    assert [(b.kind, b.labels, b.line, b.end_line) for b in blocks] == [
        ("variable", ("env",), 1, 3),
        ("import", (), 5, 8),
        ("data", ("aws_subnets", "private"), 10, 16),
    ]
    subnets = blocks[2]
    assert subnets.address == "data.aws_subnets.private"
    assert subnets.header == 'data "aws_subnets" "private"'
    assert subnets.body["tags"] == {"Tier": "private"}
    assert subnets.body["filter"] == [{"name": "vpc-id", "values": ["${data.aws_vpc.shared.id}"]}]


def test_json_syntax_has_bodies_and_a_line(tmp_path: Path) -> None:
    (tmp_path / "a.tf.json").write_text(
        '{\n  "variable": {"region": {}},\n  "data": {"aws_vpc": {"v": {"tags": {"Name": "x"}}}}\n}\n'
    )
    blocks = hcl.read_module(tmp_path).blocks
    assert [(b.kind, b.labels, b.line) for b in blocks] == [
        ("variable", ("region",), 2),
        ("data", ("aws_vpc", "v"), 3),
    ]


def test_tfvars_values_and_auto_files_in_terraform_order(tmp_path: Path) -> None:
    (tmp_path / "terraform.tfvars").write_text('env = "prod"\n')
    (tmp_path / "b.auto.tfvars").write_text("n = 2\n")
    (tmp_path / "a.auto.tfvars.json").write_text('{"flag": true}')
    assert [p.name for p in hcl.auto_var_files(tmp_path)] == [
        "terraform.tfvars",
        "b.auto.tfvars",
        "a.auto.tfvars.json",
    ]
    assert hcl.read_values(tmp_path / "terraform.tfvars") == {"env": "prod"}


def test_bad_syntax_names_the_file(tmp_path: Path) -> None:
    (tmp_path / "broken.tf").write_text('resource "x" {\n')
    with pytest.raises(ConfigError, match=r"broken.tf: cannot parse Terraform"):
        hcl.read_module(tmp_path)


def test_a_same_size_rewrite_in_the_same_mtime_tick_is_read_again(tmp_path: Path) -> None:
    path = tmp_path / "main.tf"
    path.write_text('module "aaa" {\n  source = "./a"\n}\n')
    stamp = path.stat().st_mtime_ns
    assert [b.labels for b in ModuleSource(tmp_path).module_calls()] == [("aaa",)]
    path.write_text('module "bbb" {\n  source = "./b"\n}\n')  # same size
    os.utime(path, ns=(stamp, stamp))  # and the same mtime, as within one filesystem tick
    assert [b.labels for b in ModuleSource(tmp_path).module_calls()] == [("bbb",)]
