"""Local stand-ins for another stack's outputs, shaped as the team's Terraform uses them.

The world answers ``data.terraform_remote_state.<name>.outputs.<key>`` with values the
team reviews; a draft value must still plan and apply as written. A plain string does not
when the value goes into an argument that takes an ARN: terraform-provider-aws refuses
``permissions_boundary = "local-lambda_boundary_arn"`` (``is an invalid ARN``). So each
key gets a value of the shape its name (``..._arn``, ``..._id``, ``..._name``,
``..._url``) or the argument it is used in (``permissions_boundary``, ``policy_arn``,
``role`` of a function, ``*_arn``) asks for, in the local account and the project's
region. An ARN that must name something existing gets that thing in the world too: AWS
refuses a permissions boundary or an attached policy that does not exist (moto checks
only the shape of a boundary, but refuses to attach a missing policy), and moto refuses a
function whose role does not exist.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from lambda_harness.terraform.overrides import LOCAL_ACCOUNT

LOCAL = "# local value"
_ASSUME_LAMBDA = (
    'jsonencode({ Version = "2012-10-17", Statement = [{ Effect = "Allow", Action = "sts:AssumeRole", '
    'Principal = { Service = "lambda.amazonaws.com" } }] })'
)
#: Arguments that take a customer-managed policy's ARN, which must exist.
_POLICY_ARGUMENTS = {"permissions_boundary", "policy_arn", "managed_policy_arns"}
#: Arguments that take an IAM role's ARN, by resource type ("": any).
_ROLE_ARGUMENTS = {("aws_lambda_function", "role"), ("", "role_arn"), ("", "execution_role_arn")}
#: Arguments that take ARNs although their names do not say so.
_ARN_ARGUMENTS = {"permissions_boundary", "target_arn", "layers", "source_arn", "event_source_arn"}
# ARN shapes by a word of the key or argument (first match wins; {r} region, {a} account, {n} name).
_ARN_SHAPES = (
    (("topic", "sns"), "arn:aws:sns:{r}:{a}:{n}"),
    (("queue", "sqs", "dlq"), "arn:aws:sqs:{r}:{a}:{n}"),
    (("table", "dynamodb"), "arn:aws:dynamodb:{r}:{a}:table/{n}"),
    (("bucket", "s3"), "arn:aws:s3:::{n}"),
    (("secret",), "arn:aws:secretsmanager:{r}:{a}:secret:{n}"),
    (("parameter", "ssm"), "arn:aws:ssm:{r}:{a}:parameter/{n}"),
    (("kms", "key"), "arn:aws:kms:{r}:{a}:key/00000000-0000-4000-8000-000000000000"),
    (("layer",), "arn:aws:lambda:{r}:{a}:layer:{n}:1"),
    (("function", "lambda"), "arn:aws:lambda:{r}:{a}:function:{n}"),
    (("bus", "events"), "arn:aws:events:{r}:{a}:event-bus/{n}"),
    (("stream", "kinesis"), "arn:aws:kinesis:{r}:{a}:stream/{n}"),
    (("log",), "arn:aws:logs:{r}:{a}:log-group:{n}"),
)
# Ids whose shape AWS fixes, by a word of the key.
_ID_SHAPES = (
    (("subnet",), "subnet-0123456789abcdef{i}"),
    (("security_group", "sg"), "sg-0123456789abcdef{i}"),
    (("vpc",), "vpc-0123456789abcdef{i}"),
    (("account",), LOCAL_ACCOUNT),
    (("kms", "key"), "0000000{i}-0000-4000-8000-000000000000"),
    (("zone",), "Z0123456789ABCDEFGHI{i}"),
)


@dataclass(frozen=True)
class Use:
    """Where a key is used: the argument it is assigned to, in a resource of ``resource_type``."""

    argument: str | None = None
    resource_type: str | None = None


@dataclass(frozen=True)
class StandIn:
    """One key's value in the world output (an HCL expression), a comment, and the world
    resources the value refers to (empty when it is a literal)."""

    value: str
    comment: str = LOCAL
    resources: str = ""


def _words(key: str) -> list[str]:
    return [w for w in key.lower().split("_") if w]


def _has(words: list[str], hints: Iterable[str]) -> bool:
    joined = "_".join(words)
    return any(h in words or ("_" in h and h in joined) for h in hints)


def _stem(key: str) -> str:
    """``lambda_boundary`` of ``lambda_boundary_arn`` (the key without its shape suffix)."""
    stem = re.sub(r"_?(arns?|ids?|names?|urls?)$", "", key.lower())
    return stem or key.lower()


def _aws_name(key: str) -> str:
    return "local-" + _stem(key).replace("_", "-")


def _q(value: str) -> str:
    return json.dumps(value).replace("${", "$${")


def stand_in(state: str, key: str, uses: Iterable[Use], region: str) -> StandIn:
    """The value for ``outputs.<key>`` of remote state ``state``, shaped by its name and uses."""
    uses = list(uses)
    arguments = {u.argument for u in uses if u.argument}
    words = _words(key)
    plural = key.lower().endswith(("_arns", "_ids")) or bool(arguments & {"managed_policy_arns", "layers"})
    label = re.sub(r"\W", "_", f"{state}_{_stem(key)}")
    if arguments & _POLICY_ARGUMENTS or (_is_arn(key, arguments) and _has(words, ("policy", "boundary"))):
        return _policy(label, key, arguments, plural)
    roles = {(u.resource_type or "", u.argument) for u in uses} | {("", u.argument) for u in uses}
    if roles & _ROLE_ARGUMENTS or (_is_arn(key, arguments) and "role" in words):
        return _role(label, key, plural)
    if _is_arn(key, arguments):
        return _arn(key, words + [w for a in arguments for w in _words(a)], region, plural)
    return _plain(key, words, region, plural)


def _arn(key: str, hints: list[str], region: str, plural: bool) -> StandIn:
    """An ARN of the service the key or argument names (an IAM policy's shape when none)."""
    shape = next((s for keys, s in _ARN_SHAPES if _has(hints, keys)), None)
    comment = LOCAL
    if shape is None:
        shape = "arn:aws:iam::{a}:policy/{n}"
        comment = f"{LOCAL}: an ARN in the local account; use the service your code expects"
    arn = shape.format(r=region, a=LOCAL_ACCOUNT, n=_aws_name(key))
    return StandIn(f"[{_q(arn)}]" if plural else _q(arn), comment)


def _plain(key: str, words: list[str], region: str, plural: bool) -> StandIn:
    """An id, name or URL of the shape AWS gives it; ``"local-<key>"`` otherwise."""
    last = words[-1] if words else ""
    shape = next((s for keys, s in _ID_SHAPES if _has(words[:-1], keys)), None)
    if last in ("id", "ids") and shape is not None:
        ids = [_q(shape.format(i=i)) for i in range(2 if plural else 1)]
        return StandIn(f"[{', '.join(ids)}]" if plural else ids[0])
    if last in ("name", "names"):
        return StandIn(f"[{_q(_aws_name(key))}]" if last == "names" else _q(_aws_name(key)))
    if last == "url" and _has(words, ("queue", "sqs")):
        return StandIn(_q(f"https://sqs.{region}.amazonaws.com/{LOCAL_ACCOUNT}/{_aws_name(key)}"))
    if last == "url":
        return StandIn(_q(f"https://{_stem(key).replace('_', '-')}.local.test"))
    return StandIn(_q(f"local-{key}"))


def _is_arn(key: str, arguments: set[str]) -> bool:
    lowered = key.lower()
    return (
        lowered.endswith(("arn", "arns"))
        or bool(arguments & _ARN_ARGUMENTS)
        or any(a.endswith(("_arn", "_arns")) for a in arguments)
    )


def _policy(label: str, key: str, arguments: set[str], plural: bool) -> StandIn:
    """A customer-managed policy in the world, and its ARN."""
    if arguments and arguments <= {"permissions_boundary"}:
        # Locally a boundary limits nothing (the harness does not evaluate boundaries).
        statement = 'Action = "*", Resource = "*"'
        why = "  # a permissions boundary must name an existing policy on AWS; put your platform's here\n"
    else:
        statement = 'Action = "logs:CreateLogGroup", Resource = "*"'
        why = "  # an attached policy must exist; give it the statements of the real one\n"
    resource = (
        f'resource "aws_iam_policy" "{label}" {{\n{why}'
        f"  name   = {_q(_aws_name(key))}\n"
        '  policy = jsonencode({ Version = "2012-10-17", '
        f'Statement = [{{ Effect = "Allow", {statement} }}] }})  {LOCAL}\n}}\n'
    )
    value = f"aws_iam_policy.{label}.arn"
    return StandIn(f"[{value}]" if plural else value, "# the policy above", resource)


def _role(label: str, key: str, plural: bool) -> StandIn:
    """A role Lambda may assume in the world, and its ARN (a function's role must exist)."""
    resource = (
        f'resource "aws_iam_role" "{label}" {{\n'
        "  # a function's role must exist and trust lambda.amazonaws.com; attach what it needs\n"
        f"  name               = {_q(_aws_name(key))}\n"
        f"  assume_role_policy = {_ASSUME_LAMBDA}\n}}\n"
    )
    value = f"aws_iam_role.{label}.arn"
    return StandIn(f"[{value}]" if plural else value, "# the role above", resource)


def hcl_literal(value: Any) -> str | None:
    """``value`` (python-hcl2's reading of a literal) written back as HCL; None for an expression."""
    if value is None or isinstance(value, bool):
        return {None: "null", True: "true", False: "false"}[value]
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return None if "${" in value else _q(value)
    pairs = (
        [(json.dumps(str(k)) + " = ", v) for k, v in value.items()]
        if isinstance(value, dict)
        else [("", v) for v in value]
        if isinstance(value, list)
        else None
    )
    if pairs is None:
        return None
    items = [(prefix, hcl_literal(v)) for prefix, v in pairs]
    if any(literal is None for _, literal in items):
        return None
    inner = ", ".join(f"{prefix}{literal}" for prefix, literal in items)
    return f"{{ {inner} }}" if isinstance(value, dict) else f"[{inner}]"
