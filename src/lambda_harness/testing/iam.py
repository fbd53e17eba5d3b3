"""The run tells the IAM fix: denials as failures with the statement to add, least privilege per function.

The endpoint's ledger (``GET /_harness/iam``, JSON) says what each function's role
was refused and used; the inventory's ``IamIndex`` says where the role and its
policies are declared. This module turns a denial into a message that names the
function, the action, the resource, the role and its ``.tf`` file and line, and
prints the minimal statement that would allow the call (HCL for a role whose
policy comes from a ``data "aws_iam_policy_document"``, JSON otherwise), and
shapes the per-function ``iam`` entries of results.json.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from lambda_harness import net
from lambda_harness.terraform.iam import DeployedRole, IamIndex, RolePolicy

#: The ledger document version this reader understands (endpoint.iam.ledger.LEDGER_VERSION).
LEDGER_VERSION = 1


class IamLedger:
    """The endpoint's IAM ledger over HTTP; every read is None when the endpoint has none (LocalStack).

    ``mark`` starts this session's run on the endpoint: an endpoint that served earlier runs
    (``up --detach``, the warm loop) still holds their evidence, and from then on every read
    is of this run only.
    """

    def __init__(self, endpoint_url: str, *, fetch: Any = net.get_json, post: Any = net.post_json) -> None:
        self.url = endpoint_url.rstrip("/") + net.HARNESS_IAM
        self.fetch = fetch
        self.post = post
        self.run = 0  # 0: everything the endpoint kept (no mark, or an endpoint without marks)
        self._available = True

    def _get(self, query: str = "") -> dict[str, Any] | None:
        if not self._available:
            return None
        answer = self.fetch(self.url + query)
        if not isinstance(answer, dict) or answer.get("version") != LEDGER_VERSION:
            self._available = False
            return None
        return answer

    def mark(self) -> int:
        """Start this session's run on the endpoint; its number (0 when the endpoint has no ledger)."""
        document = net.json_of(self.post(self.url + "/mark", {}))
        if not isinstance(document, dict):  # nothing, or no JSON, answered with 200
            return 0
        if document.get("version") == LEDGER_VERSION:
            self.run = int(document.get("run") or 0)
        return self.run

    def denials(self, request_id: str) -> tuple[str, list[dict[str, Any]]] | None:
        """(mode, denials) of one invocation."""
        answer = self._get(f"?request_id={request_id}&since={self.run}")
        return None if answer is None else (str(answer.get("mode")), list(answer.get("denials") or []))

    def snapshot(self) -> dict[str, Any] | None:
        """This run's evidence: mode, per-function uses, per-role least privilege, denials, trust."""
        return self._get(f"?since={self.run}")


def case_denials(
    ledger: IamLedger,
    request_id: str | None,
    handled: bool,
    iam: IamIndex,
    project_dir: Path | None = None,
) -> tuple[list[dict[str, Any]], list[str]]:
    """An invocation's denials, and the problems that fail its case (none with ``iam = warn``).

    ``handled``: the invocation ended normally, so the handler caught the refusal itself: it
    fails all the same (on AWS the call is refused the same way and the work is not done).
    """
    found = ledger.denials(request_id) if request_id else None
    if not found or not found[1]:
        return [], []
    mode, denials = found
    if mode != "enforce":
        return denials, []  # warn: reported in the run's IAM section, the case stands
    texts = [fix_text(d, iam, project_dir) for d in denials]
    if handled:
        texts.append(
            "the handler caught the refusal and returned normally; on AWS the call is refused "
            "the same way, so the function would not do its work there"
        )
    return denials, texts


# --- the fix text ------------------------------------------------------------------------------------


def general_resource(resource: str) -> str:
    """The resource a statement should name: an S3 object's first key segment, any index of a table."""
    if resource.startswith("arn:aws:s3:::") and "/" in resource:
        bucket, key = resource.removeprefix("arn:aws:s3:::").split("/", 1)
        if "/" in key:
            return f"arn:aws:s3:::{bucket}/{key.split('/', 1)[0]}/*"
        return resource
    index = re.match(r"^(arn:aws:dynamodb:[^:]*:[^:]*:table/[^/]+/index/)[^/]+$", resource)
    if index:
        return index.group(1) + "*"
    return resource


