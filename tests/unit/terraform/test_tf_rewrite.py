"""terraform/rewrite.py: import blocks blanked in the staged copy (line numbers kept), tfvars staged."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from lambda_harness.errors import ConfigError
from lambda_harness.terraform import hcl, rewrite

FUNCTIONS = """\
resource "aws_iam_role" "lambda" {
  name = "r"
}

import {
  to = aws_iam_role.lambda
  id = "r"
}

import {
  for_each = toset(["a", "b"])
  to       = aws_lambda_function.fn[each.key]
  id       = "fn-${each.key}"
}

moved {
  from = aws_iam_role.old
  to   = aws_iam_role.lambda
}

resource "aws_lambda_function" "fn" {
  for_each = toset(["a", "b"])
}
"""


def test_import_blocks_are_blanked_and_every_later_line_keeps_its_number(tmp_path: Path) -> None:
    path = tmp_path / "functions.tf"
    text, removed = rewrite.blank_imports(path, FUNCTIONS)
    before, after = FUNCTIONS.splitlines(), text.splitlines()
    assert len(after) == len(before)
    assert [(r.line, r.end_line, r.to, r.id) for r in removed] == [
        (5, 8, "aws_iam_role.lambda", '"r"'),
        (10, 14, "aws_lambda_function.fn[each.key]", '"fn-${each.key}"'),
    ]
    assert after[4].startswith("# lambda-harness: import block (lines 5-8) removed in the staged copy")
    assert after[5:8] == ["", "", ""]
    assert "import" not in text.replace("# lambda-harness: import block", "")
    # everything outside the two blocks (moved, the resources) is unchanged, line for line
    assert [a for i, a in enumerate(after) if not 4 <= i <= 13] == [
        b for i, b in enumerate(before) if not 4 <= i <= 13
    ]
    assert [b.kind for b in hcl.read_blocks(path, text)] == ["resource", "moved", "resource"]


def test_the_run_line_names_the_real_file_and_says_promote_keeps_it(tmp_path: Path) -> None:
    _, removed = rewrite.blank_imports(tmp_path / "functions.tf", FUNCTIONS)
    assert removed[0].describe("terraform/functions.tf") == (
        'terraform/functions.tf:5-8: import block (to = aws_iam_role.lambda, id = "r") removed in the '
        "staged copy: the resource is created fresh on the local endpoint; promote keeps the block"
    )


def test_json_import_entries_are_dropped(tmp_path: Path) -> None:
    path = tmp_path / "imports.tf.json"
    text = json.dumps({"import": [{"to": "${aws_s3_bucket.b}", "id": "b"}], "resource": {}}, indent=2)
    new_text, removed = rewrite.drop_json_imports(path, text)
    assert json.loads(new_text) == {"resource": {}}
    assert [(r.to, r.id, r.end_line) for r in removed] == [("aws_s3_bucket.b", '"b"', None)]


def test_neutralize_rewrites_only_files_with_imports(tmp_path: Path) -> None:
    (tmp_path / "functions.tf").write_text(FUNCTIONS)
    (tmp_path / "other.tf").write_text('# an "import" in a comment only\nlocals {}\n')
    removed = rewrite.neutralize_imports(tmp_path)
    assert len(removed) == 2
    assert (tmp_path / "other.tf").read_text() == '# an "import" in a comment only\nlocals {}\n'


def test_harness_tfvars_load_after_the_teams_auto_tfvars(tmp_path: Path) -> None:
    src = tmp_path / "src"
    src.mkdir()
    (src / "harness.tfvars").write_text('env = "local"\n')
    (src / "more.tfvars.json").write_text('{"n": 1}')
    work = tmp_path / "work"
    work.mkdir()
    copied = rewrite.stage_tfvars(work, [src / "harness.tfvars", src / "more.tfvars.json"])
    assert [p.name for p in copied] == [
        "zz_lambda_harness_01_harness.auto.tfvars",
        "zz_lambda_harness_02_more.auto.tfvars.json",
    ]
    assert (work / "zz_lambda_harness_01_harness.auto.tfvars").read_text() == 'env = "local"\n'


def test_a_missing_tfvars_file_names_the_setting(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"tfvars: .*nope.tfvars does not exist; .*tfvars = \[...\]"):
        rewrite.stage_tfvars(tmp_path, [tmp_path / "nope.tfvars"])
