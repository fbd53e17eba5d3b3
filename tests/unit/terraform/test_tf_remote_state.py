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
    found = [(u.name, u.key, u.file.name, u.line) for u in remote_state.uses(tf)]
    assert found == [
        ("network", "extra_sg_id", "locals.tf", 2),
        ("network", "artifacts_bucket", "locals.tf", 3),
        ("network", "flag", "locals.tf", 4),
        ("network", None, "locals.tf", 5),
    ]


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
    assert 'extra_sg_id = "local-extra_sg_id"  # local value' in found[0]
    assert 'artifacts_bucket = "local-artifacts_bucket"' in found[0]


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
