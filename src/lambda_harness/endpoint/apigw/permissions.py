"""Does a function's resource policy let API Gateway invoke it for this request?

API Gateway calls Lambda as ``apigateway.amazonaws.com`` with ``AWS:SourceArn`` set to
``arn:aws:execute-api:<region>:<account>:<api-id>/<stage>/<METHOD><path>`` (the
route's method and path template; ``ANY`` for an ``ANY`` method; ``$default`` for HTTP
APIs' default route) or ``.../<api-id>/authorizers/<authorizer-id>`` for an authorizer.
Without a matching ``aws_lambda_permission`` AWS answers 500. ``ArnLike`` compares each
of the six colon-separated ARN parts on its own, with ``*`` and ``?`` (``*`` crosses
``/`` in the resource part), as IAM does.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

PRINCIPAL = "apigateway.amazonaws.com"
INVOKE_ACTIONS = frozenset({"lambda:invokefunction", "lambda:*", "*"})


def execute_api_arn(region: str, account_id: str, api_id: str, resource: str) -> str:
    """``arn:aws:execute-api:<region>:<account>:<api-id>/<resource>``."""
    return f"arn:aws:execute-api:{region}:{account_id}:{api_id}/{resource}"


def route_source_arn(region: str, account_id: str, api_id: str, stage: str, *, method: str, path: str) -> str:
    """The source ARN of an integration call (``$default`` route: ``<stage>/$default``)."""
    if method == "$default":
        return execute_api_arn(region, account_id, api_id, f"{stage}/$default")
    return execute_api_arn(region, account_id, api_id, f"{stage}/{method}{path}")


def authorizer_source_arn(region: str, account_id: str, api_id: str, authorizer_id: str) -> str:
    """The source ARN of an authorizer call."""
    return execute_api_arn(region, account_id, api_id, f"authorizers/{authorizer_id}")


def _glob(pattern: str) -> re.Pattern[str]:
    return re.compile("".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern), re.S)


def arn_like(pattern: str, arn: str) -> bool:
    """IAM ``ArnLike``: the six ARN parts compared one by one, with ``*``/``?`` wildcards."""
    want, have = pattern.split(":", 5), arn.split(":", 5)
    if len(want) != 6 or len(have) != 6:
        return bool(_glob(pattern).fullmatch(arn))
    return all(_glob(w).fullmatch(h) for w, h in zip(want, have, strict=True))


def _as_list(value: Any) -> list[str]:
    if value is None:
        return []
    return [str(v) for v in value] if isinstance(value, list) else [str(value)]


def _principal_ok(principal: Any) -> bool:
    if principal == "*":
        return True
    if isinstance(principal, Mapping):
        return PRINCIPAL in _as_list(principal.get("Service")) or "*" in _as_list(principal.get("AWS"))
    return False


def _condition_ok(condition: Mapping[str, Any], source_arn: str, account_id: str) -> bool:
    context = {"aws:sourcearn": source_arn, "aws:sourceaccount": account_id}
    for operator, entries in condition.items():
        for key, expected in (entries or {}).items():
            actual = context.get(str(key).lower())
            if actual is None:
                return operator.endswith("IfExists")
            values = _as_list(expected)
            op = operator.removesuffix("IfExists")
            if op in ("ArnLike", "ArnEquals", "StringLike"):
                ok = any(
                    arn_like(v, actual) if op.startswith("Arn") else bool(_glob(v).fullmatch(actual))
                    for v in values
                )
            elif op == "StringEquals":
                ok = actual in values
            else:
                return False  # an operator this check does not know: treat the statement as not matching
            if not ok:
                return False
    return True


def _resource_ok(resource: Any, function_arn: str) -> bool:
    return any(arn_like(r, function_arn) for r in _as_list(resource))


@dataclass(frozen=True)
class Verdict:
    """Whether the call is allowed; ``statements`` describes what was seen (for the log)."""

    allowed: bool
    statements: tuple[str, ...] = ()


def describe(statement: Mapping[str, Any]) -> str:
    """``AllowRest ArnLike arn:...:abc/*/*`` (sid and conditions), for the log line."""
    conditions = [
        f"{op} {value}"
        for op, entries in (statement.get("Condition") or {}).items()
        for value in (entries or {}).values()
    ]
    return " ".join([str(statement.get("Sid") or "(no Sid)"), *conditions])


def check(
    statements: Iterable[Mapping[str, Any]], function_arn: str, source_arn: str, account_id: str
) -> Verdict:
    """Evaluate a function's resource policy for an API Gateway call (an explicit Deny wins)."""
    seen: list[str] = []
    allowed = False
    for statement in statements:
        seen.append(describe(statement))
        actions = {a.lower() for a in _as_list(statement.get("Action"))}
        if not actions & INVOKE_ACTIONS or not _principal_ok(statement.get("Principal")):
            continue
        if not _resource_ok(statement.get("Resource"), function_arn):
            continue
        if not _condition_ok(statement.get("Condition") or {}, source_arn, account_id):
            continue
        if statement.get("Effect") == "Deny":
            return Verdict(False, tuple(seen))
        allowed = True
    return Verdict(allowed, tuple(seen))


def hint(function_name: str, source_arn: str, statements: Sequence[str], api_label: str) -> str:
    """The endpoint-log line for a missing permission: what AWS answers and what to add."""
    arn_parts = source_arn.split(":")
    base = (
        ":".join(arn_parts[:5]) + ":" + arn_parts[5].split("/", 1)[0] if len(arn_parts) == 6 else source_arn
    )
    text = (
        f"Lambda {function_name} does not allow {PRINCIPAL} for {source_arn} "
        f"(statements: {'; '.join(statements) or 'none'}); AWS answers 500 "
        f'("Execution failed due to configuration error: Invalid permissions on Lambda function"). '
        f'Add an aws_lambda_permission with principal = "{PRINCIPAL}" and '
        f'source_arn = "<{api_label} execution_arn>/*/*" ({base}/*/*)'
    )
    if any(":execute-api:" in s and "::" in s.split(":execute-api:", 1)[1][:40] for s in statements):
        text += "; a source_arn with an empty account comes from skip_requesting_account_id in the provider"
    return text
