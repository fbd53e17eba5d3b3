"""Trust verdicts, the action catalog, the least-privilege report and the ledger."""

from __future__ import annotations

from typing import Any

import pytest

from lambda_harness.endpoint.iam.catalog import load_catalog
from lambda_harness.endpoint.iam.ledger import Ledger, RoleUser
from lambda_harness.endpoint.iam.lookups import RoleDocuments
from lambda_harness.endpoint.iam.policy import PolicySource, StatementRef, compile_policy
from lambda_harness.endpoint.iam.report import least_privilege
from lambda_harness.endpoint.iam.trust import lambda_can_assume

ROLE = "arn:aws:iam::123456789012:role/worker"


def trust(*statements: dict[str, Any]) -> Any:
    return compile_policy(
        {"Version": "2012-10-17", "Statement": list(statements)}, PolicySource("trust", "worker")
    )


def assume(principal: Any, **extra: Any) -> dict[str, Any]:
    return {"Effect": "Allow", "Principal": principal, "Action": "sts:AssumeRole", **extra}


@pytest.mark.parametrize(
    ("statements", "assumable"),
    [
        ([assume({"Service": "lambda.amazonaws.com"})], True),
        ([assume({"Service": ["ec2.amazonaws.com", "lambda.amazonaws.com"]})], True),
        ([assume("*")], True),
        ([assume({"Service": "ec2.amazonaws.com"})], False),
        ([assume({"AWS": "arn:aws:iam::123456789012:root"})], False),
        ([{**assume({"Service": "lambda.amazonaws.com"}), "Action": "sts:*"}], True),
        ([{**assume({"Service": "lambda.amazonaws.com"}), "Action": "sts:TagSession"}], False),
        (
            [
                assume({"Service": "lambda.amazonaws.com"}),
                {**assume({"Service": "lambda.amazonaws.com"}), "Effect": "Deny"},
            ],
            False,
        ),
        ([], False),
    ],
)
def test_lambda_may_assume_the_role_only_when_its_trust_policy_says_so(
    statements: list[dict[str, Any]], assumable: bool
) -> None:
    assert lambda_can_assume(trust(*statements)).assumable is assumable


def test_trust_conditions_are_named_not_evaluated() -> None:
    verdict = lambda_can_assume(
        trust(
            assume(
                {"Service": "lambda.amazonaws.com"}, Condition={"StringEquals": {"aws:SourceAccount": "1"}}
            )
        )
    )
    assert verdict.assumable and verdict.unevaluated_conditions == ("StringEquals aws:SourceAccount",)


def test_a_missing_role_is_not_assumable() -> None:
    assert "does not exist" in lambda_can_assume(None).reason


def test_the_catalog_expands_wildcards_case_insensitively() -> None:
    catalog = load_catalog()
    assert "s3:GetObject" in catalog.expand("s3:Get*") and "s3:PutObject" not in catalog.expand("s3:get*")
    assert len(catalog.expand("s3:*") or []) > 150
    assert catalog.expand("nosuchservice:*") is None
    assert catalog.scopable("s3:GetObject") and not catalog.scopable("s3:ListAllMyBuckets")
    assert catalog.access_level("dynamodb:Scan") == "Read"


def role(*statements: dict[str, Any], kind: str = "inline", name: str = "p") -> RoleDocuments:
    doc = {"Version": "2012-10-17", "Statement": list(statements)}
    return RoleDocuments(ROLE, (compile_policy(doc, PolicySource(kind, name, "worker")),))  # type: ignore[arg-type]


def test_least_privilege_lists_unused_actions_and_statements() -> None:
    docs = role(
        {
            "Sid": "Read",
            "Effect": "Allow",
            "Action": ["s3:GetObject", "s3:GetObjectTagging"],
            "Resource": "arn:aws:s3:::b/in/*",
        },
        {
            "Sid": "Old",
            "Effect": "Allow",
            "Action": "sqs:SendMessage",
            "Resource": "arn:aws:sqs:eu-west-1:1:q",
        },
    )
    report = least_privilege(docs, [("fn", "s3:GetObject", "arn:aws:s3:::b/in/a.json")], load_catalog())
    assert report["unused_actions"] == ["s3:GetObjectTagging", "sqs:SendMessage"]
    assert report["unused_statements"] == ["p statement 'Old'"]
    assert report["over_broad"] == []


def test_wildcards_and_star_resources_are_flagged_with_what_was_used() -> None:
    docs = role({"Effect": "Allow", "Action": "s3:*", "Resource": "*"})
    report = least_privilege(docs, [("fn", "s3:GetObject", "arn:aws:s3:::b/in/a.json")], load_catalog())
    flags = report["over_broad"]
    assert any('Action "s3:*" grants' in f and "the tests used 1: s3:GetObject" in f for f in flags)
    assert any(
        'Resource "*" for s3:GetObject, which can be scoped; the tests used: arn:aws:s3:::b/in/a.json' in f
        for f in flags
    )


def test_not_action_is_flagged() -> None:
    report = least_privilege(
        role({"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"}), [], load_catalog()
    )
    assert any(f.startswith("p statement #1: NotAction allows") for f in report["over_broad"])


def test_an_aws_managed_policy_gets_one_summary_line() -> None:
    docs = role(
        {"Effect": "Allow", "Action": ["s3:Get*", "s3:List*"], "Resource": "*"},
        kind="aws-managed",
        name="arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess",
    )
    report = least_privilege(docs, [("fn", "s3:GetObject", "arn:aws:s3:::b/k")], load_catalog())
    [flag] = report["over_broad"]
    assert (
        flag.startswith("AWS-managed policy AmazonS3ReadOnlyAccess grants ")
        and "the tests used 1: s3:GetObject" in flag
    )


