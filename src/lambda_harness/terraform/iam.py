"""Where each function role and its policies are declared, read from Terraform state.

A denial names the role and the ``.tf`` file and line to fix; the fix text adds a
statement to the ``data "aws_iam_policy_document"`` the role's inline policy comes
from (matched by its JSON), or to the ``aws_iam_role_policy`` itself. ``arns``
maps every resource ARN in state to its address, so a suggested resource can be
written as ``${aws_s3_bucket.exports.arn}/api-logs/*`` instead of a literal.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

#: Where a block is declared: (file, line), or None when it cannot be found.
Locate = Callable[[str], tuple[Path, int | None] | None]


@dataclass(frozen=True)
class Declared:
    """A Terraform block: its address, and its file and line when found."""

    address: str
    file: str | None = None
    line: int | None = None

    def where(self, project_dir: Path | None = None) -> str:
        """``terraform/main.tf:216 aws_iam_role.worker`` (the path relative to the repo when possible)."""
        if self.file is None:
            return self.address
        shown = self.file
        if project_dir is not None and Path(self.file).is_relative_to(project_dir):
            shown = str(Path(self.file).relative_to(project_dir))
        return f"{shown}:{self.line} {self.address}" if self.line else f"{shown} {self.address}"


@dataclass(frozen=True)
class RolePolicy:
    """One policy of a role: inline (``aws_iam_role_policy`` or an ``inline_policy`` block) or attached."""

    kind: str  # "inline" | "attached"
    name: str  # the inline policy's name, or the attached policy's ARN
    declared: Declared | None = None
    document: Declared | None = None  # the aws_iam_policy_document whose JSON it is


@dataclass(frozen=True)
class DeployedRole:
    """An ``aws_iam_role`` as deployed, with its policies."""

    name: str
    arn: str
    declared: Declared | None
    policies: tuple[RolePolicy, ...] = ()
    permissions_boundary: str | None = None


@dataclass(frozen=True)
class IamIndex:
    """Roles by ARN, and every resource ARN in state by address."""

    roles: dict[str, DeployedRole] = field(default_factory=dict)
    arns: dict[str, str] = field(default_factory=dict)

    def role(self, arn: str) -> DeployedRole | None:
        return self.roles.get(arn)

    @classmethod
    def from_resources(cls, resources: Iterable[Mapping[str, Any]], locate: Locate) -> IamIndex:
        """Build from ``terraform show -json`` resources (managed and data)."""
        resources = list(resources)

        def declared(address: str) -> Declared:
            found = locate(address)
            return Declared(address, str(found[0]), found[1]) if found else Declared(address)

        documents = _documents(resources)

        def document_of(text: Any) -> Declared | None:
            key = _canonical(text)
            doc = documents.get(key) if key is not None else None
            return declared(doc.address) if doc else None

        customer = {
            str(v.get("arn")): (declared(str(res.get("address"))), document_of(v.get("policy")))
            for res in resources
            if res.get("type") == "aws_iam_policy" and (v := res.get("values") or {}).get("arn")
        }
        by_name: dict[str, list[RolePolicy]] = {}
        for res in resources:
            for role_name, policy in _policies_of(res, document_of, customer, declared):
                by_name.setdefault(role_name, []).append(policy)
        roles: dict[str, DeployedRole] = {}
        for res in resources:
            if res.get("type") != "aws_iam_role" or res.get("mode") != "managed":
                continue
            v = res.get("values") or {}
            name, arn = str(v.get("name") or ""), str(v.get("arn") or "")
            policies = list(by_name.get(name, []))
            address = str(res.get("address"))
            for block in v.get("inline_policy") or []:
                if block.get("name"):
                    doc = document_of(block.get("policy"))
                    policies.append(RolePolicy("inline", str(block["name"]), declared(address), doc))
            for policy_arn in v.get("managed_policy_arns") or []:
                where, doc = customer.get(str(policy_arn), (declared(address), None))
                policies.append(RolePolicy("attached", str(policy_arn), where, doc))
            boundary = v.get("permissions_boundary") or None
            roles[arn] = DeployedRole(name, arn, declared(address), tuple(policies), boundary)
        arns = {
            str((res.get("values") or {}).get("arn")): str(res.get("address"))
            for res in resources
            if res.get("mode") == "managed" and (res.get("values") or {}).get("arn")
        }
        return cls(roles, arns)

    def to_dict(self) -> dict[str, Any]:
        return {
            "roles": {
                arn: {
                    "name": r.name,
                    "arn": r.arn,
                    "declared": _declared_dict(r.declared),
                    "policies": [
                        {
                            "kind": p.kind,
                            "name": p.name,
                            "declared": _declared_dict(p.declared),
                            "document": _declared_dict(p.document),
                        }
                        for p in r.policies
                    ],
                    "permissions_boundary": r.permissions_boundary,
                }
                for arn, r in sorted(self.roles.items())
            },
            "arns": dict(sorted(self.arns.items())),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None) -> IamIndex:
        if not data:
            return cls()
        roles = {
            arn: DeployedRole(
                name=str(r["name"]),
                arn=str(r["arn"]),
                declared=_declared_from(r.get("declared")),
                policies=tuple(
                    RolePolicy(
                        str(p["kind"]),
                        str(p["name"]),
                        _declared_from(p.get("declared")),
                        _declared_from(p.get("document")),
                    )
                    for p in r.get("policies", [])
                ),
                permissions_boundary=r.get("permissions_boundary"),
            )
            for arn, r in (data.get("roles") or {}).items()
        }
        return cls(roles, {str(k): str(v) for k, v in (data.get("arns") or {}).items()})


def _declared_dict(d: Declared | None) -> dict[str, Any] | None:
    return None if d is None else {"address": d.address, "file": d.file, "line": d.line}


def _declared_from(data: Mapping[str, Any] | None) -> Declared | None:
    if not data:
        return None
    return Declared(str(data["address"]), data.get("file"), data.get("line"))


def _canonical(text: Any) -> str | None:
    """A policy JSON in one spelling (key order and whitespace do not matter)."""
    if not text:
        return None
    try:
        return json.dumps(json.loads(str(text)), sort_keys=True)
    except ValueError:
        return None


def _documents(resources: list[Mapping[str, Any]]) -> dict[str, Declared]:
    """Canonical JSON -> the ``data "aws_iam_policy_document"`` that renders it."""
    found: dict[str, Declared] = {}
    for res in resources:
        if res.get("type") == "aws_iam_policy_document" and res.get("mode") == "data":
            text = _canonical((res.get("values") or {}).get("json"))
            if text is not None:
                found.setdefault(text, Declared(str(res.get("address"))))
    return found


def _policies_of(
    res: Mapping[str, Any],
    document_of: Callable[[Any], Declared | None],
    customer: Mapping[str, tuple[Declared, Declared | None]],
    declared: Callable[[str], Declared],
) -> list[tuple[str, RolePolicy]]:
    """(role name, policy) pairs a resource contributes.

    An attached customer policy points at its ``aws_iam_policy`` (where a statement is
    added), an AWS-managed one at the attachment.
    """
    if res.get("mode") != "managed":
        return []
    v, address = res.get("values") or {}, str(res.get("address"))
    role = str(v.get("role"))
    if res.get("type") == "aws_iam_role_policy":
        policy = RolePolicy("inline", str(v.get("name")), declared(address), document_of(v.get("policy")))
        return [(role, policy)]
    if res.get("type") == "aws_iam_role_policy_attachment":
        arn = str(v.get("policy_arn"))
        where, doc = customer.get(arn, (declared(address), None))
        return [(role, RolePolicy("attached", arn, where, doc))]
    return []
