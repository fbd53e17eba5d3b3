"""Least privilege, both ways: what a role grants that no test used, and what is over-broad.

Pure computation over a role's compiled documents and the uses the ledger saw. For
each Allow statement its Action patterns are expanded against the catalog (``s3:*``
-> 168 actions); an action is *used* by a statement when some allowed use falls
under the statement's actions and resources. Flags: wildcard actions (with the
actions actually used), ``Resource: "*"`` on actions that can be scoped (with the
resources actually used), NotAction/NotResource allows, and AWS-managed policies.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from lambda_harness.endpoint.iam.catalog import Catalog
from lambda_harness.endpoint.iam.lookups import RoleDocuments
from lambda_harness.endpoint.iam.policy import Statement, glob_match

#: How many used resources a flag quotes.
SHOWN = 5


def _no_variables(_: str) -> str | None:
    return None


def _statement_report(st: Statement, uses: Sequence[tuple[str, str]], catalog: Catalog) -> dict[str, Any]:
    granted: set[str] = set()
    uncatalogued: list[str] = []
    if st.not_action:
        for prefix in sorted(catalog.services):
            granted |= {a for a in catalog.actions(prefix) if st.matches_action(a)}
    else:
        for pattern in st.actions:
            expanded = catalog.expand(pattern)
            if expanded is None:
                uncatalogued.append(pattern)
            else:
                granted |= set(expanded)
    covered = [(a, r) for a, r in uses if st.matches_action(a) and st.matches_resource(r, _no_variables)]
    used = sorted({a.lower() for a, _ in covered})
    canonical = {a.lower(): a for a in granted}
    unused = sorted(a for a in granted if a.lower() not in used)
    flags = _flags(st, granted, covered, catalog)
    return {
        "policy": st.ref.source.name,
        "kind": st.ref.source.kind,
        "statement": st.ref.label,
        "sid": st.ref.sid,
        "index": st.ref.index,
        "actions": _as_list(st.raw.get("NotAction" if st.not_action else "Action")),
        "resources": st.raw.get("NotResource" if st.not_resource else "Resource"),
        "granted": len(granted),
        "used": [canonical.get(a, a) for a in used],
        "unused": unused,
        "not_catalogued": uncatalogued,
        "flags": flags,
    }


def _as_list(value: Any) -> list[str]:
    if value is None:
        return []
    return [str(v) for v in value] if isinstance(value, list) else [str(value)]


def _flags(st: Statement, granted: set[str], covered: list[tuple[str, str]], catalog: Catalog) -> list[str]:
    flags = []
    used_actions = sorted({a for a, _ in covered})
    if st.not_action:
        flags.append(f"NotAction allows {len(granted)} actions (everything but {', '.join(st.actions)})")
    for pattern in _as_list(st.raw.get("Action")):
        if "*" in pattern or "?" in pattern:
            expanded = catalog.expand(pattern)
            if expanded is None:
                flags.append(
                    f'Action "{pattern}" grants every matching action (its service is not catalogued)'
                )
                continue
            mine = [a for a in used_actions if glob_match(pattern, a, ignore_case=True)]
            shown = ", ".join(mine) if mine else "none"
            flags.append(
                f'Action "{pattern}" grants {len(expanded)} actions; the tests used {len(mine)}: {shown}'
            )
    if st.not_resource:
        flags.append("NotResource allows every resource but the ones it names")
    if st.resources is not None and "*" in st.resources and not st.not_resource:
        scopable = sorted(a for a in (used_actions or granted) if catalog.scopable(a))
        if scopable:
            resources = sorted({r for _, r in covered if r != "*"})
            seen = ", ".join(resources[:SHOWN]) + (" ..." if len(resources) > SHOWN else "") or "none"
            flags.append(
                f'Resource "*" for {", ".join(scopable[:SHOWN])}{" ..." if len(scopable) > SHOWN else ""}, '
                f"which can be scoped; the tests used: {seen}"
            )
    return flags


def least_privilege(
    role: RoleDocuments, uses: Iterable[tuple[str, str, str]], catalog: Catalog
) -> dict[str, Any]:
    """The report for one role: per statement, per policy, and the role's unused actions.

    ``uses``: (function, action, resource) of every allowed use of the role.
    """
    pairs = sorted({(action, resource) for _fn, action, resource in uses})
    statements = [
        _statement_report(st, pairs, catalog)
        for policy in role.policies
        for st in policy.statements
        if st.effect == "Allow"
    ]
    used_anywhere = {a.lower() for s in statements for a in s["used"]}
    unused = sorted({a for s in statements for a in s["unused"] if a.lower() not in used_anywhere})
    # An AWS-managed policy cannot be edited: one line says what it grants and what was used.
    flags = [f"{_where(s)}: {flag}" for s in statements if s["kind"] != "aws-managed" for flag in s["flags"]]
    for policy in role.policies:
        if policy.source.kind == "aws-managed":
            mine = [s for s in statements if s["policy"] == policy.source.name]
            granted = sum(s["granted"] for s in mine)
            used = sorted({a for s in mine for a in s["used"]})
            if granted > len(used) or any(s["not_catalogued"] for s in mine):
                flags.append(
                    f"{policy.source.describe()} grants {granted} actions; the tests used {len(used)}"
                    + (f": {', '.join(used)}" if used else "")
                    + "; a policy of your own can grant just those"
                )
    # A permissions boundary is not a grant: the guard notes it per function (not evaluated).
    return {
        "role_arn": role.role_arn,
        "statements": statements,
        "unused_actions": unused,
        "unused_statements": [_where(s) for s in statements if not s["used"]],
        "over_broad": flags,
        "permissions_boundary": role.permissions_boundary,
        "unreadable": list(role.unreadable),
    }


def _where(statement: dict[str, Any]) -> str:
    name = str(statement["policy"]).rsplit("/", 1)[-1]
    return f"{name} {statement['statement']}"
