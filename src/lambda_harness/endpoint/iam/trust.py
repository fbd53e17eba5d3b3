"""Can Lambda assume the role? The trust policy must let ``lambda.amazonaws.com`` call sts:AssumeRole.

AWS refuses ``CreateFunction`` otherwise with ``InvalidParameterValueException: The
role defined for the function cannot be assumed by Lambda.`` (terraform-provider-aws
then retries for five minutes; the apply stage interrupts it). Conditions in the
trust policy (``aws:SourceAccount``...) are not evaluated here: a statement that
would allow but for its conditions counts as allowing, and is named in the verdict.
"""

from __future__ import annotations

from dataclasses import dataclass

from lambda_harness.endpoint.iam.ledger import Ledger
from lambda_harness.endpoint.iam.lookups import MotoLookups
from lambda_harness.endpoint.iam.policy import Policy, Principals
from lambda_harness.errors import EndpointError

LAMBDA_SERVICE = "lambda.amazonaws.com"
AWS_MESSAGE = "The role defined for the function cannot be assumed by Lambda."


@dataclass(frozen=True)
class TrustVerdict:
    """Whether Lambda may assume the role, and why not (or what was not evaluated)."""

    assumable: bool
    reason: str = ""
    unevaluated_conditions: tuple[str, ...] = ()


def _names_lambda(principals: Principals | None) -> bool:
    return principals is not None and (principals.anyone or LAMBDA_SERVICE in principals.service)


def lambda_can_assume(trust: Policy | None) -> TrustVerdict:
    """The verdict for a role's trust policy (None: the role has none, or does not exist)."""
    if trust is None:
        return TrustVerdict(False, "the role does not exist on the endpoint")
    allows, conditions = False, []
    for st in trust.statements:
        if not st.matches_action("sts:AssumeRole"):
            continue
        names = _names_lambda(st.principals)
        if st.not_principal:
            names = not names
        if not names:
            continue
        if st.effect == "Deny" and not st.conditions:
            return TrustVerdict(
                False, f"its trust policy denies {LAMBDA_SERVICE} sts:AssumeRole ({st.ref.label})"
            )
        if st.effect == "Allow":
            allows = True
            conditions += [f"{c.operator} {c.key}" for c in st.conditions]
    if not allows:
        return TrustVerdict(False, f"its trust policy does not allow {LAMBDA_SERVICE} to call sts:AssumeRole")
    return TrustVerdict(True, unevaluated_conditions=tuple(conditions))


class TrustGate:
    """The check moto's CreateFunction/UpdateFunctionConfiguration hooks call (``endpoint.hooks``).

    Records every refusal in the ledger (the apply stage watches it to stop Terraform's
    five-minute retry); ``enforce`` refuses as AWS does, ``warn`` records and lets it be.
    """

    def __init__(self, ledger: Ledger, lookups: MotoLookups, mode: str) -> None:
        self.ledger = ledger
        self.lookups = lookups
        self.mode = mode

    def refusal(self, function: str, role_arn: str, account: str) -> str | None:
        """AWS's message when Lambda could not assume ``role_arn`` (and enforcement is on), else None."""
        if self.mode == "off" or not role_arn:
            return None
        try:
            trust = self.lookups.trust_policy(account, role_arn)
        except EndpointError as exc:
            verdict = TrustVerdict(False, str(exc))
        else:
            verdict = lambda_can_assume(trust)
        if verdict.assumable:
            return None
        enforced = self.mode == "enforce"
        self.ledger.trust(function, role_arn, verdict.reason, enforced)
        return AWS_MESSAGE if enforced else None
