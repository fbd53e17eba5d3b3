"""Acceptance for adopting a repo whose Terraform looks up what it does not create (issue 16).

The fixture repo ``tests/fixtures/repos/imports_world`` has import/moved/removed blocks, a
function in a VPC from looked-up subnets and security groups, SSM/Secrets/KMS/IAM lookups,
a ``terraform_remote_state`` and three variables without defaults. With its world
(``tests/integration/world/``) and ``tests/integration/harness.tfvars`` it passes
``lambda-harness run``; without them every missing piece is named with its fix, before
any plan. Each CLI run happens once per module; the tests read its output.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from lambda_harness.endpoint.ports import free_port
from support.terraform import copy_repo, snapshot

pytestmark = pytest.mark.slow

if shutil.which("terraform") is None:  # pragma: no cover - depends on the machine
    pytest.skip("terraform is not installed", allow_module_level=True)


@dataclass
class Ran:
    repo: Path
    code: int
    out: str
    before: dict[str, bytes]


def run(repo: Path) -> Ran:
    before = snapshot(repo)
    env = {k: v for k, v in os.environ.items() if not k.startswith("LAMBDA_HARNESS_")}
    env["CI"] = "1"
    done = subprocess.run(
        [sys.executable, "-m", "lambda_harness", "run", "--project", str(repo), "--port", str(free_port())],
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )
    return Ran(repo, done.returncode, done.stderr + done.stdout, before)


# --- with the world and the harness tfvars: the whole run passes --------------------------------


@pytest.fixture(scope="module")
def passed(tmp_path_factory: pytest.TempPathFactory) -> Ran:
    return run(copy_repo("imports_world", tmp_path_factory.mktemp("adopt") / "repo"))


def test_run_passes_with_only_the_world_and_a_local_tfvars(passed: Ran) -> None:
    assert passed.code == 0, passed.out
    results = json.loads((passed.repo / ".harness" / "results.json").read_text())["functions"]
    assert {name: (r["passed"], r["failed"]) for name, r in results.items()} == {
        "orders-legacy-local": (1, 0),
        "orders-local": (1, 0),
    }


def test_each_import_block_is_one_line_of_the_run_and_the_real_files_keep_them(passed: Ran) -> None:
    lines = [ln for ln in passed.out.splitlines() if "import block" in ln]
    assert lines == [
        "terraform/functions.tf:23-26: import block (to = aws_iam_role.lambda, id = "
        '"orders-${var.env}-lambda") removed in the staged copy: the resource is created fresh on the local '
        "endpoint; promote keeps the block",
        "terraform/functions.tf:28-31: import block (to = aws_lambda_function.legacy, id = "
        '"orders-legacy-${var.env}") removed in the staged copy: the resource is created fresh on the local '
        "endpoint; promote keeps the block",
    ]
    real = passed.repo / "terraform" / "functions.tf"
    staged = passed.repo / ".harness" / "tf" / "embedded" / "tree" / "terraform" / "functions.tf"
    assert real.read_bytes() == passed.before["terraform/functions.tf"]  # what promote applies
    assert "import {" not in staged.read_text()
    assert len(staged.read_text().splitlines()) == len(real.read_text().splitlines())


def test_vpc_function_gets_the_worlds_subnets_and_remote_state_group(passed: Ran) -> None:
    world = json.loads((passed.repo / ".harness/tf/world/embedded/terraform.tfstate").read_text())
    ids = {
        (r["type"], r["name"]): sorted(i["attributes"]["id"] for i in r["instances"])
        for r in world["resources"]
        if r["mode"] == "managed"
    }
    state = json.loads((passed.repo / ".harness/tf/embedded/terraform.tfstate").read_text())
    (legacy,) = [
        r for r in state["resources"] if r["type"] == "aws_lambda_function" and r["name"] == "legacy"
    ]
    vpc = legacy["instances"][0]["attributes"]["vpc_config"][0]
    assert sorted(vpc["subnet_ids"]) == ids[("aws_subnet", "private")]
    assert sorted(vpc["security_group_ids"]) == sorted(
        ids[("aws_security_group", "lambda")] + ids[("aws_security_group", "extra")]
    )
    notes = [ln for ln in passed.out.splitlines() if "run in a VPC" in ln]
    assert len(notes) == 1 and "recorded on the local endpoint, not enforced" in notes[0]


# --- nothing declared: every missing piece named at once, before any plan ---------------------


@pytest.fixture(scope="module")
def bare(tmp_path_factory: pytest.TempPathFactory) -> Ran:
    repo = copy_repo(
        "imports_world",
        tmp_path_factory.mktemp("bare") / "repo",
        drop=("tests/integration/world", "tests/integration/harness.tfvars"),
    )
    return run(repo)


def problem(ran: Ran, start: str) -> str:
    """The numbered problem of the report that begins with ``start``."""
    numbered = re.split(r"\n\n(?=\d+\. )", ran.out)
    found = [p for p in numbered if p.split(". ", 1)[-1].startswith(start)]
    assert len(found) == 1, ran.out
    return found[0]


def test_bare_repo_fails_before_any_plan_with_one_report(bare: Ran) -> None:
    assert bare.code == 1, bare.out
    assert (
        "terraform needs 7 thing(s) the local endpoint does not have (nothing was planned or applied)"
        in bare.out
    )
    assert "terraform apply" not in bare.out and "terraform init" not in bare.out
    assert not (bare.repo / ".harness/tf/embedded/terraform.tfstate").exists()
    assert not [ln for ln in bare.out.splitlines() if ln.startswith("Traceback")]


def test_every_missing_variable_is_named_with_its_declaration(bare: Ran) -> None:
    text = problem(bare, "3 variables have no value locally")
    assert (
        "env (terraform/variables.tf:2), db_host (terraform/variables.tf:7), alarm_email "
        "(terraform/variables.tf:11, sensitive)"
    ) in text
    assert "Add local values to tests/integration/harness.tfvars (setting tfvars)" in text
    # the lookups named after var.env are checked once it has a value: said, not silently skipped
    assert 'data "aws_ssm_parameter" "api_url" (terraform/shared.tf:5)' in text
    assert 'data "aws_secretsmanager_secret_version" "db" (terraform/shared.tf:9)' in text


def test_the_remote_state_names_the_world_output_to_add(bare: Ran) -> None:
    text = problem(bare, 'terraform/remote.tf:2: data "terraform_remote_state" "network"')
    assert (
        'which declares no output "remote_state_network". Add to tests/integration/world/outputs.tf:' in text
    )
    assert (
        'extra_sg_id = "sg-0123456789abcdef0"' in text
        and 'artifacts_bucket = "local-artifacts_bucket"' in text
    )


def test_the_vpc_lookups_show_the_world_resources_to_add(bare: Ran) -> None:
    vpc = problem(bare, 'terraform/network.tf:2: data "aws_vpc" "shared" (tags Name = "shared-vpc")')
    assert "finds nothing on the local endpoint (region eu-west-1)" in vpc
    assert "Create tests/integration/world/main.tf (`lambda-harness new-world` writes a first draft)" in vpc
    assert 'resource "aws_vpc" "shared"' in vpc
    subnets = problem(bare, 'terraform/network.tf:8: data "aws_subnets" "private"')
    assert "vpc_id     = aws_vpc.shared.id" in subnets
    group = problem(
        bare, 'terraform/network.tf:18: data "aws_security_group" "lambda" (name = "shared-lambda")'
    )
    assert 'name   = "shared-lambda"' in group or 'name = "shared-lambda"' in group


def test_a_policy_looked_up_by_name_is_named_without_the_providers_retries(bare: Ran) -> None:
    text = problem(
        bare, 'terraform/shared.tf:18: data "aws_iam_policy" "logs" (name = "shared-lambda-logging")'
    )
    assert 'resource "aws_iam_policy" "logs"' in text
    kms = problem(bare, 'terraform/shared.tf:13: data "aws_kms_alias" "app" (name = "alias/shared-app")')
    assert 'resource "aws_kms_alias" "app"' in kms


# --- a world and tfvars with one piece missing each: exactly those are named ------------------


@pytest.fixture(scope="module")
def partial(tmp_path_factory: pytest.TempPathFactory) -> Ran:
    repo = copy_repo("imports_world", tmp_path_factory.mktemp("partial") / "repo")
    world = repo / "tests/integration/world"
    main = (world / "main.tf").read_text()
    start = main.index('resource "aws_ssm_parameter" "api_url"')
    (world / "main.tf").write_text(main[:start] + main[main.index("\n}\n", start) + 3 :])
    outputs = (world / "outputs.tf").read_text()
    (world / "outputs.tf").write_text(outputs.replace("extra_sg_id      = aws_security_group.extra.id\n", ""))
    tfvars = repo / "tests/integration/harness.tfvars"
    tfvars.write_text(tfvars.read_text().replace('alarm_email = "orders-team@example.com"\n', ""))
    return run(repo)


def test_partial_world_names_exactly_what_is_missing(partial: Ran) -> None:
    assert partial.code == 1, partial.out
    assert "terraform needs 3 thing(s)" in partial.out
    assert "the world: applying tests/integration/world first" in partial.out


def test_the_one_missing_variable(partial: Ran) -> None:
    problem(partial, "1 variable has no value locally: alarm_email (terraform/variables.tf:11, sensitive)")


def test_a_missing_output_key_is_named_where_it_is_used(partial: Ran) -> None:
    problem(
        partial,
        "terraform/functions.tf:57: uses data.terraform_remote_state.network.outputs.extra_sg_id; the "
        'world\'s output "remote_state_network" has {artifacts_bucket}. Add extra_sg_id = <value> to '
        'output "remote_state_network" in tests/integration/world.',
    )


def test_the_missing_parameter_is_named_with_its_resolved_name(partial: Ran) -> None:
    text = problem(
        partial, 'terraform/shared.tf:5: data "aws_ssm_parameter" "api_url" (name = "/shared/local/api-url")'
    )
    assert "Add to tests/integration/world/main.tf:" in text
    assert 'name  = "/shared/local/api-url"' in text
