"""Stop ``terraform apply`` at the first role Lambda cannot assume, instead of after five minutes.

The embedded endpoint refuses ``CreateFunction`` for such a role with AWS's
``InvalidParameterValueException: The role defined for the function cannot be
assumed by Lambda.``, which terraform-provider-aws retries for 5 minutes (IAM
propagation) before it fails: 296 s measured, for a refusal that will not go
away. The endpoint records each refusal on ``/_harness/iam/trust``; ``TrustWatch``
asks there while terraform runs (``proc.run(interrupt_when=...)``) and the apply
stage interrupts terraform (0.1 s) and names the role's ``.tf`` file and line.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from lambda_harness import net
from lambda_harness.terraform.iam import IamIndex

Fetch = Callable[[str], Any]


class TrustWatch:
    """New trust refusals of one endpoint since ``begin``; silent for endpoints without the route."""

    def __init__(self, endpoint_url: str, *, fetch: Fetch = net.get_json) -> None:
        self.url = endpoint_url.rstrip("/") + net.HARNESS_IAM + "/trust"
        self.fetch = fetch
        self.after = 0
        self.findings: list[dict[str, Any]] = []
        self._supported = True

    def _read(self) -> list[dict[str, Any]]:
        if not self._supported:
            return []
        answer = self.fetch(f"{self.url}?after={self.after}")
        if not isinstance(answer, dict) or not isinstance(answer.get("trust"), list):
            self._supported = False  # LocalStack, or an endpoint from before this route
            return []
        return [f for f in answer["trust"] if isinstance(f, dict)]

    def begin(self) -> None:
        """Ignore what was refused before this apply."""
        seen = self._read()
        self.after = max((int(f.get("seq", 0)) for f in seen), default=self.after)

    def refused(self) -> bool:
        """True once the endpoint refused a role it enforces (``proc.run``'s ``interrupt_when``)."""
        new = self._read()
        if new:
            self.after = max(int(f.get("seq", 0)) for f in new)
            self.findings += new
        return any(f.get("enforced") for f in self.findings)


def trust_message(findings: list[dict[str, Any]], iam: IamIndex, project_dir: Any) -> str:
    """What to fix, per refused role: where the role is declared and the statement its trust policy needs."""
    lines = []
    for finding in findings:
        role_arn = str(finding.get("role_arn", ""))
        role = iam.role(role_arn)
        where = role.declared.where(project_dir) if role and role.declared else role_arn
        if finding.get("kind") == "event-source":
            lines.append(
                f"{where}: the SQS event source mapping of function {finding.get('function')} is refused: "
                f'{finding.get("reason")} (AWS: "The provided execution role does not have permissions to '
                'call ReceiveMessage on SQS"). Allow sqs:ReceiveMessage, sqs:DeleteMessage and '
                "sqs:GetQueueAttributes on the queue in the role's policy, and make the mapping depend on it."
            )
            continue
        lines.append(
            f"{where}: function {finding.get('function')} cannot use this role: {finding.get('reason')} "
            '(AWS refuses CreateFunction: "The role defined for the function cannot be assumed by Lambda."). '
            "Add to the role's assume_role_policy a statement allowing it: "
            '{Effect = "Allow", Principal = {Service = "lambda.amazonaws.com"}, Action = "sts:AssumeRole"}.'
        )
    lines.append(
        "terraform apply was interrupted at the first refusal "
        "(terraform-provider-aws would retry it for 5 minutes)."
    )
    return "\n".join(lines)