def hcl_reference(resource: str, arns: Mapping[str, str]) -> str:
    """``aws_dynamodb_table.alerts.arn`` or ``"${aws_s3_bucket.exports.arn}/api-logs/*"`` when the
    resource is (under) a resource in state, else the quoted ARN."""
    best = ""
    for arn in arns:
        if (resource == arn or resource.startswith((arn + "/", arn + ":"))) and len(arn) > len(best):
            best = arn
    if not best:
        return json.dumps(resource)
    address = arns[best]
    if resource == best:
        return f"{address}.arn"
    return json.dumps("${" + address + ".arn}" + resource[len(best) :])


def _policy_target(role: DeployedRole | None) -> RolePolicy | None:
    """Where a missing statement goes: an inline policy built from a policy document first."""
    if role is None:
        return None
    inline = [p for p in role.policies if p.kind == "inline"]
    for policy in (*inline, *(p for p in role.policies if p.document is not None)):
        if policy.document is not None:
            return policy
    if inline:
        return inline[0]
    return next((p for p in role.policies if p.kind == "attached" and p.document is not None), None)


def _statement_hcl(action: str, resource: str, arns: Mapping[str, str]) -> list[str]:
    return [
        "    statement {",
        f'      actions   = ["{action}"]',
        f"      resources = [{hcl_reference(resource, arns)}]",
        "    }",
    ]


def _statement_json(action: str, resource: str) -> list[str]:
    return ["    " + json.dumps({"Effect": "Allow", "Action": action, "Resource": resource})]


def _role_line(denial: Mapping[str, Any], role: DeployedRole | None, project_dir: Path | None) -> str:
    name = str(denial.get("role_arn", "")).rsplit("/", 1)[-1]
    where = role.declared.where(project_dir) if role and role.declared else "not found in the Terraform state"
    return f"  role {name} ({where})"


def _deny_statement(denial: Mapping[str, Any], role: DeployedRole | None, project_dir: Path | None) -> str:
    refs = list(denial.get("statements") or [])
    if not refs:
        return "an explicit Deny"
    ref = refs[0]
    label, policy, kind = ref.get("label"), str(ref.get("policy")), ref.get("kind")
    if kind in ("bucket", "queue", "key"):
        return f"{label} of the {kind} policy of {policy}"
    declared = next((p for p in (role.policies if role else ()) if p.name == policy), None)
    if declared is None:
        return f"{label} of policy {policy.rsplit('/', 1)[-1]}"
    if declared.document is not None:
        shown = policy.rsplit("/", 1)[-1]
        return f"{label} of policy {shown} ({declared.document.where(project_dir)})"
    return f"{label} of policy {policy_name(declared, project_dir)}"


def policy_name(policy: RolePolicy, project_dir: Path | None = None) -> str:
    """How the report names a role's policy: by its Terraform address and line, not by the name AWS
    gave it (an ``aws_iam_role_policy`` without ``name`` is ``terraform-20261201184617925200000001``).
    An AWS-managed policy keeps its name: that says what it is, its attachment does not."""
    short = policy.name.rsplit("/", 1)[-1]
    declared = policy.declared
    if declared is None or declared.file is None:
        return short
    kind = _resource_type(declared.address)
    where = declared.where(project_dir).removesuffix(" " + declared.address)
    if kind == "aws_iam_role":  # an inline_policy block of the role itself
        return f'inline_policy "{short}" of {declared.address} ({where})'
    if kind in ("aws_iam_role_policy", "aws_iam_policy"):
        return f"{declared.address} ({where})"
    return short


