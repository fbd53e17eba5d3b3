"""Real terraform against a real moto server: staging, apply, idempotency, inventory."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import boto3
import pytest

from lambda_harness.settings import Settings
from lambda_harness.terraform.deploy import Terraform, deploy, inventory_path, state_as_show_json
from lambda_harness.terraform.inventory import Inventory
from lambda_harness.terraform.staging import OVERRIDE_NAME, TFLOCAL_OVERRIDE
from lambda_harness.ui import PlainUI
from support.terraform import copy_project, harness_environ, make_settings, snapshot

pytestmark = pytest.mark.slow


@dataclass
class Applied:
    settings: Settings
    inventory: Inventory
    before: dict[str, bytes]
    after: dict[str, bytes]
    url: str


@pytest.fixture(scope="module")
def applied(moto_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Applied]:
    root = copy_project("rich", tmp_path_factory.mktemp("rich") / "repo")
    settings = make_settings(root)
    before = snapshot(root)
    inventory = deploy(settings, PlainUI(), moto_url, environ=harness_environ())
    yield Applied(settings, inventory, before, snapshot(root), moto_url)


def test_real_terraform_folder_is_byte_identical(applied: Applied) -> None:
    assert applied.after == applied.before
    tf = applied.settings.terraform_dir
    for name in (".terraform", ".terraform.lock.hcl", "terraform.tfstate", OVERRIDE_NAME, TFLOCAL_OVERRIDE):
        assert not (tf / name).exists()


def test_state_lives_under_harness_and_real_backend_untouched(applied: Applied) -> None:
    state = applied.settings.harness_dir / "tf" / "embedded" / "terraform.tfstate"
    assert '"aws_lambda_function"' in state.read_text()
    s3 = boto3.client(
        "s3",
        endpoint_url=applied.url,
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
    )
    buckets = {b["Name"] for b in s3.list_buckets()["Buckets"]}
    assert "team-real-state" not in buckets  # the team's backend "s3" bucket was never used
    assert {"artifacts", "uploads"} <= buckets


def test_second_plan_is_empty(applied: Applied) -> None:
    tf = Terraform(applied.settings, PlainUI(), applied.url, environ=harness_environ())
    assert tf.plan_changes() == []


def test_inventory_functions(applied: Applied) -> None:
    inv = applied.inventory
    assert inv.names() == ["hello", "local_fn"]
    hello, local = inv.get("hello"), inv.get("local_fn")
    tf = applied.settings.terraform_dir
    assert (hello.handler, hello.runtime, hello.architecture, hello.timeout, hello.memory_size) == (
        "app.handler",
        "python3.12",
        "x86_64",
        3,
        128,
    )
    assert hello.environment == {"STAGE": "test"}
    assert hello.role.endswith(":role/lambda-role")
    assert (hello.tf_file, hello.address) == (tf / "main.tf", "aws_lambda_function.hello")
    assert (local.architecture, local.timeout, local.memory_size, local.tf_file, local.tf_line) == (
        "arm64",
        30,
        256,
        tf / "lambda_local.tf",
        1,
    )
    assert Inventory.load(inventory_path(applied.settings)) == inv


def test_inventory_triggers(applied: Applied) -> None:
    hello = {t.kind: t for t in applied.inventory.get("hello").triggers}
    assert sorted(hello) == ["s3", "schedule", "sns"]
    assert hello["s3"].source == "uploads"
    assert (hello["s3"].detail["filter_prefix"], hello["s3"].detail["filter_suffix"]) == ("in/", ".json")
    assert hello["schedule"].source == "every-5-minutes"
    assert hello["schedule"].detail["schedule_expression"] == "rate(5 minutes)"
    assert hello["sns"].source.endswith(":alerts")
    local = {t.kind: t for t in applied.inventory.get("local_fn").triggers}
    assert sorted(local) == ["api", "dynamodb", "event", "url"]
    assert local["event"].detail["event_pattern"] == {"source": ["orders"]}
    assert ":table/items/stream/" in local["dynamodb"].source
    assert local["url"].source.startswith("https://")


def test_redeploy_restages_and_stays_idempotent(applied: Applied, tmp_path: Path) -> None:
    tf = Terraform(applied.settings, PlainUI(), applied.url, environ=harness_environ())
    tf.stage()
    assert (tf.staged.workdir / ".terraform").is_dir()  # kept between runs
    assert (tf.staged.workdir / OVERRIDE_NAME).is_file()
    assert snapshot(applied.settings.project_dir) == applied.before


def test_state_file_reading_matches_terraform_show(applied: Applied) -> None:
    """The inventory read from the state file equals the one read via `terraform show -json`."""
    tf = Terraform(applied.settings, PlainUI(), applied.url, environ=harness_environ())
    from_state = state_as_show_json(tf.staged.state)
    assert from_state is not None
    kwargs = {"endpoint_url": applied.url, "region": None}
    via_state = Inventory.from_show_json(from_state, applied.settings.terraform_dir, **kwargs)
    via_show = Inventory.from_show_json(tf.show_json(), applied.settings.terraform_dir, **kwargs)
    assert via_state.functions and via_state == via_show
