"""Where roles and their policies are declared (IamIndex from state), and the apply's trust watch."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from lambda_harness.terraform.iam import Declared, IamIndex
from lambda_harness.terraform.inventory import Inventory, declaration_of
from lambda_harness.terraform.trust_watch import TrustWatch, trust_message

ROLE_ARN = "arn:aws:iam::123456789012:role/acme-worker"
DOC = {
    "Version": "2012-10-17",
    "Statement": [{"Sid": "Read", "Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}],
}

MAIN_TF = """\
resource "aws_s3_bucket" "exports" {
  bucket = "acme-exports"
}

data "aws_iam_policy_document" "worker" {
  statement {
    actions = ["s3:GetObject"]
  }
}

resource "aws_iam_role" "worker" {
  name = "acme-worker"
}

resource "aws_iam_role_policy" "worker" {
  role = aws_iam_role.worker.id
}

resource "aws_iam_policy" "extra" {
  name = "extra"
}

resource "aws_iam_role_policy_attachment" "extra" {
  role = aws_iam_role.worker.name
}

resource "aws_iam_role_policy_attachment" "basic" {
  role = aws_iam_role.worker.name
}
"""


def res(mode: str, rtype: str, label: str, **values: Any) -> dict[str, Any]:
    prefix = "data." if mode == "data" else ""
    return {
        "address": f"{prefix}{rtype}.{label}",
        "mode": mode,
        "type": rtype,
        "name": label,
        "values": values,
    }


def state() -> dict[str, Any]:
    # Terraform writes the same JSON the document renders, in its own spelling.
    rendered = json.dumps(DOC, indent=2)
    resources = [
        res("managed", "aws_s3_bucket", "exports", arn="arn:aws:s3:::acme-exports", bucket="acme-exports"),
        res("data", "aws_iam_policy_document", "worker", json=rendered),
        res(
            "managed",
            "aws_iam_role",
            "worker",
            name="acme-worker",
            arn=ROLE_ARN,
            inline_policy=[],
            managed_policy_arns=[],
        ),
        res(
            "managed",
            "aws_iam_role_policy",
            "worker",
            name="acme-worker",
            role="acme-worker",
            policy=json.dumps(DOC),
        ),
        res("managed", "aws_iam_policy", "extra", arn="arn:aws:iam::123456789012:policy/extra", policy="{}"),
        res(
            "managed",
            "aws_iam_role_policy_attachment",
            "extra",
            role="acme-worker",
            policy_arn="arn:aws:iam::123456789012:policy/extra",
        ),
        res(
            "managed",
            "aws_iam_role_policy_attachment",
            "basic",
            role="acme-worker",
            policy_arn="arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole",
        ),
    ]
    return {"values": {"root_module": {"resources": resources}}}


def test_roles_policies_documents_and_arns_are_located(tmp_path: Path) -> None:
    (tmp_path / "main.tf").write_text(MAIN_TF)
    index = Inventory.from_show_json(state(), tmp_path).iam
    role = index.role(ROLE_ARN)
    assert role is not None and role.declared == Declared(
        "aws_iam_role.worker", str(tmp_path / "main.tf"), 11
    )
    inline, extra, basic = role.policies
    assert (inline.kind, inline.name) == ("inline", "acme-worker")
    assert inline.declared is not None and inline.declared.line == 15
    assert inline.document == Declared("data.aws_iam_policy_document.worker", str(tmp_path / "main.tf"), 5)
    assert extra.declared is not None and extra.declared.address == "aws_iam_policy.extra"  # where to edit it
    assert basic.declared is not None and basic.declared.address == "aws_iam_role_policy_attachment.basic"
    assert index.arns["arn:aws:s3:::acme-exports"] == "aws_s3_bucket.exports"


def test_the_index_survives_inventory_json(tmp_path: Path) -> None:
    (tmp_path / "main.tf").write_text(MAIN_TF)
    inventory = Inventory.from_show_json(state(), tmp_path)
    inventory.save(tmp_path / "inventory.json")
    assert Inventory.load(tmp_path / "inventory.json").iam == inventory.iam
    assert IamIndex.from_dict(None) == IamIndex()


def test_declaration_of_finds_data_blocks_in_modules_too(tmp_path: Path) -> None:
    (tmp_path / "main.tf").write_text(MAIN_TF)
    module = tmp_path / "modules" / "iam"
    module.mkdir(parents=True)
    (module / "policy.tf").write_text('\ndata "aws_iam_policy_document" "this" {\n}\n')
    assert declaration_of("data.aws_iam_policy_document.worker", tmp_path, {}) == (tmp_path / "main.tf", 5)
    found = declaration_of("module.iam.data.aws_iam_policy_document.this", tmp_path, {"iam": module})
    assert found == (module / "policy.tf", 2)


def test_declared_where_is_relative_to_the_repo(tmp_path: Path) -> None:
    declared = Declared("aws_iam_role.worker", str(tmp_path / "terraform" / "main.tf"), 216)
    assert declared.where(tmp_path) == "terraform/main.tf:216 aws_iam_role.worker"
    assert Declared("aws_iam_role.worker").where(tmp_path) == "aws_iam_role.worker"


# --- the trust watch -------------------------------------------------------------------------------------


class FakeTrustRoute:
    """What GET /_harness/iam/trust answers, finding by finding."""

    def __init__(self, findings: list[dict[str, Any]] | None) -> None:
        self.findings = findings
        self.asked: list[str] = []

    def __call__(self, url: str) -> Any:
        self.asked.append(url)
        if self.findings is None:
            return None  # LocalStack: no such route
        after = int(url.rsplit("after=", 1)[1])
        return {"version": 1, "trust": [f for f in self.findings if f["seq"] > after]}


def test_the_watch_ignores_older_refusals_and_trips_on_a_new_enforced_one() -> None:
    route = FakeTrustRoute(
        [{"seq": 3, "function": "old", "role_arn": ROLE_ARN, "reason": "r", "enforced": True}]
    )
    watch = TrustWatch("http://127.0.0.1:4566", fetch=route)
    watch.begin()
    assert not watch.refused()
    route.findings.append(
        {"seq": 4, "function": "f", "role_arn": ROLE_ARN, "reason": "no lambda", "enforced": True}
    )
    assert watch.refused()
    assert [f["function"] for f in watch.findings] == ["f"] and watch.final == watch.findings
    assert route.asked[-1].endswith("/_harness/iam/trust?after=3")


def test_a_mapping_refusal_interrupts_only_when_it_lasts() -> None:
    now = [100.0]
    route = FakeTrustRoute([])
    watch = TrustWatch("http://127.0.0.1:4566", fetch=route, clock=lambda: now[0], grace_s=15.0)
    watch.begin()
    refusal = {"function": "f", "role_arn": ROLE_ARN, "reason": "its role may not sqs:ReceiveMessage on q"}
    route.findings = [{"seq": 1, "enforced": True, "kind": "event-source", **refusal}]
    assert not watch.refused()  # the role's policy may be on its way
    now[0] += 9.0
    route.findings.append({"seq": 2, "enforced": True, "kind": "event-source", **refusal})
    assert not watch.refused()
    now[0] += 9.0
    route.findings.append({"seq": 3, "enforced": True, "kind": "event-source", **refusal})
    assert watch.refused()
    assert [f["seq"] for f in watch.final] == [3]


def test_a_warn_refusal_is_kept_but_does_not_interrupt() -> None:
    route = FakeTrustRoute([])
    watch = TrustWatch("http://127.0.0.1:4566", fetch=route)
    watch.begin()
    route.findings = [{"seq": 1, "function": "f", "role_arn": ROLE_ARN, "reason": "r", "enforced": False}]
    assert not watch.refused() and len(watch.findings) == 1


def test_an_endpoint_without_the_route_is_asked_once() -> None:
    route = FakeTrustRoute(None)
    watch = TrustWatch("http://127.0.0.1:4566", fetch=route)
    watch.begin()
    assert not watch.refused() and not watch.refused()
    assert len(route.asked) == 1


def test_the_message_names_the_role_file_and_the_fix(tmp_path: Path) -> None:
    (tmp_path / "main.tf").write_text(MAIN_TF)
    index = Inventory.from_show_json(state(), tmp_path).iam
    finding = {
        "function": "risk_ingest",
        "role_arn": ROLE_ARN,
        "reason": "its trust policy does not allow lambda.amazonaws.com to call sts:AssumeRole",
    }
    text = trust_message([finding], index, tmp_path)
    assert text.startswith(
        "main.tf:11 aws_iam_role.worker: function risk_ingest cannot use this role: its trust policy"
    )
    assert 'Principal = {Service = "lambda.amazonaws.com"}, Action = "sts:AssumeRole"' in text
    queue = trust_message(
        [{**finding, "kind": "event-source", "reason": "its role may not sqs:ReceiveMessage on q"}],
        index,
        tmp_path,
    )
    assert "the SQS event source mapping of function risk_ingest is refused" in queue