def _resource_type(address: str) -> str:
    """``aws_iam_role_policy`` of ``module.m["k"].aws_iam_role_policy.p[0]``."""
    bare = re.sub(r"\[[^\]]*\]$", "", address)
    parts = bare.rsplit(".", 2)
    return parts[-2] if len(parts) >= 2 else ""


def fix_text(denial: Mapping[str, Any], iam: IamIndex, project_dir: Path | None = None) -> str:
    """The message for one denial: what was refused, the role and where it is declared, the fix."""
    action, resource = str(denial.get("action")), str(denial.get("resource"))
    role = iam.role(str(denial.get("role_arn", "")))
    explicit = denial.get("effect") == "explicit-deny"
    head = f"{denial.get('function')}: {action} on {resource} was denied" + (
        " explicitly" if explicit else ""
    )
    lines = [head]
    if explicit:
        lines.append(
            _role_line(denial, role, project_dir)
            + f": {_deny_statement(denial, role, project_dir)} denies it."
        )
        lines.append("  Remove or narrow that statement: no Allow can override an explicit Deny.")
    else:
        kind = denial.get("policy_type") or "identity-based"
        lines.append(_role_line(denial, role, project_dir) + f": no {kind} policy allows it.")
        lines += _add_lines(action, general_resource(resource), role, iam.arns, project_dir)
    if denial.get("unevaluable"):
        keys = ", ".join(denial["unevaluable"])
        lines.append(f"  (the decision assumed condition keys the local endpoint does not set: {keys})")
    return "\n".join(lines)


def _add_lines(
    action: str, resource: str, role: DeployedRole | None, arns: Mapping[str, str], project_dir: Path | None
) -> list[str]:
    target = _policy_target(role)
    if target is not None and target.document is not None:
        return [f"  Add to {target.document.where(project_dir)}:", *_statement_hcl(action, resource, arns)]
    if target is not None and target.declared is not None:
        return [
            f"  Add this statement to the policy of {target.declared.where(project_dir)}:",
            *_statement_json(action, resource),
        ]
    return [
        "  Give the role a policy (aws_iam_role_policy) with this statement:",
        *_statement_json(action, resource),
    ]


# --- results.json --------------------------------------------------------------------------------------


def function_entries(
    snapshot: Mapping[str, Any], iam: IamIndex, project_dir: Path | None = None
) -> dict[str, dict[str, Any]]:
    """Per function: its role (and where declared), what it used, was denied, what was not
    evaluated, notes, and its role's least-privilege report (``iam`` in results.json)."""
    roles = snapshot.get("roles") or {}
    denials = list(snapshot.get("denials") or [])
    out: dict[str, dict[str, Any]] = {}
    for name, fn in (snapshot.get("functions") or {}).items():
        role_arn = str(fn.get("role_arn", ""))
        role = iam.role(role_arn)
        report = roles.get(role_arn) or {}
        out[name] = {
            "role_arn": role_arn,
            "role_declared_in": role.declared.where(project_dir) if role and role.declared else None,
            "used": fn.get("used", []),
            "denied": [_denial_summary(d) for d in denials if d.get("function") == name],
            "not_evaluated": fn.get("not_evaluated", []),
            "notes": fn.get("notes", []),
            "least_privilege": {
                "shared_with": [f for f in report.get("functions", []) if f != name],
                "unused_actions": report.get("unused_actions", []),
                "unused_statements": _by_address(report.get("unused_statements", []), role, project_dir),
                "over_broad": _by_address(
                    [f for f in report.get("over_broad", []) if not f.startswith(_BOUNDARY)],
                    role,
                    project_dir,
                ),
                "statements": report.get("statements", []),
            },
        }
    return out


#: A detached endpoint of an earlier build lists the permissions boundary under over-broad: it is a
#: note (the guard notes it per function), never an over-broad grant.
_BOUNDARY = "permissions boundary "


