"""Function roles enforced, through ``pipeline.run`` with ONE real Terraform apply.

The fixture repo tests/fixtures/repos/iam holds seven functions and six roles: least privilege,
a missing permission (twice: one handler swallows the AccessDenied), an explicit Deny, the
wrong resource, AWS-managed policies only, and an over-broad ``s3:*`` on ``"*"``. One embedded
endpoint serves the module: the enforce run applies, the warn run reuses that deployment, and
an unassumable role is applied against the same endpoint (refused at CreateFunction, terraform
interrupted).
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator
from contextlib import nullcontext
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pytest

from lambda_harness import pipeline
from lambda_harness.endpoint.ports import free_port
from lambda_harness.endpoint.runtime import make_runtime
from lambda_harness.endpoint.server import EmbeddedEndpoint
from lambda_harness.errors import TerraformError
from lambda_harness.settings import Settings, load_settings
from lambda_harness.terraform.deploy import Deployment, deploy
from lambda_harness.ui import PlainUI, RecordingUI
from lambda_harness.watch import WatchLoop, WatchStages
from support.terraform import copy_project, harness_environ
from support.terraform import make_settings as tf_settings

pytestmark = pytest.mark.slow

FIXTURE = Path(__file__).resolve().parents[2] / "fixtures" / "repos" / "iam"


@dataclass
class Shared:
    settings: Settings
    endpoint: EmbeddedEndpoint
    main_tf: str


@dataclass
class Run:
    report: pipeline.RunReport
    ui: RecordingUI

    @property
    def functions(self) -> dict[str, Any]:
        return dict(self.report.results["functions"])

    def failure(self, function: str) -> str:
        texts = [t for t in self.report.failures if t.startswith(f"{function}/")]
        assert texts, f"no failure for {function}: {self.report.failures}"
        return texts[0]


def line_of(text: str, block: str) -> int:
    """The 1-based line of ``block`` (e.g. 'resource "aws_iam_role" "missing"') in ``text``."""
    for number, line in enumerate(text.splitlines(), start=1):
        if line.startswith(block):
            return number
    raise AssertionError(f"{block} not in main.tf")


@pytest.fixture(scope="module")
def shared(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Shared]:
    if shutil.which("terraform") is None:
        pytest.skip("terraform not installed")
    repo = tmp_path_factory.mktemp("iam") / "worker"
    shutil.copytree(FIXTURE, repo, ignore=shutil.ignore_patterns("__pycache__", ".harness"))
    settings = load_settings(repo, {"port": free_port()}, environ=dict(os.environ))
    runtime = make_runtime(settings)
    endpoint = EmbeddedEndpoint(settings, runtime, PlainUI(quiet=True)).start()
    try:
        yield Shared(settings, endpoint, (repo / "terraform" / "main.tf").read_text())
    finally:
        endpoint.stop()
        runtime.shutdown()


def _stages(shared: Shared, **changes: Any) -> pipeline.Stages:
    return replace(
        pipeline.default_stages(), endpoint=lambda s, ui: nullcontext(shared.endpoint.url), **changes
    )


@pytest.fixture(scope="module")
def enforced(shared: Shared) -> Run:
    """``run`` with iam = enforce: builds, applies (the module's one apply), tests."""
    ui = RecordingUI()
    return Run(pipeline.run(shared.settings, ui, stages=_stages(shared)), ui)


@pytest.fixture(scope="module")
def warned(shared: Shared, enforced: Run) -> Run:
    """``run`` again on the same deployment with the endpoint in warn mode."""
    inventory = enforced.report.inventory
    assert shared.endpoint.guard is not None
    shared.endpoint.guard.mode = "warn"
    try:
        ui = RecordingUI()
        stages = _stages(shared, deploy=lambda s, u, url: inventory)
        return Run(pipeline.run(shared.settings, ui, stages=stages), ui)
    finally:
        shared.endpoint.guard.mode = "enforce"


# --- items 1 and 2: credentials as Lambda gives them, enforcement --------------------------------------


def test_least_privilege_passes_and_knows_who_it_is(enforced: Run) -> None:
    # least's expected payload holds get-caller-identity's answer inside the function.
    assert enforced.functions["least"]["passed"] == 1
    assert enforced.functions["least"]["iam"]["denied"] == []


def test_aws_managed_policies_attach_and_allow(enforced: Run) -> None:
    assert enforced.functions["managed"]["passed"] == 1
    used = {u["action"] for u in enforced.functions["managed"]["iam"]["used"]}
    assert {"s3:GetObject", "s3:ListBucket"} <= used


def test_every_faulty_role_fails_its_case_and_the_run(enforced: Run) -> None:
    assert not enforced.report.ok
    assert enforced.report.attestation is None
    for name in ("missing", "swallow", "deny", "wrong"):
        assert enforced.functions[name]["failed"] == 1, name
    for name in ("least", "managed", "broad"):
        assert enforced.functions[name]["failed"] == 0, name


# --- item 3: the run tells the fix ---------------------------------------------------------------------


def test_missing_permission_names_role_file_and_the_statement_to_add(enforced: Run, shared: Shared) -> None:
    text = enforced.failure("missing")
    role_line = line_of(shared.main_tf, 'resource "aws_iam_role" "missing"')
    doc_line = line_of(shared.main_tf, 'data "aws_iam_policy_document" "missing"')
    assert "missing: s3:PutObject on arn:aws:s3:::iam-fixture-data/out/result.json was denied" in text
    assert f"role iam-missing (terraform/main.tf:{role_line} aws_iam_role.missing): " in text
    assert "no identity-based policy allows it." in text
    assert f"Add to terraform/main.tf:{doc_line} data.aws_iam_policy_document.missing:" in text
    assert 'actions   = ["s3:PutObject"]' in text
    assert 'resources = ["${aws_s3_bucket.data.arn}/out/*"]' in text
    # The handler saw AWS's own error, message and all.
    assert "is not authorized to perform: s3:PutObject" in text


def test_a_denial_outside_the_event_cases_fails_the_run(enforced: Run) -> None:
    """tests/integration/test_outside_cases.py invokes ``missing`` itself: its test passes, the run fails."""
    [outside] = enforced.report.results["iam"]["denials_outside_cases"]
    assert (outside["function"], outside["action"]) == ("missing", "s3:PutObject")
    assert enforced.report.results["other_failures"] == []  # the hand-written test itself passed
    assert any(
        t.startswith("missing: s3:PutObject on arn:aws:s3:::iam-fixture-data/out/result.json was denied")
        and 'resources = ["${aws_s3_bucket.data.arn}/out/*"]' in t
        for t in enforced.report.failures
    )


def test_a_swallowed_denial_still_fails_its_case(enforced: Run) -> None:
    text = enforced.failure("swallow")
    assert "swallow: s3:PutObject on arn:aws:s3:::iam-fixture-data/out/result.json was denied" in text
    assert "the handler caught the refusal and returned normally" in text


def test_explicit_deny_names_the_denying_statement(enforced: Run, shared: Shared) -> None:
    text = enforced.failure("deny")
    doc_line = line_of(shared.main_tf, 'data "aws_iam_policy_document" "deny"')
    assert "deny: dynamodb:Scan on arn:aws:dynamodb:eu-west-1:123456789012:table/iam-fixture-items" in text
    assert "was denied explicitly" in text
    assert (
        f"statement 'NoScan' of policy iam-deny "
        f"(terraform/main.tf:{doc_line} data.aws_iam_policy_document.deny)" in text
    )
    assert "no Allow can override an explicit Deny" in text


def test_wrong_resource_gets_a_json_statement_for_a_jsonencode_policy(enforced: Run, shared: Shared) -> None:
    text = enforced.failure("wrong")
    policy_line = line_of(shared.main_tf, 'resource "aws_iam_role_policy" "wrong"')
    assert "wrong: s3:GetObject on arn:aws:s3:::iam-fixture-data/in/seed.json was denied" in text
    assert (
        f"Add this statement to the policy of terraform/main.tf:{policy_line} aws_iam_role_policy.wrong:"
        in text
    )
    assert (
        '{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::iam-fixture-data/in/*"}'
        in text
    )


# --- item 4: least privilege, both ways ----------------------------------------------------------------


def test_over_broad_and_unused_grants_are_reported(enforced: Run, shared: Shared) -> None:
    broad = enforced.functions["broad"]["iam"]["least_privilege"]
    flags = " | ".join(broad["over_broad"])
    # the unnamed inline policy by its address and line, not by the name AWS generated (P-C5)
    line = line_of(shared.main_tf, 'resource "aws_iam_role_policy" "broad"')
    where = f"aws_iam_role_policy.broad (terraform/main.tf:{line})"
    assert all(flag.startswith(f"{where} statement #1: ") for flag in broad["over_broad"]), flags
    assert "terraform-" not in flags and "boundary" not in flags
    assert re.search(r'Action "s3:\*" grants \d{3} actions; the tests used 1: s3:GetObject', flags)
    assert (
        'Resource "*" for s3:GetObject, which can be scoped; '
        "the tests used: arn:aws:s3:::iam-fixture-data/in/seed.json" in flags
    )
    assert "s3:DeleteBucket" in broad["unused_actions"]
    managed = " | ".join(enforced.functions["managed"]["iam"]["least_privilege"]["over_broad"])
    assert "AWS-managed policy AmazonS3ReadOnlyAccess grants" in managed
    least = enforced.functions["least"]["iam"]["least_privilege"]
    assert least["unused_actions"] == [] and least["over_broad"] == []


def test_the_run_prints_least_privilege(enforced: Run) -> None:
    titles = [title for title, _rows in enforced.ui.tables]
    assert "IAM (iam = enforce): least privilege" in titles
    rows = dict(enforced.ui.tables)["IAM (iam = enforce): least privilege"]
    assert {row[0] for row in rows} == {"least", "missing", "swallow", "deny", "wrong", "managed", "broad"}
    [paragraph] = [
        line for line in enforced.ui.infos if line.startswith("role iam-broad (terraform/main.tf:")
    ]
    # the boundary is a note, once, and not an over-broad grant
    assert [line for line in paragraph.splitlines() if "boundary" in line] == [
        "  note (broad): permissions boundary arn:aws:iam::123456789012:policy/iam-boundary is not evaluated"
    ]


@pytest.fixture(scope="module")
def switched_off(shared: Shared, warned: Run) -> Run:
    """``run`` once more on the same deployment with the endpoint's iam = off."""
    inventory = warned.report.inventory
    assert shared.endpoint.guard is not None
    shared.endpoint.guard.mode = "off"
    try:
        ui = RecordingUI()
        stages = _stages(shared, deploy=lambda s, u, url: inventory)
        return Run(pipeline.run(shared.settings, ui, stages=stages), ui)
    finally:
        shared.endpoint.guard.mode = "enforce"


# --- item 6: warn reports and does not fail ------------------------------------------------------------


def test_warn_mode_reports_without_failing(warned: Run) -> None:
    assert warned.functions["missing"]["failed"] == 0
    assert warned.functions["deny"]["failed"] == 0
    assert warned.report.results["iam"]["mode"] == "warn"
    denied = warned.functions["missing"]["iam"]["denied"]
    # The endpoint served the enforce run before: this run reads its own evidence only (the
    # event case's denial and the hand-written test's, not the enforce run's two as well).
    assert [d["enforced"] for d in denied] == [False, False]
    assert len(warned.report.results["iam"]["denials_outside_cases"]) == 1
    assert any("iam = warn, not enforced" in w and "s3:PutObject" in w for w in warned.ui.warnings)


def test_off_evaluates_nothing_and_reports_no_least_privilege(switched_off: Run) -> None:
    for name in ("missing", "deny", "wrong", "least"):
        assert switched_off.functions[name]["failed"] == 0, name
        assert "iam" not in switched_off.functions[name], name
    # swallow expects the refusal it no longer gets; the hand-written test too.
    assert switched_off.functions["swallow"]["failed"] == 1
    assert switched_off.report.results["iam"]["mode"] == "off"
    assert switched_off.report.results["iam"]["denials_outside_cases"] == []
    assert not any(title.startswith("IAM (") for title, _rows in switched_off.ui.tables)


# --- watch judges a case as run does -------------------------------------------------------------------


def test_watch_fails_a_refused_case_with_the_fix(enforced: Run, shared: Shared) -> None:
    inventory = enforced.report.inventory
    assert inventory is not None
    stages = WatchStages(build=lambda s, ui: None, deploy=lambda s, ui, url: Deployment(inventory, "warm"))
    ui = RecordingUI()
    loop = WatchLoop(shared.settings, ui, shared.endpoint.url, stages, clock=lambda: 0.0)
    loop.first()
    outcomes = {name: [r.outcome for r in found] for name, found in loop.results.cases.items()}
    assert outcomes["least"] == ["passed"] and outcomes["missing"] == ["failed"]
    assert outcomes["swallow"] == ["failed"] and outcomes["broad"] == ["passed"]
    text = next(w for w in ui.warnings if w.startswith("missing/"))
    assert "missing: s3:PutObject on arn:aws:s3:::iam-fixture-data/out/result.json was denied" in text
    assert 'resources = ["${aws_s3_bucket.data.arn}/out/*"]' in text


# --- item 5: the role must be assumable ----------------------------------------------------------------


def test_an_unassumable_role_fails_the_apply_at_once_naming_the_role(shared: Shared, tmp_path: Path) -> None:
    root = copy_project("iam_untrusted", tmp_path / "untrusted")
    settings = tf_settings(root)
    with pytest.raises(TerraformError) as caught:
        deploy(settings, PlainUI(), shared.endpoint.url, environ=harness_environ())
    text = str(caught.value)
    role_line = line_of((root / "terraform" / "main.tf").read_text(), 'resource "aws_iam_role" "untrusted"')
    assert (
        f"terraform/main.tf:{role_line} aws_iam_role.untrusted: function iam_untrusted cannot use this role"
        in text
    )
    assert "does not allow lambda.amazonaws.com to call sts:AssumeRole" in text
    assert '"The role defined for the function cannot be assumed by Lambda."' in text
    assert "terraform apply was interrupted instead of letting terraform-provider-aws retry" in text
