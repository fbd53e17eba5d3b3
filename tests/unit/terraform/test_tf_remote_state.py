"""terraform/remote_state.py: outputs from the world, a local state per remote state, missing keys named."""

from __future__ import annotations

import json
from pathlib import Path

from lambda_harness.terraform import remote_state

REMOTE = """\
data "terraform_remote_state" "network" {
  backend = "s3"
  config = {
    bucket = "platform-tf-state-prod"
    key    = "network/terraform.tfstate"
  }
  defaults = { flag = "off" }
}
"""
USES = """\
locals {
  sg     = data.terraform_remote_state.network.outputs.extra_sg_id
  bucket = data.terraform_remote_state.network.outputs["artifacts_bucket"]
  flag   = data.terraform_remote_state.network.outputs.flag
  all    = data.terraform_remote_state.network.outputs
}
"""
WORLD_OUTPUT = {
    "value": {"artifacts_bucket": "b", "subnets": ["s-1", "s-2"]},
    "type": ["object", {"artifacts_bucket": "string", "subnets": ["tuple", ["string", "string"]]}],
}


def repo(tmp_path: Path) -> tuple[Path, Path]:
    tf = tmp_path / "terraform"
    tf.mkdir()
    (tf / "remote.tf").write_text(REMOTE)
    (tf / "locals.tf").write_text(USES)
    return tmp_path, tf


def test_uses_with_file_line_and_key(tmp_path: Path) -> None:
    _, tf = repo(tmp_path)
    found = [(u.name, u.key, u.file.name, u.line, u.argument) for u in remote_state.uses(tf)]
    assert found == [
        ("network", "extra_sg_id", "locals.tf", 2, "sg"),
        ("network", "artifacts_bucket", "locals.tf", 3, "bucket"),
        ("network", "flag", "locals.tf", 4, "flag"),
        ("network", None, "locals.tf", 5, "all"),
    ]


ROLE = """\
resource "aws_iam_role" "fn" {
  name                 = "fn-${data.terraform_remote_state.platform.outputs.env_name}"
  permissions_boundary = data.terraform_remote_state.platform.outputs.lambda_boundary
  managed_policy_arns  = [data.terraform_remote_state.platform.outputs.logs_policy]
}

data "terraform_remote_state" "platform" {
  backend  = "s3"
  config   = { bucket = "b", key = "k" }
  defaults = { retention_days = 30, tier = "basic" }
}

resource "aws_lambda_function" "fn" {
  role = data.terraform_remote_state.platform.outputs.shared_role
  environment {
    variables = {
      DAYS = tostring(data.terraform_remote_state.platform.outputs.retention_days)
      TIER = data.terraform_remote_state.platform.outputs.tier
    }
  }
}
"""


def platform(tmp_path: Path) -> Path:
    tf = tmp_path / "terraform"
    tf.mkdir()
    (tf / "main.tf").write_text(ROLE)
    return tf


def test_uses_know_the_argument_and_the_resource_they_are_the_whole_value_of(tmp_path: Path) -> None:
    found = [(u.key, u.argument, u.resource_type) for u in remote_state.uses(platform(tmp_path))]
    assert found == [
        ("env_name", None, "aws_iam_role"),  # inside a string: not the argument's value
        ("lambda_boundary", "permissions_boundary", "aws_iam_role"),
        ("logs_policy", "managed_policy_arns", "aws_iam_role"),
        ("shared_role", "role", "aws_lambda_function"),
        ("retention_days", None, "aws_lambda_function"),
        ("tier", "TIER", "aws_lambda_function"),
    ]


