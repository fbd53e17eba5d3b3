"""Stop ``terraform apply`` at the first role Lambda cannot assume, instead of after five minutes.

The embedded endpoint refuses ``CreateFunction`` for such a role with AWS's
``InvalidParameterValueException: The role defined for the function cannot be
assumed by Lambda.``, which terraform-provider-aws retries for 5 minutes (IAM
propagation) before it fails: 296 s measured, for a refusal that will not go
away. The endpoint records each refusal on ``/_harness/iam/trust``; ``TrustWatch``
asks there while terraform runs (``proc.run(interrupt_when=...)``) and the apply
stage interrupts terraform (0.1 s) and names the role's ``.tf`` file and line.

An SQS event source mapping refused because its role may not poll the queue is
different: the role's policy is often a separate resource Terraform creates at the
same time, and the provider's retry then succeeds, on AWS as here. Such a refusal
stops the apply only when it is still refused ``EVENT_SOURCE_GRACE_S`` after the first.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from lambda_harness import net
from lambda_harness.terraform.iam import IamIndex

Fetch = Callable[[str], Any]
#: How long a mapping's refusal may last before it is taken as final (the provider retries ~every 10 s).
EVENT_SOURCE_GRACE_S = 15.0


class TrustWatch:
    """New trust refusals of one endpoint since ``begin``; silent for endpoints without the route."""

    def __init__(
        self,
        endpoint_url: str,
        *,
        fetch: Fetch = net.get_json,
        clock: Callable[[], float] = time.monotonic,
        grace_s: float = EVENT_SOURCE_GRACE_S,
    ) -> None:
        self.url = endpoint_url.rstrip("/") + net.HARNESS_IAM + "/trust"
        self.fetch = fetch
        self.clock = clock
        self.grace_s = grace_s
        self.after = 0
        self.findings: list[dict[str, Any]] = []
        self._supported = True
        self._first_seen: dict[tuple[Any, ...], float] = {}
        self._final: list[dict[str, Any]] = []

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
        """True once the endpoint refused a role for good (``proc.run``'s ``interrupt_when``)."""
        new = self._read()
        now = self.clock()
        if new:
            self.after = max(int(f.get("seq", 0)) for f in new)
            self.findings += new
        for finding in new:
            if not finding.get("enforced"):
                continue
            if finding.get("kind") != "event-source":
                self._final.append(finding)
                continue
            key = (finding.get("function"), finding.get("role_arn"), finding.get("reason"))
            first = self._first_seen.setdefault(key, now)
            if now - first >= self.grace_s:
                self._final.append(finding)
        return bool(self._final)

    @property
    def final(self) -> list[dict[str, Any]]:
        """The enforced refusals that stopped (or would stop) the apply, one per role and reason."""
        seen: set[tuple[Any, ...]] = set()
        out = []
        for f in self._final:
            key = (f.get("function"), f.get("role_arn"), f.get("reason"))
            if key not in seen:
                seen.add(key)
                out.append(f)
        return out


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
        "terraform apply was interrupted instead of letting terraform-provider-aws retry for 5 minutes "
        "(a role Lambda cannot assume at the first refusal; a mapping's role after "
        f"{EVENT_SOURCE_GRACE_S:.0f} s of refusals, time for its policy to be created)."
    )
    return "\n".join(lines)
