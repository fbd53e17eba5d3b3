"""One authorization decision for a role session: its identity policies, the resource's policy, the context.

Shared by the guard (requests of a function) and the trust gate (what Lambda itself does
with the role: poll a queue for an event source mapping).
"""

from __future__ import annotations

import time
from datetime import UTC, datetime

from lambda_harness.endpoint.iam.evaluate import Check, Decision, Principal, decide
from lambda_harness.endpoint.iam.lookups import MotoLookups, RoleDocuments
from lambda_harness.endpoint.iam.policy import Policy

#: Condition keys set whenever they apply (others are "unevaluable" when a policy needs them).
SESSION_KEYS = frozenset(
    {
        "aws:principalarn",
        "aws:principalaccount",
        "aws:principaltype",
        "aws:userid",
        "aws:requestedregion",
        "aws:securetransport",
        "aws:currenttime",
        "aws:epochtime",
        "aws:multifactorauthpresent",
        "aws:viaawsservice",
    }
)
#: Request keys ``actions`` sets for the operations they belong to.
REQUEST_KEYS = frozenset(
    {
        "s3:prefix",
        "s3:delimiter",
        "s3:max-keys",
        "s3:x-amz-server-side-encryption",
        "s3:x-amz-acl",
        "events:source",
        "events:detail-type",
        "cloudwatch:namespace",
    }
)
#: Every key the endpoint sets when it has it: another key found absent is unevaluable (AWS may set it).
SET_KEYS = SESSION_KEYS | REQUEST_KEYS


def request_context(principal: Principal, region: str) -> dict[str, tuple[str, ...]]:
    """The global condition keys of a request by ``principal`` (lower-cased names)."""
    now = time.time()
    session_name = principal.session_arn.rsplit("/", 1)[-1]
    return {
        "aws:principalarn": (principal.role_arn,),
        "aws:principalaccount": (principal.account,),
        "aws:principaltype": ("AssumedRole",),
        "aws:userid": (f"{principal.role_id}:{session_name}",),
        "aws:requestedregion": (region,),
        # Lambda calls AWS over HTTPS: enforce-TLS policies pass, as in production.
        "aws:securetransport": ("true",),
        "aws:currenttime": (datetime.fromtimestamp(now, UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),),
        "aws:epochtime": (str(int(now)),),
        "aws:multifactorauthpresent": ("false",),
        "aws:viaawsservice": ("false",),
    }


class Authorizer:
    """Decides checks with the policies moto holds (``lookups``)."""

    def __init__(self, lookups: MotoLookups) -> None:
        self.lookups = lookups

    def resource_policy(self, account: str, service: str, resource: str) -> tuple[Policy | None, bool]:
        """The resource's own policy (bucket, queue, key) and whether it is a KMS key policy."""
        if service == "s3" and resource.startswith("arn:aws:s3:::"):
            bucket = resource.removeprefix("arn:aws:s3:::").split("/", 1)[0]
            return self.lookups.bucket_policy(account, bucket), False
        if service == "sqs" and resource.startswith("arn:aws:sqs:"):
            return self.lookups.queue_policy(account, resource.split(":")[3], resource), False
        if service == "kms" and ":key/" in resource:
            # A key the endpoint does not hold has no policy to consult: KMS answers NotFound itself.
            key = self.lookups.key_policy(account, resource.split(":")[3], resource)
            return key, key is not None
        return None, False

    def decide(
        self, principal: Principal, role: RoleDocuments, service: str, check: Check, default_region: str
    ) -> Decision:
        """``check`` for ``principal`` (a session of ``role``)."""
        resource_policy, key_policy = self.resource_policy(principal.account, service, check.resource)
        parts = check.resource.split(":")
        region = parts[3] if len(parts) > 5 and parts[3] else default_region
        return decide(
            check,
            principal,
            role.policies,
            resource_policy,
            context=request_context(principal, region),
            set_keys=SET_KEYS,
            key_policy=key_policy,
        )