def _by_address(items: Iterable[str], role: DeployedRole | None, project_dir: Path | None) -> list[str]:
    """The endpoint's ``<policy name> statement #n: ...`` with the policy named by its Terraform
    address and line (``aws_iam_role_policy.notify (terraform/main.tf:21) statement #3: ...``)."""
    names = {p.name.rsplit("/", 1)[-1]: policy_name(p, project_dir) for p in (role.policies if role else ())}
    out = []
    for item in items:
        short = max((n for n in names if item.startswith(n + " ")), key=len, default=None)
        out.append(names[short] + item[len(short) :] if short is not None else item)
    return out


def _denial_summary(denial: Mapping[str, Any]) -> dict[str, Any]:
    keys = ("action", "resource", "effect", "message", "request_id", "enforced", "operation", "statements")
    return {k: denial.get(k) for k in keys}


def outside_cases(snapshot: Mapping[str, Any], case_requests: Iterable[str]) -> list[dict[str, Any]]:
    """Denials no event case saw (hand-written tests, async deliveries, background threads)."""
    seen = set(case_requests)
    return [d for d in snapshot.get("denials") or [] if d.get("request_id") not in seen]


# --- the run's output ------------------------------------------------------------------------------------

LEAST_PRIVILEGE_COLUMNS = ("function", "role", "allowed calls", "denied", "granted, unused", "over-broad")


def least_privilege_rows(functions: Mapping[str, Any]) -> list[list[str]]:
    """One row per function with IAM data (the run's summary table)."""
    rows = []
    for name, entry in sorted(functions.items()):
        data = entry.get("iam")
        if not data:
            continue
        lp = data.get("least_privilege") or {}
        rows.append(
            [
                name,
                str(data.get("role_arn", "")).rsplit("/", 1)[-1],
                str(sum(int(u.get("count", 1)) for u in data.get("used", []))),
                str(len(data.get("denied", []))),
                str(len(lp.get("unused_actions", []))),
                str(len(lp.get("over_broad", []))),
            ]
        )
    return rows


def role_findings(functions: Mapping[str, Any], limit: int = 12) -> list[str]:
    """One paragraph per role: over-broad grants, unused statements and actions, and what its
    functions met that AWS would do differently or that was not evaluated."""
    by_role: dict[str, list[tuple[str, dict[str, Any]]]] = {}
    for name, entry in sorted(functions.items()):
        data = entry.get("iam")
        if data:
            by_role.setdefault(str(data.get("role_arn", "")), []).append((name, data))
    texts = []
    for role_arn, members in by_role.items():
        first = members[0][1]
        lp = first.get("least_privilege") or {}
        users = ", ".join(name for name, _ in members)
        where = first.get("role_declared_in") or role_arn
        lines = [f"role {role_arn.rsplit('/', 1)[-1]} ({where}; used by {users}):"]
        lines += [f"  over-broad: {flag}" for flag in lp.get("over_broad", [])]
        lines += [f"  never used: {s}" for s in lp.get("unused_statements", [])]
        unused = list(lp.get("unused_actions", []))
        if unused:
            shown = ", ".join(unused[:limit]) + (
                f" ... ({len(unused)} in all)" if len(unused) > limit else ""
            )
            lines.append(f"  granted but no test used: {shown}")
        notes: dict[str, list[str]] = {}  # a role's note (its boundary) once, naming its functions
        for name, data in members:
            for note in data.get("notes", []):
                notes.setdefault(str(note), []).append(name)
        lines += [f"  note ({', '.join(names)}): {note}" for note, names in notes.items()]
        for name, data in members:
            lines += [
                f"  not evaluated ({name}): {item.get('service')}:{item.get('operation')} ({item.get('why')})"
                for item in data.get("not_evaluated", [])
            ]
        if len(lines) > 1:
            texts.append("\n".join(lines))
    return texts


def denial_texts(denials: Sequence[Mapping[str, Any]], iam: IamIndex, project_dir: Path | None) -> list[str]:
    """Fix texts of denials outside event cases, with the invocation they happened in."""
    return [
        fix_text(d, iam, project_dir)
        + f"\n  (invocation {d.get('request_id') or 'unknown'}, outside any event case)"
        for d in denials
    ]
