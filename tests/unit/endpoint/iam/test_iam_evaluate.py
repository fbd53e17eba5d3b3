"""The evaluator against AWS's semantics: one row per rule, including where moto's own check errs."""

from __future__ import annotations

from typing import Any

import pytest

from lambda_harness.endpoint.iam.evaluate import Check, Decision, Principal, decide
from lambda_harness.endpoint.iam.policy import PolicySource, compile_policy

ACCOUNT = "123456789012"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/worker"
SESSION = f"arn:aws:sts::{ACCOUNT}:assumed-role/worker/risk_ingest"
ME = Principal(ACCOUNT, ROLE, SESSION, "AROAEXAMPLE")
BASE_CONTEXT = {
    "aws:principalarn": (ROLE,),
    "aws:principalaccount": (ACCOUNT,),
    "aws:securetransport": ("true",),
    "aws:userid": ("AROAEXAMPLE:risk_ingest",),
    "aws:requestedregion": ("eu-west-1",),
}
SET_KEYS = frozenset(BASE_CONTEXT) | {"s3:prefix"}
OBJECT = "arn:aws:s3:::incoming/incoming/a.json"


def doc(*statements: dict[str, Any]) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": list(statements)}


def allow(action: Any, resource: Any = "*", **extra: Any) -> dict[str, Any]:
    return {"Effect": "Allow", "Action": action, "Resource": resource, **extra}


def run(check: Check, *statements: dict[str, Any], resource_policy: dict[str, Any] | None = None) -> Decision:
    identity = [compile_policy(doc(*statements), PolicySource("inline", "p", "worker"))]
    resource = (
        compile_policy(resource_policy, PolicySource("bucket", "incoming")) if resource_policy else None
    )
    return decide(check, ME, identity, resource, context=BASE_CONTEXT, set_keys=SET_KEYS)


GET = Check("s3:GetObject", OBJECT)

