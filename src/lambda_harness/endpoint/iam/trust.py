"""Can Lambda assume the role? The trust policy must let ``lambda.amazonaws.com`` call sts:AssumeRole.

AWS refuses ``CreateFunction`` otherwise with ``InvalidParameterValueException: The
role defined for the function cannot be assumed by Lambda.`` (terraform-provider-aws
then retries for five minutes; the apply stage interrupts it). Conditions in the
trust policy (``aws:SourceAccount``...) are not evaluated here: a statement that
would allow but for its conditions counts as allowing, and is named in the verdict.
"""

from __future__ import annotations

from dataclasses import dataclass

from lambda_harness.endpoint.iam.authorize import Authorizer
from lambda_harness.endpoint.iam.evaluate import Check, Principal
from lambda_harness.endpoint.iam.ledger import Ledger, RoleUser
from lambda_harness.endpoint.iam.lookups import MotoLookups
from lambda_harness.endpoint.iam.policy import Policy, Principals
from lambda_harness.errors import EndpointError

LAMBDA_SERVICE = "lambda.amazonaws.com"
AWS_MESSAGE = "The role defined for the function cannot be assumed by Lambda."
#: What an SQS event source mapping's poller does with the function's role.
SQS_POLLER_ACTIONS = ("sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes")


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
        self.authorizer = Authorizer(lookups)

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

    def event_source_refusal(self, function: str, role_arn: str, queue_arn: str) -> str | None:
        """AWS's message when the role may not poll ``queue_arn`` for an SQS event source mapping.

        Lambda's poller uses the function's role: ``CreateEventSourceMapping`` fails with
        "The provided execution role does not have permissions to call ReceiveMessage on SQS"
        (also retried by terraform-provider-aws). Allowed polls count as the role's uses.
        """
        if self.mode == "off" or not role_arn or not queue_arn.startswith("arn:aws:sqs:"):
            return None
        account, region = role_arn.split(":")[4], queue_arn.split(":")[3]
        role = self.lookups.role(account, role_arn)
        principal = Principal(
            account, role_arn, f"arn:aws:sts::{account}:assumed-role/{role.name}/{function}"
        )
        who = RoleUser(function, role_arn, account)
        for action in SQS_POLLER_ACTIONS:
            decision = self.authorizer.decide(principal, role, "sqs", Check(action, queue_arn), region)
            if decision.allowed:
                self.ledger.use(who, action, queue_arn, decision.statements)
                continue
            name = action.split(":", 1)[1]
            reason = f"its role may not {action} on {queue_arn}, which the SQS event source mapping needs"
            enforced = self.mode == "enforce"
            self.ledger.trust(function, role_arn, reason, enforced, kind="event-source")
            if enforced:
                return f"The provided execution role does not have permissions to call {name} on SQS"
        return None
