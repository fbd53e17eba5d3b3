"""What the guard reads from moto's backends: a role's documents, resource policies, ARNs.

Documents are read per request (dict lookups) exactly as Terraform wrote them, and
compiled once per text (``policy.compile_policy``), so a re-applied role is in
force at once.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from moto.iam.models import iam_backends
from moto.kms.models import kms_backends
from moto.kms.utils import _deserialize_ciphertext_blob
from moto.logs.models import logs_backends
from moto.s3.models import s3_backends
from moto.secretsmanager.models import secretsmanager_backends
from moto.sqs.models import sqs_backends

from lambda_harness.endpoint.iam.policy import Policy, PolicySource, compile_policy
from lambda_harness.errors import EndpointError

logger = logging.getLogger(__name__)
PARTITION = "aws"


@dataclass(frozen=True)
class RoleDocuments:
    """A role's identity policies as compiled documents (and what the endpoint does not evaluate)."""

    role_arn: str
    policies: tuple[Policy, ...]
    permissions_boundary: str | None = None
    exists: bool = True
    unreadable: tuple[str, ...] = ()  # documents that would not parse (named in the report)

    @property
    def name(self) -> str:
        return self.role_arn.rsplit("/", 1)[-1]


def _compile(doc: Any, source: PolicySource, broken: list[str]) -> Policy | None:
    try:
        return compile_policy(doc, source)
    except EndpointError as exc:
        broken.append(str(exc))
        return None


class MotoLookups:
    """Reads moto's backends in this process (the endpoint's own)."""

    def role(self, account: str, role_arn: str) -> RoleDocuments:
        """The role's inline and attached policies, AWS-managed ones included."""
        try:
            role = iam_backends[account][PARTITION].get_role_by_arn(role_arn)
        except Exception:  # moto raises its own NoSuchEntity; the role was deleted or never made
            return RoleDocuments(role_arn, (), exists=False)
        broken: list[str] = []
        name = role.name
        found: list[Policy | None] = [
            _compile(doc, PolicySource("inline", str(policy_name), name), broken)
            for policy_name, doc in role.policies.items()
        ]
        for arn, managed in role.managed_policies.items():
            version = next((v for v in managed.versions if v.is_default), None)
            if version is None:
                continue
            aws_owned = ":iam::aws:policy/" in arn
            source = PolicySource("aws-managed" if aws_owned else "managed", str(arn))
            found.append(_compile(version.document, source, broken))
        return RoleDocuments(
            role_arn,
            tuple(p for p in found if p is not None),
            permissions_boundary=getattr(role, "permissions_boundary_arn", None),
            unreadable=tuple(broken),
        )

    def trust_policy(self, account: str, role_arn: str) -> Policy | None:
        """The role's trust policy (None when the role does not exist)."""
        try:
            role = iam_backends[account][PARTITION].get_role_by_arn(role_arn)
        except Exception:
            return None
        return compile_policy(role.assume_role_policy_document, PolicySource("trust", role.name))

    def bucket_policy(self, account: str, bucket: str) -> Policy | None:
        try:
            found = s3_backends[account][PARTITION].get_bucket(bucket)
        except Exception:  # NoSuchBucket: the request itself will say so
            return None
        if not found.policy:
            return None
        return compile_policy(found.policy, PolicySource("bucket", bucket))

    def queue_policy(self, account: str, region: str, queue_arn: str) -> Policy | None:
        name = queue_arn.rsplit(":", 1)[-1]
        queue_account = queue_arn.split(":")[4] or account
        queue = sqs_backends[queue_account][region].queues.get(name)
        policy = getattr(queue, "policy", None) if queue is not None else None
        return compile_policy(policy, PolicySource("queue", name)) if policy else None

    def key_policy(self, account: str, region: str, key_arn: str) -> Policy | None:
        try:
            key = kms_backends[account][region].describe_key(key_arn)
        except Exception:
            return None
        return compile_policy(key.policy, PolicySource("key", key_arn)) if key.policy else None

    def secret_arn(self, account: str, region: str, secret_id: str) -> str | None:
        secret = secretsmanager_backends[account][region].secrets.get(secret_id)
        return str(secret.arn) if secret is not None else None

    def key_arn(self, account: str, region: str, key_id: str) -> str | None:
        backend = kms_backends[account][region]
        try:
            return str(backend.describe_key(key_id).arn)
        except Exception:
            return None

    def key_of_ciphertext(self, account: str, region: str, blob: bytes) -> str | None:
        try:
            key_id = _deserialize_ciphertext_blob(blob).key_id
        except Exception:  # not moto's format: the request fails on its own
            return None
        return self.key_arn(account, region, key_id)

    def log_group_exists(self, account: str, region: str, name: str) -> bool:
        return name in logs_backends[account][region].groups