def test_the_ledger_groups_uses_and_attributes_denials() -> None:
    ledger = Ledger()
    who = RoleUser("fn", ROLE, "123456789012")
    ref = StatementRef(PolicySource("inline", "p", "worker"), 0, "Read")
    for _ in range(3):
        ledger.use(who, "s3:GetObject", "arn:aws:s3:::b/k", [ref])
    ledger.unevaluated(who, "dynamodb", "ListBackups", "no IAM mapping for this operation")
    fields: dict[str, Any] = {
        "role_arn": ROLE,
        "session_arn": "s",
        "service": "s3",
        "operation": "PutObject",
        "action": "s3:PutObject",
        "resource": "r",
        "effect": "implicit-deny",
        "policy_type": "identity-based",
        "statements": (),
        "message": "m",
        "enforced": True,
    }
    ledger.deny(function="fn", request_id="r1", **fields)
    ledger.deny(function="fn", request_id="r2", **fields)
    [used] = ledger.functions()["fn"]["used"]
    assert used["count"] == 3 and used["allowed_by"] == [{"kind": "inline", "policy": "p", "index": 0}]
    assert [d.request_id for d in ledger.denials("r2")] == ["r2"]
    assert ledger.uses_by_role() == {ROLE: [("fn", "s3:GetObject", "arn:aws:s3:::b/k")]}
    first = ledger.trust("fn", ROLE, "why", True)
    assert ledger.trust_findings(after=first.seq) == [] and ledger.trust_findings() == [first]


def _deny(ledger: Ledger, request_id: str) -> None:
    ledger.deny(
        function="fn",
        request_id=request_id,
        role_arn=ROLE,
        session_arn="s",
        service="s3",
        operation="PutObject",
        action="s3:PutObject",
        resource="r",
        effect="implicit-deny",
        policy_type="identity-based",
        statements=(),
        message="m",
        enforced=True,
    )


def test_a_run_reads_only_its_own_evidence_on_a_reused_endpoint() -> None:
    """up --detach and the warm loop serve several runs: each reads from its mark on."""
    ledger = Ledger()
    who = RoleUser("fn", ROLE, "123456789012")
    ref = StatementRef(PolicySource("inline", "p", "worker"), 0, "Read")
    ledger.use(who, "s3:GetObject", "arn:aws:s3:::b/old", [ref])
    _deny(ledger, "earlier")
    ledger.trust("fn", ROLE, "why", True)
    run = ledger.mark()
    ledger.use(who, "s3:GetObject", "arn:aws:s3:::b/new", [ref])
    ledger.use(who, "s3:GetObject", "arn:aws:s3:::b/new", [ref])
    _deny(ledger, "now")
    assert [d.request_id for d in ledger.denials(since=run)] == ["now"]
    assert ledger.trust_findings(since=run) == []
    assert [(u["resource"], u["count"]) for u in ledger.functions(since=run)["fn"]["used"]] == [
        ("arn:aws:s3:::b/new", 2)
    ]
    assert ledger.uses_by_role(since=run) == {ROLE: [("fn", "s3:GetObject", "arn:aws:s3:::b/new")]}
    # Everything kept is still there for a reader that did not mark (since=0).
    assert [d.request_id for d in ledger.denials()] == ["earlier", "now"]
    assert len(ledger.functions()["fn"]["used"]) == 2


def test_a_function_seen_in_an_earlier_run_is_listed_with_no_uses() -> None:
    ledger = Ledger()
    ledger.session_started(RoleUser("fn", ROLE, "123456789012"))
    run = ledger.mark()
    assert ledger.functions(since=run)["fn"]["used"] == []


def test_old_runs_are_dropped_and_a_new_role_starts_afresh() -> None:
    ledger = Ledger()
    who = RoleUser("fn", ROLE, "123456789012")
    ref = StatementRef(PolicySource("inline", "p", "worker"), 0, "Read")
    ledger.use(who, "s3:GetObject", "arn:aws:s3:::b/first", [ref])
    _deny(ledger, "first")
    for _ in range(Ledger.KEPT_RUNS):
        ledger.mark()
    assert ledger.denials() == [] and ledger.functions()["fn"]["used"] == []
    ledger.use(who, "s3:GetObject", "arn:aws:s3:::b/k", [ref])
    ledger.use(RoleUser("fn", ROLE + "2", "123456789012"), "s3:PutObject", "arn:aws:s3:::b/k", [ref])
    [used] = ledger.functions()["fn"]["used"]
    assert used["action"] == "s3:PutObject" and ledger.functions()["fn"]["role_arn"] == ROLE + "2"


def test_a_permissions_boundary_is_not_an_over_broad_grant() -> None:
    """P-C5: the boundary is a note (the guard's, per function), never listed under over-broad."""
    docs = role({"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*"})
    boundary = "arn:aws:iam::123456789012:policy/lambda-boundary"
    docs = RoleDocuments(docs.role_arn, docs.policies, permissions_boundary=boundary)
    report = least_privilege(docs, [("fn", "s3:GetObject", "arn:aws:s3:::b/k")], load_catalog())
    assert report["over_broad"] == []
    assert report["permissions_boundary"] == boundary