def test_the_snippet_shapes_each_value_as_it_is_used_and_leaves_defaults_optional(tmp_path: Path) -> None:
    """P-C2/P-C3: ARNs that apply (with the policy and role they name), defaults not demanded."""
    tf = platform(tmp_path)
    [block] = remote_state.blocks(tf)
    text = remote_state.output_snippet(block, remote_state.uses(tf), "eu-west-1", tmp_path)
    output = text[text.index('output "remote_state_platform"') :]
    assert output.splitlines()[2:-2] == [
        '    env_name = "local-env"  # local value',
        "    lambda_boundary = aws_iam_policy.platform_lambda_boundary.arn  # the policy above",
        "    logs_policy = [aws_iam_policy.platform_logs_policy.arn]  # the policy above",
        "    shared_role = aws_iam_role.platform_shared_role.arn  # the role above",
        "    # retention_days = 30  # optional: defaults in terraform/main.tf:7 answer it",
        '    # tier = "basic"  # optional: defaults in terraform/main.tf:7 answer it',
    ]
    assert 'resource "aws_iam_policy" "platform_lambda_boundary" {' in text
    assert 'resource "aws_iam_policy" "platform_logs_policy" {' in text
    assert 'resource "aws_iam_role" "platform_shared_role" {' in text
    assert "lambda.amazonaws.com" in text


def test_keys_every_use_of_which_has_a_default_are_not_demanded(tmp_path: Path) -> None:
    tf = tmp_path / "terraform"
    tf.mkdir()
    (tf / "main.tf").write_text(
        'data "terraform_remote_state" "platform" {\n  backend = "s3"\n  defaults = { days = 30 }\n}\n'
        + "locals {\n  days = data.terraform_remote_state.platform.outputs.days\n}\n"
    )
    assert remote_state.problems(tf, {}, tmp_path / "w", tmp_path) == []


def test_state_document_splits_the_object_into_typed_outputs() -> None:
    doc = remote_state.state_document("network", WORLD_OUTPUT)
    assert doc["version"] == 4
    assert doc["outputs"] == {
        "artifacts_bucket": {"value": "b", "type": "string"},
        "subnets": {"value": ["s-1", "s-2"], "type": ["tuple", ["string", "string"]]},
    }
    assert remote_state.state_document("gone", None)["outputs"] == {}


def test_override_points_each_remote_state_at_its_local_file(tmp_path: Path) -> None:
    states = remote_state.write_states(
        ["network"], {"remote_state_network": WORLD_OUTPUT}, lambda n: tmp_path / "rs" / f"{n}.tfstate"
    )
    assert json.loads(states["network"].read_text())["outputs"]["artifacts_bucket"]["value"] == "b"
    text = remote_state.override_text(states)
    assert 'data "terraform_remote_state" "network" {' in text
    assert 'backend   = "local"' in text
    assert f'config    = {{ path = "{tmp_path / "rs" / "network.tfstate"}" }}' in text


def test_no_world_output_gives_the_output_to_add_with_every_used_key(tmp_path: Path) -> None:
    project, tf = repo(tmp_path)
    found = remote_state.problems(tf, {}, project / "tests/integration/world", project)
    assert len(found) == 1
    assert found[0].startswith(
        'terraform/remote.tf:1: data "terraform_remote_state" "network" reads another stack\'s state; '
        'locally its outputs come from the world, which declares no output "remote_state_network". '
        "Add to tests/integration/world/outputs.tf:\n"
    )
    assert 'extra_sg_id = "sg-0123456789abcdef0"  # local value' in found[0]
    assert 'artifacts_bucket = "local-artifacts_bucket"' in found[0]
    # a key the block's defaults answer is not demanded; its line keeps the default's value
    assert '    # flag = "off"  # optional: defaults in terraform/remote.tf:1 answer it\n' in found[0]


def test_a_missing_key_is_named_where_it_is_used_and_defaults_count(tmp_path: Path) -> None:
    project, tf = repo(tmp_path)
    found = remote_state.problems(tf, {"remote_state_network": WORLD_OUTPUT}, project / "w", project)
    assert found == [
        "terraform/locals.tf:2: uses data.terraform_remote_state.network.outputs.extra_sg_id; the world's "
        'output "remote_state_network" has {artifacts_bucket, subnets}. Add extra_sg_id = <value> to output '
        '"remote_state_network" in w.'
    ]


def test_no_remote_state_no_problem(tmp_path: Path) -> None:
    assert remote_state.problems(tmp_path, {}, None, tmp_path) == []
