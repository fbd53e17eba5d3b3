"""The fix text of a denial (golden strings), the resource a statement should name, results entries."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from lambda_harness.terraform.iam import Declared, DeployedRole, IamIndex, RolePolicy
from lambda_harness.testing.iam import (
    IamLedger,
    function_entries,
    general_resource,
    hcl_reference,
    least_privilege_rows,
    outside_cases,
    policy_name,
    role_findings,
)
from lambda_harness.testing.iam import fix_text as render

PROJECT = Path("/repo")
ROLE_ARN = "arn:aws:iam::123456789012:role/acme-worker"
MAIN = "/repo/terraform/main.tf"
ARNS = {
    "arn:aws:s3:::acme-exports": "aws_s3_bucket.exports",
    "arn:aws:dynamodb:eu-west-1:123456789012:table/alerts": "aws_dynamodb_table.alerts",
}


def index(*policies: RolePolicy) -> IamIndex:
    role = DeployedRole("acme-worker", ROLE_ARN, Declared("aws_iam_role.worker", MAIN, 216), policies)
    return IamIndex({ROLE_ARN: role}, ARNS)


def denial(**changes: Any) -> dict[str, Any]:
    base = {
        "function": "export_api_log",
        "role_arn": ROLE_ARN,
        "action": "s3:PutObject",
        "resource": "arn:aws:s3:::acme-exports/api-logs/2026/12/01/x.gz",
        "effect": "implicit-deny",
        "policy_type": "identity-based",
        "statements": [],
        "unevaluable": [],
        "request_id": "r1",
    }
    return {**base, **changes}


DOCUMENT_POLICY = RolePolicy(
    "inline",
    "acme-worker",
    Declared("aws_iam_role_policy.worker", MAIN, 260),
    Declared("data.aws_iam_policy_document.worker", MAIN, 221),
)


def test_a_missing_permission_in_a_policy_document_gets_an_hcl_statement() -> None:
    assert render(denial(), index(DOCUMENT_POLICY), PROJECT) == (
        "export_api_log: s3:PutObject on arn:aws:s3:::acme-exports/api-logs/2026/12/01/x.gz was denied\n"
        "  role acme-worker (terraform/main.tf:216 aws_iam_role.worker): "
        "no identity-based policy allows it.\n"
        "  Add to terraform/main.tf:221 data.aws_iam_policy_document.worker:\n"
        "    statement {\n"
        '      actions   = ["s3:PutObject"]\n'
        '      resources = ["${aws_s3_bucket.exports.arn}/api-logs/*"]\n'
        "    }"
    )


def test_a_jsonencode_policy_gets_a_json_statement() -> None:
    plain = RolePolicy("inline", "acme-worker", Declared("aws_iam_role_policy.worker", MAIN, 260))
    text = render(denial(), index(plain), PROJECT)
    assert text.splitlines()[2:] == [
        "  Add this statement to the policy of terraform/main.tf:260 aws_iam_role_policy.worker:",
        '    {"Effect": "Allow", "Action": "s3:PutObject", '
        '"Resource": "arn:aws:s3:::acme-exports/api-logs/*"}',
    ]


def test_a_role_without_policies_is_told_to_get_one() -> None:
    text = render(denial(), index(), PROJECT)
    assert "Give the role a policy (aws_iam_role_policy) with this statement:" in text


def test_an_unknown_role_still_gets_a_message() -> None:
    text = render(denial(role_arn="arn:aws:iam::1:role/gone"), IamIndex(), PROJECT)
    assert "role gone (not found in the Terraform state): no identity-based policy allows it." in text


def test_an_explicit_deny_names_the_statement_to_remove() -> None:
    deny = denial(
        action="dynamodb:Scan",
        resource="arn:aws:dynamodb:eu-west-1:123456789012:table/alerts",
        effect="explicit-deny",
        statements=[{"label": "statement 'NoScan'", "policy": "acme-worker", "kind": "inline"}],
    )
    assert render(deny, index(DOCUMENT_POLICY), PROJECT).splitlines() == [
        "export_api_log: dynamodb:Scan on arn:aws:dynamodb:eu-west-1:123456789012:table/alerts "
        "was denied explicitly",
        "  role acme-worker (terraform/main.tf:216 aws_iam_role.worker): "
        "statement 'NoScan' of policy acme-worker "
        "(terraform/main.tf:221 data.aws_iam_policy_document.worker) denies it.",
        "  Remove or narrow that statement: no Allow can override an explicit Deny.",
    ]


def test_a_bucket_policy_deny_names_the_bucket() -> None:
    deny = denial(
        effect="explicit-deny",
        statements=[{"label": "statement #1", "policy": "acme-exports", "kind": "bucket"}],
    )
    assert "statement #1 of the bucket policy of acme-exports denies it." in render(deny, index(), PROJECT)


def test_unevaluable_keys_are_said() -> None:
    text = render(denial(unevaluable=["aws:SourceIp"]), index(DOCUMENT_POLICY), PROJECT)
    assert text.endswith(
        "(the decision assumed condition keys the local endpoint does not set: aws:SourceIp)"
    )


@pytest.mark.parametrize(
    ("resource", "general"),
    [
        ("arn:aws:s3:::b/api-logs/2026/x.gz", "arn:aws:s3:::b/api-logs/*"),
        ("arn:aws:s3:::b/top.json", "arn:aws:s3:::b/top.json"),
        (
            "arn:aws:dynamodb:eu-west-1:1:table/t/index/by-region",
            "arn:aws:dynamodb:eu-west-1:1:table/t/index/*",
        ),
        ("arn:aws:dynamodb:eu-west-1:1:table/t", "arn:aws:dynamodb:eu-west-1:1:table/t"),
    ],
)
def test_the_suggested_resource_generalises_where_aws_users_do(resource: str, general: str) -> None:
    assert general_resource(resource) == general


def test_hcl_references_use_the_resource_in_state() -> None:
    assert (
        hcl_reference("arn:aws:dynamodb:eu-west-1:123456789012:table/alerts", ARNS)
        == "aws_dynamodb_table.alerts.arn"
    )
    assert hcl_reference("arn:aws:s3:::acme-exports/a/*", ARNS) == '"${aws_s3_bucket.exports.arn}/a/*"'
    assert hcl_reference("arn:aws:s3:::acme-exports-2/a", ARNS) == '"arn:aws:s3:::acme-exports-2/a"'


SNAPSHOT = {
    "version": 1,
    "mode": "enforce",
    "functions": {
        "export_api_log": {
            "role_arn": ROLE_ARN,
            "used": [{"action": "s3:PutObject", "resource": "r", "count": 2}],
            "notes": ["n"],
            "not_evaluated": [],
        },
        "risk_ingest": {
            "role_arn": ROLE_ARN,
            "used": [],
            "notes": [],
            "not_evaluated": [{"service": "kms", "operation": "X", "why": "w"}],
        },
    },
    "roles": {
        ROLE_ARN: {
            "functions": ["export_api_log", "risk_ingest"],
            "unused_actions": ["s3:GetObject"],
            "unused_statements": [],
            "over_broad": ["flag"],
            "statements": [],
        }
    },
    "denials": [denial(request_id="case-1"), denial(function="risk_ingest", request_id="async-1")],
}


def test_results_entries_per_function_and_denials_outside_cases() -> None:
    entries = function_entries(SNAPSHOT, index(DOCUMENT_POLICY), PROJECT)
    export = entries["export_api_log"]
    assert export["role_declared_in"] == "terraform/main.tf:216 aws_iam_role.worker"
    assert export["least_privilege"]["shared_with"] == ["risk_ingest"]
    assert [d["request_id"] for d in export["denied"]] == ["case-1"]
    assert [d["request_id"] for d in outside_cases(SNAPSHOT, ["case-1"])] == ["async-1"]
    rows = least_privilege_rows({name: {"iam": e} for name, e in entries.items()})
    assert rows[0] == ["export_api_log", "acme-worker", "2", "1", "1", "1"]
    [paragraph] = role_findings({name: {"iam": e} for name, e in entries.items()})
    assert paragraph.splitlines() == [
        "role acme-worker (terraform/main.tf:216 aws_iam_role.worker; used by export_api_log, risk_ingest):",
        "  over-broad: flag",
        "  granted but no test used: s3:GetObject",
        "  note (export_api_log): n",
        "  not evaluated (risk_ingest): kms:X (w)",
    ]


def test_the_ledger_reader_gives_up_on_an_endpoint_without_one() -> None:
    asked: list[str] = []

    def fetch(url: str) -> Any:
        asked.append(url)
        return None

    ledger = IamLedger("http://127.0.0.1:4566", fetch=fetch)
    assert ledger.denials("r1") is None and ledger.snapshot() is None
    assert asked == ["http://127.0.0.1:4566/_harness/iam?request_id=r1&since=0"]


def test_the_ledger_reader_reads_only_the_run_it_marked() -> None:
    asked: list[str] = []
    posted: list[tuple[str, object]] = []

    def fetch(url: str) -> Any:
        asked.append(url)
        return {"version": 1, "mode": "enforce", "denials": []}

    def post(url: str, document: object) -> Any:
        posted.append((url, document))
        return 200, b'{"version": 1, "mode": "enforce", "run": 3}'

    ledger = IamLedger("http://127.0.0.1:4566/", fetch=fetch, post=post)
    assert ledger.mark() == 3
    ledger.denials("r1")
    ledger.snapshot()
    assert posted == [("http://127.0.0.1:4566/_harness/iam/mark", {})]
    assert asked == [
        "http://127.0.0.1:4566/_harness/iam?request_id=r1&since=3",
        "http://127.0.0.1:4566/_harness/iam?since=3",
    ]


@pytest.mark.parametrize("answer", ["connection refused", (404, b"{}"), (200, b"not json")])
def test_an_endpoint_without_runs_is_read_whole(answer: Any) -> None:
    ledger = IamLedger("http://127.0.0.1:4566", fetch=lambda url: None, post=lambda url, doc: answer)
    assert ledger.mark() == 0 and ledger.run == 0


GENERATED = "terraform-20261201184617925200000001"
BOUNDARY_NOTE = "permissions boundary arn:aws:iam::123456789012:policy/lambda-boundary is not evaluated"


def test_the_report_names_an_unnamed_inline_policy_by_its_address_and_line() -> None:
    """P-C5: not by the name AWS generated; the boundary is one note, not an over-broad grant."""
    unnamed = RolePolicy("inline", GENERATED, Declared("aws_iam_role_policy.notify", MAIN, 21))
    snapshot = {
        "functions": {
            name: {"role_arn": ROLE_ARN, "used": [], "notes": [BOUNDARY_NOTE], "not_evaluated": []}
            for name in ("notify", "consumer")
        },
        "roles": {
            ROLE_ARN: {
                "functions": ["consumer", "notify"],
                "unused_statements": [f"{GENERATED} statement #2"],
                "over_broad": [
                    f'{GENERATED} statement #3: Resource "*" for logs:PutLogEvents, which can be scoped',
                    # what an endpoint of an earlier build still sends
                    BOUNDARY_NOTE.replace("is not evaluated", "is not evaluated by lambda-harness"),
                ],
            }
        },
    }
    entries = function_entries(snapshot, index(unnamed), PROJECT)
    lp = entries["notify"]["least_privilege"]
    assert lp["over_broad"] == [
        'aws_iam_role_policy.notify (terraform/main.tf:21) statement #3: Resource "*" for logs:PutLogEvents, '
        "which can be scoped"
    ]
    assert lp["unused_statements"] == ["aws_iam_role_policy.notify (terraform/main.tf:21) statement #2"]
    [paragraph] = role_findings({name: {"iam": e} for name, e in entries.items()})
    assert [line for line in paragraph.splitlines() if "boundary" in line] == [
        f"  note (consumer, notify): {BOUNDARY_NOTE}"
    ]


@pytest.mark.parametrize(
    ("policy", "shown"),
    [
        (
            RolePolicy("inline", GENERATED, Declared("aws_iam_role_policy.notify", MAIN, 21)),
            "aws_iam_role_policy.notify (terraform/main.tf:21)",
        ),
        (
            RolePolicy("inline", "logs", Declared('module.fn["a"].aws_iam_role.this', MAIN, 5)),
            'inline_policy "logs" of module.fn["a"].aws_iam_role.this (terraform/main.tf:5)',
        ),
        (
            RolePolicy(
                "attached", "arn:aws:iam::123456789012:policy/app", Declared("aws_iam_policy.app", MAIN, 9)
            ),
            "aws_iam_policy.app (terraform/main.tf:9)",
        ),
        (
            RolePolicy(
                "attached",
                "arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess",
                Declared("aws_iam_role_policy_attachment.ro", MAIN, 30),
            ),
            "AmazonS3ReadOnlyAccess",
        ),
        (RolePolicy("inline", GENERATED, Declared("aws_iam_role_policy.notify")), GENERATED),
    ],
)
def test_policy_names(policy: RolePolicy, shown: str) -> None:
    assert policy_name(policy, PROJECT) == shown