ROWS = [
    # (statements, check, effect) -- the §1.2 table of the research notes, AWS's column
    ([allow("s3:Get*", "arn:aws:s3:::incoming/*")], GET, "allow"),
    ([allow("s3:getobject", OBJECT)], GET, "allow"),  # actions are case-insensitive
    ([allow("S3:GetObject", OBJECT)], GET, "allow"),
    ([allow("s3:GetObjec?", "arn:aws:s3:::incomin?/*")], GET, "allow"),  # ? is one character
    (
        [allow("s3:GetObject", "arn:aws:s3:::incoming/incoming/a.json")],
        Check("s3:GetObject", "arn:aws:s3:::incoming/incoming/aXjson"),
        "implicit-deny",
    ),  # . is literal
    (
        [allow("s3:GetObject", "arn:aws:s3:::Incoming/*")],
        GET,
        "implicit-deny",
    ),  # resources are case-sensitive
    (
        [allow("s3:*", OBJECT, Condition={"StringEquals": {"s3:prefix": "x/"}})],
        GET,
        "implicit-deny",
    ),  # absent key
    ([allow("s3:*", OBJECT, Condition={"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}})], GET, "implicit-deny"),
    (
        [
            allow("s3:*", "*"),
            {
                "Effect": "Deny",
                "Action": "s3:*",
                "Resource": "*",
                "Condition": {"Bool": {"aws:SecureTransport": "false"}},
            },
        ],
        GET,
        "allow",
    ),  # enforce-TLS: Lambda calls AWS over HTTPS
    (
        [{"Effect": "Allow", "Action": "s3:*", "NotResource": "arn:aws:s3:::secret/*"}],
        Check("s3:GetObject", "arn:aws:s3:::secret/x"),
        "implicit-deny",
    ),
    (
        [
            allow("s3:*"),
            {"Effect": "Deny", "Action": "s3:*", "NotResource": "arn:aws:s3:::incoming/incoming/*"},
        ],
        GET,
        "allow",
    ),
    (
        [
            allow("s3:*"),
            {"Effect": "Deny", "Action": "s3:*", "NotResource": "arn:aws:s3:::incoming/incoming/*"},
        ],
        Check("s3:GetObject", "arn:aws:s3:::incoming/other/a"),
        "explicit-deny",
    ),
    (
        [allow("s3:GetObject", "arn:aws:s3:::incoming/${aws:userid}/*")],
        Check("s3:GetObject", "arn:aws:s3:::incoming/AROAEXAMPLE:risk_ingest/x"),
        "allow",
    ),
    (
        [allow("s3:GetObject", "arn:aws:s3:::incoming/${aws:username}/*")],
        GET,
        "implicit-deny",
    ),  # roles have no username
    ([{"Effect": "Allow", "NotAction": "dynamodb:*", "Resource": "*"}], GET, "allow"),
    ([{"Effect": "Allow", "NotAction": "s3:*", "Resource": "*"}], GET, "implicit-deny"),
    (
        [allow("dynamodb:*"), {"Effect": "Deny", "Action": "dynamodb:Scan", "Resource": "*"}],
        Check("dynamodb:Scan", "arn:aws:dynamodb:eu-west-1:1:table/t"),
        "explicit-deny",
    ),
    (
        [allow("dynamodb:*"), {"Effect": "Deny", "Action": "dynamodb:Scan", "Resource": "*"}],
        Check("dynamodb:Query", "arn:aws:dynamodb:eu-west-1:1:table/t"),
        "allow",
    ),
    ([allow("*")], GET, "allow"),
    ([], GET, "implicit-deny"),
    (
        [
            allow(
                "s3:ListBucket",
                "arn:aws:s3:::incoming",
                Condition={"StringLike": {"s3:prefix": ["incoming/*", ""]}},
            )
        ],
        Check("s3:ListBucket", "arn:aws:s3:::incoming", {"s3:prefix": ("incoming/2026",)}),
        "allow",
    ),
    (
        [
            allow(
                "s3:ListBucket",
                "arn:aws:s3:::incoming",
                Condition={"StringLike": {"s3:prefix": "incoming/*"}},
            )
        ],
        Check("s3:ListBucket", "arn:aws:s3:::incoming", {"s3:prefix": ("other/",)}),
        "implicit-deny",
    ),
    (
        [allow("s3:*", "*", Condition={"StringNotEquals": {"aws:SourceVpce": "vpce-1"}})],
        GET,
        "allow",
    ),  # negated + absent: true
    ([allow("s3:*", "*", Condition={"StringEqualsIfExists": {"aws:SourceVpce": "vpce-1"}})], GET, "allow"),
    ([allow("s3:*", "*", Condition={"Null": {"aws:SourceVpce": "true"}})], GET, "allow"),
    ([allow("s3:*", "*", Condition={"Null": {"aws:SourceVpce": "false"}})], GET, "implicit-deny"),
    ([allow("s3:*", "*", Condition={"ForAllValues:StringEquals": {"aws:TagKeys": ["a"]}})], GET, "allow"),
    (
        [allow("s3:*", "*", Condition={"ForAnyValue:StringEquals": {"aws:TagKeys": ["a"]}})],
        GET,
        "implicit-deny",
    ),
    (
        [
            allow(
                "s3:*",
                "*",
                Condition={
                    "StringEquals": {"aws:PrincipalAccount": ACCOUNT},
                    "Bool": {"aws:SecureTransport": True},
                },
            )
        ],
        GET,
        "allow",
    ),
    (
        [allow("s3:*", "*", Condition={"ArnLike": {"aws:PrincipalArn": "arn:aws:iam::*:role/work*"}})],
        GET,
        "allow",
    ),
    (
        [allow("s3:*", "*", Condition={"DateLessThan": {"aws:CurrentTime": "2020-01-01T00:00:00Z"}})],
        Check("s3:GetObject", OBJECT, {"aws:CurrentTime": ("2026-12-01T00:00:00Z",)}),
        "implicit-deny",
    ),
    (
        [allow("s3:*", "*", Condition={"NumericLessThanEquals": {"s3:max-keys": "10"}})],
        Check("s3:ListBucket", "arn:aws:s3:::b", {"s3:max-keys": ("5",)}),
        "allow",
    ),
]


@pytest.mark.parametrize(("statements", "check", "effect"), ROWS)
def test_identity_policy_rows(statements: list[dict[str, Any]], check: Check, effect: str) -> None:
    assert run(check, *statements).effect == effect


def test_an_allow_names_the_statement_that_granted_it() -> None:
    decision = run(GET, allow("dynamodb:*"), {"Sid": "Read", **allow("s3:GetObject", OBJECT)})
    assert decision.statements[0].sid == "Read" and decision.policy_type == "identity-based"


def test_a_deny_names_its_statement_and_wins_over_every_allow() -> None:
    decision = run(GET, allow("s3:*"), {"Effect": "Deny", "Action": "s3:GetObject", "Resource": "*"})
    assert decision.effect == "explicit-deny"
    assert decision.statements[0].label == "statement #2"


def test_a_key_the_endpoint_never_sets_makes_the_decision_unevaluable() -> None:
    decision = run(GET, allow("s3:*", "*", Condition={"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}}))
    assert decision.effect == "implicit-deny" and decision.unevaluable == {"aws:SourceIp"}


def test_binary_equals_is_unevaluable_not_a_crash() -> None:
    decision = run(GET, allow("s3:*", "*", Condition={"BinaryEquals": {"s3:x": "QQ=="}}))
    assert decision.effect == "implicit-deny" and decision.unevaluable == {"s3:x"}


# --- resource policies -----------------------------------------------------------------------------


def bucket_policy(effect: str, principal: Any, **extra: Any) -> dict[str, Any]:
    return doc(
        {
            "Effect": effect,
            "Principal": principal,
            "Action": "s3:*",
            "Resource": "arn:aws:s3:::incoming/*",
            **extra,
        }
    )


@pytest.mark.parametrize(
    ("principal", "effect"),
    [
        ({"AWS": ROLE}, "allow"),
        ({"AWS": SESSION}, "allow"),
        ("*", "allow"),
        ({"AWS": "*"}, "allow"),
        ({"AWS": f"arn:aws:iam::{ACCOUNT}:root"}, "implicit-deny"),  # delegates to IAM only
        ({"AWS": "arn:aws:iam::999999999999:role/other"}, "implicit-deny"),
    ],
)
def test_a_bucket_policy_allows_the_role_it_names(principal: Any, effect: str) -> None:
    assert run(GET, resource_policy=bucket_policy("Allow", principal)).effect == effect


def test_a_bucket_policy_deny_beats_the_identity_allow_and_says_resource_based() -> None:
    decision = run(GET, allow("s3:*"), resource_policy=bucket_policy("Deny", "*"))
    assert (decision.effect, decision.policy_type) == ("explicit-deny", "resource-based")


def test_an_enforce_tls_bucket_policy_lets_lambda_through() -> None:
    policy = bucket_policy("Deny", "*", Condition={"Bool": {"aws:SecureTransport": "false"}})
    assert run(GET, allow("s3:*"), resource_policy=policy).effect == "allow"


def test_a_kms_key_policy_must_allow_directly_or_through_the_account_root() -> None:
    key = "arn:aws:kms:eu-west-1:123456789012:key/k"
    check = Check("kms:Decrypt", key)
    root = doc(
        {
            "Effect": "Allow",
            "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
            "Action": "kms:*",
            "Resource": "*",
        }
    )
    other = doc(
        {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::1:role/x"}, "Action": "kms:*", "Resource": "*"}
    )
    direct = doc({"Effect": "Allow", "Principal": {"AWS": ROLE}, "Action": "kms:Decrypt", "Resource": "*"})

    def with_key(key_doc: dict[str, Any], *identity: dict[str, Any]) -> str:
        ids = [compile_policy(doc(*identity), PolicySource("inline", "p", "worker"))]
        kp = compile_policy(key_doc, PolicySource("key", key))
        return decide(check, ME, ids, kp, context=BASE_CONTEXT, key_policy=True).effect

    assert with_key(root, allow("kms:Decrypt")) == "allow"
    assert with_key(root) == "implicit-deny"
    assert with_key(other, allow("kms:Decrypt")) == "implicit-deny"  # the key policy does not delegate
    assert with_key(direct) == "allow"
